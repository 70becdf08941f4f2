/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-return -- rendered Kubernetes objects are read as loosely typed YAML */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { ConfigFileSchema } from '../../config/schema';
import { describeIssues } from '../../workflows/model/validation';
import { findRepoRoot } from '../stack/config';
import { chartDir, helm, renderChart, valueSets } from '../support/helm';

// The Helm chart (deploy/helm/flinkops) rendered by a real Helm 4 (built from the Go module proxy by scripts/setup.sh)
// for every value set in its ci/ directory: a configuration the worker accepts, the volumes session-job upgrades
// need, probes, spreading, Roles per watched namespace, monitoring. test/e2e/helm-chart.test.ts applies the same
// renders to the real API server; test/unit/rbac.test.ts checks their Roles against the code.
const repoRoot = findRepoRoot();

type Obj = KubernetesObject & Record<string, any>;

function find(objects: Obj[], kind: string): Obj[] {
  return objects.filter((o) => o.kind === kind);
}

function workerConfig(objects: Obj[]): Record<string, any> {
  const configMap = find(objects, 'ConfigMap').find((c) => c.metadata!.name!.endsWith('-config'))!;
  return parse(configMap.data['config.yaml'] as string) as Record<string, any>;
}

test('helm lint passes for every value set; values.schema.json refuses bad values naming them', () => {
  for (const set of valueSets()) {
    const lint = helm(['lint', chartDir, ...set.files.flatMap((f) => ['-f', f])]);
    expect({ set: set.name, status: lint.status, out: lint.status === 0 ? '' : lint.stdout + lint.stderr }).toEqual({ set: set.name, status: 0, out: '' });
  }
  const bad = helm(['template', 'x', chartDir, '--set', 'temporal.adress=t:7233', '--set', 'replicaCount=0', '--set', 'podAntiAffinity=sometimes']);
  expect(bad.status).not.toBe(0);
  expect(bad.stderr).toMatch(/additional properties 'adress' not allowed/);
  expect(bad.stderr).toMatch(/\/replicaCount/);
  expect(bad.stderr).toMatch(/\/podAntiAffinity/);
});

describe.each(valueSets())('value set $name', ({ files }) => {
  const objects = renderChart({ files }) as Obj[];
  const values = { ...(parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, any>) };
  const overrides = files.map((f) => parse(readFileSync(f, 'utf8')) as Record<string, any>);
  const value = (path: string): any => {
    const get = (o: any) => path.split('.').reduce((v, k) => (v === undefined || v === null ? undefined : v[k]), o);
    return [...overrides].reverse().map(get).find((v) => v !== undefined) ?? get(values);
  };
  const deployment = find(objects, 'Deployment')[0]!;
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];

  test('the worker accepts the configuration the chart writes', () => {
    const parsed = ConfigFileSchema.safeParse(workerConfig(objects));
    expect(parsed.success ? 'valid' : describeIssues(parsed.error)).toBe('valid');
  });

  test('the worker gets probes, resources, a read-only root and its volumes; jars and savepoints where the configuration allows them', () => {
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    const config = workerConfig(objects);
    const mounts = Object.fromEntries((container.volumeMounts as { name: string; mountPath: string }[]).map((m) => [m.name, m.mountPath]));
    const volumes = new Set((pod.volumes as { name: string }[]).map((v) => v.name));
    for (const name of Object.keys(mounts)) expect(volumes).toContain(name);
    if (value('jars.enabled')) {
      expect(config.jars.allowedDirectories).toEqual([mounts.jars]);
    } else {
      expect(mounts.jars).toBeUndefined();
      expect(config.jars.allowedDirectories).toEqual([]);
    }
    if (value('savepoints.enabled')) {
      expect(config.savepoints.allowedPrefixes).toContain(`file://${mounts.savepoints!}`);
    } else {
      expect(mounts.savepoints).toBeUndefined();
    }
    // Every file the configuration names is in a mounted volume.
    const named = JSON.stringify(config).match(/"file":"[^"]+"|"(?:serverCaFile|clientCertFile|clientKeyFile)":"[^"]+"/g) ?? [];
    for (const entry of named) {
      const path = entry.split('":"')[1]!.replace(/"$/, '');
      expect({ path, mounted: Object.values(mounts).some((dir) => path.startsWith(`${dir}/`)) }).toEqual({ path, mounted: true });
    }
    // The grace period outlasts the worker's own shutdown grace time.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(parseInt(config.worker.shutdownGraceTime as string, 10));
  });

  test('Worker Versioning: the build id is the image tag', () => {
    const config = workerConfig(objects);
    const tag = (container.image as string).split(':').at(-1);
    if (value('worker.versioning.enabled')) expect(config.worker.versioning).toMatchObject({ deploymentName: value('worker.versioning.deploymentName'), buildId: tag, defaultBehavior: value('worker.versioning.defaultBehavior') });
    else expect(config.worker.versioning).toBeUndefined();
  });

  test('replicas are spread over nodes and zones as asked', () => {
    expect(deployment.spec.replicas).toBe(value('replicaCount'));
    const antiAffinity = pod.affinity?.podAntiAffinity;
    const mode = value('podAntiAffinity') as string;
    if (mode === 'hard') expect(antiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    else if (mode === 'soft') expect(antiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    else expect(antiAffinity).toBeUndefined();
    if (value('topologySpreadConstraints.enabled')) expect(pod.topologySpreadConstraints[0]).toMatchObject({ topologyKey: value('topologySpreadConstraints.topologyKey') });
    expect(find(objects, 'PodDisruptionBudget').length).toBe(value('podDisruptionBudget.enabled') ? 1 : 0);
  });

  test('RBAC: a Role and RoleBinding per watched namespace, or one ClusterRole, bound to the worker\'s ServiceAccount', () => {
    const account = pod.serviceAccountName as string;
    expect(find(objects, 'ServiceAccount').map((s) => s.metadata!.name)).toEqual(value('serviceAccount.create') ? [account] : []);
    const roles = find(objects, 'Role');
    const bindings = [...find(objects, 'RoleBinding'), ...find(objects, 'ClusterRoleBinding')];
    if (!value('rbac.create')) {
      expect([...roles, ...bindings, ...find(objects, 'ClusterRole')]).toEqual([]);
      return;
    }
    if (value('rbac.clusterWide')) {
      expect(roles).toEqual([]);
      expect(find(objects, 'ClusterRole')).toHaveLength(1);
    } else {
      expect(roles.map((r) => r.metadata!.namespace).sort()).toEqual([...(value('watchNamespaces') as string[])].sort());
    }
    for (const binding of bindings) expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: account, namespace: 'flinkops' }]);
  });

  test('monitoring: ServiceMonitor on the metrics Service, the rules file as PrometheusRule, the dashboard for Grafana', () => {
    const service = find(objects, 'Service')[0]!;
    const monitors = find(objects, 'ServiceMonitor');
    expect(monitors.length).toBe(value('metrics.serviceMonitor.enabled') ? 1 : 0);
    for (const monitor of monitors) {
      expect(Object.entries(monitor.spec.selector.matchLabels as Record<string, string>).every(([k, v]) => service.metadata!.labels![k] === v)).toBe(true);
      expect((service.spec.ports as { name: string }[]).map((p) => p.name)).toContain(monitor.spec.endpoints[0].port);
    }
    const rules = find(objects, 'PrometheusRule');
    expect(rules.length).toBe(value('metrics.prometheusRule.enabled') ? 1 : 0);
    for (const rule of rules) expect(rule.spec).toEqual(parse(readFileSync(join(chartDir, 'files', 'flinkops.rules.yaml'), 'utf8')));
    const dashboards = find(objects, 'ConfigMap').filter((c) => c.metadata!.name!.endsWith('-dashboard'));
    expect(dashboards.length).toBe(value('metrics.dashboard.enabled') ? 1 : 0);
    for (const dashboard of dashboards) expect(JSON.parse(dashboard.data['flinkops.json'] as string)).toEqual(JSON.parse(readFileSync(join(chartDir, 'files', 'grafana-dashboard.json'), 'utf8')));
  });
});

test("the worker's V8 heap limits reach it as NODE_OPTIONS; null leaves each to Node", () => {
  const nodeOptions = (set: string[] = []) => {
    const deployment = find(renderChart({ set }) as Obj[], 'Deployment')[0]!;
    const env = (deployment.spec.template.spec.containers[0].env ?? []) as { name: string; value: string }[];
    return env.find((e) => e.name === 'NODE_OPTIONS')?.value;
  };
  expect(nodeOptions()).toBe('--max-old-space-size=256 --max-semi-space-size=4');
  expect(nodeOptions(['worker.maxOldSpaceSizeMiB=384'])).toBe('--max-old-space-size=384 --max-semi-space-size=4');
  expect(nodeOptions(['worker.maxSemiSpaceSizeMiB=null'])).toBe('--max-old-space-size=256');
  expect(nodeOptions(['worker.maxOldSpaceSizeMiB=null', 'worker.maxSemiSpaceSizeMiB=null'])).toBeUndefined();
  // Only whole numbers reach the command line: anything else is refused by values.schema.json, naming the field.
  expect(() => nodeOptions(['worker.maxOldSpaceSizeMiB=256 --inspect=0.0.0.0'])).toThrow(/maxOldSpaceSizeMiB/);
  expect(() => nodeOptions(['worker.maxSemiSpaceSizeMiB=0'])).toThrow(/maxSemiSpaceSizeMiB/);
});

test('the plain manifests in deploy/kubernetes are what the chart renders (scripts/render-manifests.sh --check)', () => {
  const result = spawnSync('bash', [join(repoRoot, 'scripts', 'render-manifests.sh'), '--check'], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
});
