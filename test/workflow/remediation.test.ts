import type { WorkflowFailedError } from '@temporalio/client';
import type { ClusterHealthSnapshot } from '../../workflows/model/cluster-health';
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
