import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { join } from 'node:path';
import { KubernetesObjectApi, loadAllYaml, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
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

/**
 * A server-side dry run of an object exactly as rendered, with strict field validation: sent as raw JSON, because the
 * client's typed serializers drop fields they do not know (a misspelt field would never reach the API server).
 */
export async function strictDryRunCreate(kc: KubeConfig, object: KubernetesObject): Promise<{ status: number; body: string }> {
  const api = KubernetesObjectApi.makeApiClient(kc) as unknown as { specUriPath(spec: KubernetesObject, action: string): Promise<string> };
  const path = await api.specUriPath(object, 'create');
  const url = new URL(`${kc.getCurrentCluster()!.server}${path}`);
  url.searchParams.set('dryRun', 'All');
  url.searchParams.set('fieldValidation', 'Strict');
  url.searchParams.set('fieldManager', 'flinkops-tests');
  const options: RequestOptions = { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' } };
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const request = httpsRequest(url, options, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end(JSON.stringify(object));
  });
}
