#!/usr/bin/env bash
# The README's first command: set everything up, start the local stack and a worker, and run flinkops against it.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

bash scripts/setup.sh
node dist/test/stack/cli.js up --profile demo >/dev/null
node dist/test/stack/cli.js worker --profile demo
eval "$(node dist/test/stack/cli.js env --profile demo)"
rest_url="$(node -e 'console.log(require("./.stack/demo/stack.json").flink.restUrl)')"

echo
echo "== flinkops cluster-info --rest-url $rest_url"
node dist/client/cli.js cluster-info --rest-url "$rest_url"

cat <<INFO

The local stack is still running:
  Temporal Web UI   http://127.0.0.1:8233   (the cluster-info workflow you just ran is there)
  Flink Web UI      $rest_url
  logs              $repo/.stack/demo/logs
Try it yourself:     eval "\$(scripts/stack.sh env)"; node dist/client/cli.js --help
Stop everything:     scripts/stack.sh down
INFO
