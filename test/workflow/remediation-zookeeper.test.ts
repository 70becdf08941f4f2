import type { WorkflowFailedError } from '@temporalio/client';
import type { ClusterHealthSnapshot } from '../../workflows/model/cluster-health';
import type { ZooKeeperHaSnapshot } from '../../workflows/model/zookeeper';
import type { RemediationResult } from '../../workflows/remediation/workflow';
import { JOB_ID, names, runningJob, WorkflowHarness } from './support/workflow-harness';

// A leader JobManager lost with ZooKeeper HA, with stub activities: flinkops waits for Flink's own recovery and then
// verifies every job ZooKeeper stores (flinkops was never told about this one), demanding its state back.
const h = new WorkflowHarness();
beforeAll(() => h.start(), 60_000);
afterAll(() => h.stop());

function cluster(recovered: boolean): ClusterHealthSnapshot {
  const now = Date.now();
  const zookeeper: ZooKeeperHaSnapshot = {
    quorum: 'zk:2181',
    root: '/flink',
    clusterId: '/orders',
    clusterIdDefaulted: false,
    path: '/flink/orders',
    settings: { sessionTimeoutMs: 20_000, connectionTimeoutMs: 15_000, tolerateSuspendedConnections: false, configured: [] },
    reachable: true,
    grantedSessionTimeoutMs: 20_000,
    // Before: nobody leads yet. After: the former standby does, and a new JobMaster took the job over.
    leaders: recovered ? [{ component: 'dispatcher', address: 'pekko.tcp://flink@10.0.0.8:40099/user/rpc/dispatcher_1', owner: '0x6', since: now - 5_000 }] : [],
    contenders: [{ node: '_c_b-latch-0000000003', session: '0x6' }],
    jobEntries: { layout: 'jobgraphs', jobIds: [JOB_ID] },
    jobs: { [JOB_ID]: { storedAt: now - 3_600_000, jobMasterSince: recovered ? now - 4_000 : now - 3_599_000, checkpoint: 7 } },
    jobManagers: [{ pod: 'jm-b', rpcAddress: '10.0.0.8', rpcPort: 40099 }],
    ...(recovered ? { leaderPod: 'jm-b' } : {}),
    sharedWith: [],
  };
  return {
    cluster: { namespace: 'flink', name: 'orders-jobmanager' },
    observedAt: now,
    kind: 'session-job',
    jobManager: { name: 'orders-jobmanager', replicas: 1, readyReplicas: 1, image: 'flink:1.20' },
    pods: [{ name: 'jm-b', uid: 'ub', phase: 'Running', ready: true, terminating: false, createdAt: now - 600_000, restartCount: 0 }],
    taskManagerReplicas: 1,
    ha: { mode: 'zookeeper', configured: 'zookeeper', source: 'kubernetes', zookeeper },
    rest: recovered
      ? { url: 'http://jm:8081', reachable: true, taskManagers: 1, jobs: [{ id: JOB_ID, name: 'counter', state: 'RUNNING', tasksRunning: 2, tasksTotal: 2 }] }
      : { url: 'http://jm:8081', reachable: false, error: 'HTTP 503: Service temporarily unavailable due to an ongoing leader election. Please refresh.', jobs: [] },
    knownJobs: [],
    memory: { remediations: [], podDeletions: [] },
  };
}

async function run(restoredFrom: boolean): Promise<{ outcome: RemediationResult | { type: string; message: string }; calls: string[] }> {
  let observations = 0;
  const { result, calls } = await h.withWorker(
    {
      // The first look and the one under the lock see the election; after the wait the standby leads.
      observeClusterHealth: () => cluster(observations++ > 1),
      acquireOperationLock: () => ({ acquired: true }),
      releaseOperationLock: () => undefined,
      awaitClusterRecovery: () => ({ recovered: true, detail: 'leader elected', waitedMs: 2_000 }),
      observeJob: ({ jobId }) => runningJob({ id: jobId }),
      verifyDeployment: ({ jobId }) => {
        const job = runningJob({ id: jobId, ...(restoredFrom ? { restoredFrom: { path: `file:/data/checkpoints/${JOB_ID}/chk-7`, isSavepoint: false, restoredAt: Date.now() - 3_000, checkpointId: 7 } } : {}) });
        return { verified: true, summary: restoredFrom ? 'restored from chk-7, checkpoint 8 completed' : 'running', job, runningSince: Date.now() };
      },
      recordEscalation: () => ({ notify: true }),
      notifyEscalation: () => ({ sent: false, detail: 'no escalation webhook configured' }),
      emitClusterEvent: () => undefined,
    },
    async (taskQueue) => {
      const handle = await h.env!.client.workflow.start('remediationWorkflow', { taskQueue, workflowId: `remediate-zk-${Date.now()}`, args: [{ cluster: { namespace: 'flink', name: 'orders-jobmanager' } }] });
      return handle.result().then(
        (r) => r as RemediationResult,
        (error: WorkflowFailedError) => error.cause as unknown as { type: string; message: string },
      );
    },
  );
  return { outcome: result, calls: names(calls) };
}

test('the standby took over and the job came back from its checkpoint: recovered, verified, nothing destructive', async () => {
  const { outcome, calls } = await run(true);
  const result = outcome as RemediationResult;
  expect(result.outcome).toBe('recovered');
  expect(result.verified).toEqual([expect.objectContaining({ jobId: JOB_ID, jobName: 'counter', restoredFrom: `file:/data/checkpoints/${JOB_ID}/chk-7` })]);
  expect(calls).toContain('verifyDeployment');
  expect(calls).not.toContain('deleteJobManagerPod');
}, 60_000);

test('the job came back without its state although ZooKeeper held a checkpoint for it: a human is needed', async () => {
  const { outcome } = await run(false);
  expect(outcome).toMatchObject({ type: 'NeedsHuman', message: expect.stringMatching(new RegExp(`job counter \\(${JOB_ID}\\) came back without its state: ZooKeeper held checkpoint 7 for it, but it restored from none`)) as unknown });
}, 60_000);
