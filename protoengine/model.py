"""One model of a compiled file set, built once and shared by everything that reads the set.

Breaking checks, lint, semantic versions and the printer all need the same things of
a set: its files by name, where each element was declared and what it says in
comments, and indexes of declarations by full name. A `DescriptorModel` builds each
part on first need and keeps it, and a compiled set (`CompiledFiles.model`) keeps
its model, so a set compared, linted and printed in one registration is indexed
once, and an earlier version kept in a cache is never indexed again.
"""

from collections.abc import Iterable
from functools import cached_property

from google.protobuf.descriptor_pb2 import FileDescriptorProto

from protoengine.compiler import is_well_known
from protoengine.locations import (
    FILE_ENUM_TYPE,
    FILE_EXTENSION,
    FILE_MESSAGE_TYPE,
    FILE_SERVICE,
    MESSAGE_ENUM_TYPE,
    MESSAGE_EXTENSION,
    MESSAGE_NESTED_TYPE,
    PositionFinder,
)

# What a file declares, by kind, each by its name inside the file with its source path.
Declarations = dict[str, dict[str, tuple[int, ...]]]


class DescriptorModel:
    """The files of a compiled set (well-known types included) and what is derived from them."""

    def __init__(self, files: Iterable[FileDescriptorProto]):
        self.files: tuple[FileDescriptorProto, ...] = tuple(files)
        self._finders: dict[str, PositionFinder] = {}
        self._symbols: dict[str, dict[str, str]] = {}
        self._lint_files: dict[str, object] = {}
        self._confluent: dict[bool, object] = {}
        self._declarations: dict[str, Declarations] = {}

    @cached_property
    def own_files(self) -> tuple[FileDescriptorProto, ...]:
        """Return the files that are not Google's well-known types."""
        return tuple(file for file in self.files if not is_well_known(file.name))

    @cached_property
    def by_name(self) -> dict[str, FileDescriptorProto]:
        return {file.name: file for file in self.files}

    def finder(self, file: FileDescriptorProto) -> PositionFinder:
        """Return the one position and comment finder of a file of this set (a new one for a foreign file)."""
        finder = self._finders.get(file.name)
        if finder is None or finder.file is not file:
            finder = PositionFinder(file)
            if self.by_name.get(file.name) is file:
                self._finders[file.name] = finder
        return finder

    def declarations(self, file: FileDescriptorProto) -> Declarations:
        """Return a file's messages, enums, extensions and services by name inside the file (see declarations_of).

        Walked once per file of the set: breaking's deletion rules and lint's table of
        declaring files both read it.
        """
        if self.by_name.get(file.name) is not file:
            return declarations_of(file)
        found = self._declarations.get(file.name)
        if found is None:
            found = self._declarations[file.name] = declarations_of(file)
        return found

    def symbols(self, file: FileDescriptorProto) -> dict[str, str]:
        """Return the full names a file of this set declares with their kinds: the printer's symbol table."""
        from protoengine.printer import symbols_of_file

        if self.by_name.get(file.name) is not file:
            return symbols_of_file(file)
        table = self._symbols.get(file.name)
        if table is None:
            table = self._symbols[file.name] = symbols_of_file(file)
        return table

    @cached_property
    def breaking(self):
        """Return the set's index for breaking-change comparisons (top-level declarations by full name)."""
        from protoengine.breaking.pairs import Schema

        return Schema(self.own_files, model=self)

    def lint_file(self, file: FileDescriptorProto):
        """Return lint's elements of a file of this set, gathered once (a new walk for a foreign file)."""
        from protoengine.lint.model import LintFile

        if self.by_name.get(file.name) is not file:
            return LintFile(file, self.workspace, finder=self.finder(file))
        found = self._lint_files.get(file.name)
        if found is None:
            found = self._lint_files[file.name] = LintFile(file, self.workspace, finder=self.finder(file))
        return found

    def confluent(self, *, well_known: bool = True):
        """Return the set as Confluent's SchemaDiff sees it: its root file and the types the root can see.

        Without `well_known`, types of Google's well-known files stay unknown to it, as
        they do when a version reaches the comparison as a breaking index (own files only).
        """
        from protoengine.confluent_diff import ConfluentSchema

        if well_known not in self._confluent:
            self._confluent[well_known] = ConfluentSchema.of(self, well_known=well_known)
        return self._confluent[well_known]

    @cached_property
    def workspace(self):
        """Return which file declares each type and extension, for lint's import rules."""
        from protoengine.lint.workspace import Workspace

        return Workspace(self.files, self.declarations)


def model_of(files) -> DescriptorModel:
    """Return the model of a compiled set, of a model, or a new one of a plain sequence of files."""
    if isinstance(files, DescriptorModel):
        return files
    model = getattr(files, "model", None)
    if isinstance(model, DescriptorModel):
        return model
    return DescriptorModel(files)


def declarations_of(file: FileDescriptorProto) -> Declarations:
    """Return what a file declares: {"messages", "enums", "extensions", "services"} -> {name: source path}.

    Names are those inside the file (`Outer`, `Outer.Inner`, map entries included), as
    buf pairs declarations; the package plus "." before one gives its full name. Read
    straight from the descriptors, without wrapping any element.
    """
    messages: dict[str, tuple[int, ...]] = {}
    enums = {enum.name: (FILE_ENUM_TYPE, index) for index, enum in enumerate(file.enum_type)}
    extensions = {extension.name: (FILE_EXTENSION, index) for index, extension in enumerate(file.extension)}
    services = {service.name: (FILE_SERVICE, index) for index, service in enumerate(file.service)}
    pending = [("", (FILE_MESSAGE_TYPE, index), message) for index, message in enumerate(file.message_type)]
    while pending:
        scope, path, message = pending.pop()
        name = scope + message.name
        messages[name] = path
        inner = name + "."
        if message.enum_type:
            for index, enum in enumerate(message.enum_type):
                enums[inner + enum.name] = path + (MESSAGE_ENUM_TYPE, index)
        if message.extension:
            for index, extension in enumerate(message.extension):
                extensions[inner + extension.name] = path + (MESSAGE_EXTENSION, index)
        if message.nested_type:
            pending += [
                (inner, path + (MESSAGE_NESTED_TYPE, index), nested) for index, nested in enumerate(message.nested_type)
            ]
    return {"messages": messages, "enums": enums, "extensions": extensions, "services": services}
