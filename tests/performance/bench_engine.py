"""Benchmark the protobuf engine in-process: compile, fingerprint, compare and lint.

Run by hand from the repository root:

    python tests/performance/bench_engine.py [--quick]

Two workloads are generated deterministically: a large schema set (10 files with
imports between them, over 300 messages, 5,000 fields, 50 enums and 20 services,
with nested messages, oneofs, maps, repeated and enum-typed fields) with a
"previous version" that differs as a real release would (fields added, a few
removed or renamed, enum values and an RPC added); and a typical 1 KB schema of
one file with about ten messages. Each stage is timed many times on one pinned
core and reported as median and p95 in milliseconds, against the targets below
(reported, never asserted). The whole checks are profiled once with cProfile to
show where their time goes. Results go to tests/performance/results/engine.json
and engine.md.
"""

import argparse
import copy
import cProfile
import datetime
import gc
import io
import json
import os
import platform
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from google.protobuf.internal import api_implementation  # noqa: E402

from protoengine import breaking, canonical, compatibility, compiler, lint, semver  # noqa: E402
from tests.performance.host import LOOP, python_speed_ms  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SEED = 20240601
# Targets from the task, reported against and never asserted.
TARGET_LARGE_WHOLE_MS = 50.0
TARGET_SMALL_WHOLE_MS = 1.0
# The whole-check targets of issue 17: (workload, start of the stage's name, target in ms).
WHOLE_CHECK_TARGETS = (
    ("large set", "whole check (warm", 50.0),
    ("large set", "whole check (new set", 50.0),
    ("large set", "whole check (cold", 150.0),
    ("1 KB schema", "whole check (warm", 1.0),
)
# Minimum sizes of the large set, checked after compiling it.
MIN_LARGE = {"files": 10, "messages": 300, "fields": 5000, "enums": 50, "services": 20}
PROFILE_LINES = 12
PROFILE_ROWS_IN_MARKDOWN = 5

SCALARS = ("string", "int32", "int64", "uint32", "uint64", "bool", "double", "float", "bytes", "sint64", "fixed32")
MAP_KEYS = ("string", "int64", "int32")


# ---------------------------------------------------------------- schema model


@dataclass
class FieldSpec:
    name: str
    type: str
    number: int
    label: str = ""  # "", "repeated" or "optional"
    oneof: str | None = None


@dataclass
class MessageSpec:
    name: str
    fields: list[FieldSpec] = field(default_factory=list)
    nested: list["MessageSpec"] = field(default_factory=list)
    reserved: list[int] = field(default_factory=list)


@dataclass
class EnumSpec:
    name: str
    values: list[str] = field(default_factory=list)


@dataclass
class MethodSpec:
    name: str
    request: str
    response: str
    server_streaming: bool = False


@dataclass
class ServiceSpec:
    name: str
    methods: list[MethodSpec] = field(default_factory=list)


@dataclass
class FileSpec:
    path: str
    package: str
    imports: list[str] = field(default_factory=list)
    enums: list[EnumSpec] = field(default_factory=list)
    messages: list[MessageSpec] = field(default_factory=list)
    services: list[ServiceSpec] = field(default_factory=list)


# ---------------------------------------------------------------- generation


def generate_set(
    files: int,
    messages_per_file: int,
    fields_per_message: int,
    enums_per_file: int,
    services_per_file: int,
    seed: int = SEED,
) -> list[FileSpec]:
    """Return a deterministic set of files; file i imports file 0 and file i-1 and uses their types."""
    rng = random.Random(seed)
    specs: list[FileSpec] = []
    for index in range(files):
        package = f"bench.domain{index}.v1"
        spec = FileSpec(path=f"bench/domain{index}/v1/domain{index}.proto", package=package)
        spec.imports = sorted({specs[0].path, specs[-1].path}) if specs else []
        spec.enums = [_enum(index, number, rng) for number in range(enums_per_file)]
        names = [f"Entity{index}x{number}" for number in range(messages_per_file)]
        foreign = _foreign_types(specs, spec.imports)
        spec.messages = [_message(name, fields_per_message, spec, names, foreign, rng) for name in names]
        spec.services = [_service(index, number, names, rng) for number in range(services_per_file)]
        specs.append(spec)
    return specs


def _enum(file_index: int, number: int, rng: random.Random) -> EnumSpec:
    name = f"Status{file_index}x{number}"
    prefix = _upper_snake(name)
    return EnumSpec(
        name, [f"{prefix}_UNSPECIFIED"] + [f"{prefix}_STATE_{value}" for value in range(1, rng.randint(3, 7))]
    )


def _foreign_types(specs: list[FileSpec], imports: list[str]) -> tuple[list[str], list[str]]:
    """Return the fully qualified messages and enums the imported files declare."""
    imported = [spec for spec in specs if spec.path in imports]
    messages = [f"{spec.package}.{message.name}" for spec in imported for message in spec.messages]
    enums = [f"{spec.package}.{enum.name}" for spec in imported for enum in spec.enums]
    return messages, enums


def _message(
    name: str,
    field_count: int,
    spec: FileSpec,
    own_names: list[str],
    foreign: tuple[list[str], list[str]],
    rng: random.Random,
) -> MessageSpec:
    message = MessageSpec(name)
    foreign_messages, foreign_enums = foreign
    number = 0
    oneof_done = False
    while len(message.fields) < field_count:
        number += 1
        roll = rng.random()
        field_name = f"field_{number}"
        if roll < 0.40:
            message.fields.append(FieldSpec(field_name, rng.choice(SCALARS), number))
        elif roll < 0.50:
            message.fields.append(FieldSpec(field_name, rng.choice(SCALARS), number, label="repeated"))
        elif roll < 0.58:
            message.fields.append(
                FieldSpec(field_name, f"map<{rng.choice(MAP_KEYS)}, {rng.choice(SCALARS[:-1])}>", number)
            )
        elif roll < 0.70:
            message.fields.append(FieldSpec(field_name, rng.choice(spec.enums).name, number))
        elif roll < 0.76 and foreign_enums:
            message.fields.append(FieldSpec(field_name, "." + rng.choice(foreign_enums), number))
        elif roll < 0.84:
            message.fields.append(
                FieldSpec(field_name, rng.choice(own_names), number, label=rng.choice(("", "repeated")))
            )
        elif roll < 0.90 and foreign_messages:
            message.fields.append(FieldSpec(field_name, "." + rng.choice(foreign_messages), number))
        elif roll < 0.95:
            message.fields.append(FieldSpec(field_name, rng.choice(SCALARS), number, label="optional"))
        elif not oneof_done:
            oneof_done = True
            for offset, type_name in enumerate(("string", "int64", rng.choice(own_names))):
                message.fields.append(
                    FieldSpec(f"choice_{number + offset}", type_name, number + offset, oneof="choice")
                )
            number += 2
    if rng.random() < 0.5:
        nested = MessageSpec("Detail", [FieldSpec(f"detail_{n}", rng.choice(SCALARS), n) for n in range(1, 6)])
        nested.nested.append(MessageSpec("Line", [FieldSpec("text", "string", 1), FieldSpec("amount", "int64", 2)]))
        message.nested.append(nested)
        message.fields.append(FieldSpec("details", "Detail", number + 1, label="repeated"))
    return message


def _service(file_index: int, number: int, names: list[str], rng: random.Random) -> ServiceSpec:
    service = ServiceSpec(f"Registry{file_index}x{number}Service")
    for method in range(4):
        request, response = rng.sample(names, 2)
        service.methods.append(MethodSpec(f"Call{method}", request, response, server_streaming=method == 3))
    return service


def _upper_snake(name: str) -> str:
    out = []
    for index, char in enumerate(name):
        if char.isupper() and index:
            out.append("_")
        out.append(char.upper())
    return "".join(out)


def evolve(previous: list[FileSpec], seed: int = SEED + 1) -> list[FileSpec]:
    """Return the next release of a set: fields and values added, a few fields removed or renamed."""
    rng = random.Random(seed)
    current = copy.deepcopy(previous)
    for spec in current:
        for message in rng.sample(spec.messages, max(1, len(spec.messages) // 4)):
            _add_field(message, rng)
        victim = rng.choice(spec.messages)
        removed = _plain_fields(victim)[-1]
        victim.fields.remove(removed)
        if rng.random() < 0.5:
            victim.reserved.append(removed.number)
        renamed = _plain_fields(rng.choice(spec.messages))[0]
        renamed.name += "_renamed"
        rng.choice(spec.enums).values.append(f"{_upper_snake(spec.enums[0].name)}_ADDED")
    current[-1].services[0].methods.append(
        MethodSpec("CallAdded", current[-1].messages[0].name, current[-1].messages[1].name)
    )
    return current


def _add_field(message: MessageSpec, rng: random.Random) -> None:
    number = 1 + max(f.number for f in message.fields)
    message.fields.append(FieldSpec(f"added_{number}", rng.choice(SCALARS), number))


def _plain_fields(message: MessageSpec) -> list[FieldSpec]:
    return [f for f in message.fields if f.oneof is None and f.name.startswith("field_")]


# ---------------------------------------------------------------- rendering


def render(spec: FileSpec, field_comments: bool = True) -> str:
    """Return the .proto text of one file; every element is documented, fields only when asked."""
    lines = ['syntax = "proto3";', "", f"package {spec.package};", ""]
    lines += [f'import "{path}";' for path in spec.imports]
    lines.append("")
    for enum in spec.enums:
        lines.append(f"// {enum.name} is a generated status.")
        lines.append(f"enum {enum.name} {{")
        lines += [f"  {value} = {number};" for number, value in enumerate(enum.values)]
        lines += ["}", ""]
    for message in spec.messages:
        lines += _render_message(message, "", field_comments)
        lines.append("")
    for service in spec.services:
        lines.append(f"// {service.name} serves generated entities.")
        lines.append(f"service {service.name} {{")
        for method in service.methods:
            stream = "stream " if method.server_streaming else ""
            lines.append(f"  rpc {method.name}({method.request}) returns ({stream}{method.response});")
        lines += ["}", ""]
    return "\n".join(lines)


def _render_message(message: MessageSpec, indent: str, field_comments: bool) -> list[str]:
    lines = [f"{indent}// {message.name} is a generated entity.", f"{indent}message {message.name} {{"]
    inner = indent + "  "
    for nested in message.nested:
        lines += _render_message(nested, inner, field_comments)
    if message.reserved:
        lines.append(f"{inner}reserved {', '.join(str(n) for n in message.reserved)};")
    open_oneof = None
    for spec in message.fields:
        if spec.oneof != open_oneof:
            if open_oneof:
                lines.append(f"{inner}}}")
            if spec.oneof:
                lines.append(f"{inner}oneof {spec.oneof} {{")
            open_oneof = spec.oneof
        label = f"{spec.label} " if spec.label else ""
        if field_comments:
            lines.append(f"{inner}{'  ' if spec.oneof else ''}// The {spec.name.replace('_', ' ')} of the entity.")
        lines.append(f"{inner}{'  ' if spec.oneof else ''}{label}{spec.type} {spec.name} = {spec.number};")
    if open_oneof:
        lines.append(f"{inner}}}")
    lines.append(f"{indent}}}")
    return lines


def sources_of(specs: list[FileSpec], field_comments: bool = True) -> dict[str, str]:
    return {spec.path: render(spec, field_comments) for spec in specs}


def large_pair() -> tuple[dict[str, str], dict[str, str]]:
    previous = generate_set(
        files=10, messages_per_file=32, fields_per_message=16, enums_per_file=5, services_per_file=2
    )
    return sources_of(previous), sources_of(evolve(previous))


def small_pair() -> tuple[dict[str, str], dict[str, str]]:
    """Return a typical one-file schema of about 1 KB, before and after one added field."""
    previous = generate_set(
        files=1, messages_per_file=10, fields_per_message=2, enums_per_file=1, services_per_file=0, seed=SEED + 2
    )
    for message in previous[0].messages:
        message.nested.clear()
        message.fields = [f for f in message.fields if f.name != "details"]
    current = copy.deepcopy(previous)
    _add_field(current[0].messages[0], random.Random(SEED + 3))
    return sources_of(previous, field_comments=False), sources_of(current, field_comments=False)


# ---------------------------------------------------------------- the stages


def count_elements(files) -> dict[str, int]:
    counts = {
        "files": len(files),
        "messages": 0,
        "fields": 0,
        "enums": 0,
        "services": len([s for f in files for s in f.service]),
    }
    pending = [m for f in files for m in f.message_type]
    counts["enums"] = sum(len(f.enum_type) for f in files)
    while pending:
        message = pending.pop()
        if message.options.map_entry:
            continue
        counts["messages"] += 1
        counts["fields"] += len(message.field)
        counts["enums"] += len(message.enum_type)
        pending.extend(message.nested_type)
    return counts


def fingerprint_all(sources: dict[str, str], imports: dict[str, list[str]]) -> list[str]:
    """Normalise and fingerprint every file of a set with the files it imports, as the registry stores each one."""
    digests = []
    for path, text in sources.items():
        dependencies = {name: sources[name] for name in imports[path]}
        digests.append(canonical.fingerprint(canonical.normalize(path, text, dependencies)))
    return digests


def transitive_imports(files) -> dict[str, list[str]]:
    """Map each own file to every own file it imports, directly or not."""
    direct = {file.name: [name for name in file.dependency if not compiler.is_well_known(name)] for file in files}
    closure = {}
    for name in direct:
        seen, pending = set(), list(direct[name])
        while pending:
            other = pending.pop()
            if other not in seen:
                seen.add(other)
                pending.extend(direct.get(other, ()))
        closure[name] = sorted(seen)
    return closure


@dataclass(frozen=True)
class Stored:
    """protoc's output for a set as the registry stores it with a schema (CompiledSchema), and what it compiled."""

    serialized: bytes
    roots: tuple[str, ...]
    given: frozenset[str]


def whole_check(previous_set, current: dict[str, str], lint_config) -> int:
    """Do what the registry does when a new version of the set is registered against the previous one.

    Compile the new set; compare it once with the previous version at the registry's default level
    and rule set (BACKWARD, SPEC), the semantic version reading that comparison; lint every new file
    with the registry's default configuration; print each file's canonical form and take its
    fingerprints (canonical and identity). `previous_set` is the previous version's compiled set, with
    the model the registry keeps for it (warm), protoc's output the registry stored with it (`Stored`, what a
    process that has not compiled it reads: cold), or its sources, compiled here. The new set's canonical
    texts and identity fingerprints are kept with it, as the registry's are, so a check of a set kept from an
    earlier check computes neither again (the "new set" row times a set parsed anew).
    """
    if isinstance(previous_set, dict):
        previous_set = compiler.compile_sources(previous_set)
    elif isinstance(previous_set, Stored):
        stored = previous_set
        previous_set = compiler.compiled_from_serialized(stored.serialized, stored.roots, stored.given)
    compiled = compiler.compile_sources(current)
    check = compatibility.check_new_version(compiled, [previous_set], level="BACKWARD", rule_set="SPEC")
    semver.classify_change(previous_set, compiled, breaks=check.breaks_latest)
    findings = lint.lint(compiled, lint_config)
    for file in compiled.own_files:
        canonical.fingerprint(canonical.normalize_compiled(file.name, compiled))
        canonical.identity_fingerprint_of(compiled, file.name)
    return len(check.findings) + len(findings)


def registry_lint_config():
    """Return the lint configuration a registration uses by default (REGISTRY_LINT_EXCEPT's default)."""
    return lint.LintConfig().with_except(["PACKAGE_DIRECTORY_MATCH"])


# ---------------------------------------------------------------- timing


@dataclass
class Timing:
    """Wall-clock median, p95 and min, and the median CPU time of the thread (what the work itself costs
    when other processes share the core)."""

    workload: str
    stage: str
    median_ms: float
    p95_ms: float
    min_ms: float
    cpu_median_ms: float
    cpu_p95_ms: float
    repetitions: int


def measure(
    run: Callable[[], object], repetitions: int, before: Callable[[], None] | None = None, warmup: int = 3
) -> tuple[list[float], list[float]]:
    """Return the wall-clock and thread CPU times in ms of `repetitions` runs; `before` runs untimed before each."""
    for _ in range(warmup):
        if before:
            before()
        run()
    gc.collect()
    wall, cpu = [], []
    for _ in range(repetitions):
        if before:
            before()
        start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
        run()
        cpu.append((time.thread_time_ns() - start_cpu) / 1e6)
        wall.append((time.perf_counter_ns() - start) / 1e6)
    return wall, cpu


def summarize(workload: str, stage: str, times: tuple[list[float], list[float]]) -> Timing:
    wall, cpu = sorted(times[0]), sorted(times[1])
    return Timing(
        workload,
        stage,
        _ms(statistics.median(wall)),
        _ms(_p95(wall)),
        _ms(wall[0]),
        _ms(statistics.median(cpu)),
        _ms(_p95(cpu)),
        len(wall),
    )


def _p95(ordered: list[float]) -> float:
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def _ms(value: float) -> float:
    return round(value, 3)


def profile(run: Callable[[], object], before: Callable[[], None] | None = None, repetitions: int = 5) -> list[dict]:
    """Return the functions that take the most own time over a few runs of run()."""
    profiler = cProfile.Profile()
    if before is None:
        run()  # warm whatever a previous stage's `before` emptied
    for _ in range(repetitions):
        if before:
            before()
        profiler.enable()
        run()
        profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    total = sum(entry[2] for entry in stats.stats.values()) or 1.0
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:PROFILE_LINES]
    return [
        {
            "function": f"{_short(filename)}:{line}({name})",
            "own_ms_per_run": round(1000 * own / repetitions, 3),
            "cumulative_ms_per_run": round(1000 * cumulative / repetitions, 3),
            "share_of_own_time": round(own / total, 3),
        }
        for (filename, line, name), (_, _, own, cumulative, _) in rows
    ]


def _short(filename: str) -> str:
    for marker in (str(ROOT) + os.sep, "site-packages" + os.sep):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


@dataclass
class Stage:
    name: str
    run: Callable[[], object]
    repetitions: int
    before: Callable[[], None] | None = None


def stages_of(previous: dict[str, str], current: dict[str, str], scale: int) -> tuple[list[Stage], dict]:
    """Return the timed stages of one workload and what they work on; `scale` multiplies repetition counts."""
    rule_ids = breaking.resolve_rule_ids(use=("FILE",))
    lint_config = lint.LintConfig(use=tuple(lint.LINT_RULES))
    previous_set = compiler.compile_sources(previous)
    previous_files = previous_set.own_files
    stored = Stored(previous_set.serialized, previous_set.roots, previous_set.given)
    registry_config = registry_lint_config()
    whole_check(previous_set, current, registry_config)  # the previous version's model, as the registry keeps it
    compiled = compiler.compile_sources(current)
    current_files = compiled.own_files
    imports = transitive_imports(current_files)
    cold = compiler.clear_cache
    stages = [
        Stage("compile (cold: protoc)", lambda: compiler.compile_sources(current), 5 * scale, cold),
        Stage("compile (warm: cached)", lambda: compiler.compile_sources(current), 50 * scale),
        Stage(
            "fingerprint (normalize + sha256, compile cache warm)",
            lambda: fingerprint_all(current, imports),
            10 * scale,
        ),
        Stage("fingerprint (cold: protoc per file)", lambda: fingerprint_all(current, imports), 3 * scale, cold),
        Stage(
            "compare: breaking.check FILE", lambda: breaking.check(previous_files, current_files, rule_ids), 20 * scale
        ),
    ]
    stages.append(
        Stage(
            "compare: check_compatibility FULL/SPEC",
            lambda: compatibility.check_compatibility(current_files, [previous_files], level="FULL"),
            20 * scale,
        )
    )
    stages += [
        Stage("lint (all rules)", lambda: lint.lint(compiled.files, lint_config), 20 * scale),
        Stage(
            "lint (the registry's default rules)",
            lambda: lint.lint(compiler.compile_sources(current), registry_config),
            20 * scale,
        ),
        Stage(
            "whole check (warm: previous version kept, protoc's output cached)",
            lambda: whole_check(previous_set, current, registry_config),
            10 * scale,
        ),
        Stage(
            "whole check (new set: previous version kept, protoc's output cached but the set parsed anew)",
            lambda: whole_check(previous_set, current, registry_config),
            10 * scale,
            compiler.clear_set_cache,
        ),
        Stage(
            "whole check (cold: the previous version read from its stored set, the new one compiled by protoc)",
            lambda: whole_check(stored, current, registry_config),
            3 * scale,
            cold,
        ),
        Stage(
            "whole check (nothing stored: both versions compiled by protoc)",
            lambda: whole_check(previous, current, registry_config),
            3 * scale,
            cold,
        ),
    ]
    details = {
        "files": len(current),
        "bytes": sum(len(text.encode()) for text in current.values()),
        "elements": count_elements(current_files),
        "findings": {
            "breaking_FILE": len(breaking.check(previous_files, current_files, rule_ids)),
            "lint_all_rules": len(lint.lint(compiled.files, lint_config)),
        },
    }
    return stages, details


def bench_workload(
    name: str, previous: dict[str, str], current: dict[str, str], scale: int, target_ms: float
) -> tuple[list[Timing], dict]:
    """Time every stage of one workload, then profile each stage once to show where its time goes."""
    stages, details = stages_of(previous, current, scale)
    timings = [summarize(name, stage.name, measure(stage.run, stage.repetitions, stage.before)) for stage in stages]
    details["target_whole_check_ms"] = target_ms
    details["profiles"] = {stage.name: profile(stage.run, stage.before, repetitions=3) for stage in stages}
    return timings, details


# ---------------------------------------------------------------- whole processes, beside buf

# The platform binary itself, not the npm .bin shim: the shim starts node first, which is not buf's cost.
BUF = next(iter(sorted((ROOT / "codegen" / "node" / "node_modules" / "@bufbuild").glob("buf-*/bin/buf"))), None)
TIME = Path("/usr/bin/time")
PROCESS_RUNS = 5


def whole_process_rows(previous: dict[str, str], current: dict[str, str]) -> dict:
    """Time the buf binary and this engine's command line as whole processes on a pair: wall time and max RSS.

    Both run from the same folders, pinned to the same core as this script; median of PROCESS_RUNS runs.
    """
    import subprocess
    import tempfile

    if BUF is None or not TIME.exists():
        return {"skipped": f"needs the buf binary (`make test-tools`) and {TIME}"}
    version = subprocess.run([BUF, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    engine = [sys.executable, "-m", "protoengine"]
    commands = {
        "breaking current --against previous (FILE)": ("breaking", "current", "--against", "previous"),
        "lint current": ("lint", "current"),
    }
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, sources in (("previous", previous), ("current", current)):
            for path, text in sources.items():
                target = Path(folder, name, path)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
        for label, arguments in commands.items():
            for tool, program in ((f"buf {version}", [str(BUF)]), ("python -m protoengine", engine)):
                runs = [
                    _timed_process([*program, *arguments, "--error-format", "json"], folder)
                    for _ in range(PROCESS_RUNS)
                ]
                rows.append(
                    {
                        "tool": tool,
                        "command": label,
                        "wall_ms_median": _ms(statistics.median(run[0] for run in runs)),
                        "max_rss_mb_median": round(statistics.median(run[1] for run in runs), 1),
                        "findings": runs[0][2],
                        "runs": len(runs),
                    }
                )
    return {"buf_version": version, "rows": rows}


def _timed_process(command: list[str], folder: str) -> tuple[float, float, int]:
    """Run a command under /usr/bin/time -v; return (wall ms, max RSS in MB, lines it printed)."""
    import subprocess

    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [str(TIME), "-v", *command], cwd=folder, capture_output=True, text=True, env=environment, timeout=600
    )
    report = dict(
        line.strip().split(": ", 1) for line in result.stderr.splitlines() if ": " in line and line.startswith("\t")
    )
    return (
        _wall_ms(report["Elapsed (wall clock) time (h:mm:ss or m:ss)"]),
        int(report["Maximum resident set size (kbytes)"]) / 1024,
        len(result.stdout.splitlines()),
    )


def _wall_ms(text: str) -> float:
    parts = [float(part) for part in text.split(":")]
    seconds = sum(value * 60**power for power, value in enumerate(reversed(parts)))
    return seconds * 1000


# ---------------------------------------------------------------- report


def machine() -> dict:
    import google.protobuf
    import grpc_tools

    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "protobuf": google.protobuf.__version__,
        "protobuf_backend": api_implementation.Type(),
        "grpcio_tools": getattr(grpc_tools, "__version__", _distribution_version("grpcio-tools")),
        "cpu_count": os.cpu_count(),
        "pinned_cpus": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": _cpu_model(),
        "platform": platform.platform(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        # Other work on the machine shows here: every timing is wall-clock.
        "load_average_at_start": _load_average(),
        "python_speed_ms": python_speed_ms(),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "engine_changed_since_commit": bool(_git("status", "--porcelain", "--", "protoengine")),
    }


def _git(*arguments: str) -> str | None:
    import subprocess

    try:
        return subprocess.run(
            ["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def _load_average() -> list[float] | None:
    return [round(value, 2) for value in os.getloadavg()] if hasattr(os, "getloadavg") else None


def _distribution_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def verdict(timing: Timing, target_ms: float) -> str:
    """Say whether a stage alone fits in the workload's whole-check budget (CPU median)."""
    return "within" if timing.cpu_median_ms < target_ms else "over"


def markdown(info: dict, timings: list[Timing], details: dict[str, dict]) -> str:
    lines = [
        "# Engine benchmark",
        "",
        f"`python tests/performance/bench_engine.py` on {info['date']} at commit {info['commit']}"
        f"{' (engine files changed since)' if info['engine_changed_since_commit'] else ''}: Python {info['python']}, "
        f"protobuf {info['protobuf']} "
        f"({info['protobuf_backend']} backend), grpcio-tools {info['grpcio_tools']}, {info['cpu_count']} CPUs "
        f"({info['cpu_model']}), "
        f"pinned to CPU {info['pinned_cpus']}, load average {info['load_average_at_start']} at start and "
        f"{info['load_average_at_end']} at the end; `{LOOP}` took {info['python_speed_ms']} ms (the machine's speed "
        "that day: compare runs of different days by it). "
        "Times in milliseconds, in-process; median, p95 and min are wall-clock, CPU is the thread's CPU time (the cost "
        "of the work "
        "itself when other processes share the core). The budget column says whether the stage's CPU median alone fits "
        "in the "
        "workload's target for the whole check; profiles follow for the stages over it.",
        "",
    ]
    for workload, detail in details.items():
        counts = detail["elements"]
        lines.append(
            f"- **{workload}**: {detail['files']} file(s), {detail['bytes']:,} bytes, {counts['messages']} messages, "
            f"{counts['fields']} fields, "
            f"{counts['enums']} enums, {counts['services']} services; {detail['findings']['breaking_FILE']} breaking "
            "(FILE) and "
            f"{detail['findings']['lint_all_rules']} lint findings. Target for the whole check: under "
            f"{detail['target_whole_check_ms']:g} ms."
        )
    lines += [
        "",
        "| workload | stage | median | p95 | min | CPU median | CPU p95 | runs | budget |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for t in timings:
        target = details[t.workload]["target_whole_check_ms"]
        lines.append(
            f"| {t.workload} | {t.stage} | {t.median_ms:.3f} | {t.p95_ms:.3f} | {t.min_ms:.3f} | {t.cpu_median_ms:.3f} "
            f"| {t.cpu_p95_ms:.3f} | {t.repetitions} | {verdict(t, target)} |"
        )
    lines += _targets_markdown(timings)
    lines += _side_by_side_markdown(info.get("side_by_side"))
    lines += [
        "",
        "## Where the time goes in the stages over budget (cProfile, own time per run; profiling slows Python code "
        "down)",
    ]
    over = {
        (t.workload, t.stage) for t in timings if verdict(t, details[t.workload]["target_whole_check_ms"]) == "over"
    }
    for workload, detail in details.items():
        for stage, rows in detail["profiles"].items():
            if (workload, stage) not in over:
                continue
            lines += [
                "",
                f"### {workload}: {stage}",
                "",
                "| function | own ms/run | cumulative ms/run | share |",
                "| --- | ---: | ---: | ---: |",
            ]
            for row in rows[:PROFILE_ROWS_IN_MARKDOWN]:
                lines.append(
                    f"| `{row['function']}` | {row['own_ms_per_run']:.3f} | {row['cumulative_ms_per_run']:.3f} | "
                    f"{row['share_of_own_time']:.0%} |"
                )
    return "\n".join(lines) + "\n"


def _targets_markdown(timings: list[Timing]) -> list[str]:
    """Return the table of the whole-check targets, each against its stage's wall-clock median (CPU median beside)."""
    lines = [
        "",
        "## Targets",
        "",
        "| workload | whole check | target ms | median ms | CPU median ms | met |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for workload, stage_start, target_ms in WHOLE_CHECK_TARGETS:
        for t in timings:
            if t.workload == workload and t.stage.startswith(stage_start):
                met = "yes" if t.median_ms < target_ms else "no"
                lines.append(
                    f"| {workload} | {t.stage} | < {target_ms:g} | {t.median_ms:.1f} | {t.cpu_median_ms:.1f} | {met} |"
                )
    return lines


def _side_by_side_markdown(side: dict | None) -> list[str]:
    if not side:
        return []
    if "skipped" in side:
        return ["", f"Whole processes beside buf: skipped ({side['skipped']})."]
    lines = [
        "",
        f"## Whole processes on the large pair, beside buf ({side['buf_version']})",
        "",
        "Each command run as a process of its own under `/usr/bin/time -v` from the same two folders, pinned to "
        "the same core; median of the runs. Findings are the JSON lines each printed.",
        "",
        "| command | tool | wall ms | max RSS MB | findings | runs |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in side["rows"]:
        lines.append(
            f"| {row['command']} | {row['tool']} | {row['wall_ms_median']:.0f} | {row['max_rss_mb_median']:.1f} "
            f"| {row['findings']} | {row['runs']} |"
        )
    return lines


def pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="a tenth of the repetitions (to try the script, not to publish)"
    )
    parser.add_argument("--no-write", action="store_true", help="print the table without writing the result files")
    parser.add_argument(
        "--markdown-only", action="store_true", help="rewrite engine.md from engine.json without measuring"
    )
    options = parser.parse_args(argv)
    if options.markdown_only:
        data = json.loads((RESULTS_DIR / "engine.json").read_text())
        (RESULTS_DIR / "engine.md").write_text(
            markdown(data["machine"], [Timing(**t) for t in data["timings"]], data["workloads"])
        )
        return 0
    pin_to_one_core()
    scale_large, scale_small = (1, 10) if options.quick else (10, 100)
    large_previous, large_current = large_pair()
    small_previous, small_current = small_pair()
    info = machine()
    timings, details = [], {}
    for name, previous, current, scale, target in (
        ("large set", large_previous, large_current, scale_large, TARGET_LARGE_WHOLE_MS),
        ("1 KB schema", small_previous, small_current, scale_small, TARGET_SMALL_WHOLE_MS),
    ):
        print(f"benchmarking {name} ...", file=sys.stderr)
        workload_timings, details[name] = bench_workload(name, previous, current, scale, target)
        timings += workload_timings
    print("running buf and the engine's command line side by side ...", file=sys.stderr)
    info["side_by_side"] = whole_process_rows(large_previous, large_current)
    info["load_average_at_end"] = _load_average()
    _check_large_sizes(details["large set"]["elements"])
    report = markdown(info, timings, details)
    print(report)
    if not options.no_write:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        data = {"machine": info, "quick": options.quick, "timings": [t.__dict__ for t in timings], "workloads": details}
        (RESULTS_DIR / "engine.json").write_text(json.dumps(data, indent=2) + "\n")
        (RESULTS_DIR / "engine.md").write_text(report)
    return 0


def _check_large_sizes(counts: dict[str, int]) -> None:
    short = {name: (counts[name], minimum) for name, minimum in MIN_LARGE.items() if counts[name] < minimum}
    if short:
        raise SystemExit(f"bench_engine: the large set is smaller than asked: {short} (found, minimum)")


if __name__ == "__main__":
    sys.exit(main())
