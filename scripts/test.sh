#!/usr/bin/env bash
# The README's second command and what CI runs: set everything up, check types and lint, run every test
# (unit and end-to-end against the real local stack).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

bash scripts/setup.sh
started=$SECONDS
npm run --silent typecheck
npm run --silent lint
npx jest --runInBand "$@"
echo "test: checks and tests took $((SECONDS - started))s"
