"""A small generator of .proto trees and of mutations of them, for comparing breaking checks with buf.

`schema_pairs()` draws a tree of one or two files (proto2 or proto3; messages with nested types, oneofs,
reserved numbers and defaults; enums with aliases; services) and a copy changed by one to three mutations
(delete, rename or renumber fields, change types and labels, enums, values, RPCs, packages, files). The trees
are plain {path: text} mappings; a mutation may produce a tree that does not compile, which tests discard.
"""

import copy

from hypothesis import strategies as st

SCALARS = ["double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64"]
SCALARS += ["sfixed32", "sfixed64", "bool", "string", "bytes"]
DEFAULTS = {"int32": "7", "int64": "-3", "uint32": "9", "bool": "true", "string": '"x"', "double": "1.5"}
WORDS = ["alpha", "beta", "gamma", "delta", "echo", "fox", "golf", "hotel", "india", "juliet", "kilo", "lima"]


# --- The model: plain dicts, so that mutations are short ----------------------------------------


def field(draw, names, numbers, types, syntax: str, in_oneof: bool = False) -> dict:
    kind = draw(st.sampled_from(types))
    labels = (
        [""]
        if in_oneof
        else (["optional", "required", "repeated"] if syntax == "proto2" else ["", "optional", "repeated"])
    )
    label = draw(st.sampled_from(labels))
    default = None
    if syntax == "proto2" and label != "repeated" and kind in DEFAULTS and draw(st.booleans()):
        default = DEFAULTS[kind]
    name = names.pop()
    json_name = draw(st.sampled_from([None, None, None, f"{name}Json"]))
    return {"name": name, "number": numbers.pop(), "type": kind, "label": label, "default": default, "json": json_name}


def enum(draw, name: str) -> dict:
    size = draw(st.integers(1, 4))
    prefix = name.upper()
    values = [[f"{prefix}_{WORDS[index].upper()}", index] for index in range(size)]
    alias = size > 1 and draw(st.booleans())
    if alias:
        values.append([f"{prefix}_ALIAS", size - 1])
    return {"name": name, "values": values, "alias": alias}


def message(draw, name: str, syntax: str, enums_in_scope: list[str], depth: int = 0) -> dict:
    names = [f"{word}_{name.lower()}" for word in WORDS]
    draw(st.randoms()).shuffle(names)
    numbers = draw(st.permutations(list(range(1, 13))))
    numbers = list(numbers)
    nested_enums = [enum(draw, f"{name}Kind")] if draw(st.booleans()) else []
    types = SCALARS + enums_in_scope + [e["name"] for e in nested_enums]
    fields = [field(draw, names, numbers, types, syntax) for _ in range(draw(st.integers(0, 4)))]
    oneof = None
    if draw(st.booleans()):
        oneof = {
            "name": f"choice_{name.lower()}",
            "fields": [field(draw, names, numbers, SCALARS, syntax, True) for _ in range(draw(st.integers(1, 2)))],
        }
    nested = (
        [message(draw, f"{name}Inner", syntax, enums_in_scope, depth + 1)] if depth == 0 and draw(st.booleans()) else []
    )
    reserved = [numbers.pop()] if draw(st.booleans()) else []
    return {
        "name": name,
        "fields": fields,
        "oneof": oneof,
        "nested": nested,
        "enums": nested_enums,
        "reserved": reserved,
    }


def proto_file(draw, letter: str, package: str, syntax: str) -> dict:
    enums = [enum(draw, f"{letter}Color{index}") for index in range(draw(st.integers(0, 2)))]
    messages = [
        message(draw, f"{letter}Msg{index}", syntax, [e["name"] for e in enums])
        for index in range(draw(st.integers(1, 3)))
    ]
    services = []
    if draw(st.booleans()):
        rpcs = [
            {
                "name": f"Do{WORDS[index].title()}",
                "request": draw(st.sampled_from(messages))["name"],
                "response": draw(st.sampled_from(messages))["name"],
                "client": draw(st.booleans()),
                "server": draw(st.booleans()),
            }
            for index in range(draw(st.integers(1, 3)))
        ]
        services.append({"name": f"{letter}Service", "rpcs": rpcs})
    return {
        "path": f"gen/v1/{letter.lower()}.proto",
        "syntax": syntax,
        "package": package,
        "enums": enums,
        "messages": messages,
        "services": services,
    }


@st.composite
def trees(draw) -> list[dict]:
    syntax = draw(st.sampled_from(["proto3", "proto2"]))
    files = [proto_file(draw, "A", "gen.v1", syntax)]
    if draw(st.booleans()):
        files.append(proto_file(draw, "B", draw(st.sampled_from(["gen.v1", "gen.v1", "gen.other"])), syntax))
    return files


# --- Rendering -----------------------------------------------------------------------------------


def render(files: list[dict]) -> dict[str, str]:
    return {file["path"]: render_file(file) for file in files}


def render_file(file: dict) -> str:
    lines = [f'syntax = "{file["syntax"]}";', f"package {file['package']};", ""]
    for item in file["enums"]:
        lines += render_enum(item, "")
    for item in file["messages"]:
        lines += render_message(item, "")
    for service in file["services"]:
        lines.append(f"service {service['name']} {{")
        for rpc in service["rpcs"]:
            client, server = ("stream " if rpc["client"] else ""), ("stream " if rpc["server"] else "")
            lines.append(f"  rpc {rpc['name']}({client}{rpc['request']}) returns ({server}{rpc['response']});")
        lines.append("}")
    return "\n".join(lines) + "\n"


def render_enum(item: dict, indent: str) -> list[str]:
    lines = [f"{indent}enum {item['name']} {{"]
    if item["alias"]:
        lines.append(f"{indent}  option allow_alias = true;")
    lines += [f"{indent}  {name} = {number};" for name, number in item["values"]]
    return [*lines, f"{indent}}}"]


def render_field(item: dict, indent: str) -> str:
    options = []
    if item["default"] is not None:
        options.append(f"default = {item['default']}")
    if item["json"]:
        options.append(f'json_name = "{item["json"]}"')
    suffix = f" [{', '.join(options)}]" if options else ""
    label = f"{item['label']} " if item["label"] else ""
    return f"{indent}{label}{item['type']} {item['name']} = {item['number']}{suffix};"


def render_message(item: dict, indent: str) -> list[str]:
    lines = [f"{indent}message {item['name']} {{"]
    inner = indent + "  "
    for nested in item["enums"]:
        lines += render_enum(nested, inner)
    for nested in item["nested"]:
        lines += render_message(nested, inner)
    lines += [render_field(f, inner) for f in item["fields"]]
    if item["oneof"]:
        lines.append(f"{inner}oneof {item['oneof']['name']} {{")
        lines += [render_field(f, inner + "  ") for f in item["oneof"]["fields"]]
        lines.append(f"{inner}}}")
    lines += [f"{inner}reserved {number};" for number in item["reserved"]]
    return [*lines, f"{indent}}}"]


# --- Mutations -----------------------------------------------------------------------------------


def all_messages(files: list[dict]) -> list[dict]:
    found = []
    for file in files:
        for item in file["messages"]:
            found += [item, *item["nested"]]
    return found


def all_enums(files: list[dict]) -> list[dict]:
    found = [item for file in files for item in file["enums"]]
    return found + [item for message_ in all_messages(files) for item in message_["enums"]]


def all_fields(files: list[dict]) -> list[dict]:
    found = []
    for item in all_messages(files):
        found += item["fields"] + (item["oneof"]["fields"] if item["oneof"] else [])
    return found


def all_rpcs(files: list[dict]) -> list[dict]:
    return [rpc for file in files for service in file["services"] for rpc in service["rpcs"]]


def pick(draw, items: list):
    if not items:
        return None
    return draw(st.sampled_from(items))


def delete_field(draw, files):
    item = pick(draw, [m for m in all_messages(files) if m["fields"]])
    if item:
        item["fields"].remove(draw(st.sampled_from(item["fields"])))


def rename_field(draw, files):
    item = pick(draw, all_fields(files))
    if item:
        item["name"] += "_new"


def renumber_field(draw, files):
    item = pick(draw, all_fields(files))
    if item:
        item["number"] = draw(st.integers(13, 20))


def retype_field(draw, files):
    item = pick(draw, all_fields(files))
    if item:
        item["type"] = draw(st.sampled_from(SCALARS))
        if item["default"] is not None:
            item["default"] = DEFAULTS.get(item["type"])


def relabel_field(draw, files):
    item = pick(draw, [f for m in all_messages(files) for f in m["fields"]])
    if item:
        syntax = files[0]["syntax"]
        item["label"] = draw(
            st.sampled_from(
                ["optional", "required", "repeated"] if syntax == "proto2" else ["", "optional", "repeated"]
            )
        )
        if item["label"] == "repeated":
            item["default"] = None


def change_default(draw, files):
    item = pick(draw, [f for f in all_fields(files) if f["default"] is not None])
    if item:
        item["default"] = draw(st.sampled_from([None, "0", "1", '"y"', "false"]))


def change_json_name(draw, files):
    item = pick(draw, all_fields(files))
    if item:
        item["json"] = draw(st.sampled_from([None, f"other{item['name']}"]))


def move_into_or_out_of_oneof(draw, files):
    item = pick(draw, [m for m in all_messages(files) if m["oneof"]])
    if item and item["oneof"]["fields"] and draw(st.booleans()):
        moved = item["oneof"]["fields"].pop()
        item["fields"].append(moved)
    elif item and item["fields"]:
        moved = item["fields"].pop()
        moved["label"], moved["default"] = "", None
        item["oneof"]["fields"].append(moved)


def delete_oneof(draw, files):
    item = pick(draw, [m for m in all_messages(files) if m["oneof"]])
    if item:
        item["oneof"] = None


def unreserve(draw, files):
    item = pick(draw, [m for m in all_messages(files) if m["reserved"]])
    if item:
        item["reserved"] = []


def delete_enum_value(draw, files):
    item = pick(draw, [e for e in all_enums(files) if len(e["values"]) > 1])
    if item:
        item["values"].remove(draw(st.sampled_from(item["values"][1:])))


def rename_enum_value(draw, files):
    item = pick(draw, all_enums(files))
    if item:
        value = draw(st.sampled_from(item["values"]))
        value[0] += "_NEW"


def add_enum_alias(draw, files):
    item = pick(draw, all_enums(files))
    if item:
        item["alias"] = True
        item["values"].append([f"{item['name'].upper()}_EXTRA", draw(st.sampled_from(item["values"]))[1]])


def delete_enum(draw, files):
    holders = [f for f in files if f["enums"]] + [m for m in all_messages(files) if m["enums"]]
    holder = pick(draw, holders)
    if holder:
        holder["enums"].pop(draw(st.integers(0, len(holder["enums"]) - 1)))


def delete_message(draw, files):
    holders = [f for f in files if f["messages"]] + [m for m in all_messages(files) if m["nested"]]
    holder = pick(draw, holders)
    if holder:  # an earlier mutation may have deleted every message
        key = "messages" if "messages" in holder else "nested"
        holder[key].pop(draw(st.integers(0, len(holder[key]) - 1)))


def delete_rpc(draw, files):
    service = pick(draw, [s for f in files for s in f["services"]])
    if service:
        service["rpcs"].pop(draw(st.integers(0, len(service["rpcs"]) - 1)))


def toggle_streaming(draw, files):
    rpc = pick(draw, all_rpcs(files))
    if rpc:
        side = draw(st.sampled_from(["client", "server"]))
        rpc[side] = not rpc[side]


def change_rpc_types(draw, files):
    rpc = pick(draw, all_rpcs(files))
    if rpc:
        rpc["request"], rpc["response"] = rpc["response"], rpc["request"]


def delete_service(draw, files):
    file = pick(draw, [f for f in files if f["services"]])
    if file:
        file["services"] = []


def change_package(draw, files):
    file = draw(st.sampled_from(files))
    file["package"] = draw(st.sampled_from(["gen.v2", "gen.other", "gen.v1"]))


def delete_file(draw, files):
    if len(files) > 1:
        files.pop()


MUTATIONS = [
    delete_field,
    rename_field,
    renumber_field,
    retype_field,
    relabel_field,
    change_default,
    change_json_name,
    move_into_or_out_of_oneof,
    delete_oneof,
    unreserve,
    delete_enum_value,
    rename_enum_value,
    add_enum_alias,
    delete_enum,
    delete_message,
    delete_rpc,
    toggle_streaming,
    change_rpc_types,
    delete_service,
    change_package,
    delete_file,
]


@st.composite
def schema_pairs(draw) -> tuple[dict[str, str], dict[str, str]]:
    """Return (previous, current) trees as {path: text}; current is previous after one to three mutations."""
    previous = draw(trees())
    current = copy.deepcopy(previous)
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3)):
        mutation(draw, current)
    return render(previous), render(current)
