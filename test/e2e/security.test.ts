import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import type { FlinkRestClient } from '../../activities/flink/rest-client';
import type { JobRecord } from '../../workflows/model/record';
import { fixtureJar } from '../stack/fixtures';
import { runCli, startWorker } from '../stack/processes';
import { OperationHarness } from '../support/upgrade-harness';
import { kubeWrites } from '../support/audit-log';

// A hostile CLI user against a real worker: every input the worker acts on is bounded. Each refusal exits 2 and names
// the field, and nothing changes anywhere: no write in the API server's audit log, no file, no Flink job.
// Then an on-call engineer with a broken setup: clear errors, fast, never a silent hang.
const h = new OperationHarness('security');
let flink: FlinkRestClient;
let job: { jobId: string; output: string; args: string[] };
let headerSink: Server;
let sinkUrl = '';
const sinkHeaders: IncomingHttpHeaders[] = [];
const FLINK_TOKEN = 'Bearer flink-secret-token-7731';

beforeAll(async () => {
  // A --rest-url target that records what the worker sends (it answers like a Flink JobManager with no jobs).
  headerSink = createServer((req, res) => {
    sinkHeaders.push(req.headers);
    const body = req.url?.startsWith('/overview') ? { taskmanagers: 0, 'slots-total': 0, 'slots-available': 0, 'jobs-running': 0, 'flink-version': '1.20.5' } : { jobs: [] };
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => headerSink.listen(0, '127.0.0.1', resolve));
  sinkUrl = `http://127.0.0.1:${(headerSink.address() as { port: number }).port}`;
  await h.setUp({ FLINKOPS_FLINK_HEADER_AUTHORIZATION: FLINK_TOKEN });
  flink = await h.sessionCluster('flink', 4);
  job = await h.submitJob(flink, 'v1', 'counter');
});
afterAll(async () => {
  await h.tearDown();
  await new Promise((resolve) => headerSink.close(resolve));
});

/** Writes the worker's identity made in this file's namespace since `since` (the API server's audit log). */
function auditWrites(since: number): string[] {
  return kubeWrites(h.stack.state.kube.auditLog, new Date(since), new Date(8.64e15), h.namespace).map((w) => `${w.verb} ${w.resource}/${w.name}`);
}

const hostileInputs: { name: string; args: () => string[]; field: RegExp }[] = [
  { name: 'a savepoint directory climbing out of the allowed tree', args: () => ['upgrade', `${h.namespace}/flink`, '--job', 'counter', '--jar', fixtureJar('v2'), ...h.fromArgs(job.args), '--savepoint-dir', `file://${h.stack.config.stackDir}/${'../'.repeat(h.stack.config.stackDir.split('/').filter(Boolean).length)}etc`], field: /--savepoint-dir: file:\/\/\/etc is outside the allowed prefixes/ },
  { name: 'a percent-encoded climb', args: () => ['savepoint', `${h.namespace}/flink`, '--job', 'counter', '--savepoint-dir', `file://${h.stack.config.stackDir}/%2e%2e/%2e%2e/tmp`], field: /--savepoint-dir: file:\/\/\/.*tmp is outside the allowed prefixes/ },
  { name: 'a jar that is /etc/passwd', args: () => ['upgrade', `${h.namespace}/flink`, '--job', 'counter', '--jar', '/etc/passwd', ...h.fromArgs(job.args)], field: /--jar: \/etc\/passwd is outside the allowed jar directories/ },
  { name: 'a text file named .jar inside an allowed directory', args: () => ['upgrade', `${h.namespace}/flink`, '--job', 'counter', '--jar', join(h.dataDir, 'notes.jar'), ...h.fromArgs(job.args)], field: /--jar: .*notes\.jar is not a jar \(no zip header\)/ },
  { name: 'register with /etc/shadow', args: () => ['register', `${h.namespace}/flink`, '--job', 'counter', '--jar', '/etc/shadow'], field: /--jar: \/etc\/shadow is outside the allowed jar directories/ },
  { name: 'a --rest-url at the cloud metadata address', args: () => ['status', `${h.namespace}/flink`, '--job', 'counter', '--rest-url', 'http://169.254.169.254/latest/meta-data'], field: /--rest-url: 169\.254\.169\.254 is a link-local or metadata address/ },
  { name: 'a --rest-url the worker does not allow', args: () => ['savepoint', `${h.namespace}/flink`, '--job', 'counter', '--rest-url', 'http://127.0.0.3:8081'], field: /--rest-url: http:\/\/127\.0\.0\.3:8081 is not allowed/ },
  { name: 'cluster-info pointed at the metadata address', args: () => ['cluster-info', '--rest-url', 'http://169.254.169.254'], field: /--rest-url: 169\.254\.169\.254 is a link-local or metadata address/ },
  { name: 'a zero interval', args: () => ['schedule', 'create', `${h.namespace}/flink`, '--job', 'counter', '--every', '0s'], field: /--every: must be longer than 0/ },
  { name: 'an unknown option', args: () => ['upgrade', `${h.namespace}/flink`, '--jar-path', '/x'], field: /unknown option '--jar-path'/ },
  { name: 'a missing argument', args: () => ['savepoint'], field: /missing required argument 'cluster'/ },
  { name: 'status of an unknown cluster', args: () => ['status', `${h.namespace}/nope`], field: /no JobManager Deployment "nope"/ },
  { name: 'status of an unknown job', args: () => ['status', `${h.namespace}/flink`, '--job', 'nope'], field: /no running job named "nope"/ },
];

test.each(hostileInputs.map((i) => [i.name, i] as const))('refused: %s (exit 2, the field named, nothing changed)', async (_name, input) => {
  writeFileSync(join(h.dataDir, 'notes.jar'), 'not a zip\n');
  const since = Date.now();
  const jobsBefore = (await flink.listJobs()).map((j) => `${j.jid} ${j.state}`).sort();
  const result = await h.cli(input.args());
  expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code: 2, stderr: expect.stringMatching(input.field) as unknown });
  expect(auditWrites(since)).toEqual([]);
  expect((await flink.listJobs()).map((j) => `${j.jid} ${j.state}`).sort()).toEqual(jobsBefore);
  expect(existsSync('/etc/savepoint-marker')).toBe(false);
});

test("retention never deletes what a tampered record names: outside the allowed tree, a prefix itself, a directory that is not a savepoint", async () => {
  const victims = [join(h.dataDir, 'not-a-savepoint'), '/tmp/flinkops-security-victim'];
  for (const dir of victims) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'keep-me'), 'x');
  }
  const first = await h.cli(['savepoint', `${h.namespace}/flink`, '--job', 'counter', '--json']);
  expect(first.code).toBe(0);
  // Someone with edit rights in the namespace adds entries to the record.
  const name = (await h.kube.core.listNamespacedConfigMap({ namespace: h.namespace, labelSelector: 'app.kubernetes.io/managed-by=flinkops' })).items.find((c) => c.data?.['record.json'])!.metadata!.name!;
  const configMap = await h.kube.core.readNamespacedConfigMap({ name, namespace: h.namespace });
  const record = JSON.parse(configMap.data!['record.json']!) as JobRecord;
  const planted = [`file://${victims[0]}`, `file://${victims[1]}`, `file://${h.stack.config.stackDir}`, `file://${h.stack.config.stackDir}/../..${victims[1]}`];
  record.savepoints.unshift(...planted.map((path, i) => ({ path, at: new Date(Date.now() - (10 - i) * 86_400_000).toISOString(), jobId: job.jobId, trigger: 'schedule' as const, workflowId: 'planted' })));
  await h.kube.core.replaceNamespacedConfigMap({ name, namespace: h.namespace, body: { ...configMap, data: { 'record.json': JSON.stringify(record) } } });

  const run = await h.cli(['savepoint', `${h.namespace}/flink`, '--job', 'counter', '--keep', '1', '--json']);
  expect(run.code).toBe(0);
  const result = JSON.parse(run.stdout) as { disposalFailures: { path: string; error: string }[]; disposed: string[] };
  expect(result.disposed.filter((p) => planted.includes(p))).toEqual([]);
  expect(result.disposalFailures.map((f) => f.path).sort()).toEqual([...planted].sort());
  for (const dir of victims) expect(readdirSync(dir)).toEqual(['keep-me']);
  expect(existsSync(h.stack.config.stackDir)).toBe(true);
});

test('a record edited into nonsense is refused with its name, not used and not overwritten', async () => {
  const name = (await h.kube.core.listNamespacedConfigMap({ namespace: h.namespace, labelSelector: 'app.kubernetes.io/managed-by=flinkops' })).items.find((c) => c.data?.['record.json'])!.metadata!.name!;
  const configMap = await h.kube.core.readNamespacedConfigMap({ name, namespace: h.namespace });
  const broken = JSON.stringify({ ...(JSON.parse(configMap.data!['record.json']!) as object), currentVersion: { kind: 'jar', jar: 'etc/shadow' } });
  await h.kube.core.replaceNamespacedConfigMap({ name, namespace: h.namespace, body: { ...configMap, data: { 'record.json': broken } } });
  try {
    const result = await h.cli(['upgrade', `${h.namespace}/flink`, '--job', 'counter', '--jar', fixtureJar('v2')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`flinkops' record ${name} is invalid \\(currentVersion\\.jar: must be an absolute path on the worker \\(or a URI the Flink Kubernetes Operator fetches\\)\\): fix it or delete the ConfigMap`));
    expect((await h.kube.core.readNamespacedConfigMap({ name, namespace: h.namespace })).data!['record.json']).toBe(broken);
  } finally {
    // The later tests upgrade this job: they need its record back, whatever failed above.
    const latest = await h.kube.core.readNamespacedConfigMap({ name, namespace: h.namespace });
    await h.kube.core.replaceNamespacedConfigMap({ name, namespace: h.namespace, body: { ...latest, data: configMap.data } });
  }
});

test('the Flink auth header goes to the cluster only, never to a --rest-url override unless the worker says so', async () => {
  sinkHeaders.length = 0;
  const result = await h.cli(['cluster-info', '--rest-url', sinkUrl, '--json']);
  expect(result.code).toBe(0);
  expect(sinkHeaders.length).toBeGreaterThan(0);
  expect(sinkHeaders.filter((headers) => headers.authorization !== undefined)).toEqual([]);
});

describe('a broken setup fails fast and says what to fix', () => {
  test('no worker on the task queue: exit 6 in seconds, nothing started', async () => {
    const started = Date.now();
    const result = await runCli(['status', `${h.namespace}/flink`], h.stack.temporalEnv(`nobody-${Date.now()}`), 60_000);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/no flinkops worker is polling task queue "nobody-\d+" in namespace default on 127\.0\.0\.1:\d+ .*nothing was started/);
    expect(result.stderr).toMatch(/hint: start the worker/);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  test('Temporal unreachable: the address is named, exit 6', async () => {
    const result = await runCli(['status', `${h.namespace}/flink`], { ...h.stack.temporalEnv(h.taskQueue), TEMPORAL_ADDRESS: '127.0.0.1:1' }, 60_000);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/cannot reach Temporal at 127\.0\.0\.1:1/);
  });

  test("the worker's Kubernetes credentials refused: /readyz says so, and an operation fails at once with the hint, not after a minute of retries", async () => {
    const kubeconfig = JSON.parse(readFileSync(h.stack.state.kube.kubeconfig, 'utf8')) as { users: { user: Record<string, string> }[] };
    kubeconfig.users[0]!.user = { token: 'not-a-valid-token' };
    const bad = join(h.dataDir, 'bad.kubeconfig');
    writeFileSync(bad, JSON.stringify(kubeconfig));
    const queue = `${h.taskQueue}-badcreds`;
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const worker = await startWorker({ ...h.workerEnv({ KUBECONFIG: bad, FLINKOPS_HEALTH_BIND_ADDRESS: `127.0.0.1:${port}` }), FLINKOPS_TASK_QUEUE: queue });
    try {
      const readyz = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(readyz.status).toBe(503);
      expect(await readyz.text()).toMatch(/kubernetes: the API server refused the worker's credentials \(401\)/);
      const started = Date.now();
      const result = await runCli(['status', `${h.namespace}/flink`], h.stack.temporalEnv(queue), 120_000);
      expect(result.code).toBe(6);
      expect(result.stderr).toMatch(/Kubernetes API answered 401/);
      expect(result.stderr).toMatch(/hint: the worker's Kubernetes credentials were refused \(401\): check its kubeconfig or ServiceAccount token/);
      expect(result.stderr).not.toMatch(/Headers|HTTP-Code/);
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      await worker.stop();
    }
  });

  test('cancel of an upgrade that already ended says so and exits non-zero', async () => {
    const dry = await h.cli(['upgrade', `${h.namespace}/flink`, '--job', 'counter', '--jar', fixtureJar('v2'), ...h.fromArgs(job.args), '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/to: {3}fixture-job-1\.0\.0-v2\.jar, arguments \["--output"/);
    const cancel = await h.cli(['cancel', `${h.namespace}/flink`, '--job', 'counter']);
    expect(cancel.code).toBe(2);
    expect(cancel.stderr).toMatch(/nothing to cancel: upgrade flinkops-upgrade-.* already ended at .* \(COMPLETED\)/);
  });
});
