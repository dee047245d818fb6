"""A hypothesis strategy for small trees of .proto files that exercise buf's lint rules.

Names come in every spelling the case rules argue about (`order_id`, `orderId`,
`HTTPServer`, `V1x`, `_x`, `item__2`), files sit in directories that match their
package or not, elements carry documentation, empty comments or ignore
directives, imports are used or not, and packages may import each other in a
cycle. Every tree compiles: names are unique across the tree (ignoring case and
underscores, which also keeps proto3's JSON names apart), proto3 and editions
enums start at 0, and files import only files generated before them.
"""

from hypothesis import strategies as st

WORDS = ("order", "user", "http", "server", "id", "book", "item", "price", "json", "v1", "x", "url", "list")
STYLES = ("lower_snake", "upper_snake", "pascal", "camel", "shout_pascal", "raw")
SYNTAXES = ('syntax = "proto3";', 'syntax = "proto2";', "", 'edition = "2023";')
# (directory, package): matching, mismatching, unversioned, unstable, upper case, none.
PLACES = (
    ("acme/v1", "acme.v1"),
    ("acme/v1", "acme.v1"),
    ("acme/v2", "acme.v2"),
    ("acme/v1", "acme.v2"),
    ("acme", "acme"),
    ("acme/v1beta1", "acme.v1beta1"),
    ("Acme/V1", "Acme.V1"),
    ("", None),
    ("other/v1", "other.v1"),
)
SCALARS = ("string", "int32", "bool", "bytes", "double")
FILE_OPTIONS = (
    'option go_package = "example.com/acme/v1;acmev1";',
    'option go_package = "example.com/other/v1;otherv1";',
    'option java_package = "com.acme.v1";',
    "option java_multiple_files = true;",
    "option java_multiple_files = false;",
    'option csharp_namespace = "Acme.V1";',
    'option php_namespace = "Acme\\\\V1";',
    'option ruby_package = "Acme::V1";',
    'option swift_prefix = "AV";',
)
COMMENTS = (
    "",
    "",
    "// Documented.",
    "//",
    "/* Block. */",
    "// buf:lint:ignore FIELD_LOWER_SNAKE_CASE",
    "// buf:lint:ignore COMMENT_MESSAGE",
    "// buf:lint:ignore MESSAGE_PASCAL_CASE",
    "// buf:lint:ignore ENUM_VALUE_PREFIX",
)
WELL_KNOWN = ("google/protobuf/empty.proto", "google/protobuf/timestamp.proto")


def spell(words: list[str], style: str) -> str:
    """Return the words joined in one of the spellings the case rules judge."""
    if style == "lower_snake":
        return "_".join(words)
    if style == "upper_snake":
        return "_".join(words).upper()
    if style == "pascal":
        return "".join(word.capitalize() for word in words)
    if style == "camel":
        return words[0] + "".join(word.capitalize() for word in words[1:])
    if style == "shout_pascal":
        return "".join(word.upper() if len(word) <= 4 else word.capitalize() for word in words)
    return "_".join(word.capitalize() if index % 2 else word for index, word in enumerate(words))


class Names:
    """Hand out names unique across a tree, whatever their case and underscores."""

    def __init__(self, draw):
        self.draw = draw
        # The packages' components: a message `v1` in package `acme` is the symbol acme.v1, which buf refuses
        # beside a package acme.v1 ("package name conflict"), as does a message `acme` of a file without one.
        self.used: set[str] = {part.lower() for _, package in PLACES if package for part in package.split(".")}

    def new(self, styles=STYLES, prefix: str = "") -> str:
        words = self.draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3))
        name = prefix + spell(words, self.draw(st.sampled_from(styles)))
        decoration = self.draw(st.sampled_from(("", "", "", "2", "_", "__3")))
        name = (name + decoration) if decoration != "_" else "_" + name
        if not name[0].isalpha() and not name.startswith("_"):
            name = "x" + name
        key = name.replace("_", "").lower()
        suffix = 2
        while key in self.used or not name.replace("_", ""):
            name, key = f"{name}{suffix}", f"{key}{suffix}"
            suffix += 1
        self.used.add(key)
        return name


def _comment(draw, indent: str) -> list[str]:
    text = draw(st.sampled_from(COMMENTS))
    return [indent + text] if text else []


@st.composite
def proto_trees(draw) -> dict[str, str]:
    """Return `{import path: text}` of one to three files."""
    names = Names(draw)
    files: dict[str, str] = {}
    declared: list[tuple[str, str, str]] = []  # (path, package, message name) of earlier files
    for _ in range(draw(st.integers(1, 3))):
        directory, package = draw(st.sampled_from(PLACES))
        stem = names.new(("lower_snake", "lower_snake", "pascal", "camel"))
        path = f"{directory}/{stem}.proto" if directory else f"{stem}.proto"
        text, messages = _file(draw, names, package, declared)
        files[path] = text
        declared.extend((path, package or "", message) for message in messages)
    return files


def _file(draw, names: Names, package: str | None, declared) -> tuple[str, list[str]]:
    syntax = draw(st.sampled_from(SYNTAXES))
    proto2 = syntax in ('syntax = "proto2";', "")
    editions = syntax.startswith("edition")
    lines = _comment(draw, "") + ([syntax, ""] if syntax else [])
    if package is not None:
        lines += [f"package {package};", ""]
    imported = draw(st.lists(st.sampled_from(declared), max_size=2, unique=True)) if declared else []
    well_known = draw(st.lists(st.sampled_from(WELL_KNOWN), max_size=1))
    for path in sorted({path for path, _, _ in imported} | set(well_known)):
        modifier = draw(st.sampled_from(("", "", "", "public ")))
        lines.append(f'import {modifier}"{path}";')
    options = st.lists(st.sampled_from(FILE_OPTIONS), max_size=2, unique_by=lambda option: option.split("=")[0])
    lines += draw(options) + [""]
    # Types the fields may use: earlier files' messages (absolute names) and this file's own.
    foreign = [f".{pkg}.{name}" if pkg else f".{name}" for _, pkg, name in imported if draw(st.booleans())]
    if "google/protobuf/timestamp.proto" in well_known and draw(st.booleans()):
        foreign.append("google.protobuf.Timestamp")
    messages = [
        names.new(("pascal", "pascal", "lower_snake", "shout_pascal", "camel")) for _ in range(draw(st.integers(0, 3)))
    ]
    for message in messages:
        lines += _message(draw, names, message, messages + foreign, proto2, editions)
    for _ in range(draw(st.integers(0, 2))):
        lines += _enum(draw, names, "", proto2)
    if messages or "google/protobuf/empty.proto" in well_known:
        for _ in range(draw(st.integers(0, 1))):
            types = messages + (["google.protobuf.Empty"] if "google/protobuf/empty.proto" in well_known else [])
            lines += _service(draw, names, types)
    return "\n".join(lines) + "\n", messages


def _message(draw, names: Names, name: str, types: list[str], proto2: bool, editions: bool) -> list[str]:
    lines = _comment(draw, "") + [f"message {name} {{"]
    number = 1
    nested = _enum(draw, names, "  ", proto2) if draw(st.integers(0, 3)) == 0 else []
    lines += nested
    for _ in range(draw(st.integers(0, 4))):
        field = names.new(("lower_snake", "lower_snake", "camel", "pascal", "upper_snake"))
        kind = draw(st.sampled_from(("scalar", "scalar", "message", "map", "required", "repeated")))
        lines += _comment(draw, "  ")
        if kind == "message" and types:
            lines.append(f"  {'optional ' if proto2 else ''}{draw(st.sampled_from(types))} {field} = {number};")
        elif kind == "map":
            lines.append(f"  map<string, {draw(st.sampled_from(SCALARS))}> {field} = {number};")
        elif kind == "required" and proto2:
            lines.append(f"  required {draw(st.sampled_from(SCALARS))} {field} = {number};")
        elif kind == "required" and editions:
            lines.append(f"  string {field} = {number} [features.field_presence = LEGACY_REQUIRED];")
        elif kind == "repeated":
            lines.append(f"  repeated {draw(st.sampled_from(SCALARS))} {field} = {number};")
        else:
            label = "optional " if proto2 else ""
            lines.append(f"  {label}{draw(st.sampled_from(SCALARS))} {field} = {number};")
        number += 1
    if draw(st.integers(0, 3)) == 0:
        oneof = names.new(("lower_snake", "camel", "pascal"))
        lines += _comment(draw, "  ") + [f"  oneof {oneof} {{"]
        for _ in range(draw(st.integers(1, 2))):
            lines += _comment(draw, "    ") + [f"    string {names.new(('lower_snake', 'camel'))} = {number};"]
            number += 1
        lines.append("  }")
    return lines + ["}", ""]


def _enum(draw, names: Names, indent: str, proto2: bool) -> list[str]:
    name = names.new(("pascal", "pascal", "lower_snake", "shout_pascal"))
    lines = _comment(draw, indent) + [f"{indent}enum {name} {{"]
    # Only proto2's closed enums may start anywhere but 0.
    start = draw(st.sampled_from((0, 0, 1))) if proto2 else 0
    prefix = draw(st.sampled_from(("", spell([name.lower()], "upper_snake") + "_")))
    for offset in range(draw(st.integers(1, 3))):
        value = names.new(("upper_snake", "upper_snake", "pascal", "lower_snake"), prefix if offset else prefix)
        if offset == 0 and draw(st.booleans()):
            value = names.new(("upper_snake",), prefix) + "_UNSPECIFIED"
        lines += _comment(draw, indent + "  ") + [f"{indent}  {value} = {start + offset};"]
    return lines + [f"{indent}}}", ""]


def _service(draw, names: Names, types: list[str]) -> list[str]:
    service = names.new(("pascal", "pascal", "lower_snake"))
    if draw(st.booleans()):
        service += "Service"
    lines = _comment(draw, "") + [f"service {service} {{"]
    for _ in range(draw(st.integers(1, 3))):
        method = names.new(("pascal", "pascal", "camel", "lower_snake"))
        request, response = draw(st.sampled_from(types)), draw(st.sampled_from(types))
        client, server = draw(st.sampled_from(("", "", "stream "))), draw(st.sampled_from(("", "", "stream ")))
        lines += _comment(draw, "  ") + [f"  rpc {method}({client}{request}) returns ({server}{response});"]
    return lines + ["}", ""]
