"""A large, valid schema tree: code generation for it takes seconds, long enough to kill its worker mid-job."""


def large_tree(*, files: int = 6, messages: int = 40, fields: int = 24) -> dict[str, str]:
    """Return import path -> text; each file imports the one before and holds one of its messages in each message.

    Every file stays under the registry's per-schema field limit; Java code for the whole tree is megabytes.
    """
    return {_path(index): _file(index, messages, fields) for index in range(files)}


def _path(index: int) -> str:
    return f"load/ledger/part{index}.proto"


def _file(index: int, messages: int, fields: int) -> str:
    lines = ['syntax = "proto3";', "", f"package load.ledger.part{index};", ""]
    if index:
        lines += [f'import "{_path(index - 1)}";', ""]
    for number in range(messages):
        lines.append(f"message Entry{number} {{")
        lines += [_field(tag) for tag in range(1, fields + 1)]
        if index:
            lines.append(f"  load.ledger.part{index - 1}.Entry{number} previous = {fields + 1};")
        lines.append("}")
        lines.append("")
    return "\n".join(lines)


def _field(tag: int) -> str:
    kind = ("string", "int64", "double", "bool", "bytes", "repeated string")[tag % 6]
    return f"  {kind} field_{tag} = {tag};"
