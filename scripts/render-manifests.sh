#!/usr/bin/env bash
# Renders the plain manifests in deploy/kubernetes/ from the Helm chart (deploy/helm/flinkops), so they cannot drift
# from it: `bash scripts/render-manifests.sh` writes them, `--check` fails (and shows the difference) when the
# checked-in files are not what the chart renders. Needs the Helm that scripts/setup.sh builds.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${FLINKOPS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flinkops}"
helm="${HELM:-$cache/bin/helm}"
chart="$repo/deploy/helm/flinkops"
out="$repo/deploy/kubernetes"
check=false
[[ "${1:-}" == "--check" ]] && { check=true; out="$(mktemp -d)"; }

render() { "$helm" template flinkops "$chart" --namespace flinkops -f "$repo/deploy/kubernetes/chart-values.yaml" "$@"; }
header() {
  printf '# Generated from the Helm chart deploy/helm/flinkops (values: chart-values.yaml) by scripts/render-manifests.sh:\n'
  printf '# edit the chart and run the script; test/unit/helm-chart.test.ts fails when this file differs. %s\n' "$1"
}

{
  header 'The worker in its own namespace: ServiceAccount, configuration, Deployment with the jar and savepoint volumes, metrics Service and PodDisruptionBudget. Permissions: rbac-namespace.yaml (per Flink namespace) or rbac-cluster.yaml (all namespaces). README "Install on a real cluster".'
  printf -- '---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: flinkops\n  labels:\n    app.kubernetes.io/name: flinkops\n'
  render --show-only templates/serviceaccount.yaml --show-only templates/configmap.yaml --show-only templates/deployment.yaml \
    --show-only templates/service.yaml --show-only templates/pdb.yaml
} > "$out/flinkops.yaml"
{
  header 'A Role and RoleBinding in ONE namespace, "flink" (change both "namespace: flink" lines, apply once per namespace); the ServiceAccount lives in "flinkops". Fleet savepoints across namespaces need rbac-cluster.yaml.'
  render --show-only templates/rbac.yaml
} > "$out/rbac-namespace.yaml"
{
  header 'Every namespace: one ClusterRole and ClusterRoleBinding for the ServiceAccount flinkops/flinkops.'
  render --show-only templates/rbac.yaml --set rbac.clusterWide=true
} > "$out/rbac-cluster.yaml"

if $check; then
  status=0
  for file in flinkops.yaml rbac-namespace.yaml rbac-cluster.yaml; do
    diff -u "$repo/deploy/kubernetes/$file" "$out/$file" || { echo "render-manifests: deploy/kubernetes/$file differs from the chart: run scripts/render-manifests.sh" >&2; status=1; }
  done
  rm -rf "$out"
  exit $status
fi
