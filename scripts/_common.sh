# Shared by the workflow scripts: the repository's Python, and paths written relative to schemas/.
# Sourced, not run. The scripts are thin wrappers: every option is the management command's own.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON="$(command -v python3)"
# These commands read files (and a registry's REST API) only; settings need a key when DEBUG is off.
export DEBUG="${DEBUG:-true}"

# Print each argument, turning a path that exists only under schemas/ (trading/orders.proto) into that path.
schema_paths() {
  for argument in "$@"; do
    if [[ "$argument" != -* && ! -e "$argument" && -e "$ROOT/schemas/$argument" ]]; then
      printf '%s\n' "$ROOT/schemas/$argument"
    else
      printf '%s\n' "$argument"
    fi
  done
}

manage() {
  exec "$PYTHON" "$ROOT/manage.py" "$@"
}
