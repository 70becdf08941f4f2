import { join } from 'node:path';
import { fixtureJar, firstCountByKey, lastCountByKey } from '../stack/fixtures';
import { readCounters } from '../stack/fixture-jobs';
import { waitFor } from '../stack/wait';
import { savepointDirs } from '../stack/harness';
import { FaultHarness } from '../support/fault-harness';

// The correctness promise under faults (test/support/fault-harness.ts), for upgrades and savepoint runs: after every
// operation exactly one job runs per job name, with its state continued, and every savepoint taken is accounted for:
// none lost, none duplicated. faults-rollbacks.test.ts has the rollbacks.
const f = new FaultHarness('faults-upgrades');
const h = f.h;
/** Rounds per test; FLINKOPS_FAULT_ROUNDS=10 makes a longer soak of the same checks. */
const ROUNDS = Number(process.env.FLINKOPS_FAULT_ROUNDS ?? 3);

beforeAll(() => f.setUp(11));
afterAll(() => f.tearDown());

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
  const job = await h.submitJob(f.flink, 'v1', 'counter-faults');
  const savepointDir = join(h.dataDir, 'faults-savepoints');
  const versions = ['v1'];
  let stops = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const version = versions.at(-1) === 'v1' ? 'v2' : 'v1';
    const max = await f.maxConcurrent('counter-faults', async () => {
      const result = await h.cli([
        'upgrade', `${h.namespace}/flink`, '--job', 'counter-faults', '--jar', fixtureJar(version), ...(versions.length === 1 ? h.fromArgs(job.args) : []),
        '--rest-url', f.flinkFaults.url, '--savepoint-dir', `file://${savepointDir}`, '--stability-window', '3s', '--json',
      ], 600_000);
      const outcome = result.code === 0 ? 'succeeded' : /nothing changed/.test(result.stderr) ? 'nothing-changed' : /rolled back/.test(result.stderr) ? 'rolled-back' : `failed: ${result.stderr}`;
      f.count(`upgrade ${outcome}`);
      expect(['succeeded', 'nothing-changed', 'rolled-back']).toContain(outcome);
      if (outcome === 'succeeded') versions.push(version);
      if (outcome !== 'nothing-changed' || /savepoint completed later/.test(result.stderr)) stops++;
    });
    expect(max).toBe(1);
    expect(await f.activeJobs('counter-faults')).toHaveLength(1);
    expect(savepointDirs(savepointDir)).toHaveLength(stops);
  }
  await waitFor(() => readCounters(job.output).filter((r) => r.version === versions.at(-1)).length >= 8 || undefined, { timeoutMs: 60_000, description: 'output of the running version' });
  expectCountsContinue(job.output, versions);
  const upgrades = (await h.record('counter-faults'))!.history.filter((e) => e.operation === 'upgrade');
  expect(new Set(upgrades.map((e) => e.savepoint).filter(Boolean)).size).toBe(stops);
  await f.flink.cancelJob((await f.activeJobs('counter-faults'))[0]!);
}, 1_500_000);

test('savepoint runs under faults (Flink and Kubernetes): every run takes its savepoint, each recorded once', async () => {
  const job = await h.submitJob(f.flink, 'v1', 'counter-sp-faults');
  const dir = join(h.dataDir, 'sp-faults');
  let completed = 0;
  for (let i = 0; i < ROUNDS + 2; i++) {
    const result = await h.cli(['savepoint', `${h.namespace}/flink`, '--job', 'counter-sp-faults', '--rest-url', f.flinkFaults.url, '--savepoint-dir', `file://${dir}`, '--json'], 300_000);
    const outcome = result.code === 0 ? (JSON.parse(result.stdout) as { outcome: string }).outcome : `failed: ${result.stderr}`;
    f.count(`savepoint ${outcome.split(':')[0]}`);
    expect(outcome).toBe('completed');
    completed++;
  }
  expect(savepointDirs(dir)).toHaveLength(completed);
  const saved = (await h.record('counter-sp-faults'))!.savepoints.map((s) => s.path);
  expect(new Set(saved).size).toBe(completed);
  expect(await f.activeJobs('counter-sp-faults')).toEqual([job.jobId]);
  await f.flink.cancelJob(job.jobId);
}, 900_000);
