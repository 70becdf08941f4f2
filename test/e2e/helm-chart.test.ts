import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubernetesObjectApi, type Configuration, type HttpMethod, type KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { defaultCacheDir } from '../stack/config';
import { kubeClients } from '../stack/kube/helpers';
import { renderChart, valueSets } from '../support/helm';
import { testStack } from '../support/stack';

// Every value set of the Helm chart (the defaults and deploy/helm/flinkops/ci/*-values.yaml), rendered by a real Helm 4
// and sent to the local stack's real kube-apiserver as a server-side dry run with strict field validation: a misspelt
// field, a wrong type, an invalid volume or probe, a RoleBinding to a missing Role kind is refused as `kubectl apply`
// would refuse it. The Prometheus Operator's kinds have no CRD on this API server: the PrometheusRule's rules go
// through promtool instead.
const stack = testStack();
const kube = kubeClients(stack.state);
const promtool = join(defaultCacheDir(), 'bin', 'promtool');

function strictDryRun(): { api: KubernetesObjectApi; options: Configuration } {
  const api = KubernetesObjectApi.makeApiClient(kube.kc);
  const config = (api as unknown as { configuration: Configuration }).configuration;
  const options: Configuration = {
    ...config,
    baseServer: {
      makeRequestContext: (path: string, method: HttpMethod) => {
        const context = config.baseServer.makeRequestContext(path, method);
        context.setQueryParam('fieldValidation', 'Strict');
        return context;
      },
    },
  };
  return { api, options };
}

async function ensureNamespace(name: string): Promise<void> {
  await kube.core.createNamespace({ body: { metadata: { name, labels: { 'flinkops.dev/test': 'helm-chart' } } } }).catch((error: { code?: number }) => {
    if (error.code !== 409) throw error;
  });
}

const { api, options } = strictDryRun();

describe.each(valueSets())('value set $name', ({ files }) => {
  const objects = renderChart({ files });

  test('the real API server accepts every object (server-side dry run, strict field validation)', async () => {
    const namespaces = new Set(objects.map((o) => o.metadata?.namespace).filter((n): n is string => Boolean(n)));
    for (const namespace of namespaces) await ensureNamespace(namespace);
    const accepted: string[] = [];
    const refused: string[] = [];
    for (const object of objects.filter((o) => !o.apiVersion!.startsWith('monitoring.coreos.com/'))) {
      const name = `${object.kind} ${object.metadata?.namespace ?? ''}/${object.metadata!.name!}`;
      try {
        await api.create(object, undefined, 'All', 'flinkops-helm-test', options);
        accepted.push(name);
      } catch (error) {
        const body = (error as { body?: string }).body ?? String(error);
        // A dry run of an object that exists already (an earlier run): replace it, still as a dry run.
        if ((error as { code?: number }).code === 409) {
          const existing = await api.read(object as KubernetesObject & { metadata: { name: string } });
          await api.replace({ ...object, metadata: { ...object.metadata, resourceVersion: existing.metadata?.resourceVersion } }, undefined, 'All', 'flinkops-helm-test', options);
          accepted.push(name);
        } else {
          refused.push(`${name}: ${body}`);
        }
      }
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
  const [deployment] = renderChart().filter((o) => o.kind === 'Deployment') as (KubernetesObject & { spec: Record<string, unknown> })[];
  await ensureNamespace(deployment!.metadata!.namespace!);
  const misspelt = { ...deployment!, spec: { ...deployment!.spec, replcas: 2 } };
  await expect(api.create(misspelt, undefined, 'All', 'flinkops-helm-test', options)).rejects.toHaveProperty('body', expect.stringContaining('unknown field "spec.replcas"') as unknown);
});
