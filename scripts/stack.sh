#!/usr/bin/env bash
# The local stack: Temporal dev server, Flink session cluster (and, with later issues, Kubernetes).
#   scripts/stack.sh up|down|status|env|worker [--profile demo|test] [--purge]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec node "$repo/dist/test/stack/cli.js" "$@"
