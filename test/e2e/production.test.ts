import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig, loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import type { temporal as proto } from '@temporalio/proto';
import { FlinkRestClient } from '../../activities/flink/rest-client';
import { flinkTransport } from '../../activities/flink/transport';
import { loadWorkerSettings } from '../../config/load';
import type { FlinkRestClient as FlinkClient } from '../../activities/flink/rest-client';
import { fixtureJar } from '../stack/fixtures';
import { applyObjects } from '../stack/kube/manifests';
import { createNamespace, serviceUrl } from '../stack/kube/helpers';
import { writeKubeconfig } from '../stack/kube/kubeconfig';
import { findRepoRoot } from '../stack/config';
import { runCli, type WorkerHandle } from '../stack/processes';
import { freeLoopbackPort } from '../stack/ports';
import { waitFor } from '../stack/wait';
import { strictDryRunCreate } from '../support/helm';
import { expectStateContinued, lineCount, OperationHarness } from '../support/upgrade-harness';

// Issue #7 on the real stack: the worker runs an upgrade with nothing but the ServiceAccount token the RBAC
// manifests in deploy/kubernetes/ grant, its metrics endpoint shows the upgrade and a savepoint with the right
// values, SIGTERM lets an in-flight activity finish, invalid configuration stops the worker naming the field, and
// no secret shows in any log line or workflow history.
const repoRoot = findRepoRoot();
const deployDir = join(repoRoot, 'deploy', 'kubernetes');
const h = new OperationHarness('prod');

const secrets = {
  flinkToken: `flink-token-${randomBytes(12).toString('hex')}`,
  temporalApiKey: `temporal-key-${randomBytes(12).toString('hex')}`,
  serviceAccountToken: '',
};
const cliOutputs: string[] = [];
const workers: WorkerHandle[] = [];
let flink: FlinkClient;
let job: { jobId: string; output: string; args: string[] };
let proxy: AuthProxy;
let saKubeconfig: string;
let ports: { metrics: number; health: number };
let temporal: Client;
let upgradeWorkflowId = '';

interface AuthProxy {
  url: string;
  counts: { authorized: number; refused: number; errors: string[] };
  server: Server;
  /** Answer the next N requests with 503, as an overloaded ingress would. */
  failNext: number;
}

/** A proxy in front of the JobManager that wants the bearer token, as a real deployment's ingress might. */
async function authProxy(target: string, expected: string): Promise<AuthProxy> {
  const counts = { authorized: 0, refused: 0, errors: [] as string[] };
  const upstream = new URL(target);
  const proxy = { failNext: 0 } as AuthProxy;
  const server = createHttpServer((req, res) => {
    if (proxy.failNext > 0) {
      proxy.failNext--;
      res.writeHead(503).end('{"errors":["overloaded"]}');
      return;
    }
    if (req.headers.authorization !== expected) {
      counts.refused++;
      res.writeHead(401).end('{"errors":["unauthorized"]}');
      return;
    }
    counts.authorized++;
    const headers = { ...req.headers, host: upstream.host, connection: 'close' };
    delete headers.authorization;
    // agent: false: a fresh connection per request; a pooled one may have been closed by the service proxy meanwhile.
    const forward = httpRequest(new URL(req.url ?? '/', upstream), { method: req.method, headers, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', (error) => {
      counts.errors.push(`${req.method} ${req.url}: ${error.message}`);
      res.writeHead(502).end();
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(proxy, { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, counts, server });
}

function objectsIn(file: string, namespace: string): KubernetesObject[] {
  const objects = (loadAllYaml(readFileSync(join(deployDir, file), 'utf8')) as (KubernetesObject & { subjects?: { namespace?: string }[] })[]).filter(Boolean);
  return objects.map((o) => {
    if (o.kind === 'Namespace') return o;
    if (o.kind !== 'ClusterRole' && o.kind !== 'ClusterRoleBinding') o.metadata = { ...o.metadata, namespace };
    for (const subject of o.subjects ?? []) subject.namespace = namespace;
    return o;
  });
}

function workerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    KUBECONFIG: saKubeconfig,
    TEMPORAL_API_KEY: secrets.temporalApiKey,
    TEMPORAL_TLS: 'false',
    FLINKOPS_FLINK_HEADER_AUTHORIZATION_FILE: join(h.dataDir, 'flink-authorization'),
    // The token goes to a --rest-url only when the worker says so: this proxy is the cluster's own ingress.
    FLINKOPS_REST_URL_SEND_HEADERS: 'true',
    FLINKOPS_METRICS_BIND_ADDRESS: `127.0.0.1:${ports.metrics}`,
    FLINKOPS_HEALTH_BIND_ADDRESS: `127.0.0.1:${ports.health}`,
    ...extra,
  };
}

async function startWorker(extra: NodeJS.ProcessEnv = {}): Promise<WorkerHandle> {
  const worker = await h.startWorker(workerEnv(extra));
  workers.push(worker);
  return worker;
}

async function cli(args: string[], timeoutMs?: number) {
  const result = await runCli(args, { ...h.stack.temporalEnv(h.taskQueue), TEMPORAL_API_KEY: secrets.temporalApiKey, TEMPORAL_TLS: 'false' }, timeoutMs);
  cliOutputs.push(result.stdout, result.stderr);
  return result;
}

type Sample = { name: string; labels: Record<string, string>; value: number };

async function scrape(): Promise<Sample[]> {
  const text = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`unparsable metrics line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

function metric(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found.length === 0 ? undefined : found.reduce((sum, s) => sum + s.value, 0);
}

function eventTimeMs(time: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(time?.seconds ?? 0) * 1000 + Math.floor((time?.nanos ?? 0) / 1e6);
}

/** Every string in a history, payloads decoded: what a secret scan must look through. */
function historyText(value: unknown, out: string[] = []): string[] {
  if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'));
  else if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) historyText(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) historyText(v, out);
  return out;
}

beforeAll(async () => {
  h.namespace = await createNamespace(h.kube, 'prod');
  h.dataDir = h.stack.tempDir('prod');
  writeFileSync(join(h.dataDir, 'flink-authorization'), `Bearer ${secrets.flinkToken}\n`, { mode: 0o600 });
  ports = { metrics: await freeLoopbackPort(), health: await freeLoopbackPort() };

  // deploy/kubernetes/rbac-namespace.yaml as a user would apply it, in this test's namespace.
  await h.kube.core.createNamespacedServiceAccount({ namespace: h.namespace, body: { metadata: { name: 'flinkops' } } });
  await applyObjects(h.kube.kc, objectsIn('rbac-namespace.yaml', h.namespace));
  const tokenRequest = await h.kube.core.createNamespacedServiceAccountToken({ name: 'flinkops', namespace: h.namespace, body: { spec: { expirationSeconds: 3600, audiences: [] } } });
  secrets.serviceAccountToken = tokenRequest.status!.token;
  const admin = JSON.parse(readFileSync(h.stack.state.kube.kubeconfig, 'utf8')) as { clusters: { cluster: { 'certificate-authority': string } }[] };
  saKubeconfig = writeKubeconfig(join(h.dataDir, 'flinkops-sa.kubeconfig'), h.stack.state.kube.server, admin.clusters[0]!.cluster['certificate-authority'], { token: secrets.serviceAccountToken }, 'flinkops');

  flink = await h.sessionCluster('flink', 4);
  job = await h.submitJob(flink, 'v1', 'counter');
  proxy = await authProxy(await serviceUrl(h.kube, h.namespace, 'flink-jobmanager'), `Bearer ${secrets.flinkToken}`);
  temporal = await h.temporalClient();
  h.worker = await startWorker();
});

afterAll(async () => {
  proxy?.server.close();
  await h.tearDown();
});

describe('configuration', () => {
  const worker = (env: NodeJS.ProcessEnv, args: string[] = []) =>
    spawnSync(process.execPath, [join(repoRoot, 'dist', 'worker', 'main.js'), ...args], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 30_000 });

  test('invalid configuration stops the worker at start-up, naming the field', () => {
    const badAddress = worker({ TEMPORAL_ADDRESS: 'temporal.example.com' });
    expect(badAddress.status).toBe(2);
    expect(badAddress.stderr).toContain('config: temporal.address (from TEMPORAL_ADDRESS): must be host:port');

    const missingTls = worker({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/nonexistent/client.pem', TEMPORAL_TLS_CLIENT_KEY_PATH: '/nonexistent/client.key' });
    expect(missingTls.status).toBe(2);
    expect(missingTls.stderr).toContain('config: temporal.tls.clientCertFile (from TEMPORAL_TLS_CLIENT_CERT_PATH): file /nonexistent/client.pem does not exist');

    const file = join(h.dataDir, 'typo.yaml');
    writeFileSync(file, 'temporal:\n  address: 127.0.0.1:7233\n  namesapce: prod\n');
    const unknownKey = worker({}, ['--config', file]);
    expect(unknownKey.status).toBe(2);
    expect(unknownKey.stderr).toContain('config: temporal.namesapce: unknown key');
    expect(unknownKey.stdout).not.toMatch(/polling/);
  });

  test('Flink REST over TLS with a client certificate, as configured', async () => {
    const dir = join(h.dataDir, 'tls');
    mkdirSync(dir, { recursive: true });
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=flink-ca');
    for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'], ['client', 'extendedKeyUsage=clientAuth\n']] as const) {
      writeFileSync(join(dir, `${name}.ext`), ext);
      openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
      openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
    }
    const file = (name: string) => readFileSync(join(dir, name));
    const server = createHttpsServer({ key: file('server.key'), cert: file('server.crt'), ca: file('ca.crt'), requestCert: true, rejectUnauthorized: true }, (_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end('{"jobs":[]}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const baseUrl = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const tlsEnv = { FLINKOPS_FLINK_TLS_CA_FILE: join(dir, 'ca.crt'), FLINKOPS_FLINK_TLS_CLIENT_CERT_FILE: join(dir, 'client.crt'), FLINKOPS_FLINK_TLS_CLIENT_KEY_FILE: join(dir, 'client.key') };
      const withCert = new FlinkRestClient({ baseUrl, ...flinkTransport(loadWorkerSettings({ env: tlsEnv }).flink) });
      expect(await withCert.listJobs()).toEqual([]);
      const withoutCert = new FlinkRestClient({ baseUrl, ...flinkTransport(loadWorkerSettings({ env: { FLINKOPS_FLINK_TLS_CA_FILE: tlsEnv.FLINKOPS_FLINK_TLS_CA_FILE } }).flink) });
      await expect(withoutCert.listJobs()).rejects.toThrow();
      const withoutCa = new FlinkRestClient({ baseUrl, ...flinkTransport(loadWorkerSettings({ env: { ...tlsEnv, FLINKOPS_FLINK_TLS_CA_FILE: '' } }).flink) });
      await expect(withoutCa.listJobs()).rejects.toThrow(/certificate/);
    } finally {
      server.close();
    }
  });
});

test('the real API server accepts the Kubernetes manifests (server-side dry run, strict field validation)', async () => {
  // Sent as rendered (strictDryRunCreate): the client's typed serializers would drop a misspelt field unseen.
  const manifests = [...objectsIn('flinkops.yaml', h.namespace), ...objectsIn('rbac-cluster.yaml', h.namespace)];
  expect(manifests.map((o) => o.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'Namespace', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);
  for (const object of manifests) {
    if (object.kind === 'ServiceAccount') continue; // created for real in beforeAll
    const answer = await strictDryRunCreate(h.kube.kc, object);
    // 409: the namespace exists on this API server already (validation comes before that answer).
    expect({ object: `${object.kind} ${object.metadata!.name!}`, status: answer.status === 409 && object.kind === 'Namespace' ? 201 : answer.status, body: answer.status >= 300 && answer.status !== 409 ? answer.body : '' }).toEqual({
      object: `${object.kind} ${object.metadata!.name!}`,
      status: 201,
      body: '',
    });
  }
  const deployment = manifests.find((o) => o.kind === 'Deployment') as KubernetesObject & { spec: { template: { spec: { containers: { securityContext: { readOnlyRootFilesystem: boolean } }[]; securityContext: { runAsNonRoot: boolean } } } } };
  expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
  expect(deployment.spec.template.spec.containers[0]!.securityContext.readOnlyRootFilesystem).toBe(true);
});

test('flinkops setup search-attributes is idempotent (the stack registered them already)', async () => {
  const result = await cli(['setup', 'search-attributes']);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/search attributes already registered on namespace default/);
});

describe('a worker with only the ServiceAccount of deploy/kubernetes/rbac-namespace.yaml', () => {
  test('upgrades a session job v1 -> v2 through the CLI, talking to Flink with the configured token', async () => {
    const started = new Date();
    const result = await cli(['upgrade', `${h.namespace}/flink`, '--job', 'counter', '--jar', fixtureJar('v2'), ...h.fromArgs(job.args), '--rest-url', proxy.url, '--stability-window', '3s', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const upgrade = JSON.parse(result.stdout) as { workflowId: string; outcome: string; jobId: string };
    upgradeWorkflowId = upgrade.workflowId;
    expect(upgrade.outcome).toBe('succeeded');
    await expectStateContinued(job.output, 'v1', 'v2');
    job.jobId = upgrade.jobId;
    expect(proxy.counts.authorized).toBeGreaterThan(5);
    expect(proxy.counts.refused).toBe(0);

    // The API server saw the ServiceAccount do the work, and refused it nothing.
    const user = `system:serviceaccount:${h.namespace}:flinkops`;
    const entries = readFileSync(h.stack.state.kube.auditLog, 'utf8')
      .split('\n')
      .filter((l) => l.includes(user))
      .map((l) => JSON.parse(l) as { user: { username: string }; verb: string; requestURI: string; objectRef?: { resource?: string }; responseStatus?: { code?: number }; stageTimestamp: string })
      .filter((e) => e.user.username === user && new Date(e.stageTimestamp) >= started);
    expect(entries.length).toBeGreaterThan(10);
    expect(entries.filter((e) => e.responseStatus?.code === 401 || e.responseStatus?.code === 403).map((e) => `${e.verb} ${e.requestURI}`)).toEqual([]);
    const writes = new Set(entries.filter((e) => e.verb === 'create' || e.verb === 'update').map((e) => `${e.verb} ${e.objectRef?.resource}`));
    expect([...writes]).toEqual(expect.arrayContaining(['create configmaps', 'create events']));
  });

  test('the same token is refused a verb outside the Role, and outside its namespace', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(saKubeconfig);
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const status = (call: Promise<unknown>) => call.then(() => 200, (error: { code?: number }) => error.code);
    expect(await status(apps.readNamespacedDeployment({ name: 'flink-jobmanager', namespace: h.namespace }))).toBe(200);
    expect(await status(apps.deleteNamespacedDeployment({ name: 'flink-jobmanager', namespace: h.namespace, dryRun: 'All' }))).toBe(403);
    expect(await status(core.listNamespacedSecret({ namespace: h.namespace }))).toBe(403);
    expect(await status(core.listNamespacedConfigMap({ namespace: 'default' }))).toBe(403);
  });

  test('the metrics endpoint shows the upgrade and a savepoint with their values', async () => {
    // Per cluster and job, under label names a Prometheus scrape of the pod keeps: the Temporal namespace is
    // temporal_namespace, the SDK's `namespace` label is blanked (an empty label is no label to Prometheus). The
    // cluster was named by its release ("flink"); metrics use the canonical name, its JobManager Deployment.
    const target = { flink_cluster: `${h.namespace}/flink-jobmanager`, flink_job: 'counter', k8s_namespace: h.namespace };
    const labels = { taskQueue: h.taskQueue, outcome: 'succeeded', kind: 'session-job', ...target, temporal_namespace: 'default' };
    const samples = await scrape();
    expect(metric(samples, 'flinkops_upgrades_total', labels)).toBe(1);
    const own = samples.filter((s) => s.name.startsWith('flinkops_'));
    expect(own.length).toBeGreaterThan(5);
    expect(own.filter((s) => (s.labels.namespace ?? '') !== '').map((s) => s.name)).toEqual([]);
    expect(samples.some((s) => s.name.startsWith('temporal_') && s.labels.namespace === 'default')).toBe(true);
    // The worker's own gauges: which build, ready, and the running operations (none now).
    expect(metric(samples, 'flinkops_build_info', { version: '0.2.0', task_queue: h.taskQueue, temporal_namespace: 'default' })).toBe(1);
    expect(metric(samples, 'flinkops_worker_ready', { task_queue: h.taskQueue })).toBe(1);
    // Counted from Temporal's visibility every 30 s: it reads 0 after the next count, not at once.
    await waitFor(async () => metric(await scrape(), 'flinkops_operations_running', { task_queue: h.taskQueue, operation: 'upgrade' }) === 0, {
      timeoutMs: 75_000,
      intervalMs: 1_000,
      description: 'flinkops_operations_running{operation="upgrade"} to read 0',
    });
    expect(metric(samples, 'flinkops_upgrade_downtime_seconds_count', labels)).toBe(1);
    expect(metric(samples, 'flinkops_upgrade_duration_seconds_count', labels)).toBe(1);
    // The Temporal SDK's own metrics are on the same endpoint.
    expect(metric(samples, 'temporal_activity_execution_latency_count', { activity_type: 'stopJobWithSavepoint', task_queue: h.taskQueue })).toBeGreaterThanOrEqual(1);

    // Downtime: from the stop being scheduled to the moment verification saw all tasks of the new job running.
    const handle = temporal.workflow.getHandle(upgradeWorkflowId);
    const history = await handle.fetchHistory();
    const stopScheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'stopJobWithSavepoint')!;
    const verifyScheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'verifyDeployment')!;
    const verifyCompleted = history.events!.find((e) => Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === Number(verifyScheduled.eventId))!;
    const verified = JSON.parse(Buffer.from(verifyCompleted.activityTaskCompletedEventAttributes!.result!.payloads![0]!.data!).toString()) as { runningSince: number };
    const expectedDowntime = (verified.runningSince - eventTimeMs(stopScheduled.eventTime)) / 1000;
    const downtime = metric(samples, 'flinkops_upgrade_downtime_seconds_sum', labels)!;
    expect(expectedDowntime).toBeGreaterThan(0);
    expect(Math.abs(downtime - expectedDowntime)).toBeLessThan(1);
    const description = await handle.describe();
    const expectedDuration = (description.closeTime!.getTime() - description.startTime.getTime()) / 1000;
    const duration = metric(samples, 'flinkops_upgrade_duration_seconds_sum', labels)!;
    expect(duration).toBeGreaterThan(downtime);
    expect(Math.abs(duration - expectedDuration)).toBeLessThan(2);

    // An overloaded ingress for a moment: the first attempt of the observation fails (and is counted), a retry succeeds.
    proxy.failNext = 20;
    const savepoint = await cli(['savepoint', `${h.namespace}/flink`, '--job', 'counter', '--rest-url', proxy.url, '--json']);
    expect(savepoint.code).toBe(0);
    const run = JSON.parse(savepoint.stdout) as { outcome: string; savepoint: { sizeBytes: number; durationMs: number; at: string } };
    expect(run.outcome).toBe('completed');
    expect(run.savepoint.sizeBytes).toBeGreaterThan(0);
    const after = await scrape();
    const manual = { taskQueue: h.taskQueue, trigger: 'manual', ...target };
    expect(metric(after, 'flinkops_savepoints_total', { ...manual, outcome: 'completed' })).toBe(1);
    expect(metric(after, 'flinkops_savepoint_size_bytes_sum', manual)).toBe(run.savepoint.sizeBytes);
    expect(metric(after, 'flinkops_savepoint_duration_seconds_sum', manual)).toBeCloseTo(run.savepoint.durationMs / 1000, 3);
    // The job's savepoint state, per job: the savepoint just taken is its newest, nothing waits for disposal.
    const savepointAt = Date.parse(run.savepoint.at) / 1000;
    expect(metric(after, 'flinkops_savepoint_last_success_timestamp_seconds', target)).toBeCloseTo(savepointAt, 0);
    expect(metric(after, 'flinkops_savepoint_pending_disposals', target)).toBe(0);
    expect(metric(after, 'flinkops_savepoint_last_run_timestamp_seconds', target)).toBeGreaterThanOrEqual(savepointAt);
    // Failed attempts (a retried REST call, say) are counted by error type; the SDK's own counter agrees on how many.
    const failed = after.filter((s) => s.name === 'temporal_activity_execution_failed' && s.labels.task_queue === h.taskQueue);
    expect(metric(after, 'flinkops_activity_failures_total', { taskQueue: h.taskQueue, activityType: 'observeTarget', error: 'FlinkUnavailable' })).toBeGreaterThanOrEqual(1);
    for (const activityType of new Set([...failed.map((s) => s.labels.activity_type!), 'stopJobWithSavepoint'])) {
      expect({ activityType, failures: metric(after, 'flinkops_activity_failures_total', { taskQueue: h.taskQueue, activityType }) ?? 0 }).toEqual({
        activityType,
        failures: metric(after, 'temporal_activity_execution_failed', { task_queue: h.taskQueue, activity_type: activityType }) ?? 0,
      });
    }
  });

  test('a scheduled savepoint run tells the savepoint-age alert what its schedule allows', async () => {
    const target = { flink_cluster: `${h.namespace}/flink-jobmanager`, flink_job: 'counter' };
    const created = await cli(['schedule', 'create', `${h.namespace}/flink`, '--job', 'counter', '--every', '1h', '--rest-url', proxy.url]);
    expect(created.stderr).toBe('');
    const triggered = await cli(['schedule', 'trigger', `${h.namespace}/flink`, '--job', 'counter']);
    expect(triggered.code).toBe(0);
    try {
      const samples = await waitFor(async () => {
        const now = await scrape();
        return metric(now, 'flinkops_savepoints_total', { ...target, trigger: 'schedule', outcome: 'completed' }) === 1 ? now : undefined;
      }, { timeoutMs: 120_000, description: 'the scheduled savepoint run to complete' });
      // --every 1h, no jitter: the alert allows 1.5 h.
      expect(metric(samples, 'flinkops_savepoint_schedule_interval_seconds', target)).toBe(3600);
      expect(metric(samples, 'flinkops_savepoint_last_success_timestamp_seconds', target)).toBeGreaterThan(Date.now() / 1000 - 120);
    } finally {
      await cli(['schedule', 'delete', `${h.namespace}/flink`, '--job', 'counter']);
    }
  });

  test('Temporal visibility: one filter on the canonical cluster finds every operation; status and doctor runs are not operations', async () => {
    const status = await cli(['status', `${h.namespace}/flink`, '--job', 'counter', '--rest-url', proxy.url, '-o', 'json']);
    expect(status.code).toBe(0);
    await cli(['doctor', `${h.namespace}/flink`, '--rest-url', proxy.url, '-o', 'json']);
    const list = async (query: string) => {
      const found: { type: string; operation?: string }[] = [];
      for await (const execution of temporal.workflow.list({ query })) found.push({ type: execution.type, operation: (execution.searchAttributes.FlinkopsOperation as string[] | undefined)?.[0] });
      return found;
    };
    const cluster = `FlinkCluster = "${h.namespace}/flink-jobmanager" AND TaskQueue = "${h.taskQueue}"`;
    // The saved view README "Temporal Web UI" recommends: operations on a cluster, however the command named it.
    // Visibility is eventually consistent: look until the operations are listed, then compare what was found.
    let operations: { type: string; operation?: string }[] = [];
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 500))) {
      operations = await list(`${cluster} AND FlinkopsOperation IN ("upgrade", "savepoint", "remediation", "fleet-savepoint")`);
      if (operations.filter((o) => o.type === 'savepointWorkflow').length >= 2) break;
    }
    expect(new Set(operations.map((o) => `${o.type} ${o.operation}`))).toEqual(new Set(['upgradeWorkflow upgrade', 'savepointWorkflow savepoint']));
    expect(operations.filter((o) => o.type === 'savepointWorkflow').length).toBeGreaterThanOrEqual(2);
    expect(operations.map((o) => o.type)).not.toContain('describeTargetWorkflow');
    expect(operations.map((o) => o.type)).not.toContain('doctorWorkflow');
    // Read-only looks have their own types and FlinkopsOperation values, and are never remediations.
    const looks = await waitFor(async () => {
      const found = await list(`TaskQueue = "${h.taskQueue}" AND FlinkopsOperation IN ("status", "doctor")`);
      return found.length >= 2 ? found : undefined;
    }, { timeoutMs: 20_000, description: 'visibility to list status and doctor' });
    expect(new Set(looks.map((l) => `${l.type} ${l.operation}`))).toEqual(new Set(['describeTargetWorkflow status', 'doctorWorkflow doctor']));
    expect(await list(`TaskQueue = "${h.taskQueue}" AND FlinkopsOperation = "remediation"`)).toEqual([]);
  });

  test('logs are JSON lines that name the workflow, the activity and the target', () => {
    const lines = h.worker!.output().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const step = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('upgrade stopping'));
    // Once resolved, the cluster is named as records, events and metrics name it (the FlinkCluster search attribute).
    expect(step).toMatchObject({ level: 'info', component: 'workflow', workflowId: upgradeWorkflowId, workflowType: 'upgradeWorkflow', cluster: `${h.namespace}/flink-jobmanager`, job: 'counter' });
    const startup = lines.find((l) => typeof l.msg === 'string' && l.msg.includes('polling task queue'));
    expect(JSON.stringify(startup)).toContain('[redacted] from file');
  });
});

type PendingActivity = proto.api.workflow.v1.IPendingActivityInfo;

/**
 * Replaces the worker with one started with `workerEnv`, starts an upgrade to `version` and waits until its
 * deployVersion activity is where `reached` says.
 */
async function upgradeUntilDeploy(workerEnv: NodeJS.ProcessEnv, version: 'v1' | 'v2', reached: { description: string; test: (activity: PendingActivity) => unknown }) {
  await h.worker!.stop();
  const worker = await startWorker(workerEnv);
  h.worker = worker;
  const linesBefore = lineCount(job.output);
  const started = await cli(['upgrade', `${h.namespace}/flink`, '--job', 'counter', '--jar', fixtureJar(version), '--rest-url', proxy.url, '--stability-window', '3s', '--no-wait', '--json']);
  expect(started.code).toBe(0);
  const handle = temporal.workflow.getHandle((JSON.parse(started.stdout) as { workflowId: string }).workflowId);
  await waitFor(async () => (await handle.describe()).raw.pendingActivities?.some((a) => a.activityType?.name === 'deployVersion' && reached.test(a)), {
    timeoutMs: 120_000,
    description: reached.description,
  });
  return { worker, handle, linesBefore };
}

test('SIGTERM lets an in-flight activity finish within the grace period; the upgrade goes on after a restart', async () => {
  const { worker: draining, handle, linesBefore } = await upgradeUntilDeploy({ FLINKOPS_TEST_FAILPOINTS: 'redeploy.afterSubmit=8000', FLINKOPS_SHUTDOWN_GRACE_TIME: '60s' }, 'v1', {
    description: 'deployVersion to start',
    test: (a) => a.lastStartedTime,
  });

  const pid = draining.process.pid!;
  const exited = new Promise<number | null>((resolve) => draining.process.once('exit', (code) => resolve(code)));
  const signalled = Date.now();
  draining.process.kill('SIGTERM');
  // While it drains, the worker is alive but no longer ready for new work.
  const probes = await waitFor(
    async () => {
      const [live, ready] = await Promise.all([fetch(`http://127.0.0.1:${ports.health}/healthz`), fetch(`http://127.0.0.1:${ports.health}/readyz`)]);
      return ready.status === 503 ? { live: live.status, ready: ready.status } : undefined;
    },
    { timeoutMs: 5_000, intervalMs: 100, description: 'the draining worker to report not ready' },
  );
  expect(probes).toEqual({ live: 200, ready: 503 });
  expect(await exited).toBe(0);
  expect(Date.now() - signalled).toBeLessThan(60_000);
  expect(draining.output()).toMatch(/SIGTERM: shutting down; in-flight activities have 1m to finish/);

  h.worker = await startWorker();
  const result = (await handle.result()) as { outcome: string };
  expect(result.outcome).toBe('succeeded');
  await expectStateContinued(job.output, 'v2', 'v1', linesBefore);

  // The activity completed on the stopping worker, in its first attempt: nothing was cut off or repeated. (Read once
  // the workflow is done: a workflow task the stopping worker left open holds the completion back until it times out.)
  const events = (await handle.fetchHistory()).events!;
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'deployVersion')!;
  const startedEvent = events.find((e) => Number(e.activityTaskStartedEventAttributes?.scheduledEventId) === Number(scheduled.eventId))!;
  const completed = events.find((e) => Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === Number(scheduled.eventId));
  expect(completed).toBeDefined();
  expect(startedEvent.activityTaskStartedEventAttributes!.attempt).toBe(1);
  expect(startedEvent.activityTaskStartedEventAttributes!.identity).toMatch(new RegExp(`^${pid}@`));
});

test('past the grace period, SIGTERM cancels the heartbeating activity, and its retry on another worker completes the upgrade', async () => {
  const { worker: stopping, handle, linesBefore } = await upgradeUntilDeploy({ FLINKOPS_TEST_FAILPOINTS: 'redeploy.afterSubmit=60000', FLINKOPS_SHUTDOWN_GRACE_TIME: '2s' }, 'v2', {
    description: 'deployVersion to reach its failpoint',
    test: (a) => a.heartbeatDetails,
  });
  const exited = new Promise<number | null>((resolve) => stopping.process.once('exit', (code) => resolve(code)));
  const signalled = Date.now();
  stopping.process.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(Date.now() - signalled).toBeLessThan(20_000);

  h.worker = await startWorker();
  const result = (await handle.result()) as { outcome: string };
  expect(result.outcome).toBe('succeeded');
  const events = (await handle.fetchHistory()).events!;
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'deployVersion')!;
  const attempt = events.find((e) => Number(e.activityTaskStartedEventAttributes?.scheduledEventId) === Number(scheduled.eventId))!.activityTaskStartedEventAttributes!;
  expect(attempt.attempt).toBe(2);
  expect(attempt.lastFailure?.message ?? '').toMatch(/shutting down|WORKER_SHUTDOWN/);
  expect(attempt.identity).toMatch(new RegExp(`^${h.worker.process.pid}@`));
  await expectStateContinued(job.output, 'v1', 'v2', linesBefore);
});

test('no secret appears in any worker log line, CLI output or workflow history', async () => {
  const values = Object.entries(secrets);
  expect(values.every(([, v]) => v.length > 20)).toBe(true);
  const logs = workers.map((w) => w.output()).join('\n');
  const histories: string[] = [];
  for await (const execution of temporal.workflow.list({ query: `TaskQueue = "${h.taskQueue}"` })) {
    histories.push(historyText(await temporal.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory()).join('\n'));
  }
  // The scan looks where the secrets would be: the histories hold the operations' inputs and results.
  expect(histories.length).toBeGreaterThanOrEqual(3);
  expect(histories.join('\n')).toContain(proxy.url);
  expect(logs).toContain('polling task queue');
  for (const [name, value] of values) {
    for (const [where, text] of [['worker logs', logs], ['CLI output', cliOutputs.join('\n')], ['workflow histories', histories.join('\n')]] as const) {
      expect({ secret: name, where, found: text.includes(value) }).toEqual({ secret: name, where, found: false });
    }
  }
  expect(existsSync(saKubeconfig)).toBe(true);
});
