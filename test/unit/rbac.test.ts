import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import { findRepoRoot } from '../stack/config';
import { renderChart } from '../support/helm';
import { grantedPermissions, kubeCalls, permissionOf, requestOf, requiredPermissions } from '../support/rbac-surface';

// The Roles in deploy/kubernetes/ grant exactly what the code calls: a new Kubernetes call without a Role change
// (or a Role rule no code needs any more) fails here, with the calls and the missing rules named.
const deployDir = join(findRepoRoot(), 'deploy', 'kubernetes');

function rolesIn(file: string): Role[] {
  const objects = loadAllYaml(readFileSync(join(deployDir, file), 'utf8')) as Role[];
  return objects.filter((o) => o?.kind === 'Role' || o?.kind === 'ClusterRole');
}

test('the scan finds the calls flinkops makes, and none hidden from it', () => {
  const { calls, hidden } = kubeCalls();
  expect(hidden).toEqual([]);
  expect(calls.map((c) => `${c.api}.${c.method}`)).toEqual(expect.arrayContaining(['apps.patchNamespacedDeployment', 'core.readNamespacedConfigMap', 'coordination.createNamespacedLease', 'events.createNamespacedEvent']));
});

test('requests map to the API server authorization attributes', async () => {
  expect(permissionOf(...Object.values(await requestOf('AppsV1Api', 'readNamespacedDeployment')) as [string, string])).toEqual({ apiGroup: 'apps', resource: 'deployments', verb: 'get' });
  expect(permissionOf(...Object.values(await requestOf('AppsV1Api', 'listDeploymentForAllNamespaces')) as [string, string])).toEqual({ apiGroup: 'apps', resource: 'deployments', verb: 'list' });
  expect(permissionOf(...Object.values(await requestOf('CoreV1Api', 'replaceNamespacedConfigMap')) as [string, string])).toEqual({ apiGroup: '', resource: 'configmaps', verb: 'update' });
  expect(permissionOf(...Object.values(await requestOf('CoreV1Api', 'deleteNamespacedPod')) as [string, string])).toEqual({ apiGroup: '', resource: 'pods', verb: 'delete' });
  expect(permissionOf(...Object.values(await requestOf('AppsV1Api', 'patchNamespacedDeploymentScale')) as [string, string])).toEqual({ apiGroup: 'apps', resource: 'deployments/scale', verb: 'patch' });
  expect(permissionOf(...Object.values(await requestOf('CoreV1Api', 'readNamespacedPodLog')) as [string, string])).toEqual({ apiGroup: '', resource: 'pods/log', verb: 'get' });
  expect(permissionOf(...Object.values(await requestOf('EventsV1Api', 'createNamespacedEvent')) as [string, string])).toEqual({ apiGroup: 'events.k8s.io', resource: 'events', verb: 'create' });
});

type Role = { kind: string; metadata: { name: string; namespace?: string }; rules: [] };

// The plain manifests, and the Roles the Helm chart renders (a Role per watched namespace, or one ClusterRole).
const roleSources: [string, () => Role[]][] = [
  ['rbac-namespace.yaml', () => rolesIn('rbac-namespace.yaml')],
  ['rbac-cluster.yaml', () => rolesIn('rbac-cluster.yaml')],
  ['the chart, three watched namespaces', () => chartRoles(['watchNamespaces={flink-a,flink-b,flink-c}'], 3)],
  ['the chart, rbac.clusterWide', () => chartRoles(['rbac.clusterWide=true'], 1)],
];

function chartRoles(set: string[], count: number): Role[] {
  const roles = (renderChart({ set }) as unknown as Role[]).filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole');
  expect(roles).toHaveLength(count);
  // Each Role is the same set of rules: check the first, and that the others equal it.
  for (const other of roles.slice(1)) expect(other.rules).toEqual(roles[0]!.rules);
  return roles.slice(0, 1);
}

test.each(roleSources)('%s grants exactly the permissions the code needs', async (_name, roles) => {
  const required = await requiredPermissions();
  const [role, ...others] = roles();
  expect(others).toEqual([]);
  const granted = grantedPermissions(role!);
  const missing = [...required.keys()].filter((k) => !granted.includes(k)).map((k) => `${k}: needed by ${required.get(k)!.calls.join(', ')}`);
  const unused = granted.filter((k) => !required.has(k));
  expect({ missing, unused }).toEqual({ missing: [], unused: [] });
});
