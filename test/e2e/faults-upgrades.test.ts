import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FlinkRestClient } from '../../activities/flink/rest-client';
import type { JobRecord } from '../../workflows/model/record';
import { startFaultProxy, startKubeFaultProxy, type FaultProxy } from '../stack/fault-proxy';
import { fixtureArgs } from '../stack/fixture-jobs';
import { fixtureJar, firstCountByKey, lastCountByKey } from '../stack/fixtures';
import { readCounters } from '../stack/fixture-jobs';
import { serviceUrl } from '../stack/kube/helpers';
import { waitFor } from '../stack/wait';
import { OperationHarness } from '../support/upgrade-harness';

// The correctness promise under faults: a fault-injecting proxy in front of the Flink REST API (20% 5xx, 10% resets
// before or after Flink answered, slow answers) and one in front of the Kubernetes API server (409, 429, 5xx).
// After every operation exactly one job runs per job name, with its state continued, and every savepoint taken is
// accounted for: none lost, none duplicated.
const h = new OperationHarness('faults');
let flink: FlinkRestClient;
let flinkFaults: FaultProxy;
let kubeFaults: FaultProxy;
const outcomes: Record<string, number> = {};
/** Rounds per test; FLINKOPS_FAULT_ROUNDS=10 makes a longer soak of the same checks. */
const ROUNDS = Number(process.env.FLINKOPS_FAULT_ROUNDS ?? 3);

beforeAll(async () => {
  await h.setUp();
  flink = await h.sessionCluster('flink', 8);
  flinkFaults = await startFaultProxy({ url: await serviceUrl(h.kube, h.namespace, 'flink-jobmanager') }, { error: 0.2, resetBefore: 0.05, resetAfter: 0.05, slow: 0.05, slowMs: 1_500 }, 11);
  const kube = await startKubeFaultProxy(h.stack.state.kube.kubeconfig, { error: 0.05, errorStatus: 503, conflictOnWrite: 0.1, tooManyRequests: 0.05 }, join(h.dataDir, 'faulty.kubeconfig'), 12);
  kubeFaults = kube.proxy;
  await h.restartWorker({ KUBECONFIG: kube.kubeconfig });
});
afterAll(async () => {
  console.log(`faults injected: Flink REST ${JSON.stringify(flinkFaults?.counts)}; Kubernetes API ${JSON.stringify(kubeFaults?.counts)}; outcomes ${JSON.stringify(outcomes)}`);
  await flinkFaults?.close();
  await kubeFaults?.close();
  await h.tearDown();
});

/** Non-terminal jobs of that name, asked of Flink directly (not through the faulty proxy). */
async function activeJobs(name: string): Promise<string[]> {
  return (await flink.listJobs()).filter((j) => j.name === name && !['FINISHED', 'CANCELED', 'FAILED'].includes(j.state)).map((j) => j.jid);
}

/** Watches a job name while `during` runs: the most jobs of that name ever active at once. */
async function maxConcurrent(name: string, during: () => Promise<unknown>): Promise<number> {
  let max = 0;
  let done = false;
  const watcher = (async () => {
    while (!done) {
      max = Math.max(max, (await activeJobs(name).catch(() => [])).length);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  try {
    await during();
  } finally {
    done = true;
    await watcher;
  }
  return max;
}

function savepointDirs(dir: string): string[] {
  try {
    return readdirSync(dir).filter((d) => d.startsWith('savepoint-'));
  } catch {
    return [];
  }
}

async function record(jobName: string): Promise<JobRecord | undefined> {
  const configMaps = await h.kube.core.listNamespacedConfigMap({ namespace: h.namespace, labelSelector: 'app.kubernetes.io/managed-by=flinkops' });
  return configMaps.items.map((c) => c.data?.['record.json']).filter((t): t is string => Boolean(t)).map((t) => JSON.parse(t) as JobRecord).find((r) => r.jobName === jobName);
}

/** Each key's counts go on across the versions that ran, in the order they ran: no restart from zero, no gap. */
function expectCountsContinue(output: string, versions: string[]): void {
  const records = readCounters(output);
  for (let i = 1; i < versions.length; i++) {
    const start = records.findIndex((r, index) => r.version === versions[i] && records.slice(0, index).some((p) => p.version === versions[i - 1]));
    const before = lastCountByKey(records.slice(0, start), versions[i - 1]!);
    const after = firstCountByKey(records.slice(start), versions[i]!);
    for (const [key, count] of before) expect({ key, step: `${versions[i - 1]} -> ${versions[i]}`, first: after.get(key) }).toEqual({ key, step: `${versions[i - 1]} -> ${versions[i]}`, first: count + 1 });
  }
}

test('repeated upgrades under faults: each ends upgraded or cleanly "nothing changed"; one job, state continued, one savepoint per stop', async () => {
  const job = await h.submitJob(flink, 'v1', 'counter-faults');
  const savepointDir = join(h.dataDir, 'faults-savepoints');
  const versions = ['v1'];
  let stops = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const version = versions.at(-1) === 'v1' ? 'v2' : 'v1';
    const max = await maxConcurrent('counter-faults', async () => {
      const result = await h.cli([
        'upgrade', `${h.namespace}/flink`, '--job', 'counter-faults', '--jar', fixtureJar(version), ...(versions.length === 1 ? h.fromArgs(job.args) : []),
        '--rest-url', flinkFaults.url, '--savepoint-dir', `file://${savepointDir}`, '--stability-window', '3s', '--json',
      ], 600_000);
      const outcome = result.code === 0 ? 'succeeded' : /nothing changed/.test(result.stderr) ? 'nothing-changed' : /rolled back/.test(result.stderr) ? 'rolled-back' : `failed: ${result.stderr}`;
      outcomes[`upgrade ${outcome}`] = (outcomes[`upgrade ${outcome}`] ?? 0) + 1;
      expect(['succeeded', 'nothing-changed', 'rolled-back']).toContain(outcome);
      if (outcome === 'succeeded') versions.push(version);
      if (outcome !== 'nothing-changed' || /savepoint completed later/.test(result.stderr)) stops++;
    });
    expect(max).toBe(1);
    expect(await activeJobs('counter-faults')).toHaveLength(1);
    expect(savepointDirs(savepointDir)).toHaveLength(stops);
  }
  await waitFor(() => readCounters(job.output).filter((r) => r.version === versions.at(-1)).length >= 8 || undefined, { timeoutMs: 60_000, description: 'output of the running version' });
  expectCountsContinue(job.output, versions);
  const upgrades = (await record('counter-faults'))!.history.filter((e) => e.operation === 'upgrade');
  expect(new Set(upgrades.map((e) => e.savepoint).filter(Boolean)).size).toBe(stops);
  await flink.cancelJob((await activeJobs('counter-faults'))[0]!);
}, 1_500_000);

test('a broken version under faults is rolled back: its job is gone before v1 starts again, never two at once', async () => {
  const job = await h.submitJob(flink, 'v1', 'counter-faults-broken');
  const linesBefore = readCounters(job.output).length;
  const max = await maxConcurrent('counter-faults-broken', async () => {
    const result = await h.cli(['upgrade', `${h.namespace}/flink`, '--job', 'counter-faults-broken', '--jar', fixtureJar('broken'), ...h.fromArgs(job.args), '--rest-url', flinkFaults.url, '--stability-window', '10s'], 600_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/rolled back to fixture-job-1\.0\.0-v1\.jar/);
  });
  expect(max).toBe(1);
  const [running] = await activeJobs('counter-faults-broken');
  const broken = (await flink.listJobs()).filter((j) => j.name === 'counter-faults-broken' && j.jid !== running && j.jid !== job.jobId);
  // Retired (cancelled), unless it gave up by itself first; either way it had stopped before v1 started.
  expect(broken.map((j) => j.state)).toEqual([expect.stringMatching(/^(CANCELED|FAILED)$/)]);
  await waitFor(() => readCounters(job.output).slice(linesBefore).filter((r) => r.version === 'v1').length >= 8 || undefined, { timeoutMs: 60_000, description: 'v1 output after the rollback' });
  const before = lastCountByKey(readCounters(job.output).slice(0, linesBefore), 'v1');
  const after = firstCountByKey(readCounters(job.output).slice(linesBefore), 'v1');
  for (const [key, count] of before) expect(after.get(key)).toBe(count + 1);
  await flink.cancelJob(running!);
}, 900_000);

test('a first checkpoint slower than verification allows: the new job is retired before v1 comes back', async () => {
  const job = await h.submitJob(flink, 'v1', 'counter-slow');
  const v2Args = [...fixtureArgs({ output: job.output, jobName: 'counter-slow' }), '--snapshot-delay', '120000'];
  const max = await maxConcurrent('counter-slow', async () => {
    const result = await h.cli([
      'upgrade', `${h.namespace}/flink`, '--job', 'counter-slow', '--jar', fixtureJar('v2'), ...v2Args.flatMap((a) => ['--arg', a]), ...h.fromArgs(job.args),
      '--verify-timeout', '10s', '--stability-window', '2s',
    ], 600_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/verification of fixture-job-1\.0\.0-v2\.jar failed: not verified within .*waiting for a checkpoint after the restore( \(the last look failed: .*\))?; rolled back/);
  });
  expect(max).toBe(1);
  const active = await activeJobs('counter-slow');
  const v2 = (await flink.listJobs()).filter((j) => j.name === 'counter-slow' && j.jid !== job.jobId && !active.includes(j.jid));
  expect(v2.map((j) => j.state)).toContain('CANCELED');
  const [running] = await activeJobs('counter-slow');
  await flink.cancelJob(running!);
}, 900_000);

test('savepoint runs under faults (Flink and Kubernetes): every run takes its savepoint, each recorded once', async () => {
  const job = await h.submitJob(flink, 'v1', 'counter-sp-faults');
  const dir = join(h.dataDir, 'sp-faults');
  let completed = 0;
  for (let i = 0; i < ROUNDS + 2; i++) {
    const result = await h.cli(['savepoint', `${h.namespace}/flink`, '--job', 'counter-sp-faults', '--rest-url', flinkFaults.url, '--savepoint-dir', `file://${dir}`, '--json'], 300_000);
    const outcome = result.code === 0 ? (JSON.parse(result.stdout) as { outcome: string }).outcome : `failed: ${result.stderr}`;
    outcomes[`savepoint ${outcome.split(':')[0]}`] = (outcomes[`savepoint ${outcome.split(':')[0]}`] ?? 0) + 1;
    expect(outcome).toBe('completed');
    completed++;
  }
  expect(savepointDirs(dir)).toHaveLength(completed);
  const saved = (await record('counter-sp-faults'))!.savepoints.map((s) => s.path);
  expect(new Set(saved).size).toBe(completed);
  expect(await activeJobs('counter-sp-faults')).toEqual([job.jobId]);
  await flink.cancelJob(job.jobId);
}, 900_000);
