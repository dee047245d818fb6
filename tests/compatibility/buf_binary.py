"""Run the real `buf` binary (npm's @bufbuild/buf, installed by `make test-tools`) on local folders.

No Django here: the conformance tests compare its JSON findings with the engine's. buf reads only the
folders it is given (and the well-known types inside the binary), so it downloads nothing at run time.
"""

import json
import os
import subprocess
import tempfile
from pathlib import Path

from codegen.generators import NODE_DIR

BUF_SHIM = NODE_DIR / "node_modules" / ".bin" / "buf"
# The package's own binary for this platform: the .bin shim starts node before it, which more than doubles
# the time of each of the conformance tests' hundreds of runs.
_NATIVE = sorted((NODE_DIR / "node_modules" / "@bufbuild").glob("buf-*/bin/buf"))
BUF = _NATIVE[0] if _NATIVE else BUF_SHIM
BUF_VERSION = "1.75.0"
MISSING_BUF = f"the buf binary is missing at {BUF}: run `make test-tools` (npm ci in {NODE_DIR})"
# buf's exit codes: 0 nothing found, 100 findings (or compile errors, printed the same way).
EXIT_CODES = (0, 100)


class BufFailed(RuntimeError):
    """buf exited with a code other than 0 or 100 (bad flags, unreadable folder): its stderr says why."""


def buf_available() -> bool:
    """Return True when `make test-tools` has installed the buf binary."""
    return BUF.is_file()


def run_buf_breaking(old_dir: str | Path, new_dir: str | Path, config: dict | None = None) -> list[dict]:
    """Return buf's findings for `buf breaking NEW --against OLD`, paths relative to NEW.

    buf reads its rules from NEW/buf.yaml, or from `config` (a buf.yaml document as a dict) when given.
    """
    arguments = ["breaking", ".", "--against", str(Path(old_dir).resolve())]
    return _run_buf(arguments, Path(new_dir), config)


def run_buf_lint(directory: str | Path, config: dict | None = None) -> list[dict]:
    """Return buf's findings for `buf lint DIR`, paths relative to DIR (DIR/buf.yaml applies unless `config`)."""
    return _run_buf(["lint", "."], Path(directory), config)


def _run_buf(arguments: list[str], directory: Path, config: dict | None) -> list[dict]:
    if not buf_available():
        raise FileNotFoundError(MISSING_BUF)
    if config is not None:
        arguments += ["--config", json.dumps(config)]
    # Run inside the folder so buf prints paths relative to it, as the engine's CLI does.
    completed = subprocess.run(
        [str(BUF), *arguments, "--error-format=json"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "BUF_CACHE_DIR": str(_cache_dir())},
    )
    if completed.returncode not in EXIT_CODES:
        raise BufFailed(f"buf {' '.join(arguments)} exited {completed.returncode}: {completed.stderr.strip()}")
    return parse_json_lines(completed.stdout)


def parse_json_lines(text: str) -> list[dict]:
    """Return the objects of buf's `--error-format=json` output (one JSON object per line)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _cache_dir() -> Path:
    # buf keeps its module cache here; tests share one folder so they never write to the user's home.
    folder = Path(tempfile.gettempdir()) / "registry-tests-buf-cache"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
