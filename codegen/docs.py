"""Reference documentation from compiled descriptors: one Markdown and one HTML page per .proto file, and an index.

Comments come from the descriptors' source info (the compiler keeps it), so what a
schema's author wrote above a message, field, enum, service or method is what the
page shows. Output depends only on the descriptors: the same input renders the same bytes.
"""

import html
from collections.abc import Sequence

from google.protobuf.descriptor_pb2 import DescriptorProto, FieldDescriptorProto, FileDescriptorProto

# Part of the archive version of docs: bump it when the pages change shape.
FORMAT_VERSION = "1"

# Field numbers in FileDescriptorProto / DescriptorProto that source-info paths use.
_MESSAGE, _ENUM, _SERVICE = 4, 5, 6
_FIELD, _NESTED, _NESTED_ENUM, _ENUM_VALUE, _METHOD = 2, 3, 4, 2, 2

_TYPE_NAMES = {
    value: name.removeprefix("TYPE_").lower()
    for name, value in FieldDescriptorProto.Type.items()
    if name not in ("TYPE_MESSAGE", "TYPE_ENUM", "TYPE_GROUP")
}


def render(files: Sequence[FileDescriptorProto]) -> dict[str, str]:
    """Return {output path: text}: FILE.md and FILE.html per .proto file, plus index.md and index.html."""
    pages = {}
    for file in files:
        stem = file.name.removesuffix(".proto")
        sections = _file_sections(file)
        pages[f"{stem}.md"] = _markdown(file, sections)
        pages[f"{stem}.html"] = _html(file, sections)
    names = sorted(file.name for file in files)
    pages["index.md"] = "# Schema reference\n\n" + "".join(
        f"- [{name}]({name.removesuffix('.proto')}.md)\n" for name in names
    )
    items = "".join(
        f'<li><a href="{html.escape(name.removesuffix(".proto"))}.html">{html.escape(name)}</a></li>' for name in names
    )
    pages["index.html"] = _page("Schema reference", f"<h1>Schema reference</h1><ul>{items}</ul>")
    return pages


def _comments(file: FileDescriptorProto) -> dict[tuple[int, ...], str]:
    found = {}
    for location in file.source_code_info.location:
        text = (location.leading_comments or location.trailing_comments).strip()
        if text:
            found[tuple(location.path)] = " ".join(line.strip() for line in text.splitlines())
    return found


def _file_sections(file: FileDescriptorProto) -> list[dict]:
    """Return one section per message, enum and service, nested messages and enums included, in file order."""
    comments = _comments(file)
    sections: list[dict] = []

    def add_message(message: DescriptorProto, prefix: str, path: tuple[int, ...]) -> None:
        full_name = f"{prefix}{message.name}"
        rows = [
            (field.name, str(field.number), _field_type(field), comments.get((*path, _FIELD, index), ""))
            for index, field in enumerate(message.field)
        ]
        sections.append(
            {
                "kind": "message",
                "name": full_name,
                "comment": comments.get(path, ""),
                "columns": ("Field", "Number", "Type", "Description"),
                "rows": rows,
            }
        )
        for index, nested in enumerate(message.nested_type):
            if not nested.options.map_entry:
                add_message(nested, f"{full_name}.", (*path, _NESTED, index))
        for index, enum in enumerate(message.enum_type):
            add_enum(enum, f"{full_name}.", (*path, _NESTED_ENUM, index))

    def add_enum(enum, prefix: str, path: tuple[int, ...]) -> None:
        rows = [
            (value.name, str(value.number), comments.get((*path, _ENUM_VALUE, index), ""))
            for index, value in enumerate(enum.value)
        ]
        sections.append(
            {
                "kind": "enum",
                "name": f"{prefix}{enum.name}",
                "comment": comments.get(path, ""),
                "columns": ("Value", "Number", "Description"),
                "rows": rows,
            }
        )

    for index, message in enumerate(file.message_type):
        add_message(message, "", (_MESSAGE, index))
    for index, enum in enumerate(file.enum_type):
        add_enum(enum, "", (_ENUM, index))
    for index, service in enumerate(file.service):
        rows = [
            (
                method.name,
                _stream("stream " if method.client_streaming else "", method.input_type),
                _stream("stream " if method.server_streaming else "", method.output_type),
                comments.get((_SERVICE, index, _METHOD, position), ""),
            )
            for position, method in enumerate(service.method)
        ]
        sections.append(
            {
                "kind": "service",
                "name": service.name,
                "comment": comments.get((_SERVICE, index), ""),
                "columns": ("Method", "Request", "Response", "Description"),
                "rows": rows,
            }
        )
    return sections


def _field_type(field: FieldDescriptorProto) -> str:
    name = field.type_name.lstrip(".") if field.type_name else _TYPE_NAMES.get(field.type, "unknown")
    return f"repeated {name}" if field.label == FieldDescriptorProto.LABEL_REPEATED else name


def _stream(prefix: str, type_name: str) -> str:
    return prefix + type_name.lstrip(".")


def _markdown(file: FileDescriptorProto, sections: list[dict]) -> str:
    lines = [f"# {file.name}", "", f"Package `{file.package}`" if file.package else "No package.", ""]
    if file.dependency:
        lines += ["Imports: " + ", ".join(f"`{name}`" for name in file.dependency), ""]
    for section in sections:
        lines += [f"## {section['kind']} {section['name']}", ""]
        if section["comment"]:
            lines += [section["comment"], ""]
        if section["rows"]:
            lines.append("| " + " | ".join(section["columns"]) + " |")
            lines.append("|" + " --- |" * len(section["columns"]))
            lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in section["rows"]]
            lines.append("")
    return "\n".join(lines)


def _html(file: FileDescriptorProto, sections: list[dict]) -> str:
    parts = [f"<h1>{html.escape(file.name)}</h1>"]
    parts.append(f"<p>Package <code>{html.escape(file.package)}</code></p>" if file.package else "<p>No package.</p>")
    for section in sections:
        anchor = html.escape(section["name"])
        parts.append(f'<h2 id="{anchor}">{section["kind"]} {anchor}</h2>')
        if section["comment"]:
            parts.append(f"<p>{html.escape(section['comment'])}</p>")
        if section["rows"]:
            head = "".join(f"<th>{html.escape(column)}</th>" for column in section["columns"])
            body = "".join(
                "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in section["rows"]
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    return _page(file.name, "".join(parts))


def _page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
        f"<body>{body}</body></html>\n"
    )
