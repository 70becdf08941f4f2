import type { ClusterHealthSnapshot, JobManagerPodSnapshot, KnownJob } from '../../workflows/model/cluster-health';
import { diagnose, escalationFingerprint, newestRestoreCandidate, type DiagnoseContext, type Diagnosis } from '../../workflows/remediation/diagnose';
import { doctorWorkflowId, remediationWorkflowId, watchScheduleId } from '../../workflows/remediation/ids';
import { parseRemediationRequest, RemediationLimitsSchema } from '../../workflows/remediation/request';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const JOB_ID = 'a'.repeat(32);
const JAR = { kind: 'jar' as const, jar: '/jars/counter.jar', args: ['--output', '/tmp/out'] };

function pod(name: string, overrides: Partial<JobManagerPodSnapshot> = {}): JobManagerPodSnapshot {
  return { name, uid: `uid-${name}`, phase: 'Running', ready: true, terminating: false, createdAt: NOW - 600_000, restartCount: 0, ...overrides };
}

function knownJob(overrides: Partial<KnownJob> = {}): KnownJob {
  return {
    jobKey: 'counter-abc123',
    jobName: 'counter',
    jobId: JOB_ID,
    version: JAR,
    restoreCandidates: [{ path: `file:///ckpt/${JOB_ID}/chk-7`, source: 'checkpoint', at: NOW - 5_000, checkpointId: 7 }],
    ...overrides,
  };
}

/** A healthy single-JobManager session cluster without HA, running the known job. */
function snapshot(overrides: Partial<ClusterHealthSnapshot> = {}): ClusterHealthSnapshot {
  return {
    cluster: { namespace: 'flink', name: 'flink' },
    observedAt: NOW,
    kind: 'session-job',
    jobManager: { name: 'flink-jobmanager', replicas: 1, readyReplicas: 1, image: 'flink:1.20' },
    pods: [pod('flink-jobmanager-1')],
    taskManagerReplicas: 1,
    ha: { mode: 'none', source: 'rest' },
    rest: { url: 'http://flink-jobmanager:8081', reachable: true, flinkVersion: '1.20.5', taskManagers: 1, jobs: [{ id: JOB_ID, name: 'counter', state: 'RUNNING', tasksRunning: 2, tasksTotal: 2 }] },
    checkpointDir: 'file:///ckpt',
    knownJobs: [knownJob()],
    memory: { remediations: [], podDeletions: [] },
    ...overrides,
  };
}

const HA: ClusterHealthSnapshot['ha'] = {
  mode: 'kubernetes',
  configured: 'kubernetes',
  source: 'rest',
  clusterId: 'flink',
  leaseDurationMs: 6_000,
  leader: { configMap: 'flink-cluster-config-map', exists: true, holderIdentity: 'leader-1', renewTime: NOW - 1_000 },
};

function context(overrides: Partial<DiagnoseContext> = {}): DiagnoseContext {
  return { nowMs: NOW, limits: RemediationLimitsSchema.parse({}), taken: [], waitedOut: {}, counted: false, ...overrides };
}

const codes = (d: Diagnosis) => d.findings.filter((f) => f.severity !== 'info').map((f) => f.code);
const plan = (d: Diagnosis) => d.plan.map((a) => a.kind);

describe('healthy clusters', () => {
  test('an application cluster without HA: healthy, with the risk named; with HA or as a session cluster: not named', () => {
    const application = snapshot({ kind: 'application', knownJobs: [] });
    const allCodes = (d: Diagnosis) => d.findings.map((f) => f.code);
    const withoutHa = diagnose(application, context());
    expect(withoutHa.status).toBe('healthy');
    expect(plan(withoutHa)).toEqual([]);
    expect(withoutHa.findings.find((f) => f.code === 'application-without-ha')?.reason).toMatch(/JobManager restarts.*progress since is lost.*turn on Kubernetes HA/);
    expect(allCodes(diagnose({ ...application, ha: HA }, context()))).not.toContain('application-without-ha');
    expect(allCodes(diagnose(snapshot(), context()))).not.toContain('application-without-ha');
  });

  test('one ready JobManager without HA and the known job RUNNING: nothing to do', () => {
    const d = diagnose(snapshot(), context());
    expect(d.status).toBe('healthy');
    expect(d.plan).toEqual([]);
    expect(d.findings.map((f) => f.code)).toEqual(['jobmanager-healthy', 'job-running']);
    expect(d.summary).toBe('flink/flink is healthy');
  });

  test('several JobManagers with Kubernetes HA are standbys, not a problem', () => {
    const d = diagnose(snapshot({ ha: HA, jobManager: { name: 'flink-jobmanager', replicas: 2, readyReplicas: 2, image: 'flink:1.20' }, pods: [pod('a'), pod('b')] }), context());
    expect(d.status).toBe('healthy');
    expect(d.findings.find((f) => f.code === 'jobmanager-standby-with-ha')?.reason).toMatch(/2 JobManager replicas with kubernetes high availability: one leads/);
  });

  test('a job stopped in Flink (CANCELED) is left alone', () => {
    const d = diagnose(snapshot({ rest: { ...snapshot().rest, jobs: [{ id: JOB_ID, name: 'counter', state: 'CANCELED' }] } }), context());
    expect(d.status).toBe('healthy');
    expect(d.findings.find((f) => f.code === 'job-stopped')?.reason).toMatch(/CANCELED in Flink: it was stopped, flinkops leaves it stopped/);
  });
});

describe('healthy means every job RUNNING with all its tasks', () => {
  test('a known job RUNNING with its tasks only scheduled is recovering, not healthy; so is one whose tasks could not be read', () => {
    const scheduled = diagnose(snapshot({ rest: { ...snapshot().rest, jobs: [{ id: JOB_ID, name: 'counter', state: 'RUNNING', tasksRunning: 0, tasksTotal: 2 }] } }), context());
    expect(scheduled.status).toBe('unhealthy');
    expect(scheduled.findings.find((f) => f.code === 'job-recovering')?.reason).toMatch(/is RUNNING, 0\/2 tasks running/);
    const unknown = diagnose(snapshot({ rest: { ...snapshot().rest, jobs: [{ id: JOB_ID, name: 'counter', state: 'RUNNING', tasksUnknown: true }] } }), context());
    expect(unknown.status).toBe('unhealthy');
    expect(unknown.findings.find((f) => f.code === 'job-recovering')?.reason).toMatch(/its tasks could not be read/);
  });

  test('a job flinkops was never told about counts too, and no TaskManager with jobs to run is not healthy', () => {
    const OTHER = 'd'.repeat(32);
    const other = { id: OTHER, name: 'other', state: 'RUNNING' as const, tasksRunning: 0, tasksTotal: 2 };
    const d = diagnose(snapshot({ rest: { ...snapshot().rest, jobs: [...snapshot().rest.jobs, other] } }), context());
    expect(d.status).toBe('unhealthy');
    expect(d.plan).toEqual([{ kind: 'await-recovery', jobIds: [OTHER], leader: false }]);
    const noTaskManagers = diagnose(snapshot({ rest: { ...snapshot().rest, taskManagers: 0 } }), context());
    expect(noTaskManagers.status).toBe('unhealthy');
    expect(noTaskManagers.findings.find((f) => f.code === 'no-taskmanagers')?.reason).toMatch(/no TaskManager is registered with the JobManager, so none of its 1 job\(s\) can run/);
  });
});

describe('two JobManagers without HA (the Bitnami replicaCount case)', () => {
  const OTHER_ID = 'b'.repeat(32);
  const split = snapshot({
    jobManager: { name: 'flink-jobmanager', replicas: 2, readyReplicas: 2, image: 'flink:1.20' },
    pods: [
      pod('flink-jobmanager-1', { createdAt: NOW - 600_000, jobs: [] }),
      pod('flink-jobmanager-2', { createdAt: NOW - 300_000, jobs: [{ id: JOB_ID, name: 'counter', state: 'RUNNING' }] }),
    ],
    rest: { ...snapshot().rest, answers: 2, distinctAnswers: 2 },
  });

  test('is critical, says why in plain words, and scales to 1 keeping the JobManager that runs the job', () => {
    const d = diagnose(split, context());
    expect(d.status).toBe('unhealthy');
    const finding = d.findings.find((f) => f.code === 'jobmanager-replicas-without-ha')!;
    expect(finding.severity).toBe('critical');
    expect(finding.reason).toMatch(
      /^2 JobManager replicas without high availability: requests are split between two independent leaders; flink-jobmanager-1 runs no job; flink-jobmanager-2 runs counter \(a{32}\)$/,
    );
    expect(d.plan).toEqual([{ kind: 'scale-jobmanager', deployment: 'flink-jobmanager', from: 2, to: 1, keep: 'flink-jobmanager-2', remove: ['flink-jobmanager-1'] }]);
  });

  test('jobs on both JobManagers: the one with more stays; the jobs of the other must be ones flinkops can bring back', () => {
    const THIRD = 'c'.repeat(32);
    const both = {
      ...split,
      pods: [
        pod('flink-jobmanager-1', { jobs: [{ id: OTHER_ID, name: 'other', state: 'RUNNING' as const }, { id: JOB_ID, name: 'counter', state: 'RUNNING' as const }] }),
        pod('flink-jobmanager-2', { jobs: [{ id: THIRD, name: 'third', state: 'RUNNING' as const }] }),
      ],
    };
    const known = [knownJob(), knownJob({ jobId: OTHER_ID, jobName: 'other', jobKey: 'other-1' })];
    const risky = diagnose({ ...both, knownJobs: known }, context());
    expect(risky.plan).toEqual([]);
    expect(risky.escalation).toMatch(
      /keeps flink-jobmanager-1 and removes flink-jobmanager-2, which would take 1 job\(s\) flinkops cannot bring back: third \(c{32}\) on flink-jobmanager-2: flinkops does not know its jar/,
    );
    expect(risky.findings.find((f) => f.code === 'jobs-at-risk')?.severity).toBe('critical');
    // A known job without anything to restore it from is at risk too.
    const bare = diagnose({ ...both, knownJobs: [...known, knownJob({ jobId: THIRD, jobName: 'third', jobKey: 'third-1', restoreCandidates: [], checkpointProblem: 'no checkpoints of job c in file:///ckpt' })] }, context());
    expect(bare.escalation).toMatch(/third \(c{32}\) on flink-jobmanager-2: no retained checkpoint or recorded savepoint \(no checkpoints of job c/);
    // Registered and restorable: the scale-down goes ahead; the job comes back on the JobManager kept.
    const safe = diagnose({ ...both, knownJobs: [...known, knownJob({ jobId: THIRD, jobName: 'third', jobKey: 'third-1' })] }, context());
    expect(safe.plan).toEqual([{ kind: 'scale-jobmanager', deployment: 'flink-jobmanager', from: 2, to: 1, keep: 'flink-jobmanager-1', remove: ['flink-jobmanager-2'] }]);
  });

  test('a job only the JobManager to be removed runs, unknown to flinkops, stops it; so does a JobManager it could not ask', () => {
    const unknownJob = { ...split, pods: [pod('flink-jobmanager-1', { jobs: [{ id: OTHER_ID, name: 'other', state: 'RUNNING' as const }] }), pod('flink-jobmanager-2', { jobs: [{ id: 'c'.repeat(32), name: 'mine', state: 'RUNNING' as const }], createdAt: NOW })] };
    const d = diagnose(unknownJob, context());
    expect(d.plan).toEqual([]);
    expect(d.escalation).toMatch(/would take 1 job\(s\) flinkops cannot bring back: mine \(c{32}\) on flink-jobmanager-2: flinkops does not know its jar \(flinkops register\)/);
    const unasked = diagnose({ ...split, pods: [split.pods[0]!, pod('flink-jobmanager-2', { inventoryError: 'ECONNREFUSED' })] }, context());
    expect(unasked.plan).toEqual([]);
    expect(unasked.escalation).toMatch(/which jobs JobManager pod\(s\) flink-jobmanager-2 \(ECONNREFUSED\) run is not known/);
  });

  test('does not judge jobs while two JobManagers answer', () => {
    const d = diagnose({ ...split, rest: { ...split.rest, jobs: [] } }, context());
    expect(codes(d)).toEqual(['jobmanager-replicas-without-ha']);
    expect(d.findings.find((f) => f.code === 'jobs-not-observable')?.action).toEqual({ kind: 'deferred', until: 'a single JobManager answers' });
  });

  test('the rate limit stops it once the cluster was remediated too often this hour', () => {
    const memory = { remediations: [1, 2, 3].map((i) => ({ at: NOW - i * 600_000, workflowId: `w${i}` })), podDeletions: [] };
    const d = diagnose({ ...split, memory }, context());
    expect(d.plan).toEqual([]);
    expect(d.escalation).toMatch(/rate limit: 3 remediation\(s\) of this cluster in the last hour \(at most 3\)/);
    // Runs older than an hour do not count, and a run that already acted is not stopped half way.
    expect(diagnose({ ...split, memory: { ...memory, remediations: memory.remediations.map((r) => ({ ...r, at: r.at - 3_600_000 })) } }, context()).plan).toHaveLength(1);
    expect(diagnose({ ...split, memory }, context({ counted: true })).plan).toHaveLength(1);
  });
});

describe('a JobManager without HA that restarted', () => {
  const starting = snapshot({
    pods: [pod('old', { terminating: true }), pod('new', { phase: 'Pending', ready: false, waitingReason: 'ContainerCreating' })],
    jobManager: { name: 'flink-jobmanager', replicas: 1, readyReplicas: 0, image: 'flink:1.20' },
    rest: { url: 'http://flink-jobmanager:8081', reachable: false, error: 'ECONNREFUSED', jobs: [] },
  });

  test('first waits for the new JobManager; one that stays unready is deleted once, then a human is needed', () => {
    const d = diagnose(starting, context());
    expect(plan(d)).toEqual(['wait-for-jobmanager']);
    expect(d.findings.find((f) => f.code === 'jobmanager-starting')?.reason).toMatch(/no JobManager is ready \(new ContainerCreating\)/);
    const timedOut = diagnose(starting, context({ waitedOut: { jobManager: true } }));
    expect(timedOut.plan).toEqual([{ kind: 'delete-pod', pod: 'new', uid: 'uid-new' }]);
    const taken = [{ kind: 'delete-pod' as const, target: 'older', at: NOW - 60_000, detail: 'deleting JobManager pod older' }];
    const again = diagnose(starting, context({ waitedOut: { jobManager: true }, taken, counted: true }));
    expect(again.escalation).toBe('deleting JobManager pod older did not help: its replacement new is stuck the same way');
    const noPod = diagnose({ ...starting, pods: [] }, context({ waitedOut: { jobManager: true } }));
    expect(noPod.escalation).toMatch(/no JobManager became ready and reachable within 3m/);
  });

  const empty = snapshot({ rest: { ...snapshot().rest, jobs: [] } });

  test('resubmits the lost job with its id from the newest checkpoint', () => {
    const d = diagnose(empty, context());
    const finding = d.findings.find((f) => f.code === 'job-lost')!;
    expect(finding.reason).toMatch(/job counter \(a{32}\) is gone: the JobManager runs without high availability and does not know it/);
    expect(d.plan).toEqual([
      {
        kind: 'resubmit-job',
        jobKey: 'counter-abc123',
        jobName: 'counter',
        jobId: JOB_ID,
        version: JAR,
        restore: { path: `file:///ckpt/${JOB_ID}/chk-7`, source: 'checkpoint', at: NOW - 5_000, checkpointId: 7 },
      },
    ]);
    expect(d.summary).toContain(`next: resubmit counter as job ${JOB_ID} from checkpoint file:///ckpt/${JOB_ID}/chk-7 once the TaskManagers let go of it, then verify`);
  });

  test('a recorded savepoint newer than every checkpoint wins', () => {
    const savepoint = { path: 'file:///sp/savepoint-1', source: 'savepoint' as const, at: NOW - 1_000 };
    const d = diagnose({ ...empty, knownJobs: [knownJob({ restoreCandidates: [...knownJob().restoreCandidates, savepoint] })] }, context());
    expect(d.plan[0]).toMatchObject({ kind: 'resubmit-job', restore: savepoint });
  });

  test('never resubmits without state or without knowing the jar: it escalates', () => {
    const noState = diagnose({ ...empty, knownJobs: [knownJob({ restoreCandidates: [], checkpointProblem: 'no checkpoints of job x in file:///ckpt' })] }, context());
    expect(noState.plan).toEqual([]);
    expect(noState.escalation).toMatch(/no retained checkpoint or recorded savepoint to restore it from \(no checkpoints of job x in file:\/\/\/ckpt\): resubmitting would start it without its state/);
    const noJar = diagnose({ ...empty, knownJobs: [knownJob({ version: undefined })] }, context());
    expect(noJar.escalation).toMatch(/flinkops does not know its jar/);
  });

  test('a job resubmitted in this run and gone again is not resubmitted a second time', () => {
    const taken = [{ kind: 'resubmit-job' as const, target: JOB_ID, at: NOW - 60_000, detail: 'resubmitting counter as job aaa' }];
    const d = diagnose(empty, context({ taken, counted: true }));
    expect(d.plan).toEqual([]);
    expect(d.escalation).toMatch(/resubmitting counter as job aaa did not help/);
  });

  test('a job Flink is restarting by itself is waited for, not resubmitted', () => {
    const d = diagnose(snapshot({ rest: { ...snapshot().rest, jobs: [{ id: JOB_ID, name: 'counter', state: 'RESTARTING', tasksRunning: 0, tasksTotal: 2 }] } }), context());
    expect(d.plan).toEqual([{ kind: 'await-recovery', jobIds: [JOB_ID], leader: false }]);
  });

  test('a FAILED job needs a human: it failed by itself', () => {
    const d = diagnose(snapshot({ rest: { ...snapshot().rest, jobs: [{ id: JOB_ID, name: 'counter', state: 'FAILED' }] } }), context());
    expect(d.escalation).toMatch(/FAILED in Flink: the job itself failed/);
  });
});

describe('with Kubernetes HA, Flink recovers by itself', () => {
  const recovering = snapshot({
    ha: { ...HA, leader: { ...HA.leader!, renewTime: NOW - 40_000 } },
    rest: { url: 'http://flink-jobmanager:8081', reachable: true, jobs: [] },
  });

  test('a stale leader and a job not back yet: wait and verify, nothing destructive', () => {
    const d = diagnose(recovering, context());
    expect(codes(d).sort()).toEqual(['ha-leader-stale', 'job-recovering']);
    expect(d.findings.find((f) => f.code === 'ha-leader-stale')?.reason).toMatch(/last renewed its lease 40s ago \(lease 6.0s\)/);
    expect(d.plan).toEqual([{ kind: 'await-recovery', jobIds: [JOB_ID], leader: true }]);
  });

  test('if Flink does not recover in time and nothing may be deleted, a human is needed', () => {
    const d = diagnose(recovering, context({ waitedOut: { recovery: true } }));
    expect(d.escalation).toMatch(/Flink did not recover job\(s\) a{32} by itself within 2m/);
  });

  test('a crash-looping JobManager is deleted only after the HA recovery timeout', () => {
    const crashing = snapshot({
      ha: HA,
      pods: [pod('jm-1', { ready: false, waitingReason: 'CrashLoopBackOff', restartCount: 4, lastTermination: { reason: 'Error', exitCode: 1 } })],
      rest: { url: 'x', reachable: false, jobs: [] },
    });
    expect(diagnose(crashing, context()).plan).toEqual([{ kind: 'await-recovery', jobIds: [JOB_ID], leader: true }]);
    expect(diagnose(crashing, context({ waitedOut: { recovery: true } })).plan).toEqual([{ kind: 'delete-pod', pod: 'jm-1', uid: 'uid-jm-1' }]);
  });
});

describe('a JobManager that cannot run', () => {
  const crashing = (reason = 'Error') =>
    snapshot({
      pods: [pod('jm-1', { ready: false, waitingReason: 'CrashLoopBackOff', restartCount: 3, lastTermination: { reason, exitCode: reason === 'OOMKilled' ? 137 : 1 } })],
      jobManager: { name: 'flink-jobmanager', replicas: 1, readyReplicas: 0, image: 'flink:1.20' },
      rest: { url: 'x', reachable: false, error: 'ECONNREFUSED', jobs: [] },
    });

  test('a crash loop deletes the pod once', () => {
    const d = diagnose(crashing(), context());
    expect(d.findings.find((f) => f.code === 'jobmanager-crash-looping')?.reason).toBe(
      'JobManager pod jm-1 is crash-looping (CrashLoopBackOff, 3 restart(s), last exit code 1 (Error)): the JobManager exits shortly after it starts, often because of a bad configuration',
    );
    expect(d.plan).toEqual([{ kind: 'delete-pod', pod: 'jm-1', uid: 'uid-jm-1' }]);
  });

  test('not twice in one run, and not again within the pod deletion window', () => {
    const taken = [{ kind: 'delete-pod' as const, target: 'jm-0', at: NOW - 20_000, detail: 'deleting JobManager pod jm-0' }];
    expect(diagnose(crashing(), context({ taken, counted: true })).escalation).toBe('deleting JobManager pod jm-0 did not help: its replacement jm-1 is crash-looping too');
    const memory = { remediations: [], podDeletions: [{ at: NOW - 600_000, pod: 'jm-0', workflowId: 'earlier' }] };
    expect(diagnose({ ...crashing(), memory }, context()).escalation).toMatch(/already deleted 10m ago \(jm-0, by earlier\); within the 30m window/);
    const longAgo = { remediations: [], podDeletions: [{ at: NOW - 3_600_000, pod: 'jm-0', workflowId: 'earlier' }] };
    expect(plan(diagnose({ ...crashing(), memory: longAgo }, context()))).toEqual(['delete-pod']);
  });

  test('OOMKilled, an unpullable image or a missing ConfigMap escalate at once: a new pod fails the same way', () => {
    expect(diagnose(crashing('OOMKilled'), context()).escalation).toMatch(/OOMKilled .*a new pod gets the same limit/);
    const pull = snapshot({ pods: [pod('jm-1', { ready: false, phase: 'Pending', waitingReason: 'ImagePullBackOff', waitingMessage: 'not found' })], rest: { reachable: false, jobs: [] } });
    expect(diagnose(pull, context()).escalation).toMatch(/jm-1 cannot start \(ImagePullBackOff: not found\)/);
  });

  test('a Deployment scaled to 0 is not started again', () => {
    const d = diagnose(snapshot({ jobManager: { name: 'flink-jobmanager', replicas: 0, readyReplicas: 0, image: 'x' }, pods: [], rest: { reachable: false, jobs: [] } }), context());
    expect(d.escalation).toMatch(/scaled to 0/);
  });

  test('the same problem gives the same escalation fingerprint, whichever guard stopped the run and whichever pod has it', () => {
    const taken = [{ kind: 'delete-pod' as const, target: 'jm-0', at: NOW - 20_000, detail: 'deleting JobManager pod jm-0' }];
    const first = diagnose(crashing(), context({ taken, counted: true }));
    const memory = { remediations: [1, 2, 3].map((i) => ({ at: NOW - i * 60_000, workflowId: `w${i}` })), podDeletions: [] };
    const second = diagnose({ ...crashing(), pods: [pod('jm-2', { ready: false, waitingReason: 'CrashLoopBackOff', restartCount: 1 })], memory }, context());
    expect(second.escalation).toMatch(/rate limit/);
    expect(escalationFingerprint(first)).toBe(escalationFingerprint(second));
    expect(escalationFingerprint(first)).not.toBe(escalationFingerprint(diagnose(crashing('OOMKilled'), context())));
  });
});

describe('what blocks or stops a remediation', () => {
  test('another flinkops operation holding the cluster (an upgrade stops its job on purpose)', () => {
    const d = diagnose(snapshot({ rest: { ...snapshot().rest, jobs: [] }, lockHolder: { workflowId: 'flinkops-upgrade-x', operation: 'upgrade', since: 'now' } }), context());
    expect(d.status).toBe('blocked');
    expect(d.plan).toEqual([]);
    expect(d.findings.find((f) => f.code === 'operation-in-progress')?.reason).toMatch(/upgrade flinkops-upgrade-x holds the cluster/);
  });

  test('a cluster that is not there', () => {
    const d = diagnose(snapshot({ problem: 'no JobManager Deployment "x" in namespace flink', jobManager: undefined }), context());
    expect(d.escalation).toBe('no JobManager Deployment "x" in namespace flink');
  });

  test('REST unreachable although a JobManager is ready: wait, then delete that pod (with HA only after its recovery timeout)', () => {
    const s = snapshot({ rest: { url: 'http://x:8081', reachable: false, error: 'timed out', jobs: [] } });
    expect(plan(diagnose(s, context()))).toEqual(['wait-for-jobmanager']);
    expect(diagnose(s, context({ waitedOut: { jobManager: true } })).plan).toEqual([{ kind: 'delete-pod', pod: 'flink-jobmanager-1', uid: 'uid-flink-jobmanager-1' }]);
    const ha = { ...s, ha: HA };
    expect(plan(diagnose(ha, context({ waitedOut: { jobManager: true } })))).toEqual(['await-recovery']);
    expect(plan(diagnose(ha, context({ waitedOut: { jobManager: true, recovery: true } })))).toEqual(['delete-pod']);
  });
});

test('the newest restore candidate is picked by completion time', () => {
  expect(
    newestRestoreCandidate([
      { path: 'a', source: 'checkpoint', at: 10, checkpointId: 1 },
      { path: 'b', source: 'savepoint', at: 30 },
      { path: 'c', source: 'checkpoint', at: 20, checkpointId: 2 },
    ])?.path,
  ).toBe('b');
  expect(newestRestoreCandidate([])).toBeUndefined();
});

describe('requests and ids', () => {
  test('defaults, durations and field names in errors', () => {
    const parsed = parseRemediationRequest({ cluster: { namespace: 'flink', name: 'flink' }, limits: { haRecoveryTimeout: '30s' } });
    expect(parsed.ok && parsed.request.limits).toEqual({
      maxRemediationsPerHour: 3,
      podDeletionWindow: 1_800_000,
      haRecoveryTimeout: 30_000,
      jobManagerTimeout: 180_000,
      verifyTimeout: 180_000,
      stabilityWindow: 10_000,
      escalationRepeat: 3_600_000,
      lostJobRecovery: 'restart-taskmanagers',
      taskManagerRestartWindow: 1_800_000,
    });
    expect(parsed.ok && parsed.request.mode).toBe('remediate');
    const bad = parseRemediationRequest({ cluster: { namespace: 'Flink', name: 'flink' }, limits: { maxRemediationsPerHour: 0, podDeletionWindow: 'soon' } });
    expect(!bad.ok && bad.problem).toMatch(/cluster\.namespace: must be a Kubernetes namespace name/);
    expect(!bad.ok && bad.problem).toMatch(/limits\.maxRemediationsPerHour: must allow at least 1/);
    expect(!bad.ok && bad.problem).toMatch(/limits\.podDeletionWindow: invalid duration "soon"/);
  });

  test('deterministic ids per cluster', () => {
    const cluster = { namespace: 'flink', name: 'orders' };
    expect(remediationWorkflowId(cluster)).toBe('flinkops-remediate-flink-orders');
    expect(watchScheduleId(cluster)).toBe('flinkops-watch-flink-orders');
    expect(doctorWorkflowId(cluster, 5)).toBe('flinkops-doctor-flink-orders-5');
  });
});
