#!/usr/bin/env bash
# The README's second command and what CI runs: set everything up, check types and lint, run every test
# (unit and end-to-end against the real local stack).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

bash scripts/setup.sh
# A clean checkout stays clean: set-up writes nothing that git tracks (package-lock.json included). In CI this fails
# the run; on a developer's tree with its own changes it only warns.
if [[ -n "$(git status --porcelain --untracked-files=normal)" ]]; then
  git status --short >&2
  if [[ "${CI:-}" == "true" ]]; then echo "test: set-up changed the checkout (see git status above)" >&2; exit 1; fi
  echo "test: warning: the checkout has changes (yours, or set-up's)" >&2
fi
started=$SECONDS
npm run --silent typecheck
npm run --silent lint
if [[ $# -gt 0 ]]; then
  npx jest "$@"
else
  # One worker per core, at least two: workflow-test files spend much of their time waiting on their test server.
  unit_workers="$(nproc)"; (( unit_workers < 2 )) && unit_workers=2
  npx jest --selectProjects unit workflow --maxWorkers="${FLINKOPS_UNIT_WORKERS:-$unit_workers}"
  # End-to-end files in parallel against the one local stack (see jest.config.js).
  npx jest --selectProjects e2e --maxWorkers="${FLINKOPS_E2E_WORKERS:-4}"
fi
echo "test: checks and tests took $((SECONDS - started))s"
