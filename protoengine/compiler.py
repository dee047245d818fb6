"""Compile .proto texts into FileDescriptorProtos with the real protoc bundled in grpcio-tools.

The input is a mapping `import path -> text`; only those texts and the
well-known types are visible to the compiler. They are written to a private
temporary folder, which is protoc's only include path besides the well-known
types, so an import of `../../etc/passwd` or `/etc/hosts` can never read a file.
That folder comes first, so a tree carrying its own copy of a well-known file
(a vendored `google/protobuf/descriptor.proto`, buf's test data with its
`cpp_features.proto`) compiles with that copy, as buf compiles it.

The well-known types are what Confluent's ProtobufSchema knows without a
reference: protobuf's own `google/protobuf/*` (from grpcio-tools) and Google's
common types `google/type/*` (from googleapis-common-protos).
"""

import atexit
import contextlib
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import weakref
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

from google.protobuf.descriptor_pb2 import FileDescriptorProto, FileDescriptorSet

from protoengine.findings import Finding
from protoengine.lru import LruCache

WELL_KNOWN_PREFIX = "google/protobuf/"
# Google's common types that Confluent's registry resolves without a reference (its ProtobufSchema's known
# dependencies); googleapis-common-protos ships them. Its other files (google/api, google/rpc...) stay unknown.
COMMON_TYPES = tuple(
    f"google/type/{name}.proto"
    for name in (
        "calendar_period",
        "color",
        "date",
        "datetime",
        "dayofweek",
        "decimal",
        "expr",
        "fraction",
        "interval",
        "latlng",
        "money",
        "month",
        "phone_number",
        "postal_address",
        "quaternion",
        "timeofday",
    )
)
# A larger file is refused before protoc sees it; the registry's own limit is lower.
MAX_SOURCE_BYTES = 8 * 1024 * 1024
# protoc recurses per nesting level; far deeper input could exhaust its stack.
MAX_NESTING_DEPTH = 64
COMPILE_ERROR = "COMPILE"

_PROTOC_LINE = re.compile(r"^(?P<path>[^:\n]+?):(?:(?P<line>\d+):(?P<column>\d+):)?\s*(?P<message>.*)$")
# protoc's own logging (absl): "W0000 00:00:1795632354.204299  17277 parser.cc:659] message".
_ABSL_LOG_LINE = re.compile(r"^[IWEF]\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\] (?P<message>.*)$")
_ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog()"
_BRACE = re.compile(r"[{}]")
_VALID_PATH = re.compile(r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$")
# protoc writes to the process's stderr, which in-process runs (code generation) borrow for the length of one run.
_PROTOC_LOCK = threading.Lock()
# Compiles that find protoc busy in this process, and all large ones, run in worker processes that each capture
# their own stderr (at most this many at once), so compiles of one process never wait for each other.
MAX_PROTOC_WORKERS = max(2, os.cpu_count() or 1)
# A compile of this many source bytes or fewer runs in-process when no other is running: it takes about a
# millisecond, less than a round trip to a worker on a busy machine. protoc holds the GIL while it runs, so
# in a process with other threads (a server) larger compiles go to a worker and leave those threads free;
# a process of one thread (the command line) has nothing to free and compiles in-process.
IN_PROCESS_MAX_BYTES = 64 * 1024


class CompilationFailed(Exception):
    """protoc refused the input; `errors` holds one Finding per message, with file, line and column."""

    def __init__(self, errors: Sequence[Finding]):
        self.errors = list(errors)
        super().__init__("\n".join(error.as_text() for error in self.errors) or "compilation failed")


@dataclass(frozen=True)
class CompiledFiles:
    """The result of one compile: every file in dependency order, well-known types included."""

    files: tuple[FileDescriptorProto, ...]
    roots: tuple[str, ...]
    warnings: tuple[Finding, ...] = field(default=())
    # The import paths of the input mapping: a well-known file among them is the tree's own copy.
    given: frozenset[str] = field(default=frozenset())
    # protoc's output the files were parsed from (a FileDescriptorSet): what a registry stores to skip protoc later.
    serialized: bytes = field(default=b"", repr=False, compare=False)
    # What `derived` computed, by key: kept with the set, so it goes when the set goes.
    _derived: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def own_files(self) -> tuple[FileDescriptorProto, ...]:
        """Return the files that came from the input mapping (well-known types only when the tree carries them)."""
        return tuple(f for f in self.files if f.name in self.given or not is_well_known(f.name))

    @property
    def subject_files(self) -> tuple[FileDescriptorProto, ...]:
        """Return the own files a registry may store: a tree's copy of a well-known file is never a subject."""
        return tuple(f for f in self.own_files if not is_well_known(f.name))

    @cached_property
    def model(self):
        """Return the set's one DescriptorModel, built on first need and kept with the set."""
        from protoengine.model import DescriptorModel  # the model reads compiled sets; built lazily

        model = DescriptorModel(self.files, self.given)
        # Freed with the set by reference counting (DescriptorModel.release), not later by the cycle collector.
        weakref.finalize(self, model.release).atexit = False
        return model

    def derived(self, key: Hashable, compute: Callable[[], object]):
        """Return compute()'s result for `key`, computed on the first ask and kept with the set.

        For outputs that are pure functions of the set and of what `key` holds (canonical texts, identity
        fingerprints): the same texts compiled again give the same set (`compile_sources`), so a repeated
        check or registration of them computes none again. Every caller receives the same object, so only
        immutable results are kept. Concurrent first asks may both compute; they receive the one kept.
        """
        derived = self._derived
        value = derived.get(key, _NOT_DERIVED)
        if value is _NOT_DERIVED:
            value = compute()
            if not _immutable(value):
                raise TypeError(f"A compiled set keeps only immutable results; {key!r} gave a {type(value).__name__}.")
            value = derived.setdefault(key, value)
        return value

    def file(self, path: str) -> FileDescriptorProto:
        """Return the compiled file of that import path; KeyError when it is not part of the result."""
        for candidate in self.files:
            if candidate.name == path:
                return candidate
        raise KeyError(path)


_NOT_DERIVED = object()


def _immutable(value) -> bool:
    """Tell whether a value is a str, bytes, number, bool or None, or a tuple of such (a caller cannot change it)."""
    if isinstance(value, tuple):
        return all(_immutable(item) for item in value)
    return value is None or isinstance(value, str | bytes | int | float)


def is_well_known(path: str) -> bool:
    """Return True for a file every schema may import without a reference (the compiler supplies it)."""
    return path.startswith(WELL_KNOWN_PREFIX) or path in COMMON_TYPES


def own_imports(file: FileDescriptorProto) -> tuple[str, ...]:
    """Return the files a compiled file imports, without the well-known types (which are never registered)."""
    return tuple(name for name in file.dependency if not is_well_known(name))


@cache
def well_known_include_dir() -> str:
    """Return grpcio-tools' folder of google/protobuf/*.proto."""
    import grpc_tools

    return str(Path(grpc_tools.__file__).parent / "_proto")


def common_types_include_dir() -> str:
    """Return a folder holding exactly COMMON_TYPES, copied from googleapis-common-protos.

    The package's own folder would also expose every other .proto file installed
    beside it, so only the listed files are copied, into a folder named after their
    content: processes share it, and one that finds it missing (a cleaned /tmp) makes it again.
    """
    package_dir, folder = _common_types_source_and_folder()
    if not folder.is_dir():
        # Built aside and renamed, so a concurrent compile never sees a half-copied folder.
        building = Path(tempfile.mkdtemp(prefix="protoc-common-types-", dir=folder.parent))
        for path in COMMON_TYPES:
            (building / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(package_dir / path, building / path)
        try:
            building.rename(folder)
        except OSError:
            shutil.rmtree(building, ignore_errors=True)  # another process won the race
    return str(folder)


@cache
def _common_types_source_and_folder() -> tuple[Path, Path]:
    spec = importlib.util.find_spec("google.type.money_pb2")
    if spec is None or spec.origin is None:
        raise RuntimeError("googleapis-common-protos is not installed: pip install googleapis-common-protos")
    package_dir = Path(spec.origin).parents[2]
    digest = hashlib.sha256()
    for path in COMMON_TYPES:
        digest.update((package_dir / path).read_bytes())
    name = f"protoc-common-types-{os.getuid()}-{digest.hexdigest()[:16]}"
    return package_dir, Path(_scratch_dir() or tempfile.gettempdir(), name)


def include_dirs() -> tuple[str, ...]:
    """Return the folders of the well-known types, as protoc's include path after the schemas' own."""
    return (well_known_include_dir(), common_types_include_dir())


def compile_sources(sources: Mapping[str, str | bytes], roots: Sequence[str] | None = None) -> CompiledFiles:
    """Compile the given files (all of them unless `roots` names some) and return their descriptors.

    Raises CompilationFailed with structured errors for anything protoc or the
    input checks refuse. Results are cached by content, so a repeated check of the
    same texts costs only a parse of the cached descriptor set, or nothing when the
    set itself is still kept: the same texts then give the same CompiledFiles, whose
    descriptors callers must copy before changing (as semver and Confluent's diff do).
    """
    roots = tuple(sorted(sources) if roots is None else roots)
    texts = decode_sources(sources)
    _check_paths(texts, roots)
    key = _cache_key(texts, roots)
    compiled = _SET_CACHE.get(key)
    if compiled is not None:
        return compiled
    cached = _RESULT_CACHE.get(key)
    if cached is None:
        # Only texts protoc is about to read need guarding; a cached result passed these checks already.
        for path, text in texts.items():
            _check_size_and_depth(path, text)
        cached = _run_protoc(texts, roots)
        _RESULT_CACHE.put(key, cached)
    serialized, warnings = cached
    descriptor_set = FileDescriptorSet.FromString(serialized)
    compiled = CompiledFiles(
        files=tuple(descriptor_set.file), roots=roots, warnings=warnings, given=frozenset(texts), serialized=serialized
    )
    _SET_CACHE.put(key, compiled)
    return compiled


def compiled_from_serialized(serialized: bytes, roots: Sequence[str], given: Iterable[str]) -> CompiledFiles:
    """Return the set `compile_sources` gave as `serialized` for the files `given` and these roots, without protoc.

    For a result stored earlier (a registry keeps each schema's): protoc's warnings are not part of it.
    """
    files = tuple(FileDescriptorSet.FromString(serialized).file)
    return CompiledFiles(files=files, roots=tuple(roots), given=frozenset(given), serialized=serialized)


def compile_one(path: str, text: str | bytes, dependencies: Mapping[str, str | bytes] | None = None) -> CompiledFiles:
    """Compile one file with the files it imports; the usual call for a registry schema."""
    sources = dict(dependencies or {})
    sources[path] = text
    return compile_sources(sources, roots=[path])


def decode_sources(sources: Mapping[str, str | bytes]) -> dict[str, str]:
    """Return the texts as str; CompilationFailed, with line and column, for invalid UTF-8 or a NUL."""
    texts = {}
    for path, text in sources.items():
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as error:
                line, column = _line_column(text, error.start)
                raise CompilationFailed(
                    [
                        Finding(
                            path,
                            line,
                            column,
                            COMPILE_ERROR,
                            f"File is not valid UTF-8 (byte 0x{text[error.start]:02x}).",
                        )
                    ]
                ) from None
        if "\x00" in text:
            line, column = _line_column(text.encode("utf-8"), text.encode("utf-8").index(b"\x00"))
            raise CompilationFailed([Finding(path, line, column, COMPILE_ERROR, "File contains a NUL character.")])
        texts[path] = text
    return texts


def _line_column(data: bytes, offset: int) -> tuple[int, int]:
    before = data[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return line, column


def refuse_well_known(paths: Iterable[str]) -> None:
    """Raise CompilationFailed when a path names a well-known file: the registry never stores a copy of one."""
    errors = [
        Finding(path, 0, 0, COMPILE_ERROR, f'"{path}" is a well-known type and cannot be replaced.')
        for path in paths
        if is_well_known(path)
    ]
    if errors:
        raise CompilationFailed(errors)


def _check_paths(texts: Mapping[str, str], roots: Sequence[str]) -> None:
    errors = []
    for path in texts:
        if not _VALID_PATH.match(path) or any(part in (".", "..") for part in path.split("/")):
            errors.append(
                Finding(
                    path,
                    0,
                    0,
                    COMPILE_ERROR,
                    f'Invalid file path "{path}": use a relative path such as "common/money.proto" without "..", "." '
                    'or a leading "/".',
                )
            )
    for root in roots:
        if root not in texts:
            errors.append(Finding(root, 0, 0, COMPILE_ERROR, f'"{root}" is not among the given files.'))
    if not roots:
        errors.append(Finding("", 0, 0, COMPILE_ERROR, "No file to compile."))
    if errors:
        raise CompilationFailed(errors)


def _check_size_and_depth(path: str, text: str) -> None:
    size = len(text.encode("utf-8"))
    if size > MAX_SOURCE_BYTES:
        raise CompilationFailed(
            [Finding(path, 0, 0, COMPILE_ERROR, f"File is {size} bytes; the limit is {MAX_SOURCE_BYTES}.")]
        )
    if text.count("{") <= MAX_NESTING_DEPTH:
        return  # too few blocks to nest that deep; skips the walk for nearly every file
    # Nesting is deepest just before a closing brace: the opening ones between closing ones are counted by
    # str methods, a tenth of the time of a regex over every character; the walk below says where it fails.
    depth = deepest = 0
    for between in text.split("}"):
        depth += between.count("{")
        deepest = max(deepest, depth)
        depth -= 1
    if deepest <= MAX_NESTING_DEPTH:
        return
    depth = 0
    for brace in _BRACE.finditer(text):
        depth += 1 if brace.group() == "{" else -1
        if depth > MAX_NESTING_DEPTH:
            index = brace.start()
            line = text.count("\n", 0, index) + 1
            column = index - text.rfind("\n", 0, index)
            raise CompilationFailed(
                [Finding(path, line, column, COMPILE_ERROR, f"Blocks are nested more than {MAX_NESTING_DEPTH} deep.")]
            )


def _cache_key(texts: Mapping[str, str], roots: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for path in sorted(texts):
        digest.update(path.encode())
        digest.update(b"\0")
        digest.update(hashlib.sha256(texts[path].encode("utf-8")).digest())
    digest.update("\0".join(roots).encode())
    return digest.hexdigest()


def run_protoc(arguments: Sequence[str], workdir: str) -> tuple[int, str]:
    """Run grpcio-tools' protoc in-process with `arguments` (argv, "protoc" first); return (status, its stderr text).

    protoc writes to the process's file descriptor 2, so runs take turns and
    borrow it for their length; `workdir` holds the captured text meanwhile.
    Code generators (codegen.generators) share this with the compiler.
    """
    from grpc_tools import protoc

    with _PROTOC_LOCK:
        return _run_capturing_stderr(protoc.main, list(arguments), workdir)


def _run_protoc(texts: Mapping[str, str], roots: Sequence[str]) -> tuple[bytes, tuple[Finding, ...]]:
    with tempfile.TemporaryDirectory(prefix="protoc-", dir=_scratch_dir()) as workdir:
        source_dir = os.path.join(workdir, "src")
        for path, text in texts.items():
            target = os.path.join(source_dir, *path.split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w", encoding="utf-8") as handle:
                handle.write(text)
        output = os.path.join(workdir, "out.pb")
        arguments = [
            "protoc",
            f"--proto_path={source_dir}",
            *(f"--proto_path={folder}" for folder in include_dirs()),
            "--include_imports",
            "--include_source_info",
            "--retain_options",
            f"--descriptor_set_out={output}",
            # Absolute disk paths, so a file of the same name in the working directory is never picked up.
            *(os.path.join(source_dir, *root.split("/")) for root in roots),
        ]
        status, messages = _compile_run(arguments, workdir, sum(len(text) for text in texts.values()))
        # protoc names files by their disk path; report the import path the caller gave.
        messages = messages.replace(source_dir + os.sep, "")
        findings = parse_protoc_messages(messages)
        errors = [f for f in findings if f.rule == COMPILE_ERROR]
        warnings = tuple(f for f in findings if f.rule != COMPILE_ERROR)
        if status != 0 or not os.path.exists(output):
            raise CompilationFailed(
                errors
                or [Finding(roots[0], 0, 0, COMPILE_ERROR, messages.strip() or "protoc failed without a message.")]
            )
        with open(output, "rb") as handle:
            return handle.read(), warnings


def _compile_run(arguments: Sequence[str], workdir: str, size: int) -> tuple[int, str]:
    """Run protoc for a compile: in-process when it is small and protoc is free here, else in a worker."""
    small_enough = size <= IN_PROCESS_MAX_BYTES or threading.active_count() == 1
    if small_enough and _PROTOC_LOCK.acquire(blocking=False):
        from grpc_tools import protoc

        try:
            return _run_capturing_stderr(protoc.main, list(arguments), workdir)
        finally:
            _PROTOC_LOCK.release()
    return _workers().run(arguments, workdir)


@cache
def _scratch_dir() -> str | None:
    """Prefer a memory-backed folder for protoc's scratch files: it makes a cold compile several times faster."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def _run_capturing_stderr(function, arguments, workdir):
    """Run protoc with file descriptor 2 pointed at a file, and return (status, what it wrote)."""
    capture_path = os.path.join(workdir, "stderr.txt")
    saved = os.dup(2)
    try:
        with open(capture_path, "w+b") as capture:
            os.dup2(capture.fileno(), 2)
            try:
                status = function(arguments)
            finally:
                os.dup2(saved, 2)
            capture.seek(0)
            return status, capture.read().decode("utf-8", "replace")
    finally:
        os.close(saved)


class WorkerPool:
    """Worker processes running protoc (protoengine.protoc_worker), each used by one compile at a time.

    Each worker captures its own protoc's diagnostics, so compiles of one process run in
    parallel instead of taking turns at the process's stderr. Workers start on first need,
    up to `size`; a compile that finds all busy waits for one. A worker that dies (protoc
    aborting on some input) is replaced, and its compile fails with what it printed.
    """

    def __init__(self, size: int):
        self._size = size
        self._idle: list[subprocess.Popen] = []
        self._started = 0
        self._available = threading.Condition()

    def run(self, arguments: Sequence[str], workdir: str) -> tuple[int, str]:
        """Run protoc with `arguments` in a worker; return (status, what it printed)."""
        from protoengine.protoc_worker import read_frame, write_frame

        worker = self._take()
        answer = None
        try:
            write_frame(worker.stdin, (list(arguments), workdir))
            answer = read_frame(worker.stdout)
        except (BrokenPipeError, OSError):
            answer = None
        finally:
            self._give_back(worker, alive=answer is not None)
        if answer is None:
            return 1, "protoc stopped without an answer (its worker process ended)."
        return answer

    def close(self) -> None:
        """End the idle workers (each ends when its stdin closes)."""
        with self._available:
            idle, self._idle = self._idle, []
            self._started -= len(idle)
        for worker in idle:
            _end_worker(worker)

    def _take(self) -> subprocess.Popen:
        with self._available:
            while not self._idle and self._started >= self._size:
                self._available.wait()
            if self._idle:
                return self._idle.pop()
            self._started += 1
        try:
            return _start_worker()
        except BaseException:
            with self._available:
                self._started -= 1
                self._available.notify()
            raise

    def _give_back(self, worker: subprocess.Popen, *, alive: bool) -> None:
        with self._available:
            if alive:
                self._idle.append(worker)
            else:
                self._started -= 1
            self._available.notify()
        if not alive:
            _end_worker(worker)


def _start_worker() -> subprocess.Popen:
    package_parent = str(Path(__file__).resolve().parents[1])
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, environment.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-m", "protoengine.protoc_worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=environment,
        close_fds=True,
    )


def _end_worker(worker: subprocess.Popen) -> None:
    with contextlib.suppress(OSError):
        worker.stdin.close()
    try:
        worker.wait(timeout=5)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
    worker.stdout.close()


_POOL: tuple[int, WorkerPool] | None = None
_POOL_LOCK = threading.Lock()


def _workers() -> WorkerPool:
    """Return this process's pool; a forked child (a server or Celery worker) starts a pool of its own."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL[0] != os.getpid():
            _POOL = (os.getpid(), WorkerPool(MAX_PROTOC_WORKERS))
        return _POOL[1]


@atexit.register
def _close_workers() -> None:
    if _POOL is not None and _POOL[0] == os.getpid():
        _POOL[1].close()


def parse_protoc_messages(text: str) -> list[Finding]:
    """Return a Finding per line protoc or a plugin printed (`path:line:column: message` where it names a place)."""
    return [finding for line in text.splitlines() if line.strip() and (finding := _parse_protoc_line(line)) is not None]


def _parse_protoc_line(line: str) -> Finding | None:
    if line.startswith(_ABSL_PREAMBLE):
        return None
    logged = _ABSL_LOG_LINE.match(line)
    if logged:
        return Finding("", 0, 0, "COMPILE_WARNING", logged["message"])
    match = _PROTOC_LINE.match(line)
    if not match:
        return Finding("", 0, 0, COMPILE_ERROR, line)
    message = match["message"]
    rule = COMPILE_ERROR
    if message.startswith("warning:"):
        rule, message = "COMPILE_WARNING", message[len("warning:") :].strip()
    return Finding(match["path"], int(match["line"] or 0), int(match["column"] or 0), rule, message)


_RESULT_CACHE = LruCache(512)
# The last few compiled sets themselves, each with the model it builds on first need: a set compiled again soon
# (a registration's checks, lint and canonical forms, a validation followed by the registration) is neither parsed
# nor indexed again. Parsed sets weigh many times their bytes, so far fewer are kept than in _RESULT_CACHE.
COMPILED_SETS_KEPT = 8
_SET_CACHE = LruCache(COMPILED_SETS_KEPT)


def clear_cache() -> None:
    """Forget cached compile results (benchmarks use this to time cold compiles)."""
    _RESULT_CACHE.clear()
    _SET_CACHE.clear()


def clear_set_cache() -> None:
    """Forget the kept compiled sets but not protoc's output: the next compile parses a new set from cached bytes.

    Benchmarks use this to time a check of a set nothing was kept with (model, lint's elements, derived outputs).
    """
    _SET_CACHE.clear()
