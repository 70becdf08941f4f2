import { fixtureArgs, readCounters } from '../stack/fixture-jobs';
import { fixtureJar, firstCountByKey, lastCountByKey } from '../stack/fixtures';
import { waitFor } from '../stack/wait';
import { FaultHarness } from '../support/fault-harness';

// The correctness promise under faults (test/support/fault-harness.ts), for rollbacks: a new version that fails is
// gone before the old one starts again, never two at once, and the old one continues its state.
const f = new FaultHarness('faults-rollbacks');
const h = f.h;

beforeAll(() => f.setUp(21));
afterAll(() => f.tearDown());

test('a broken version under faults is rolled back: its job is gone before v1 starts again, never two at once', async () => {
  const job = await h.submitJob(f.flink, 'v1', 'counter-faults-broken');
  const linesBefore = readCounters(job.output).length;
  const max = await f.maxConcurrent('counter-faults-broken', async () => {
    const result = await h.cli(['upgrade', `${h.namespace}/flink`, '--job', 'counter-faults-broken', '--jar', fixtureJar('broken'), ...h.fromArgs(job.args), '--rest-url', f.flinkFaults.url, '--stability-window', '10s'], 600_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/rolled back to fixture-job-1\.0\.0-v1\.jar/);
  });
  expect(max).toBe(1);
  const [running] = await f.activeJobs('counter-faults-broken');
  const broken = (await f.flink.listJobs()).filter((j) => j.name === 'counter-faults-broken' && j.jid !== running && j.jid !== job.jobId);
  // Retired (cancelled), unless it gave up by itself first; either way it had stopped before v1 started.
  expect(broken.map((j) => j.state)).toEqual([expect.stringMatching(/^(CANCELED|FAILED)$/)]);
  await waitFor(() => readCounters(job.output).slice(linesBefore).filter((r) => r.version === 'v1').length >= 8 || undefined, { timeoutMs: 60_000, description: 'v1 output after the rollback' });
  const before = lastCountByKey(readCounters(job.output).slice(0, linesBefore), 'v1');
  const after = firstCountByKey(readCounters(job.output).slice(linesBefore), 'v1');
  for (const [key, count] of before) expect(after.get(key)).toBe(count + 1);
  await f.flink.cancelJob(running!);
}, 900_000);

test('a first checkpoint slower than verification allows: the new job is retired before v1 comes back', async () => {
  const job = await h.submitJob(f.flink, 'v1', 'counter-slow');
  const v2Args = [...fixtureArgs({ output: job.output, jobName: 'counter-slow' }), '--snapshot-delay', '120000'];
  const max = await f.maxConcurrent('counter-slow', async () => {
    const result = await h.cli([
      'upgrade', `${h.namespace}/flink`, '--job', 'counter-slow', '--jar', fixtureJar('v2'), ...v2Args.flatMap((a) => ['--arg', a]), ...h.fromArgs(job.args),
      '--verify-timeout', '10s', '--stability-window', '2s',
    ], 600_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/verification of fixture-job-1\.0\.0-v2\.jar failed: not verified within .*waiting for a checkpoint after the restore( \(the last look failed: .*\))?; rolled back/);
  });
  expect(max).toBe(1);
  const active = await f.activeJobs('counter-slow');
  const v2 = (await f.flink.listJobs()).filter((j) => j.name === 'counter-slow' && j.jid !== job.jobId && !active.includes(j.jid));
  expect(v2.map((j) => j.state)).toContain('CANCELED');
  const [running] = await f.activeJobs('counter-slow');
  await f.flink.cancelJob(running!);
}, 900_000);
