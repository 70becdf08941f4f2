import type { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { UpgradeRequestInput } from '../../workflows/upgrade/request';
import type { UpgradeProgress, UpgradeResult } from '../../workflows/upgrade/workflow';
import { JOB_ID, names, runningJob, sessionTarget, WorkflowHarness, type Call, type StubActivities } from './support/workflow-harness';

// The upgrade workflow's branches with stub activities on the time-skipping server: what it does, in order, when
// verification fails while the new job runs, a savepoint completes late, a rollback fails, it is cancelled...
const h = new WorkflowHarness();
beforeAll(() => h.start(), 60_000);
afterAll(() => h.stop());

const SAVEPOINT = 'file:/data/savepoints/savepoint-1';
const request: UpgradeRequestInput = {
  cluster: { namespace: 'flink', name: 'flink-jobmanager' },
  job: 'counter',
  to: { kind: 'jar', jar: '/jars/v2.jar' },
  stabilityWindow: '1s',
};

/** A healthy cluster, a savepoint that completes, a new version that deploys and verifies. Tests override steps. */
function stubs(overrides: StubActivities = {}): StubActivities {
  return {
    getOperationPolicy: () => ({ allowedSavepointPrefixes: ['file:///data'] }),
    observeTarget: () => sessionTarget(),
    acquireOperationLock: () => ({ acquired: true }),
    releaseOperationLock: () => undefined,
    emitClusterEvent: () => undefined,
    prepareVersion: () => ({ jarId: 'v2.jar' }),
    discardPreparedVersion: () => undefined,
    stopJobWithSavepoint: () => ({ status: 'completed', location: SAVEPOINT }),
    recordRestorePoint: () => undefined,
    deployVersion: () => undefined,
    verifyDeployment: ({ jobId }) => ({ verified: true, summary: `job ${jobId} verified`, job: runningJob({ id: jobId }), runningSince: Date.now() }),
    retireDeployment: ({ jobId }) => ({ gone: true, detail: `job ${jobId} cancelled` }),
    recordOutcome: () => undefined as never,
    observeJob: ({ jobId }) => runningJob({ id: jobId }),
    cancelJob: () => undefined,
    ...overrides,
  };
}

async function upgrade(overrides: StubActivities, input: Partial<UpgradeRequestInput> = {}, during?: (workflowId: string) => Promise<void>) {
  if (process.env.DEBUG_WF) console.log('upgrade', JSON.stringify(input));
  return h.withWorker(stubs(overrides), async (taskQueue) => {
    const workflowId = `upgrade-${Math.random().toString(16).slice(2)}`;
    const handle = await h.env!.client.workflow.start('upgradeWorkflow', { taskQueue, workflowId, args: [{ ...request, ...input }] });
    if (during) await during(workflowId);
    try {
      return { ok: true as const, value: (await handle.result()) as UpgradeResult };
    } catch (error) {
      const cause = (error as WorkflowFailedError).cause as { type?: string; message: string; cause?: { type?: string } } | undefined;
      const failed = { ok: false as const, type: cause?.type ?? cause?.cause?.type, message: cause?.message ?? String(error) };
      if (process.env.DEBUG_WF) console.log(failed);
      return failed;
    }
  });
}

const deployed = (calls: Call[]) =>
  calls.filter((c) => c.name === 'deployVersion').map((c) => (c.args[0] as { version: { jar: string }; restore: { path?: string } }).version.jar);

test('verification fails while the new job runs: the new job is retired before the old version starts, from the same savepoint', async () => {
  let verifications = 0;
  const { result, calls } = await upgrade({
    verifyDeployment: ({ jobId }) =>
      ++verifications === 1
        ? { verified: false, reason: 'not verified within 1m: waiting for a checkpoint after the restore', job: runningJob({ id: jobId }) }
        : { verified: true, summary: 'v1 back', job: runningJob({ id: jobId }), runningSince: Date.now() },
  });
  expect(result).toMatchObject({ ok: false, type: 'UpgradeRolledBack' });
  const order = names(calls).filter((n) => ['deployVersion', 'verifyDeployment', 'retireDeployment'].includes(n));
  expect(order).toEqual(['deployVersion', 'verifyDeployment', 'retireDeployment', 'deployVersion', 'verifyDeployment']);
  const newJob = (calls.find((c) => c.name === 'deployVersion')!.args[0] as { jobId: string }).jobId;
  expect((calls.find((c) => c.name === 'retireDeployment')!.args[0] as { jobId: string }).jobId).toBe(newJob);
  expect(deployed(calls)).toEqual(['/jars/v2.jar', '/jars/v1.jar']);
  expect(calls.filter((c) => c.name === 'deployVersion').map((c) => (c.args[0] as { restore: { path?: string } }).restore.path)).toEqual([SAVEPOINT, SAVEPOINT]);
}, 60_000);

test('a new job that cannot be confirmed gone: no second job is started, and a human is told exactly what runs', async () => {
  const { result, calls } = await upgrade({
    verifyDeployment: () => ({ verified: false, reason: 'job restarted 1 time(s) during the stability window' }),
    retireDeployment: ({ jobId }) => ({ gone: false, detail: `job ${jobId} could not be cancelled (CancelTimedOut); it is RUNNING` }),
  });
  expect(result).toMatchObject({ ok: false, type: 'RollbackFailed' });
  expect(!result.ok && result.message).toMatch(/the new job is not confirmed gone \(job [0-9a-f]{32} could not be cancelled .* it is RUNNING\), so the previous version was NOT started/);
  expect(!result.ok && result.message).toMatch(/restore fixture|restore v1\.jar from file:\/data\/savepoints\/savepoint-1/);
  expect(deployed(calls)).toEqual(['/jars/v2.jar']);
}, 60_000);

test('the rollback fails too: RollbackFailed names the savepoint to restore by hand', async () => {
  const { result } = await upgrade({
    deployVersion: ({ version }) => {
      if (version.kind === 'jar') throw Object.assign(new Error(`${version.jar} refused`), { name: 'Error' });
      return undefined;
    },
  });
  expect(result).toMatchObject({ ok: false, type: 'RollbackFailed' });
  expect(!result.ok && result.message).toMatch(/deploying v2\.jar failed: .*ROLLBACK FAILED too: deploying v1\.jar failed.*restore v1\.jar from file:\/data\/savepoints\/savepoint-1/s);
}, 120_000);

test('the savepoint completes after the timeout: the old version comes back from it and nothing else is deployed', async () => {
  let stops = 0;
  const { result, calls } = await upgrade({
    stopJobWithSavepoint: () => (++stops === 1 ? { status: 'timed-out', reason: 'savepoint not completed within 5s' } : { status: 'completed', location: SAVEPOINT }),
  });
  expect(result).toMatchObject({ ok: false, type: 'SavepointFailed' });
  expect(!result.ok && result.message).toMatch(/the savepoint completed later \(file:\/data\/savepoints\/savepoint-1\) and v1\.jar was restored from it/);
  expect(deployed(calls)).toEqual(['/jars/v1.jar']);
  // Both stop attempts ask Flink about the same operation.
  const triggers = calls.filter((c) => c.name === 'stopJobWithSavepoint').map((c) => (c.args[0] as { triggerId: string }).triggerId);
  expect(new Set(triggers).size).toBe(1);
}, 60_000);

/**
 * The time-skipping server's clock: it runs ahead of the machine's by whatever earlier tests skipped (years, with
 * schedules), so a checkpoint "just taken" is stamped with it, not with Date.now().
 */
function serverNow(): Promise<number> {
  return h.env!.currentTimeMs();
}

test('last-state: a failed savepoint falls back to the newest retained checkpoint after cancelling the job', async () => {
  const checkpoint = `file:/data/checkpoints/${JOB_ID}/chk-9`;
  let observed = 0;
  const { result, calls } = await upgrade(
    {
      stopJobWithSavepoint: () => ({ status: 'failed', reason: 'savepoint failed: disk full' }),
      observeJob: async ({ jobId }) =>
        ++observed === 1
          ? runningJob({ id: jobId })
          : runningJob({ id: jobId, state: 'CANCELED', latestCheckpoint: { id: 9, path: checkpoint, completedAt: await serverNow() } }),
    },
    // Only the path: the age limit is a decide unit test. While the workflow waits for the cancel, the shared
    // time-skipping server jumps to other tests' far timers (10, 20, 30 years seen), so no age limit holds here.
    { mode: 'last-state', maxCheckpointAge: Number.MAX_SAFE_INTEGER },
  );
  expect(result).toMatchObject({ ok: true, value: { outcome: 'succeeded', savepoint: checkpoint } });
  expect(names(calls)).toContain('cancelJob');
  expect(names(calls).indexOf('cancelJob')).toBeLessThan(names(calls).indexOf('deployVersion'));
  expect((calls.find((c) => c.name === 'deployVersion')!.args[0] as { restore: { path?: string } }).restore.path).toBe(checkpoint);
}, 60_000);

test('last-state refuses a checkpoint outside the allowed locations', async () => {
  const { result, calls } = await upgrade(
    {
      stopJobWithSavepoint: () => ({ status: 'failed', reason: 'savepoint failed' }),
      observeJob: ({ jobId }) => runningJob({ id: jobId, latestCheckpoint: { id: 3, path: 'file:/elsewhere/chk-3', completedAt: Date.now() } }),
    },
    { mode: 'last-state' },
  );
  expect(result).toMatchObject({ ok: false, type: 'SavepointFailed', message: expect.stringMatching(/last-state fallback refused: checkpoint file:\/\/\/elsewhere\/chk-3 is outside the allowed prefixes/) as unknown });
  expect(names(calls)).not.toContain('deployVersion');
}, 60_000);

test('stateless: the job is cancelled and the new version starts without state', async () => {
  const { result, calls } = await upgrade({}, { mode: 'stateless' });
  expect(result).toMatchObject({ ok: true, value: { outcome: 'succeeded' } });
  expect(names(calls)).not.toContain('stopJobWithSavepoint');
  expect((calls.find((c) => c.name === 'deployVersion')!.args[0] as { restore: { path?: string } }).restore.path).toBeUndefined();
}, 60_000);

test('the restore point cannot be recorded: the upgrade goes on, succeeds, and says what was not written', async () => {
  const { result, calls } = await upgrade({
    recordRestorePoint: () => {
      throw Object.assign(new Error('configmaps "flinkops-flink-jobmanager-counter-1" is forbidden'), { name: 'Error' });
    },
  });
  expect(result).toMatchObject({ ok: true, value: { outcome: 'succeeded' } });
  expect(result.ok && result.value.warnings?.join()).toMatch(/the restore point file:\/data\/savepoints\/savepoint-1 was not recorded/);
  expect(deployed(calls)).toEqual(['/jars/v2.jar']);
}, 120_000);

test('recording the outcome of a good upgrade fails: the upgrade still succeeded', async () => {
  const { result } = await upgrade({
    recordOutcome: () => {
      throw Object.assign(new Error('the API server is not answering'), { name: 'Error' });
    },
  });
  expect(result).toMatchObject({ ok: true, value: { outcome: 'succeeded' } });
  expect(result.ok && result.value.warnings?.join()).toMatch(/could not record the outcome/);
}, 120_000);

test('a verification activity that fails altogether is a failed verification: the old version comes back', async () => {
  let firstJob: string | undefined;
  const { result, calls } = await upgrade({
    verifyDeployment: ({ jobId }) => {
      firstJob ??= jobId;
      // Retries exhausted or a permanent failure: the activity itself fails, it never says "verified: false".
      if (jobId === firstJob) throw ApplicationFailure.nonRetryable('Flink REST API answered 401', 'FlinkUnauthorized');
      return { verified: true, summary: 'back', job: runningJob({ id: jobId }), runningSince: Date.now() };
    },
  });
  expect(result).toMatchObject({ ok: false, type: 'UpgradeRolledBack', message: expect.stringMatching(/verification could not observe the job: Flink REST API answered 401/) as unknown });
  expect(names(calls)).toContain('retireDeployment');
  expect(deployed(calls)).toEqual(['/jars/v2.jar', '/jars/v1.jar']);
}, 60_000);

test('no approval within the timeout: aborted before anything changed', async () => {
  const { result, calls } = await upgrade({}, { approval: { required: true, timeout: '2h' } });
  expect(result).toMatchObject({ ok: false, type: 'UpgradeAborted', message: expect.stringMatching(/aborted by flinkops before anything changed: no approval within 2h/) as unknown });
  expect(names(calls)).not.toContain('stopJobWithSavepoint');
  expect(names(calls)).toContain('releaseOperationLock');
}, 60_000);

test('cancelled after the new version was deployed but before it verified: it is retired and the old one comes back', async () => {
  let release!: () => void;
  const verifying = new Promise<void>((resolve) => (release = resolve));
  const { result, calls } = await upgrade(
    {
      verifyDeployment: async ({ jobId }) => {
        release();
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        return { verified: true, summary: 'late', job: runningJob({ id: jobId }), runningSince: Date.now() };
      },
      observeJob: ({ jobId }) => runningJob({ id: jobId, state: 'RUNNING', tasks: { total: 2, running: 0 } }),
    },
    {},
    async (workflowId) => {
      await verifying;
      await h.env!.client.workflow.getHandle(workflowId).cancel();
    },
  );
  expect(result.ok).toBe(false);
  const order = names(calls).filter((n) => ['deployVersion', 'retireDeployment'].includes(n));
  expect(order).toEqual(['deployVersion', 'retireDeployment', 'deployVersion']);
  expect(deployed(calls)).toEqual(['/jars/v2.jar', '/jars/v1.jar']);
}, 120_000);

test('the progress query names the plan, the savepoint and the new job', async () => {
  const { result } = await h.withWorker(stubs(), async (taskQueue) => {
    const handle = await h.env!.client.workflow.start('upgradeWorkflow', { taskQueue, workflowId: `upgrade-q-${Date.now()}`, args: [request] });
    await handle.result();
    return handle.query<UpgradeProgress>('getUpgradeProgress');
  });
  expect(result.step).toBe('done');
  expect(result.savepoint).toBe(SAVEPOINT);
  expect(result.plan?.steps.join('\n')).toMatch(/arguments \["--output","\/out"\]/);
}, 60_000);

test('a successful upgrade: one patch marker, no separate policy read', async () => {
  const { result } = await h.withWorker(stubs(), async (taskQueue) => {
    const workflowId = `upgrade-${Math.random().toString(16).slice(2)}`;
    const handle = await h.env!.client.workflow.start('upgradeWorkflow', { taskQueue, workflowId, args: [request] });
    const value = (await handle.result()) as UpgradeResult;
    return { value, events: (await handle.fetchHistory()).events ?? [] };
  });
  expect(result.value.outcome).toBe('succeeded');
  if (process.env.DEBUG_WF) console.log(`upgrade history: ${result.events.length} events`);
  expect(result.events.filter((e) => e.markerRecordedEventAttributes)).toHaveLength(1);
  const activities = result.events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : []));
  expect(activities).not.toContain('getOperationPolicy');
  expect(activities.filter((a) => a === 'emitClusterEvent')).toHaveLength(2);
  // 0.2.0: 12 activities, a patch marker, 74 events (bench/history-events.ts); 0.3.0: 11 activities.
  expect(activities).toHaveLength(11);
}, 60_000);
