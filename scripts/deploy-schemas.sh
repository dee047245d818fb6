#!/usr/bin/env bash
# ./scripts/deploy-schemas.sh [PATH] [--registry URL] [--dry-run] [--retire-private-copies [--force]]
# Register a tree (default: schemas/) on a registry (default: $REGISTRY_URL) in dependency order.
# Wraps `manage.py deploy_schemas`: exit 0 deployed, 100 when a breaking change blocks, 1 on errors.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

mapfile -t arguments < <(schema_paths "$@")
manage deploy_schemas "${arguments[@]}"
