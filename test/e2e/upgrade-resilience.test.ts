import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { FlinkRestClient } from '../../activities/flink/rest-client';
import type { UpgradeProgress } from '../../workflows/upgrade/workflow';
import { fixtureJar } from '../stack/fixtures';
import { waitFor } from '../stack/wait';
import { fixtureArgs } from '../stack/fixture-jobs';
import { expectRestoredAfter, expectStateContinued, lineCount, OperationHarness } from '../support/upgrade-harness';

// A worker that dies mid-upgrade, a savepoint that fails, an upgrade cancelled while the job is being stopped.
const h = new OperationHarness('upresil');
let flink: FlinkRestClient;
let client: Client;

beforeAll(async () => {
  await h.setUp();
  flink = await h.sessionCluster('flink', 8);
  client = await h.temporalClient();
});
afterAll(() => h.tearDown());

async function waitForStep(workflowId: string, step: UpgradeProgress['step'], timeoutMs = 120_000): Promise<UpgradeProgress> {
  return waitFor(
    async () => {
      const progress = await client.workflow.getHandle(workflowId).query<UpgradeProgress>('getUpgradeProgress');
      return progress.step === step ? progress : undefined;
    },
    { timeoutMs, intervalMs: 200, description: `upgrade ${workflowId} to reach ${step}` },
  );
}

test('the worker is killed during the savepoint poll and again during the redeploy: one savepoint, one job, state continued', async () => {
  // Every snapshot of this job takes 8 s, so the stop-with-savepoint is still in flight when the worker dies.
  const job = await h.submitJob(flink, 'v1', 'counter-crash', { snapshotDelayMs: 8_000, checkpointIntervalMs: 600_000 });
  const savepointDir = join(h.dataDir, 'crash-savepoints');
  const v2Args = fixtureArgs({ output: job.output, jobName: 'counter-crash' });
  await h.restartWorker({ FLINKOPS_TEST_FAILPOINTS: 'redeploy.afterSubmit=60000' });
  const started = await h.cli([
    'upgrade', `${h.namespace}/flink`, '--job', 'counter-crash', '--jar', fixtureJar('v2'), ...v2Args.flatMap((a) => ['--arg', a]),
    ...h.fromArgs(job.args), '--savepoint-dir', `file://${savepointDir}`, '--stability-window', '3s', '--no-wait',
  ]);
  expect(started.code).toBe(0);
  const workflowId = started.stdout.trim();

  await waitForStep(workflowId, 'stopping');
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  await h.worker!.kill();
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  await h.restartWorker({ FLINKOPS_TEST_FAILPOINTS: 'redeploy.afterSubmit=60000' });

  // The new job is submitted, but the worker dies before the activity reports it.
  const redeploying = await waitForStep(workflowId, 'redeploying', 180_000);
  await waitFor(async () => (await h.runningJobs(flink, 'counter-crash')).includes(redeploying.newJobId!), { timeoutMs: 60_000, description: 'the new job to run' });
  await h.worker!.kill();
  await h.restartWorker();

  await client.workflow.getHandle(workflowId).result();
  // The kills landed where intended: the stop and the deployment each ran a second attempt.
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const attempts = (activity: string) => {
    const scheduled = history.events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity).map((e) => Number(e.eventId));
    return history.events!.filter((e) => scheduled.includes(Number(e.activityTaskStartedEventAttributes?.scheduledEventId))).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0);
  };
  expect(Math.max(...attempts('stopJobWithSavepoint'))).toBeGreaterThanOrEqual(2);
  expect(Math.max(...attempts('deployVersion'))).toBeGreaterThanOrEqual(2);
  expect(readdirSync(savepointDir).filter((d) => d.startsWith('savepoint-'))).toHaveLength(1);
  expect(await h.runningJobs(flink, 'counter-crash')).toEqual([redeploying.newJobId]);
  await expectStateContinued(job.output, 'v1', 'v2');
  await flink.cancelJob(redeploying.newJobId!);
});

test('a savepoint that cannot be written leaves the job untouched and says so', async () => {
  const job = await h.submitJob(flink, 'v1', 'counter-unwritable');
  // A path below a regular file: no one, not even root, can create that directory.
  const blocker = join(h.dataDir, 'not-a-directory');
  mkdirSync(h.dataDir, { recursive: true });
  writeFileSync(blocker, 'x');
  const result = await h.cli(['upgrade', `${h.namespace}/flink`, '--job', 'counter-unwritable', '--jar', fixtureJar('v2'), ...h.fromArgs(job.args), '--savepoint-dir', `file://${blocker}/savepoints`]);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/nothing changed: savepoint failed: .*; the job keeps running unchanged/);
  expect(await h.runningJobs(flink, 'counter-unwritable')).toEqual([job.jobId]);
  await flink.cancelJob(job.jobId);
});

test('cancelling while the job is being stopped leaves a job running with its state', async () => {
  const job = await h.submitJob(flink, 'v1', 'counter-cancel', { snapshotDelayMs: 6_000, checkpointIntervalMs: 15_000 });
  const linesBefore = lineCount(job.output);
  const started = await h.cli(['upgrade', `${h.namespace}/flink`, '--job', 'counter-cancel', '--jar', fixtureJar('v2'), ...h.fromArgs(job.args), '--stability-window', '3s', '--no-wait']);
  const workflowId = started.stdout.trim();
  await waitForStep(workflowId, 'stopping');
  const cancelled = await h.cli(['cancel', `${h.namespace}/flink`, '--job', 'counter-cancel']);
  expect(cancelled.code).toBe(0);
  expect(cancelled.stdout).toMatch(/runs again|keeps running/);
  const running = await h.runningJobs(flink, 'counter-cancel');
  expect(running).toHaveLength(1);
  await expectRestoredAfter(job.output, linesBefore, 'v1');
  await flink.cancelJob(running[0]!);
});
