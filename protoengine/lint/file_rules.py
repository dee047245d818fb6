"""buf's lint rules about files, packages and imports, and the rules that compare files.

Directory rules work from import paths: a file imported as
"trading/v1/orders.proto" sits in directory "trading/v1", so a registry subject's
path is its directory.
"""

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from operator import attrgetter
from posixpath import basename, splitext

from protoengine.lint.model import Import, LintFile, LintRule, Method, Problem
from protoengine.lint.naming import to_lower_snake_case
from protoengine.lint.rules import EMPTY, FROM_BASIC, FROM_MINIMAL, ONLY_STANDARD
from protoengine.lint.workspace import FIRST_EXTENSION_NUMBER
from protoengine.locations import FILE_OPTIONS, FILE_PACKAGE, FILE_SYNTAX
from protoengine.quoting import go_quote
from protoengine.wire import LENGTH_DELIMITED, WireFormatError, field_numbers, iter_fields

PACKAGE_AFFINITY = "PACKAGE_AFFINITY"
# The type a field's descriptor names, read without a Python call per field.
_TYPE_NAME = attrgetter("type_name")
# buf's package versions: v1, v2beta1, v1p1alpha, v3test... but never v0 or a 0 counter.
_VERSION = re.compile(r"v[1-9][0-9]*(?:(?:p[1-9][0-9]*)?(?:alpha|beta)(?:[1-9][0-9]*)?|test.*)?")
FEATURE_SET = "google.protobuf.FeatureSet"
PACKAGE_AT = (FILE_PACKAGE,)


def package_version(package: str) -> str | None:
    """Return the version suffix of a package ("v1" of "trading.v1"), None when it has none."""
    parts = package.split(".")
    if len(parts) > 1 and _VERSION.fullmatch(parts[-1]):
        return parts[-1]
    return None


def check_package_defined(file: LintFile, config) -> Problem | None:
    if not file.package:
        return Problem(file, "Files must have a package defined.")
    return None


def check_package_directory_match(file: LintFile, config) -> Problem | None:
    if not file.package:
        return None
    expected = file.package.replace(".", "/")
    if file.directory != expected:
        return Problem(
            file,
            f'Files with package "{file.package}" must be within a directory "{expected}" relative to root but were in '
            f'directory "{file.directory}".',
            PACKAGE_AT,
        )
    return None


def check_package_lower_snake_case(file: LintFile, config) -> Problem | None:
    expected = ".".join(to_lower_snake_case(part) for part in file.package.split("."))
    if file.package and file.package != expected:
        return Problem(
            file, f'Package name "{file.package}" should be lower_snake.case, such as "{expected}".', PACKAGE_AT
        )
    return None


def check_package_version_suffix(file: LintFile, config) -> Problem | None:
    if file.package and package_version(file.package) is None:
        return Problem(
            file,
            f'Package name "{file.package}" should be suffixed with a correctly formed version, such as '
            f'"{file.package}.v1".',
            PACKAGE_AT,
        )
    return None


def check_file_lower_snake_case(file: LintFile, config) -> Problem | None:
    stem, extension = splitext(basename(file.name))
    expected = to_lower_snake_case(stem)
    if stem != expected:
        return Problem(
            file,
            f'Filename "{stem}{extension}" should be lower_snake_case{extension}, such as "{expected}{extension}".',
        )
    return None


def check_syntax_specified(file: LintFile, config) -> Problem | None:
    # protoc leaves `syntax` empty for proto2 whether or not it was written; only the source info tells.
    if not file.proto.syntax and file.index.position((FILE_SYNTAX,)) == (0, 0):
        return Problem(
            file,
            'Files must have a syntax explicitly specified. If no syntax is specified, the file defaults to "proto2".',
        )
    return None


def check_import_no_public(entry: Import, config) -> Problem | None:
    if entry.is_public:
        return Problem(entry, f'Import "{entry.name}" must not be public.')
    return None


def check_import_no_weak(entry: Import, config) -> Problem | None:
    if entry.is_weak:
        return Problem(entry, f'Import "{entry.name}" must not be weak.')
    return None


def check_import_used(entry: Import, config) -> Problem | None:
    # A public import re-exports for the importer's importers; whether this file uses it does not matter.
    # An imported file that was not handed to lint cannot be judged: unknown is not unused.
    workspace = entry.file.workspace
    if entry.is_public or entry.name not in workspace.files:
        return None
    exported = workspace.exported_by(entry.name)
    # Types first: every option of the file is read only for an import that no type uses.
    if _needs(entry, _type_files(entry.file), exported) or _needs(entry, _option_files(entry.file), exported):
        return None
    return Problem(entry, f'Import "{entry.name}" is unused.')


def _needs(entry: Import, used: Iterable[str], exported: set[str]) -> bool:
    """Tell whether a used file is reached through this import (the imported file or one it re-exports)."""
    # A file this one imports itself is used through that import: another import re-exporting it is not, as in buf.
    imported = set(entry.file.proto.dependency)
    return any(name in exported and (name == entry.name or name not in imported) for name in used)


def _type_files(file: LintFile) -> "_TypeFiles":
    """Return the files declaring the types this file's fields, extensions and methods name (see _TypeFiles)."""
    found = file.memo.get("type_files")
    if found is None:
        found = file.memo["type_files"] = _TypeFiles(file)
    return found


class _TypeFiles:
    """The files declaring the types a file names, found only as far as a reader iterates.

    An import is used as soon as one type it brings is found, and most are named in a file's first
    messages: a large file's other fields are then never read for IMPORT_USED. Read to the end (an
    unused import), the files are all those the file's types name, each once.
    """

    def __init__(self, file: LintFile):
        self.found: list[str] = []
        self._declaring = file.workspace.declaring_file
        self._names = _named_types(file)

    def __iter__(self) -> Iterator[str]:
        index = 0
        while index < len(self.found) or self._read_more():
            yield self.found[index]
            index += 1

    def _read_more(self) -> bool:
        """Read type names until one names a file not found yet; tell whether one did."""
        declaring, known = self._declaring, len(self.found)
        for names in self._names:
            for name in names:
                declared_in = declaring.get(name[1:])
                if declared_in is not None and declared_in not in self.found:
                    self.found.append(declared_in)
            if len(self.found) > known:
                return True
        return False


def _named_types(file: LintFile) -> Iterator[set[str]]:
    """Yield the type names a file's extensions and methods name, then those of each message's fields."""
    names = set()
    for extension in file.extensions:
        names.add(extension.proto.type_name)
        names.add(extension.proto.extendee)
    for method in file.methods:
        names.add(method.proto.input_type)
        names.add(method.proto.output_type)
    yield names
    for message in file.messages:
        if message.field_protos:
            # Read in C, one set per message: a large schema has thousands of fields.
            yield set(map(_TYPE_NAME, message.field_protos))


def _option_files(file: LintFile) -> set[str]:
    """Return the files declaring the custom options this file sets, such as (registry.v1.pii)."""
    if "option_files" not in file.memo:
        declaring = file.workspace.extension_file
        # A set that declares no extension gives no option a file to credit: its options need no reading.
        keys = {key for options in _all_options(file) for key in _custom_option_keys(options)} if declaring else ()
        file.memo["option_files"] = {declaring[key] for key in keys if key in declaring}
    return file.memo["option_files"]


def _all_options(file: LintFile) -> Iterator:
    if file.proto.HasField("options"):
        yield file.proto.options
    for elements in (
        file.messages,
        file.fields,
        file.oneofs,
        file.enums,
        file.enum_values,
        file.services,
        file.methods,
    ):
        for element in elements:
            if element.proto.HasField("options"):
                yield element.proto.options
    for message in file.messages:
        for extension_range in message.proto.extension_range:
            if extension_range.HasField("options"):
                yield extension_range.options


def _custom_option_keys(options) -> Iterator[tuple[str, int]]:
    try:
        for number, wire_type, value in iter_fields(options.SerializeToString()):
            if number >= FIRST_EXTENSION_NUMBER:
                yield options.DESCRIPTOR.full_name, number
            elif number == _features_number(options) and wire_type == LENGTH_DELIMITED:
                yield from (
                    (FEATURE_SET, feature) for feature in field_numbers(value) if feature >= FIRST_EXTENSION_NUMBER
                )
    except WireFormatError:
        return


def _features_number(options) -> int | None:
    """Return the number of `features` in this *Options message (50 in FileOptions, 21 in FieldOptions...)."""
    field = options.DESCRIPTOR.fields_by_name.get("features")
    return None if field is None else field.number


def _by_package(files: Sequence[LintFile]) -> dict[str, list[LintFile]]:
    # Files without a package make a group of their own (package ""), as in buf.
    groups: dict[str, list[LintFile]] = defaultdict(list)
    for file in files:
        groups[file.package].append(file)
    return groups


def check_directory_same_package(files: Sequence[LintFile], config) -> Iterator[Problem]:
    by_directory: dict[str, list[LintFile]] = defaultdict(list)
    for file in files:
        by_directory[file.directory].append(file)
    for directory, members in by_directory.items():
        packages = {file.package for file in members}
        if len(packages) < 2:
            continue
        named = ",".join(sorted(packages - {""}))
        if "" not in packages:
            subject = f'Multiple packages "{named}"'
        elif len(packages) > 2:
            subject = f'Multiple packages "{named}" and file with no package'
        else:
            subject = f'Package "{named}" and file with no package'
        for file in members:
            yield Problem(file, f'{subject} detected within directory "{directory}".', PACKAGE_AT)


def check_package_same_directory(files: Sequence[LintFile], config) -> Iterator[Problem]:
    for package, members in _by_package(files).items():
        directories = sorted({file.directory for file in members})
        if len(directories) > 1:
            for file in members:
                yield Problem(
                    file,
                    f'Multiple directories "{",".join(directories)}" contain files with package "{package}".',
                    PACKAGE_AT,
                )


def _same_option_rule(option: str, number: int):
    """Build a PACKAGE_SAME_* check: every file of a package sets the file option to one value."""

    def check(files: Sequence[LintFile], config) -> Iterator[Problem]:
        for package, members in _by_package(files).items():
            values = {_file_option(file, option) for file in members}
            if len(values) < 2:
                continue
            shown = go_quote(",".join(sorted(values - {""})))
            if "" in values:
                text = (
                    f'Files in package "{package}" have both values {shown} and no value for option "{option}" '
                    "and all values must be equal."
                )
            else:
                text = (
                    f'Files in package "{package}" have multiple values {shown} for option "{option}" and all '
                    "values must be equal."
                )
            for file in members:
                yield Problem(file, text, (FILE_OPTIONS, number))

    return check


def _file_option(file: LintFile, option: str) -> str:
    options = file.proto.options
    if not options.HasField(option):
        return ""  # buf counts an unset option as no value, even java_multiple_files (not as false)
    value = getattr(options, option)
    return ("true" if value else "false") if isinstance(value, bool) else value


def check_package_no_import_cycle(files: Sequence[LintFile], config) -> Iterator[Problem]:
    if not files:
        return
    workspace = files[0].workspace
    graph = _package_graph(workspace)
    component = _components(graph)
    for file in files:
        for entry in file.imports:
            imported = workspace.package_of(entry.name)
            if (
                file.package
                and imported
                and imported != file.package
                and component[imported] == component[file.package]
            ):
                cycle = [file.package, *_path(graph, imported, file.package)]
                yield Problem(entry, f"Package import cycle: {' -> '.join(cycle)}")


def _package_graph(workspace) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for proto in workspace.files.values():
        if not proto.package:
            continue
        graph[proto.package]
        for dependency in proto.dependency:
            imported = workspace.package_of(dependency)
            if imported and imported != proto.package:
                graph[proto.package].add(imported)
                graph[imported]
    return graph


def _components(graph: dict[str, set[str]]) -> dict[str, str]:
    """Label each package with its strongly connected component (Kosaraju, iterative)."""
    order: list[str] = []
    seen: set[str] = set()
    for start in sorted(graph):
        if start in seen:
            continue
        seen.add(start)
        stack = [(start, iter(sorted(graph[start])))]
        while stack:
            node, following = stack[-1]
            step = next(following, None)
            if step is None:
                stack.pop()
                order.append(node)
            elif step not in seen:
                seen.add(step)
                stack.append((step, iter(sorted(graph[step]))))
    reverse: dict[str, set[str]] = defaultdict(set)
    for node, targets in graph.items():
        for target in targets:
            reverse[target].add(node)
    component: dict[str, str] = {}
    for root in reversed(order):
        if root in component:
            continue
        component[root] = root
        pending = [root]
        while pending:
            for previous in reverse[pending.pop()]:
                if previous not in component:
                    component[previous] = root
                    pending.append(previous)
    return component


def _path(graph: dict[str, set[str]], start: str, goal: str) -> list[str]:
    """Return the shortest package path from start to goal (breadth first, names in order)."""
    came_from = {start: None}
    queue = [start]
    for node in queue:
        if node == goal:
            break
        for step in sorted(graph[node]):
            if step not in came_from:
                came_from[step] = node
                queue.append(step)
    path = [goal]
    while came_from[path[-1]] is not None:
        path.append(came_from[path[-1]])
    return path[::-1]


def check_rpc_request_response_unique(files: Sequence[LintFile], config) -> Iterator[Problem]:
    methods = [method for file in files for method in file.methods]
    allow_requests = config.rpc_allow_google_protobuf_empty_requests
    allow_responses = config.rpc_allow_google_protobuf_empty_responses
    users: dict[str, list[Method]] = defaultdict(list)
    for method in methods:
        request, response = _request(method), _response(method)
        if (
            request == response
            and not config.rpc_allow_same_request_response
            and not (request == EMPTY and allow_requests and allow_responses)
        ):
            yield Problem(method, f'RPC "{method.name}" has the same type "{request}" for the request and response.')
        users[request].append(method)
        if response != request:
            users[response].append(method)
    for type_name, sharing in users.items():
        if len(sharing) < 2:
            continue
        if type_name != EMPTY or not (allow_requests or allow_responses):
            yield from (
                Problem(method, f'"{type_name}" is used as the request or response type for multiple RPCs.')
                for method in sharing
            )
            continue
        if not allow_requests:
            yield from _shared_empty([m for m in sharing if _request(m) == EMPTY], "request")
        if not allow_responses:
            yield from _shared_empty([m for m in sharing if _response(m) == EMPTY], "response")


def _shared_empty(methods: list[Method], role: str) -> Iterator[Problem]:
    if len(methods) > 1:
        yield from (Problem(method, f'"{EMPTY}" is used as the {role} for multiple RPCs.') for method in methods)


def _request(method: Method) -> str:
    return method.proto.input_type.lstrip(".")


def _response(method: Method) -> str:
    return method.proto.output_type.lstrip(".")


def _same_option_row(option: str, number: int) -> LintRule:
    rule_id = "PACKAGE_SAME_" + option.upper()
    return LintRule(
        rule_id,
        f'Checks that all files with a given package have the same value for the "{option}" option.',
        (*FROM_BASIC, PACKAGE_AFFINITY),
        "files",
        _same_option_rule(option, number),
    )


FILE_RULES = (
    LintRule(
        "DIRECTORY_SAME_PACKAGE",
        "Checks that all files in a given directory are in the same package.",
        FROM_MINIMAL,
        "files",
        check_directory_same_package,
    ),
    LintRule(
        "PACKAGE_DEFINED", "Checks that all files have a package defined.", FROM_MINIMAL, "file", check_package_defined
    ),
    LintRule(
        "PACKAGE_DIRECTORY_MATCH",
        "Checks that all files are in a directory that matches their package name.",
        FROM_MINIMAL,
        "file",
        check_package_directory_match,
    ),
    LintRule(
        "PACKAGE_NO_IMPORT_CYCLE",
        "Checks that packages do not have import cycles.",
        FROM_MINIMAL,
        "files",
        check_package_no_import_cycle,
    ),
    LintRule(
        "PACKAGE_SAME_DIRECTORY",
        "Checks that all files with a given package are in the same directory.",
        FROM_MINIMAL,
        "files",
        check_package_same_directory,
    ),
    LintRule(
        "FILE_LOWER_SNAKE_CASE",
        "Checks that filenames are lower_snake_case.",
        ONLY_STANDARD,
        "file",
        check_file_lower_snake_case,
    ),
    LintRule("IMPORT_NO_PUBLIC", "Checks that imports are not public.", FROM_BASIC, "import", check_import_no_public),
    # buf 1.75 lists IMPORT_NO_WEAK as deprecated and in no category; it runs here only when named.
    LintRule(
        "IMPORT_NO_WEAK", "Checks that imports are not weak (runs only when named).", (), "import", check_import_no_weak
    ),
    LintRule("IMPORT_USED", "Checks that imports are used.", FROM_BASIC, "import", check_import_used),
    LintRule(
        "PACKAGE_LOWER_SNAKE_CASE",
        "Checks that packages are lower_snake.case.",
        FROM_BASIC,
        "file",
        check_package_lower_snake_case,
    ),
    LintRule(
        "PACKAGE_VERSION_SUFFIX",
        "Checks that the last component of all packages is a version of the form v\\d+, v\\d+test.*, "
        "v\\d+(alpha|beta)\\d*, or v\\d+p\\d+(alpha|beta)\\d*, where numbers are >=1.",
        ONLY_STANDARD,
        "file",
        check_package_version_suffix,
    ),
    LintRule(
        "SYNTAX_SPECIFIED", "Checks that all files have a syntax specified.", FROM_BASIC, "file", check_syntax_specified
    ),
    LintRule(
        "RPC_REQUEST_RESPONSE_UNIQUE",
        "Checks that RPC request and response types are only used in one RPC (configurable).",
        ONLY_STANDARD,
        "files",
        check_rpc_request_response_unique,
    ),
    _same_option_row("csharp_namespace", 37),
    _same_option_row("go_package", 11),
    _same_option_row("java_multiple_files", 10),
    _same_option_row("java_package", 1),
    _same_option_row("php_namespace", 41),
    _same_option_row("ruby_package", 45),
    _same_option_row("swift_prefix", 39),
)
