"""What the linted files can see of each other: who declares which type and which option.

Import rules need to know which imported file declares a referenced type or a
custom option, and which files a public import re-exports. The tables are built
on first need over every given file (dependencies and well-known types included),
from the set model's walk of each file, and kept with the set's model.
"""

from collections.abc import Callable, Iterable
from functools import cached_property

from google.protobuf.descriptor_pb2 import FileDescriptorProto

from protoengine.model import Declarations, declarations_of

# Custom options live at field numbers from 1000 up in every *Options message.
FIRST_EXTENSION_NUMBER = 1000


class Workspace:
    def __init__(
        self,
        files: Iterable[FileDescriptorProto],
        declarations: Callable[[FileDescriptorProto], Declarations] = declarations_of,
    ):
        self.files = {file.name: file for file in files}
        # What each file declares: the set model's walk when a model builds this workspace.
        self._declarations = declarations

    @cached_property
    def declaring_file(self) -> dict[str, str]:
        """Map each message and enum full name (without the leading dot) to the file declaring it."""
        table: dict[str, str] = {}
        for file in self.files.values():
            scope = file.package + "." if file.package else ""
            declared = self._declarations(file)
            for kind in ("enums", "messages"):
                table.update((scope + name, file.name) for name in declared[kind])
        return table

    @cached_property
    def extension_file(self) -> dict[tuple[str, int], str]:
        """Map (extended message full name, field number) to the file declaring the extension."""
        table: dict[tuple[str, int], str] = {}
        for file in self.files.values():
            for extension in _all_extensions(file):
                table[(extension.extendee.lstrip("."), extension.number)] = file.name
        return table

    def package_of(self, name: str) -> str | None:
        file = self.files.get(name)
        return None if file is None else file.package

    def exported_by(self, name: str) -> set[str]:
        """Return the file and every file it re-exports through `import public`, transitively."""
        seen = {name}
        pending = [name]
        while pending:
            file = self.files.get(pending.pop())
            if file is None:
                continue
            for index in file.public_dependency:
                target = file.dependency[index]
                if target not in seen:
                    seen.add(target)
                    pending.append(target)
        return seen


def _all_extensions(file: FileDescriptorProto):
    yield from file.extension
    pending = list(file.message_type)
    while pending:
        message = pending.pop()
        yield from message.extension
        pending.extend(message.nested_type)
