import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { defaultCacheDir } from '../stack/config';
import { kubeClients } from '../stack/kube/helpers';
import { renderChart, strictDryRunCreate, valueSets } from '../support/helm';
import { testStack } from '../support/stack';

// Every value set of the Helm chart (the defaults and deploy/helm/flinkops/ci/*-values.yaml), rendered by a real Helm 4
// and sent to the local stack's real kube-apiserver as a server-side dry run with strict field validation: a misspelt
// field, a wrong type, an invalid volume or probe, a RoleBinding to a missing Role kind is refused as `kubectl apply`
// would refuse it. The Prometheus Operator's kinds have no CRD on this API server: the PrometheusRule's rules go
// through promtool instead.
const stack = testStack();
const kube = kubeClients(stack.state);
const promtool = join(defaultCacheDir(), 'bin', 'promtool');

async function ensureNamespace(name: string): Promise<void> {
  await kube.core.createNamespace({ body: { metadata: { name, labels: { 'flinkops.dev/test': 'helm-chart' } } } }).then(
    () => created.push(name),
    (error: { code?: number }) => {
      if (error.code !== 409) throw error;
    },
  );
}

// The release goes into a namespace of its own (other tests dry-run the plain manifests' "flinkops" namespace);
// watched namespaces this test creates are deleted afterwards.
const releaseNamespace = `flinkops-helm-${Date.now().toString(36)}`;
const created: string[] = [];

afterAll(async () => {
  for (const name of created) await kube.core.deleteNamespace({ name }).catch(() => undefined);
});

describe.each(valueSets())('value set $name', ({ files }) => {
  const objects = renderChart({ files, namespace: releaseNamespace });

  test('the real API server accepts every object (server-side dry run, strict field validation)', async () => {
    const namespaces = new Set(objects.map((o) => o.metadata?.namespace).filter((n): n is string => Boolean(n)));
    for (const namespace of namespaces) await ensureNamespace(namespace);
    const accepted: string[] = [];
    const refused: string[] = [];
    for (const object of objects.filter((o) => !o.apiVersion!.startsWith('monitoring.coreos.com/'))) {
      const name = `${object.kind} ${object.metadata?.namespace ?? ''}/${object.metadata!.name!}`;
      const answer = await strictDryRunCreate(kube.kc, object);
      // 409: it exists from an earlier run; the dry run validated it all the same (validation comes first).
      if (answer.status === 201 || answer.status === 200 || answer.status === 409) accepted.push(name);
      else refused.push(`${name}: ${answer.status} ${answer.body}`);
    }
    expect(refused).toEqual([]);
    expect(accepted.filter((n) => n.startsWith('Deployment '))).toHaveLength(1);
    expect(accepted.filter((n) => n.startsWith('ConfigMap '))).not.toHaveLength(0);
  });

  test('a PrometheusRule it renders passes promtool', () => {
    for (const rule of objects.filter((o) => o.kind === 'PrometheusRule') as (KubernetesObject & { spec: unknown })[]) {
      const dir = mkdtempSync(join(tmpdir(), 'prometheusrule-'));
      writeFileSync(join(dir, 'rules.yaml'), stringify(rule.spec));
      const check = spawnSync(promtool, ['check', 'rules', 'rules.yaml'], { cwd: dir, encoding: 'utf8' });
      expect(check.stdout).toContain('SUCCESS');
    }
  });
});

test('the dry run refuses what kubectl apply would refuse (a misspelt field), so the acceptance above means something', async () => {
  const [deployment] = renderChart({ namespace: releaseNamespace }).filter((o) => o.kind === 'Deployment') as (KubernetesObject & { spec: Record<string, unknown> })[];
  await ensureNamespace(deployment!.metadata!.namespace!);
  const misspelt = { ...deployment!, spec: { ...deployment!.spec, replcas: 2 } };
  const answer = await strictDryRunCreate(kube.kc, misspelt);
  expect(answer.status).toBe(400);
  expect(answer.body).toContain('unknown field \\"spec.replcas\\"');
  // ... and the unchanged object passes.
  expect([200, 201, 409]).toContain((await strictDryRunCreate(kube.kc, deployment!)).status);
});
