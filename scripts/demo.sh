#!/usr/bin/env bash
# The README's first command: set everything up, start the local stack and a worker, deploy a Flink session cluster
# on the local Kubernetes with a stateful job, and upgrade that job with flinkops (state carried over).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

bash scripts/setup.sh
node dist/test/stack/demo.js

cat <<INFO

The local stack is still running:
  Temporal Web UI   http://127.0.0.1:8233   (the upgrade workflow, step by step)
  logs              $repo/.stack/demo/logs
Try it yourself:     eval "\$(scripts/stack.sh env)"; node dist/client/cli.js status flink-demo/flink --job counter
                     (run scripts/demo.sh again to upgrade back)
Stop everything:     scripts/stack.sh down
INFO
