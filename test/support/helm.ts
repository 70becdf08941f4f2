import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';
import { defaultCacheDir, findRepoRoot } from '../stack/config';

/** The Helm chart and the Helm that scripts/setup.sh builds from the Go module proxy. */
export const chartDir = join(findRepoRoot(), 'deploy', 'helm', 'flinkops');
export const helmBinary = join(defaultCacheDir(), 'bin', 'helm');

/** The value sets the tests render: the defaults and every file in the chart's ci/ directory. */
export function valueSets(): { name: string; files: string[] }[] {
  const ci = join(chartDir, 'ci');
  return [{ name: 'defaults', files: [] }, ...readdirSync(ci).filter((f) => f.endsWith('-values.yaml')).sort().map((f) => ({ name: f.replace(/-values\.yaml$/, ''), files: [join(ci, f)] }))];
}

export function helm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  if (!existsSync(helmBinary)) throw new Error(`${helmBinary} is missing: run scripts/setup.sh`);
  const result = spawnSync(helmBinary, args, { encoding: 'utf8', env: { ...process.env, HELM_CACHE_HOME: '/tmp/flinkops-helm-cache', HELM_CONFIG_HOME: '/tmp/flinkops-helm-config', HELM_DATA_HOME: '/tmp/flinkops-helm-data' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `helm template` of the chart with these values files and --set pairs, as Kubernetes objects. */
export function renderChart(options: { files?: string[]; set?: string[]; namespace?: string; release?: string } = {}): KubernetesObject[] {
  const args = ['template', options.release ?? 'flinkops', chartDir, '--namespace', options.namespace ?? 'flinkops'];
  for (const file of options.files ?? []) args.push('-f', file);
  for (const pair of options.set ?? []) args.push('--set', pair);
  const result = helm(args);
  if (result.status !== 0) throw new Error(`helm ${args.join(' ')}: ${result.stderr}`);
  return (loadAllYaml(result.stdout) as (KubernetesObject | null)[]).filter((o): o is KubernetesObject => Boolean(o));
}
