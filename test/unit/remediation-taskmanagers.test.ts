import type { ClusterHealthSnapshot, TaskManagerSide } from '../../workflows/model/cluster-health';
import { describeAction, diagnose, type DiagnoseContext, type Diagnosis } from '../../workflows/remediation/diagnose';
import { RemediationLimitsSchema } from '../../workflows/remediation/request';
import { jobReleaseStatus } from '../../activities/remediation/job-release';

// A job lost with its JobManager (no HA): restart the TaskManagers still tied to the JobManager that is gone, or wait
// for their heartbeat timeout. A pure decision with its reason, guarded (./workflows/remediation/taskmanagers.ts).
const NOW = Date.parse('2026-12-02T12:00:00Z');
const JOB_ID = 'a'.repeat(32);
const OTHER = 'b'.repeat(32);

const tmPod = (name: string, overrides: Partial<TaskManagerSide['pods'][number]> = {}) => ({ name, uid: `uid-${name}`, ready: true, terminating: false, ...overrides });

/** The new JobManager is up, knows no job, and its one TaskManager has not registered with it (still tied to the old one). */
function lost(overrides: Partial<ClusterHealthSnapshot> = {}): ClusterHealthSnapshot {
  return {
    cluster: { namespace: 'flink', name: 'flink-jobmanager' },
    observedAt: NOW,
    kind: 'session-job',
    jobManager: { name: 'flink-jobmanager', replicas: 1, readyReplicas: 1, image: 'flink:1.20' },
    pods: [{ name: 'jm-new', uid: 'u-jm', phase: 'Running', ready: true, terminating: false, createdAt: NOW - 10_000, restartCount: 0 }],
    taskManagerReplicas: 1,
    taskManagers: { pods: [tmPod('tm-1')], registered: [] },
    ha: { mode: 'none', source: 'rest' },
    rest: { url: 'http://flink-jobmanager:8081', reachable: true, flinkVersion: '1.20.5', taskManagers: 0, jobs: [] },
    checkpointDir: 'file:///ckpt',
    knownJobs: [
      {
        jobKey: 'counter-1',
        jobName: 'counter',
        jobId: JOB_ID,
        version: { kind: 'jar', jar: '/jars/counter.jar' },
        restoreCandidates: [{ path: `file:///ckpt/${JOB_ID}/chk-7`, source: 'checkpoint', at: NOW - 5_000, checkpointId: 7 }],
      },
    ],
    memory: { remediations: [], podDeletions: [] },
    ...overrides,
  };
}

function context(overrides: Partial<DiagnoseContext> = {}, limits: Record<string, unknown> = {}): DiagnoseContext {
  return { nowMs: NOW, limits: RemediationLimitsSchema.parse(limits), taken: [], waitedOut: {}, counted: false, taskManagerRestart: true, ...overrides };
}

const kinds = (d: Diagnosis) => d.plan.map((a) => a.kind);
const tied = (d: Diagnosis) => d.findings.find((f) => f.code === 'taskmanagers-tied-to-lost-jobmanager');

describe('TaskManagers still tied to the JobManager that lost the job', () => {
  test('restarted first (the new JobManager runs no job), then the job is resubmitted; the reason says why', () => {
    const d = diagnose(lost(), context());
    expect(kinds(d)).toEqual(['restart-taskmanagers', 'resubmit-job']);
    expect(d.plan[0]).toEqual({ kind: 'restart-taskmanagers', pods: [{ name: 'tm-1', uid: 'uid-tm-1' }], jobIds: [JOB_ID] });
    const finding = tied(d)!;
    expect(finding.severity).toBe('warning');
    expect(finding.reason).toMatch(/0 of 1 ready TaskManager pod\(s\) registered with the new JobManager: TaskManagers stay tied to the JobManager that is gone/);
    expect(finding.reason).toMatch(/heartbeat\.timeout, 50 s by default/);
    expect(finding.reason).toMatch(/the new JobManager runs no job, so restarting the TaskManager pod\(s\) stops nothing, and fresh ones register at once \(at most once per 30m\)/);
    expect(d.summary).toContain('next: restart TaskManager pod(s) tm-1 so they register with the new JobManager at once, instead of waiting for their heartbeat to the lost one to time out; resubmit counter');
    expect(describeAction(d.plan[0]!)).toMatch(/^restart TaskManager pod\(s\) tm-1/);
  });

  test('a registered TaskManager that still holds slots of the lost job is restarted too; free ones are not', () => {
    const holding = lost({ taskManagers: { pods: [tmPod('tm-1')], registered: [{ id: 'tm-a', jobIds: [JOB_ID] }] } });
    expect(kinds(diagnose(holding, context()))).toEqual(['restart-taskmanagers', 'resubmit-job']);
    expect(tied(diagnose(holding, context()))!.reason).toMatch(/TaskManager\(s\) tm-a still hold slots of lost job\(s\) a{32}/);
    const free = lost({ taskManagers: { pods: [tmPod('tm-1')], registered: [{ id: 'tm-a', jobIds: [] }] } });
    expect(kinds(diagnose(free, context()))).toEqual(['resubmit-job']);
    expect(tied(diagnose(free, context()))).toBeUndefined();
  });

  test('with lostJobRecovery wait-for-taskmanagers: no restart, the resubmission waits, and the reason says so', () => {
    const d = diagnose(lost(), context({}, { lostJobRecovery: 'wait-for-taskmanagers' }));
    expect(kinds(d)).toEqual(['resubmit-job']);
    expect(tied(d)!.reason).toMatch(/flinkops waits for them \(lost-job recovery: wait-for-taskmanagers\)$/);
    expect(tied(d)!.action).toEqual({ kind: 'none' });
  });

  test('never while the new JobManager runs a job: its tasks would stop', () => {
    // Submitted to the new JobManager by someone else: it runs on the TaskManager that did register.
    const running = lost({
      taskManagers: { pods: [tmPod('tm-1'), tmPod('tm-2')], registered: [{ id: 'tm-b', jobIds: [OTHER] }] },
      rest: { ...lost().rest, taskManagers: 1, jobs: [{ id: OTHER, name: 'orders', state: 'RUNNING', tasksRunning: 2, tasksTotal: 2 }] },
    });
    const d = diagnose(running, context());
    expect(kinds(d)).toEqual(['resubmit-job']);
    expect(tied(d)!.reason).toMatch(new RegExp(`the JobManager runs orders \\(${OTHER}\\), which a restart of its TaskManagers would stop, so flinkops waits for them instead`));
  });

  test('at most once per window per cluster, and once per run: then it waits for them', () => {
    const memory = { remediations: [], podDeletions: [], taskManagerRestarts: [{ at: NOW - 600_000, pods: ['tm-0'], workflowId: 'flinkops-watch-x' }] };
    const recent = diagnose(lost({ memory }), context());
    expect(kinds(recent)).toEqual(['resubmit-job']);
    expect(tied(recent)!.reason).toMatch(/its TaskManagers were restarted 10m ago \(by flinkops-watch-x\); within the 30m window flinkops waits for them/);
    expect(kinds(diagnose(lost({ memory }), context({}, { taskManagerRestartWindow: '5m' })))).toEqual(['restart-taskmanagers', 'resubmit-job']);
    const taken = [{ kind: 'restart-taskmanagers' as const, target: 'tm-1', at: NOW - 5_000, detail: 'restarting TaskManager pod(s) tm-1' }];
    const again = diagnose(lost(), context({ taken, counted: true }));
    expect(kinds(again)).toEqual(['resubmit-job']);
    expect(tied(again)!.reason).toMatch(/restarting TaskManager pod\(s\) tm-1 already in this run/);
  });

  test('counts against the hourly limit like the resubmission it serves', () => {
    const memory = { remediations: [1, 2, 3].map((i) => ({ at: NOW - i * 60_000, workflowId: `w${i}` })), podDeletions: [] };
    expect(diagnose(lost({ memory }), context()).escalation).toMatch(/rate limit: 3 remediation\(s\) of this cluster in the last hour/);
  });

  test('not without a lost job, with HA, when the TaskManagers were not read, or in a run that started on an older worker', () => {
    const healthy = lost({ rest: { ...lost().rest, taskManagers: 1, jobs: [{ id: JOB_ID, name: 'counter', state: 'RUNNING', tasksRunning: 2, tasksTotal: 2 }] } });
    expect(diagnose(healthy, context()).plan).toEqual([]);
    expect(kinds(diagnose(lost({ ha: { mode: 'kubernetes', source: 'rest' } }), context()))).not.toContain('restart-taskmanagers');
    expect(kinds(diagnose(lost({ taskManagers: { pods: [tmPod('tm-1')] } }), context()))).toEqual(['resubmit-job']);
    const older = diagnose(lost(), context({ taskManagerRestart: false }));
    expect(kinds(older)).toEqual(['resubmit-job']);
    expect(tied(older)).toBeUndefined();
  });
});

describe('before the Service routes to the new JobManager', () => {
  /** The new JobManager pod runs, not ready yet; asked on its own address it answers, with no job and no TaskManager. */
  const starting = (answer: Partial<NonNullable<ClusterHealthSnapshot['podAnswer']>> = {}) =>
    lost({
      pods: [{ name: 'jm-new', uid: 'u-jm', phase: 'Running', ready: false, terminating: false, createdAt: NOW - 3_000, restartCount: 0 }],
      jobManager: { name: 'flink-jobmanager', replicas: 1, readyReplicas: 0, image: 'flink:1.20' },
      rest: { url: 'http://flink-jobmanager:8081', reachable: false, error: 'ECONNREFUSED', jobs: [] },
      taskManagers: { pods: [tmPod('tm-1')] },
      podAnswer: { pod: 'jm-new', jobs: [], registered: [], ...answer },
    });

  test('the TaskManagers restart while it becomes ready (they take longer to start), then it is waited for', () => {
    const d = diagnose(starting(), context());
    expect(kinds(d)).toEqual(['restart-taskmanagers', 'wait-for-jobmanager']);
    expect(tied(d)!.reason).toMatch(/0 of 1 ready TaskManager pod\(s\) registered with JobManager pod jm-new \(asked on its own address, not ready yet\)/);
    expect(tied(d)!.reason).toMatch(/JobManager pod jm-new \(asked on its own address, not ready yet\) runs no job, so restarting/);
  });

  test('not when that JobManager runs a job, nothing would be resubmitted, or it did not answer', () => {
    const running = diagnose(starting({ jobs: [{ id: OTHER, name: 'orders', state: 'RUNNING' }] }), context());
    expect(kinds(running)).toEqual(['wait-for-jobmanager']);
    expect(tied(running)!.reason).toMatch(/runs orders/);
    const noRestorePoint = starting();
    noRestorePoint.knownJobs = [{ ...noRestorePoint.knownJobs[0]!, restoreCandidates: [] }];
    expect(kinds(diagnose(noRestorePoint, context()))).toEqual(['wait-for-jobmanager']);
    const silent = starting();
    delete silent.podAnswer;
    expect(kinds(diagnose(silent, context()))).toEqual(['wait-for-jobmanager']);
    expect(kinds(diagnose(starting(), context({ taskManagerRestart: false })))).toEqual(['wait-for-jobmanager']);
  });
});

describe('the resubmission waits for fresh TaskManagers', () => {
  test('not while a restarted TaskManager pod is still shutting down (it may be registered, its slots about to vanish)', () => {
    const observation = { readyTaskManagerPods: 1, terminatingTaskManagerPods: 1, taskManagers: [{ id: 'tm-new', jobIds: [] }], jobKnown: false };
    expect(jobReleaseStatus(JOB_ID, observation)).toEqual({ released: false, detail: '1 TaskManager pod(s) still shutting down' });
    expect(jobReleaseStatus(JOB_ID, { ...observation, terminatingTaskManagerPods: 0 })).toEqual({ released: true, detail: `1 TaskManager(s) registered, none holds job ${JOB_ID}` });
  });

  test('after a restart: submitted as soon as the restarted pods are gone, while fresh TaskManagers still start (only they can offer slots)', () => {
    const starting = { readyTaskManagerPods: 0, taskManagers: [], jobKnown: false };
    expect(jobReleaseStatus(JOB_ID, { ...starting, terminatingTaskManagerPods: 1, restarted: { remaining: 1, fresh: 1 } })).toEqual({
      released: false,
      detail: '1 restarted TaskManager pod(s) still shutting down',
    });
    expect(jobReleaseStatus(JOB_ID, { ...starting, restarted: { remaining: 0, fresh: 0 } })).toEqual({ released: false, detail: 'no fresh TaskManager pod yet' });
    expect(jobReleaseStatus(JOB_ID, { ...starting, restarted: { remaining: 0, fresh: 1 } })).toEqual({
      released: true,
      detail: 'the restarted TaskManagers are gone; 1 fresh TaskManager pod(s) (0 registered so far) offer their slots as they register',
    });
    // Without a restart, the same observation is not free: a TaskManager not registered yet may be tied to the lost JobManager.
    expect(jobReleaseStatus(JOB_ID, { ...starting, readyTaskManagerPods: 1 }).released).toBe(false);
  });
});
