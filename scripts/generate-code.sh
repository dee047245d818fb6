#!/usr/bin/env bash
# ./scripts/generate-code.sh [--all|--python|--typescript|--go|--language NAME] [--watch] [PATH ...] [--out DIR]
# Generate code into generated/<language>/ at the repository root (every language when none is named);
# PATH is a .proto file or folder, also relative to schemas/ (trading/orders.proto). Wraps `manage.py generate_code`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

mapfile -t arguments < <(schema_paths "$@")
languages=(--all)
out=(--out "$ROOT/generated")
for argument in "${arguments[@]}"; do
  case "$argument" in
    --all | --python | --typescript | --go | --language | --language=*) languages=() ;;
    --out | --out=*) out=() ;;
  esac
done
manage generate_code "${languages[@]}" "${out[@]}" "${arguments[@]}"
