import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { FlinkRestClient } from '../../activities/flink/rest-client';
import { flinkTransport } from '../../activities/flink/transport';
import { remediationInput } from '../../client/commands/remediate';
import { buildRequest } from '../../client/commands/upgrade';
import { ConfigError, loadCliSettings, loadWorkerSettings } from '../../config/load';
import { ENV_SETTINGS } from '../../config/env';
import { redactor, Secret } from '../../config/secret';
import { temporalConnectionOptions } from '../../config/temporal';
import { describeWorkerSettings, workerSecrets } from '../../config/worker';
import { DEFAULT_LIMITS, parseRemediationRequest, type RemediationRequestInput } from '../../workflows/remediation/request';
import { errorType, targetOf } from '../../worker/activity-interceptors';
import { createLogger } from '../../worker/logging';

const dir = mkdtempSync(join(tmpdir(), 'flinkops-config-'));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const kubeconfig = file('kubeconfig', '{}');

function problems(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  throw new Error('expected a ConfigError');
}

test('without a file or variables: the documented defaults', () => {
  const settings = loadWorkerSettings({ env: {} });
  expect(settings.temporal).toEqual({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'flinkops', apiKey: undefined, tls: undefined });
  expect(settings.flink).toMatchObject({ serviceAddressing: 'dns', clusterDomain: 'cluster.local', scheme: 'http', requestTimeoutMs: 15_000, headers: {} });
  expect(settings.worker.shutdownGraceTimeMs).toBe(30_000);
  expect(settings.metrics.bindAddress).toBe('0.0.0.0:9464');
  expect(settings.health.bindAddress).toBe('0.0.0.0:9465');
  expect(settings.kube.kubeconfig).toBeUndefined();
});

test('a YAML file, with environment variables on top (the existing variable names keep working)', () => {
  const config = file('config.yaml', `
temporal:
  address: temporal.example.com:7233
  namespace: prod
flink:
  serviceAddressing: cluster-ip
  requestTimeout: 10s
savepoints:
  allowedPrefixes: [s3://a/]
worker:
  shutdownGraceTime: 2m
defaults:
  upgrade:
    stabilityWindow: 1m
metrics:
  bindAddress: off
`);
  const settings = loadWorkerSettings({
    file: config,
    env: { TEMPORAL_NAMESPACE: 'staging', FLINKOPS_TASK_QUEUE: 'q', KUBECONFIG: kubeconfig, FLINKOPS_ALLOWED_SAVEPOINT_PREFIXES: 's3://b/, s3://c/', FLINKOPS_CLUSTER_DOMAIN: 'k.local' },
  });
  expect(settings.temporal).toMatchObject({ address: 'temporal.example.com:7233', namespace: 'staging', taskQueue: 'q' });
  expect(settings.flink).toMatchObject({ serviceAddressing: 'cluster-ip', clusterDomain: 'k.local', requestTimeoutMs: 10_000 });
  expect(settings.savepoints.allowedPrefixes).toEqual(['s3://b/', 's3://c/']);
  expect(settings.worker.shutdownGraceTimeMs).toBe(120_000);
  expect(settings.defaults.upgrade.stabilityWindow).toBe(60_000);
  expect(settings.metrics.bindAddress).toBeUndefined();
  expect(settings.kube.kubeconfig).toBe(kubeconfig);
  expect(loadWorkerSettings({ env: { FLINKOPS_CONFIG: file('c.json', '{"temporal":{"namespace":"json"}}') } }).temporal.namespace).toBe('json');
});

test('errors name the field, the variable it came from, and every unknown key', () => {
  expect(problems(() => loadWorkerSettings({ env: { TEMPORAL_ADDRESS: 'localhost' } }))).toEqual([
    'config: temporal.address (from TEMPORAL_ADDRESS): must be host:port (e.g. temporal.example.com:7233), with a port from 1 to 65535',
  ]);
  expect(problems(() => loadWorkerSettings({ file: file('typo.yaml', 'temporal:\n  adress: x:1\nflinkk: {}\n'), env: {} }))).toEqual([
    'config: temporal.adress: unknown key',
    'config: flinkk: unknown key',
  ]);
  expect(problems(() => loadWorkerSettings({ env: { TEMPORAL_TLS_CLIENT_CERT_PATH: '/no/such/cert.pem', TEMPORAL_TLS_CLIENT_KEY_PATH: '/no/such/key.pem' } }))).toEqual([
    'config: temporal.tls.clientCertFile (from TEMPORAL_TLS_CLIENT_CERT_PATH): file /no/such/cert.pem does not exist',
    'config: temporal.tls.clientKeyFile (from TEMPORAL_TLS_CLIENT_KEY_PATH): file /no/such/key.pem does not exist',
  ]);
  expect(problems(() => loadWorkerSettings({ env: { TEMPORAL_TLS_CLIENT_CERT_PATH: kubeconfig } }))).toEqual([
    'config: temporal.tls (from TEMPORAL_TLS_CLIENT_CERT_PATH): clientCertFile and clientKeyFile go together (mTLS needs both)',
  ]);
  expect(problems(() => loadWorkerSettings({ env: { FLINKOPS_SERVICE_ADDRESSING: 'magic', FLINKOPS_SHUTDOWN_GRACE_TIME: 'soon' } }))[0]).toMatch(/^config: flink\.serviceAddressing \(from FLINKOPS_SERVICE_ADDRESSING\): Invalid option/);
  expect(problems(() => loadWorkerSettings({ file: file('header.yaml', 'flink:\n  headers:\n    Authorization: { value: a, file: /b }\n'), env: {} }))).toEqual([
    'config: flink.headers.Authorization: give exactly one of value, file, env',
  ]);
  expect(problems(() => loadWorkerSettings({ file: join(dir, 'missing.yaml'), env: {} }))[0]).toMatch(/missing\.yaml does not exist/);
  expect(problems(() => loadWorkerSettings({ file: file('bad.yaml', 'temporal: [\n'), env: {} }))[0]).toMatch(/not valid YAML or JSON/);
});

test('the CLI reads only what it needs: a missing Flink or Kubernetes file does not stop it', () => {
  const cli = loadCliSettings({ env: { KUBECONFIG: '/no/such/kubeconfig', FLINKOPS_FLINK_TLS_CA_FILE: '/no/ca.pem', TEMPORAL_ADDRESS: 'temporal:7233', FLINKOPS_UPGRADE_VERIFY_TIMEOUT: '7m' } });
  expect(cli.temporal.address).toBe('temporal:7233');
  expect(cli.defaults.upgrade.verifyTimeout).toBe(420_000);
  expect(problems(() => loadCliSettings({ env: { TEMPORAL_API_KEY_FILE: '/no/key' } }))).toEqual(['config: temporal.apiKey.file (from TEMPORAL_API_KEY_FILE): file /no/key does not exist']);
});

test('secrets come from files or the environment and never show when settings are printed', () => {
  const apiKey = 'tmprl-api-key-0123456789';
  const token = 'flink-token-abcdefghijkl';
  const settings = loadWorkerSettings({
    env: { TEMPORAL_API_KEY: apiKey, FLINKOPS_FLINK_HEADER_AUTHORIZATION_FILE: file('token', `Bearer ${token}\n`), FLINKOPS_FLINK_HEADER_X_TENANT: 'tenant-a' },
  });
  expect(settings.temporal.apiKey?.reveal()).toBe(apiKey);
  expect(settings.flink.headers.authorization?.reveal()).toBe(`Bearer ${token}`);
  expect(settings.flink.headers['x-tenant']?.reveal()).toBe('tenant-a');
  for (const printed of [JSON.stringify(settings), inspect(settings, { depth: 10 }), `${String(settings.temporal.apiKey)}`, JSON.stringify(describeWorkerSettings(settings))]) {
    expect(printed).not.toContain(apiKey);
    expect(printed).not.toContain(token);
  }
  expect(describeWorkerSettings(settings)).toMatchObject({ temporal: { apiKey: '[redacted] from env TEMPORAL_API_KEY' } });
  // An API key turns TLS on unless TLS is turned off explicitly.
  expect(temporalConnectionOptions(settings.temporal)).toEqual({ address: '127.0.0.1:7233', apiKey, tls: { serverNameOverride: undefined, serverRootCACertificate: undefined, clientCertPair: undefined } });
  expect(temporalConnectionOptions(loadWorkerSettings({ env: { TEMPORAL_API_KEY: apiKey, TEMPORAL_TLS: 'false' } }).temporal).tls).toBe(false);
  const redact = redactor(workerSecrets(settings));
  expect(redact(`got ${token} and Bearer ${token} and ${apiKey}`)).toBe('got [redacted] and [redacted] and [redacted]');
});

test('the logger writes JSON lines without the task token, with errors described, and redacted', () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', format: 'json' }, redactor([new Secret('s3cr3t-value', 'test')]), (l) => lines.push(l));
  logger.debug('hidden');
  logger.warn('Activity failed', { sdkComponent: 'worker', taskToken: 'abc', workflowId: 'w1', activityType: 'deployVersion', error: new Error('boom s3cr3t-value') });
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', msg: 'Activity failed', component: 'worker', workflowId: 'w1', activityType: 'deployVersion', error: { name: 'Error', message: 'boom [redacted]' } });
  expect(lines[0]).not.toContain('taskToken');
});

test('activity log attributes name the target; failures are labelled by a bounded error type', () => {
  expect(targetOf({ cluster: { namespace: 'flink', name: 'orders' }, jobId: 'abc' })).toEqual({ cluster: 'flink/orders', job: 'abc' });
  expect(targetOf({ identity: { cluster: { namespace: 'n', name: 'c' }, jobName: 'counter' } })).toEqual({ cluster: 'n/c', job: 'counter' });
  expect(targetOf({ scope: { cluster: { namespace: 'n', name: 'c' } } })).toEqual({ cluster: 'n/c' });
  expect(targetOf(undefined)).toEqual({});
  expect(errorType(Object.assign(new Error('HTTP-Code: 403\nMessage: forbidden'), { code: 403 }))).toBe('KubernetesApi403');
  expect(errorType({ name: 'ApplicationFailure', type: 'InvalidRequest' })).toBe('InvalidRequest');
  expect(errorType({ name: 'FlinkRestError' })).toBe('FlinkRestError');
  expect(errorType({ name: 'weird name!' })).toBe('Error');
});

test('Flink REST requests carry the configured headers', async () => {
  const seen: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ jobs: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    const client = new FlinkRestClient({ baseUrl: `http://127.0.0.1:${port}`, ...flinkTransport(loadWorkerSettings({ env: { FLINKOPS_FLINK_HEADER_AUTHORIZATION: 'Bearer t0ken-123456' } }).flink) });
    await client.listJobs();
    expect(seen).toEqual(['Bearer t0ken-123456']);
  } finally {
    server.close();
  }
});

test('the CLI fills configured defaults into requests; flags win', () => {
  const defaults = { stabilityWindow: 60_000, verifyTimeout: 120_000 };
  const base = { namespace: 'flink', job: 'counter', jar: '/jars/v2.jar', mode: 'savepoint', wait: true };
  expect(buildRequest('flink/c', base, defaults)).toMatchObject({ stabilityWindow: 60_000, timeouts: { verify: 120_000, deploy: 300_000 } });
  expect(buildRequest('flink/c', { ...base, stabilityWindow: '5s' }, defaults).stabilityWindow).toBe(5_000);
  expect(buildRequest('flink/c', base).stabilityWindow).toBe(30_000);
});

test('remediation limits: a flag wins, then the configured default (file or variable), then the workflow default', () => {
  const { defaults } = loadCliSettings({
    file: file('remediation.yaml', 'defaults:\n  remediation: { podDeletionWindow: 1h, stabilityWindow: 30s }\n'),
    env: { FLINKOPS_REMEDIATION_MAX_PER_HOUR: '5', FLINKOPS_REMEDIATION_STABILITY_WINDOW: '20s' },
  });
  expect(defaults.remediation).toEqual({ maxRemediationsPerHour: 5, podDeletionWindow: 3_600_000, stabilityWindow: 20_000 });
  const options = { namespace: 'flink' };
  const limitsOf = (input: RemediationRequestInput) => {
    const parsed = parseRemediationRequest(input);
    if (!parsed.ok) throw new Error(parsed.problem);
    return parsed.request.limits;
  };
  expect(limitsOf(remediationInput('c', options, {}, defaults.remediation))).toMatchObject({ maxRemediationsPerHour: 5, podDeletionWindow: 3_600_000, stabilityWindow: 20_000, verifyTimeout: DEFAULT_LIMITS.verifyTimeout });
  expect(limitsOf(remediationInput('c', { ...options, maxPerHour: '2', stabilityWindow: '1s' }, {}, defaults.remediation))).toMatchObject({ maxRemediationsPerHour: 2, stabilityWindow: 1_000, podDeletionWindow: 3_600_000 });
  expect(limitsOf(remediationInput('c', options, {}))).toEqual(DEFAULT_LIMITS);
  expect(problems(() => loadCliSettings({ env: { FLINKOPS_REMEDIATION_MAX_PER_HOUR: '0' } }))).toEqual([
    'config: defaults.remediation.maxRemediationsPerHour (from FLINKOPS_REMEDIATION_MAX_PER_HOUR): must allow at least 1',
  ]);
  expect(problems(() => loadCliSettings({ env: { FLINKOPS_REMEDIATION_HA_RECOVERY_TIMEOUT: 'soon' } }))[0]).toMatch(/^config: defaults\.remediation\.haRecoveryTimeout \(from FLINKOPS_REMEDIATION_HA_RECOVERY_TIMEOUT\): /);
});

test('every environment variable maps to a field of the configuration file', () => {
  for (const setting of ENV_SETTINGS) {
    const value = setting.path.endsWith('File') || setting.path.endsWith('.file') || setting.env === 'KUBECONFIG' ? kubeconfig : undefined;
    if (value === undefined) continue;
    expect(() => loadWorkerSettings({ env: { [setting.env]: value, ...(/CLIENT_(CERT|KEY)/.test(setting.env) ? { [setting.env.replace('CERT', 'KEY')]: kubeconfig, [setting.env.replace('KEY', 'CERT')]: kubeconfig } : {}) } })).not.toThrow();
  }
  expect(new Set(ENV_SETTINGS.map((s) => s.env)).size).toBe(ENV_SETTINGS.length);
});
