import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import { findRepoRoot } from '../stack/config';
import { grantedPermissions, kubeCalls, permissionOf, requestOf, requiredPermissions } from '../support/rbac-surface';

// The Roles in deploy/kubernetes/ grant exactly what the code calls: a new Kubernetes call without a Role change
// (or a Role rule no code needs any more) fails here, with the calls and the missing rules named.
const deployDir = join(findRepoRoot(), 'deploy', 'kubernetes');

function rolesIn(file: string): { kind: string; metadata: { name: string }; rules: [] }[] {
  const objects = loadAllYaml(readFileSync(join(deployDir, file), 'utf8')) as { kind: string; metadata: { name: string }; rules: [] }[];
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

test.each(['rbac-namespace.yaml', 'rbac-cluster.yaml'])('%s grants exactly the permissions the code needs', async (file) => {
  const required = await requiredPermissions();
  const [role, ...others] = rolesIn(file);
  expect(others).toEqual([]);
  const granted = grantedPermissions(role!);
  const missing = [...required.keys()].filter((k) => !granted.includes(k)).map((k) => `${k}: needed by ${required.get(k)!.calls.join(', ')}`);
  const unused = granted.filter((k) => !required.has(k));
  expect({ missing, unused }).toEqual({ missing: [], unused: [] });
});
