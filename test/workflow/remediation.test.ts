import type { WorkflowFailedError } from '@temporalio/client';
import type { ClusterHealthSnapshot } from '../../workflows/model/cluster-health';
import type { RemediationResult } from '../../workflows/remediation/workflow';
import { JOB_ID, names, runningJob, WorkflowHarness } from './support/workflow-harness';

// The remediation workflow's guards with stub activities: a cluster that never gets healthy is escalated after the
// pass limit instead of being worked on forever.
const h = new WorkflowHarness();
beforeAll(() => h.start(), 60_000);
afterAll(() => h.stop());

function restarting(): ClusterHealthSnapshot {
  return {
    cluster: { namespace: 'flink', name: 'flink-jobmanager' },
    observedAt: Date.now(),
    kind: 'session-job',
    jobManager: { name: 'flink-jobmanager', replicas: 1, readyReplicas: 1, image: 'flink:1.20' },
    pods: [{ name: 'jm-1', uid: 'u1', phase: 'Running', ready: true, terminating: false, createdAt: Date.now() - 60_000, restartCount: 0 }],
    taskManagerReplicas: 1,
    ha: { mode: 'none', source: 'rest' },
    rest: { url: 'http://jm:8081', reachable: true, taskManagers: 1, jobs: [{ id: JOB_ID, name: 'counter', state: 'RESTARTING', tasksRunning: 0, tasksTotal: 2 }] },
    knownJobs: [{ jobKey: 'counter-1', jobName: 'counter', jobId: JOB_ID, restoreCandidates: [] }],
    memory: { remediations: [], podDeletions: [] },
  };
}

test('a job that keeps going back to RESTARTING: waits and verifies each round, then escalates at the pass limit', async () => {
  const { result, calls } = await h.withWorker(
    {
      observeClusterHealth: () => restarting(),
      acquireOperationLock: () => ({ acquired: true }),
      releaseOperationLock: () => undefined,
      awaitClusterRecovery: () => ({ recovered: true, detail: 'job RUNNING', waitedMs: 1_000 }),
      observeJob: ({ jobId }) => runningJob({ id: jobId }),
      verifyDeployment: ({ jobId }) => ({ verified: true, summary: 'running', job: runningJob({ id: jobId }), runningSince: Date.now() }),
      recordEscalation: () => ({ notify: true }),
      notifyEscalation: () => ({ sent: false, detail: 'no escalation webhook configured' }),
      emitClusterEvent: () => undefined,
    },
    async (taskQueue) => {
      const handle = await h.env!.client.workflow.start('remediationWorkflow', {
        taskQueue,
        workflowId: `remediate-${Date.now()}`,
        args: [{ cluster: { namespace: 'flink', name: 'flink-jobmanager' } }],
      });
      return handle.result().then(
        () => ({ type: 'none', message: 'completed' }),
        (error: WorkflowFailedError) => error.cause as unknown as { type: string; message: string },
      );
    },
  );
  expect(result.type).toBe('NeedsHuman');
  expect(result.message).toMatch(/still unhealthy after 5 rounds of remediation/);
  expect(names(calls).filter((n) => n === 'awaitClusterRecovery')).toHaveLength(5);
  expect(names(calls).filter((n) => n === 'observeClusterHealth')).toHaveLength(7);
  expect(names(calls).at(-1)).toBe('releaseOperationLock');
}, 60_000);

/** No HA, the JobManager restarted empty; its one TaskManager has not registered with it (tied to the lost one). */
function lostWithTiedTaskManager(): ClusterHealthSnapshot {
  return {
    ...restarting(),
    rest: { url: 'http://jm:8081', reachable: true, taskManagers: 0, jobs: [] },
    taskManagers: { pods: [{ name: 'tm-1', uid: 'u-tm-1', ready: true, terminating: false }], registered: [] },
    knownJobs: [
      {
        jobKey: 'counter-1',
        jobName: 'counter',
        jobId: JOB_ID,
        version: { kind: 'jar', jar: '/jars/counter.jar' },
        restoreCandidates: [{ path: `file:///ckpt/${JOB_ID}/chk-7`, source: 'checkpoint', at: Date.now() - 5_000, checkpointId: 7 }],
      },
    ],
  };
}

test('a job lost without HA: the TaskManagers tied to the lost JobManager are restarted before the resubmission, which waits for fresh ones', async () => {
  let submitted = false;
  const running = (): ClusterHealthSnapshot => ({
    ...restarting(),
    rest: { url: 'http://jm:8081', reachable: true, taskManagers: 1, jobs: [{ id: JOB_ID, name: 'counter', state: 'RUNNING', tasksRunning: 2, tasksTotal: 2 }] },
    knownJobs: lostWithTiedTaskManager().knownJobs,
  });
  const { result, calls } = await h.withWorker(
    {
      observeClusterHealth: () => (submitted ? running() : lostWithTiedTaskManager()),
      acquireOperationLock: () => ({ acquired: true }),
      releaseOperationLock: () => undefined,
      recordRemediationRun: () => ({ lastHour: 1 }),
      restartTaskManagers: ({ pods }) => ({ deleted: pods.map((p) => p.name) }),
      recordRestorePoint: () => undefined as never,
      prepareVersion: () => ({ jarId: 'jar-1' }),
      awaitJobReleased: () => ({ released: true, detail: '1 TaskManager(s) registered, none holds job', waitedMs: 4_000 }),
      deployVersion: () => {
        submitted = true;
        return undefined;
      },
      observeJob: ({ jobId }) => runningJob({ id: jobId }),
      verifyDeployment: ({ jobId }) => ({ verified: true, summary: 'running, restored', job: runningJob({ id: jobId, restoredFrom: { path: `file:///ckpt/${JOB_ID}/chk-7`, isSavepoint: false, restoredAt: Date.now(), checkpointId: 7 } }), runningSince: Date.now() }),
      recordOutcome: () => undefined as never,
      emitClusterEvent: () => undefined,
    },
    async (taskQueue) => {
      const handle = await h.env!.client.workflow.start('remediationWorkflow', {
        taskQueue,
        workflowId: `remediate-tm-${Date.now()}`,
        args: [{ cluster: { namespace: 'flink', name: 'flink-jobmanager' }, limits: { stabilityWindow: '1s' } }],
      });
      return (await handle.result()) as RemediationResult;
    },
  );
  expect(result.outcome).toBe('remediated');
  expect(result.actions.map((a) => a.kind)).toEqual(['restart-taskmanagers', 'resubmit-job']);
  expect(result.diagnosis.findings.find((f) => f.code === 'taskmanagers-tied-to-lost-jobmanager')?.reason).toMatch(/the new JobManager runs no job/);
  const order = names(calls).filter((n) => ['restartTaskManagers', 'prepareVersion', 'awaitJobReleased', 'deployVersion'].includes(n));
  expect(order).toEqual(['restartTaskManagers', 'prepareVersion', 'awaitJobReleased', 'deployVersion']);
  expect(calls.find((c) => c.name === 'restartTaskManagers')?.args[0]).toMatchObject({ pods: [{ name: 'tm-1', uid: 'u-tm-1' }] });
  const events = calls.filter((c) => c.name === 'emitClusterEvent').map((c) => (c.args[0] as { reason: string }).reason);
  expect(events).toEqual(['RemediationStarted', 'TaskManagersRestarted', 'JobResubmitted', 'RemediationSucceeded']);
}, 60_000);

test('with lostJobRecovery wait-for-taskmanagers the same loss restarts nothing: the resubmission waits for them', async () => {
  let submitted = false;
  const { result, calls } = await h.withWorker(
    {
      observeClusterHealth: () => (submitted ? { ...lostWithTiedTaskManager(), rest: { url: 'http://jm:8081', reachable: true, taskManagers: 1, jobs: [{ id: JOB_ID, name: 'counter', state: 'RUNNING', tasksRunning: 2, tasksTotal: 2 }] } } : lostWithTiedTaskManager()),
      acquireOperationLock: () => ({ acquired: true }),
      releaseOperationLock: () => undefined,
      recordRemediationRun: () => ({ lastHour: 1 }),
      recordRestorePoint: () => undefined as never,
      prepareVersion: () => ({ jarId: 'jar-1' }),
      awaitJobReleased: () => ({ released: true, detail: '1 TaskManager(s) registered, none holds job', waitedMs: 50_000 }),
      deployVersion: () => {
        submitted = true;
        return undefined;
      },
      observeJob: ({ jobId }) => runningJob({ id: jobId }),
      verifyDeployment: ({ jobId }) => ({ verified: true, summary: 'running', job: runningJob({ id: jobId }), runningSince: Date.now() }),
      recordOutcome: () => undefined as never,
      emitClusterEvent: () => undefined,
    },
    async (taskQueue) => {
      const handle = await h.env!.client.workflow.start('remediationWorkflow', {
        taskQueue,
        workflowId: `remediate-wait-${Date.now()}`,
        args: [{ cluster: { namespace: 'flink', name: 'flink-jobmanager' }, limits: { lostJobRecovery: 'wait-for-taskmanagers', stabilityWindow: '1s' } }],
      });
      return (await handle.result()) as RemediationResult;
    },
  );
  expect(result.outcome).toBe('remediated');
  expect(result.actions.map((a) => a.kind)).toEqual(['resubmit-job']);
  expect(names(calls)).not.toContain('restartTaskManagers');
  expect(result.diagnosis.findings.find((f) => f.code === 'taskmanagers-tied-to-lost-jobmanager')?.reason).toMatch(/wait-for-taskmanagers/);
}, 60_000);

test('a new JobManager that answers on its pod address before it is ready: the first wait ends there, the TaskManagers restart while it becomes ready, then the job is resubmitted', async () => {
  const starting = (answer: boolean): ClusterHealthSnapshot => ({
    ...lostWithTiedTaskManager(),
    pods: [{ name: 'jm-2', uid: 'u2', phase: 'Running', ready: false, terminating: false, createdAt: Date.now() - 3_000, restartCount: 0 }],
    jobManager: { name: 'flink-jobmanager', replicas: 1, readyReplicas: 0, image: 'flink:1.20' },
    rest: { url: 'http://jm:8081', reachable: false, error: 'ECONNREFUSED', jobs: [] },
    ...(answer ? { podAnswer: { pod: 'jm-2', jobs: [], registered: [] } } : {}),
  });
  const phases: ClusterHealthSnapshot[] = [starting(false), starting(false), starting(true), lostWithTiedTaskManager()];
  let submitted = false;
  const { result, calls } = await h.withWorker(
    {
      observeClusterHealth: () => (submitted ? { ...lostWithTiedTaskManager(), rest: { url: 'http://jm:8081', reachable: true, taskManagers: 1, jobs: [{ id: JOB_ID, name: 'counter', state: 'RUNNING', tasksRunning: 2, tasksTotal: 2 }] } } : (phases.shift() ?? lostWithTiedTaskManager())),
      acquireOperationLock: () => ({ acquired: true }),
      releaseOperationLock: () => undefined,
      recordRemediationRun: () => ({ lastHour: 1 }),
      awaitClusterRecovery: ({ untilPodAnswers }) =>
        untilPodAnswers ? { recovered: false, detail: 'JobManager pod jm-2 answers on its own address', waitedMs: 3_000, answeredByPod: 'jm-2' } : { recovered: true, detail: 'ready', waitedMs: 2_000 },
      restartTaskManagers: ({ pods }) => ({ deleted: pods.map((p) => p.name) }),
      recordRestorePoint: () => undefined as never,
      prepareVersion: () => ({ jarId: 'jar-1' }),
      awaitJobReleased: () => ({ released: true, detail: 'the restarted TaskManagers are gone', waitedMs: 1_000 }),
      deployVersion: () => {
        submitted = true;
        return undefined;
      },
      observeJob: ({ jobId }) => runningJob({ id: jobId }),
      verifyDeployment: ({ jobId }) => ({ verified: true, summary: 'running', job: runningJob({ id: jobId }), runningSince: Date.now() }),
      recordOutcome: () => undefined as never,
      emitClusterEvent: () => undefined,
    },
    async (taskQueue) => {
      const handle = await h.env!.client.workflow.start('remediationWorkflow', {
        taskQueue,
        workflowId: `remediate-early-${Date.now()}`,
        args: [{ cluster: { namespace: 'flink', name: 'flink-jobmanager' }, limits: { stabilityWindow: '1s' } }],
      });
      return (await handle.result()) as RemediationResult;
    },
  );
  expect(result.outcome).toBe('remediated');
  expect(result.actions.map((a) => a.kind)).toEqual(['wait-for-jobmanager', 'restart-taskmanagers', 'wait-for-jobmanager', 'resubmit-job']);
  const waits = calls.filter((c) => c.name === 'awaitClusterRecovery').map((c) => (c.args[0] as { untilPodAnswers?: boolean }).untilPodAnswers ?? false);
  expect(waits).toEqual([true, false]);
  // The resubmission waits only for the restarted pods to be gone.
  expect(calls.find((c) => c.name === 'awaitJobReleased')?.args[0]).toMatchObject({ restartedPods: ['u-tm-1'] });
  expect(names(calls)).not.toContain('deleteJobManagerPod');
}, 60_000);
