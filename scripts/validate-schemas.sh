#!/usr/bin/env bash
# ./scripts/validate-schemas.sh [PATH ...] [--against URL]
# Compile and lint .proto files or folders (default: schemas/); PATH may be relative to schemas/.
# Wraps `manage.py validate_schemas`: exit 0 clean, 100 on findings, 1 on errors.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

mapfile -t arguments < <(schema_paths "$@")
manage validate_schemas "${arguments[@]}"
