import type { ClusterHealthSnapshot, JobManagerPodSnapshot } from '../../workflows/model/cluster-health';
import type { ZooKeeperHaSnapshot } from '../../workflows/model/zookeeper';
import { diagnose, escalationFingerprint, type DiagnoseContext, type Diagnosis } from '../../workflows/remediation/diagnose';
import { RemediationLimitsSchema } from '../../workflows/remediation/request';
import { RECOVERED_AFTER_MS, zooKeeperVerification } from '../../workflows/remediation/zookeeper';

// The ZooKeeper HA part of the diagnosis, through the one diagnose() the workflow calls.
const NOW = Date.parse('2026-11-23T12:00:00Z');
const JOB_ID = 'a'.repeat(32);
const OTHER_ID = 'b'.repeat(32);
const LEADER_SESSION = '2240f6d3-0195-4901-8cf5-de7642e6d3a9';

function pod(name: string, overrides: Partial<JobManagerPodSnapshot> = {}): JobManagerPodSnapshot {
  return { name, uid: `uid-${name}`, phase: 'Running', ready: true, terminating: false, createdAt: NOW - 600_000, restartCount: 0, ...overrides };
}

function zookeeper(overrides: Partial<ZooKeeperHaSnapshot> = {}): ZooKeeperHaSnapshot {
  return {
    quorum: 'zk-0.zk:2181,zk-1.zk:2181,zk-2.zk:2181',
    root: '/flink',
    clusterId: '/orders',
    clusterIdDefaulted: false,
    path: '/flink/orders',
    settings: { sessionTimeoutMs: 20_000, connectionTimeoutMs: 15_000, tolerateSuspendedConnections: false, configured: ['high-availability.zookeeper.client.session-timeout'] },
    reachable: true,
    server: 'zk-0.zk:2181',
    grantedSessionTimeoutMs: 20_000,
    configMap: 'orders-config',
    leaders: [
      { component: 'dispatcher', address: 'pekko.tcp://flink@10.0.0.7:33181/user/rpc/dispatcher_1', leaderSessionId: LEADER_SESSION, owner: '0x100007862a80005', since: NOW - 180_000 },
      { component: 'rest_server', address: 'http://10.0.0.7:8081', leaderSessionId: LEADER_SESSION, owner: '0x100007862a80005', since: NOW - 180_000 },
    ],
    contenders: [
      { node: '_c_816a-latch-0000000002', session: '0x100007862a80005' },
      { node: '_c_61de-latch-0000000003', session: '0x100007862a80006' },
    ],
    jobEntries: { layout: 'jobgraphs', jobIds: [JOB_ID] },
    jobs: { [JOB_ID]: { storedAt: NOW - 3_600_000, jobMasterSince: NOW - 3_599_500, checkpoint: 42 } },
    jobManagers: [
      { pod: 'orders-jm-a', podIp: '10.0.0.7', rpcAddress: '10.0.0.7', rpcPort: 33181, restAddress: '10.0.0.7' },
      { pod: 'orders-jm-b', podIp: '10.0.0.8', rpcAddress: '10.0.0.8', rpcPort: 40099, restAddress: '10.0.0.8' },
    ],
    leaderPod: 'orders-jm-a',
    sharedWith: [],
    ...overrides,
  };
}

/** Two JobManagers with ZooKeeper HA, a leader and a standby, the job running and stored in ZooKeeper. */
function snapshot(zk: ZooKeeperHaSnapshot | { problem: string } = zookeeper(), overrides: Partial<ClusterHealthSnapshot> = {}): ClusterHealthSnapshot {
  return {
    cluster: { namespace: 'flink', name: 'orders' },
    observedAt: NOW,
    kind: 'session-job',
    jobManager: { name: 'orders-jobmanager', replicas: 2, readyReplicas: 2, image: 'flink:1.20' },
    pods: [pod('orders-jm-a'), pod('orders-jm-b')],
    taskManagerReplicas: 1,
    ha: { mode: 'zookeeper', configured: 'zookeeper', source: 'rest', zookeeper: zk },
    rest: { url: 'http://orders:8081', reachable: true, flinkVersion: '1.20.5', taskManagers: 1, jobs: [{ id: JOB_ID, name: 'counter', state: 'RUNNING', tasksRunning: 2, tasksTotal: 2 }] },
    checkpointDir: 'file:///ckpt',
    knownJobs: [],
    memory: { remediations: [], podDeletions: [] },
    ...overrides,
  };
}

function context(overrides: Partial<DiagnoseContext> = {}): DiagnoseContext {
  return { nowMs: NOW, limits: RemediationLimitsSchema.parse({}), taken: [], waitedOut: {}, counted: false, ...overrides };
}

const finding = (d: Diagnosis, code: string) => d.findings.find((f) => f.code === code);
const problems = (d: Diagnosis) => d.findings.filter((f) => f.severity !== 'info').map((f) => f.code);

describe('the ZooKeeper picture', () => {
  test('a healthy cluster names its leader pod, the standby, both session ids, the path and the quorum', () => {
    const d = diagnose(snapshot(), context());
    expect(d.status).toBe('healthy');
    expect(d.summary).toBe('flink/orders is healthy (zookeeper HA)');
    expect(finding(d, 'zk-leader-elected')?.reason).toBe(
      'ZooKeeper HA leader orders-jm-a at pekko.tcp://flink@10.0.0.7:33181/user/rpc/dispatcher_1 (REST http://10.0.0.7:8081) since 3m, ' +
        `leader session ${LEADER_SESSION}, ZooKeeper session 0x100007862a80005; standby orders-jm-b; 2 contender(s) under /flink/orders on zk-0.zk:2181,zk-1.zk:2181,zk-2.zk:2181`,
    );
    expect(d.findings.map((f) => f.code)).not.toContain('ha-leader-not-observed');
  });

  test('no leader under the path: Flink is electing one; flinkops waits for it, nothing destructive', () => {
    const d = diagnose(snapshot(zookeeper({ leaders: [], leaderPod: undefined, contenders: [{ node: '_c_x-latch-0000000003', session: '0x6' }] })), context());
    expect(d.status).toBe('unhealthy');
    expect(finding(d, 'zk-leader-missing')?.reason).toBe('no leader under /flink/orders/leader, 1 JobManager(s) contending: Flink is electing one');
    expect(d.plan).toEqual([{ kind: 'await-recovery', jobIds: [], leader: true }]);
  });

  test('a leader address no running JobManager advertises is stale: wait for its session to expire, then the standby leads', () => {
    const zk = zookeeper({
      leaderPod: undefined,
      jobManagers: [{ pod: 'orders-jm-b', podIp: '10.0.0.8', rpcAddress: '10.0.0.8', rpcPort: 40099, restAddress: '10.0.0.8' }],
    });
    const d = diagnose(snapshot(zk, { pods: [pod('orders-jm-a', { terminating: true }), pod('orders-jm-b')] }), context());
    const stale = finding(d, 'zk-leader-stale')!;
    expect(stale.severity).toBe('warning');
    expect(stale.reason).toMatch(/^ZooKeeper names pekko\.tcp:\/\/flink@10\.0\.0\.7:33181\/user\/rpc\/dispatcher_1 .* the leader, but none of this cluster's running JobManagers advertises that address \(orders-jm-b 10\.0\.0\.8:40099\)/);
    expect(stale.reason).toMatch(/its ZooKeeper session has not expired yet \(it does within 20s\)/);
    expect(d.plan).toEqual([{ kind: 'await-recovery', jobIds: [], leader: true }]);
  });

  test('a leader that cannot be matched to a pod because the pods could not be asked is unknown, not stale', () => {
    const zk = zookeeper({ leaderPod: undefined, jobManagers: [{ pod: 'orders-jm-a', error: 'HTTP 503' }, { pod: 'orders-jm-b', error: 'HTTP 503' }] });
    const d = diagnose(snapshot(zk), context());
    expect(finding(d, 'zk-leader-stale')).toBeUndefined();
    expect(finding(d, 'zk-leader-elected')).toMatchObject({ severity: 'info', reason: expect.stringMatching(/which JobManager pod that is, is unknown \(orders-jm-a: HTTP 503; orders-jm-b: HTTP 503\)/) as unknown });
    expect(d.status).toBe('healthy');
  });

  test('no standby ready while two replicas are asked for: wait for the JobManager', () => {
    const d = diagnose(snapshot(zookeeper(), { pods: [pod('orders-jm-a'), pod('orders-jm-b', { ready: false })] }), context());
    expect(finding(d, 'zk-standby-missing')?.reason).toBe(
      '2 JobManager replicas, but no standby is ready (orders-jm-b Running, not ready): if the leader orders-jm-a is lost now, the jobs wait until Kubernetes starts another JobManager',
    );
    expect(d.plan).toEqual([{ kind: 'wait-for-jobmanager' }]);
  });

  test('one replica: no standby is named as a standing risk, not a problem', () => {
    const d = diagnose(snapshot(zookeeper(), { jobManager: { name: 'orders-jobmanager', replicas: 1, readyReplicas: 1, image: 'flink:1.20' }, pods: [pod('orders-jm-a')] }), context());
    expect(d.status).toBe('healthy');
    expect(finding(d, 'zk-leader-elected')?.reason).toMatch(/no standby \(1 JobManager replica: losing it means downtime until Kubernetes restarts it\)/);
  });
});

describe('a leader that holds the leadership without answering', () => {
  const stuck = snapshot(zookeeper({ jobManagers: [{ pod: 'orders-jm-a', error: 'fetch failed: connection reset' }, { pod: 'orders-jm-b', rpcAddress: '10.0.0.8', rpcPort: 40099 }] }), {
    pods: [pod('orders-jm-a', { ready: false }), pod('orders-jm-b')],
    rest: { url: 'http://orders:8081', reachable: false, error: 'HTTP 503', jobs: [] },
  });

  test('is critical; Flink first gets the HA recovery timeout, then the leader pod is deleted once', () => {
    const first = diagnose(stuck, context());
    expect(finding(first, 'zk-leader-unreachable')).toMatchObject({
      severity: 'critical',
      reason: expect.stringMatching(/^ZooKeeper names JobManager pod orders-jm-a the leader .*, but its pod is not ready \(Running\): it keeps the leadership as long as its ZooKeeper session lives/) as unknown,
    });
    expect(first.plan).toEqual([{ kind: 'await-recovery', jobIds: [], leader: true }]);
    const later = diagnose(stuck, context({ waitedOut: { recovery: true } }));
    expect(later.plan).toEqual([{ kind: 'delete-pod', pod: 'orders-jm-a', uid: 'uid-orders-jm-a' }]);
  });

  test('not again within the pod deletion window, and not twice in one run', () => {
    const deleted = { ...stuck, memory: { remediations: [], podDeletions: [{ at: NOW - 60_000, pod: 'orders-jm-x', workflowId: 'wf-1' }] } };
    const windowed = diagnose(deleted, context({ waitedOut: { recovery: true } }));
    expect(windowed.plan).toEqual([]);
    expect(windowed.escalation).toMatch(/a JobManager pod of this cluster was already deleted 1m ago \(orders-jm-x, by wf-1\)/);
    const again = diagnose(stuck, context({ waitedOut: { recovery: true }, taken: [{ kind: 'delete-pod', target: 'orders-jm-a', at: NOW - 30_000, detail: 'deleting JobManager pod orders-jm-a' }] }));
    expect(again.plan).toEqual([]);
    expect(again.escalation).toMatch(/deleting JobManager pod orders-jm-a did not help/);
  });
});

describe('two clusters on one ZooKeeper path', () => {
  const peer = { deployment: 'billing-jobmanager', configMap: 'billing-config', clusterIdDefaulted: true };

  test('the cluster that does not lead is told to move: which cluster, which key, where; nothing is done', () => {
    const zk = zookeeper({ clusterId: '/default', clusterIdDefaulted: true, path: '/flink/default', leaderPod: undefined, sharedWith: [{ ...peer, leads: true }] });
    // Its own JobManagers look unhealthy too (they only stand by): that must not lead to any action.
    const d = diagnose(snapshot(zk, { pods: [pod('orders-jm-a', { waitingReason: 'CrashLoopBackOff', ready: false, restartCount: 3 }), pod('orders-jm-b')] }), context());
    expect(d.status).toBe('unhealthy');
    expect(d.plan).toEqual([]);
    const shared = finding(d, 'zk-path-shared')!;
    expect(shared.severity).toBe('critical');
    expect(shared.reason).toMatch(
      /^orders-jobmanager and billing-jobmanager in flink use the same ZooKeeper path \/flink\/default on zk-0\.zk:2181,zk-1\.zk:2181,zk-2\.zk:2181 \(high-availability\.cluster-id is set on none of them: all take the default \/default\): their JobManagers compete in one leader election and share one store of job graphs and checkpoints; billing-jobmanager leads the shared path now/,
    );
    expect(shared.reason).toContain(
      "Fix: set high-availability.cluster-id: /flink-orders-jobmanager in orders-jobmanager's configuration (ConfigMap orders-config), then restart its JobManagers; leave billing-jobmanager on /flink/default, where 1 job entry under /flink/default/jobgraphs are: a cluster whose cluster id changes loses the job graphs",
    );
    expect(d.escalation).toContain('flinkops does not change a cluster id itself');
  });

  test('the leading cluster is told to leave its own id and move the other one', () => {
    const d = diagnose(snapshot(zookeeper({ sharedWith: [peer] })), context());
    expect(d.plan).toEqual([]);
    expect(d.escalation).toMatch(/orders-jobmanager leads the shared path now.*Fix: set high-availability\.cluster-id: \/flink-billing-jobmanager in billing-jobmanager's configuration \(ConfigMap billing-config\)/);
    expect(d.escalation).toMatch(/leave orders-jobmanager on \/flink\/orders/);
  });

  test('a dry run and a remediation refuse alike: the escalation is the diagnosis, with a stable fingerprint', () => {
    const a = diagnose(snapshot(zookeeper({ sharedWith: [peer] })), context());
    const b = diagnose(snapshot(zookeeper({ sharedWith: [peer] }), { observedAt: NOW + 60_000 }), context({ nowMs: NOW + 60_000 }));
    expect(escalationFingerprint(a)).toBe(escalationFingerprint(b));
    expect(escalationFingerprint(a)).toContain('zk-path-shared');
  });
});

describe('ZooKeeper unreachable', () => {
  const lost = zookeeper({ reachable: false, unreachable: { servers: [{ server: 'zk-0.zk:2181', error: 'connection refused' }], waitedMs: 12 }, leaders: undefined, jobEntries: undefined, jobs: undefined, jobManagers: undefined, leaderPod: undefined });

  test('with the JobManagers agreeing it is quorum loss: the consequence spelled out, no action at all', () => {
    const s = snapshot(lost, {
      pods: [pod('orders-jm-a', { ready: false, waitingReason: 'CrashLoopBackOff', restartCount: 2 }), pod('orders-jm-b', { ready: false })],
      rest: { url: 'http://orders:8081', reachable: false, error: 'HTTP 503: Service temporarily unavailable due to an ongoing leader election. Please refresh.', jobs: [] },
      knownJobs: [{ jobKey: 'counter', jobName: 'counter', jobId: JOB_ID, restoreCandidates: [] }],
    });
    const d = diagnose(s, context({ waitedOut: { recovery: true, jobManager: true } }));
    expect(d.plan).toEqual([]);
    const quorum = finding(d, 'zk-quorum-lost')!;
    expect(quorum.reason).toMatch(/^ZooKeeper zk-0\.zk:2181,zk-1\.zk:2181,zk-2\.zk:2181 gives no session \(zk-0\.zk:2181: connection refused; asked within 12ms\): its quorum is lost or it cannot be reached, and the JobManagers confirm it \(the REST API does not answer \(HTTP 503: Service temporarily unavailable due to an ongoing leader election/);
    expect(quorum.reason).toContain('every job of the cluster is suspended and none can be submitted, recovered or checkpointed until ZooKeeper serves again');
    expect(quorum.reason).toContain('flinkops takes no action');
    expect(d.escalation).toBe(quorum.reason);
  });

  test('while the JobManagers answer with a leader, it is the worker that cannot reach ZooKeeper: unknown, not a verdict', () => {
    const d = diagnose(snapshot(lost), context());
    expect(d.status).toBe('healthy');
    expect(finding(d, 'zk-quorum-lost')).toBeUndefined();
    expect(finding(d, 'zk-unobservable')?.reason).toMatch(/ZooKeeper works for Flink, so the worker's way to it is the problem; the ZooKeeper picture \(leader, job entries\) is unknown/);
  });

  test('a read that failed after the session was given leaves the rest unknown', () => {
    const d = diagnose(snapshot(zookeeper({ readError: '/flink/orders/leader: NoAuth (ZooKeeper error -102)', leaders: undefined, jobEntries: undefined, leaderPod: undefined })), context());
    expect(d.status).toBe('healthy');
    expect(finding(d, 'zk-unobservable')?.reason).toMatch(/reading \/flink\/orders failed \(.*NoAuth.*\): its leader and job entries are unknown/);
  });

  test('ZooKeeper HA without a quorum in the configuration', () => {
    const d = diagnose(snapshot({ problem: 'ZooKeeper HA is on, but high-availability.zookeeper.quorum is not set' }), context());
    expect(finding(d, 'zk-config-invalid')?.severity).toBe('critical');
    expect(d.escalation).toMatch(/quorum is not set: the JobManagers cannot elect a leader/);
  });
});

describe("ZooKeeper's job entries against the running jobs", () => {
  test('an entry of a job the JobManager does not run: Flink is recovering it; wait, then verify', () => {
    const d = diagnose(snapshot(zookeeper({ jobEntries: { layout: 'execution-plans', jobIds: [JOB_ID, OTHER_ID] } })), context());
    expect(finding(d, 'zk-job-entry-orphaned')?.reason).toMatch(new RegExp(`ZooKeeper holds the execution plan of 1 job\\(s\\) the JobManager does not run \\(${OTHER_ID} under /flink/orders/execution-plans\\)`));
    expect(d.plan).toEqual([{ kind: 'await-recovery', jobIds: [OTHER_ID], leader: true }]);
  });

  test('a running job without an entry would not survive a failover: escalated', () => {
    const d = diagnose(snapshot(zookeeper({ jobEntries: { layout: 'jobgraphs', jobIds: [] } })), context());
    const missing = finding(d, 'zk-job-entry-missing')!;
    expect(missing.severity).toBe('critical');
    expect(missing.reason).toBe(
      `counter (${JOB_ID}) is RUNNING, but ZooKeeper has no entry for it under /flink/orders/jobgraphs: a leader failover would not bring it back (Flink recovers only the jobs in its HA store); check that the JobManagers write to /flink/orders and high-availability.storageDir`,
    );
    expect(d.escalation).toContain('a leader failover would not bring it back');
  });

  test('finished jobs need no entry', () => {
    const s = snapshot(zookeeper({ jobEntries: { layout: 'jobgraphs', jobIds: [JOB_ID] } }), {
      rest: { ...snapshot().rest, jobs: [...snapshot().rest.jobs, { id: OTHER_ID, name: 'done', state: 'FINISHED' }] },
    });
    expect(diagnose(s, context()).status).toBe('healthy');
  });
});

describe('which stored jobs flinkops verifies after a recovery, and which must come back with their state', () => {
  const WINDOW = 120_000;
  const jobs = (overrides: Record<string, object>) => zookeeper({ jobEntries: { layout: 'jobgraphs', jobIds: Object.keys(overrides) }, jobs: overrides });

  test('after a leader change every stored job, down or already running again; each with a checkpoint must restore from one', () => {
    // Stored an hour ago; a new JobMaster took it over 20 s ago: a new leader recovered it.
    const recovered = { storedAt: NOW - 3_600_000, jobMasterSince: NOW - 20_000, checkpoint: 42 };
    const down = { storedAt: NOW - 3_600_000, jobMasterSince: NOW - 3_599_000, checkpoint: 7 };
    const s = snapshot(jobs({ [JOB_ID]: recovered, [OTHER_ID]: down }));
    expect(zooKeeperVerification(s, WINDOW)).toEqual({ verify: [JOB_ID, OTHER_ID], restoreFrom: { [JOB_ID]: 42, [OTHER_ID]: 7 } });
  });

  test('a job running under its first JobMaster is left alone; so is one recovered long ago', () => {
    const first = { storedAt: NOW - 30_000, jobMasterSince: NOW - 30_000 + RECOVERED_AFTER_MS - 1, checkpoint: 3 };
    expect(zooKeeperVerification(snapshot(jobs({ [JOB_ID]: first })), WINDOW)).toEqual({ verify: [], restoreFrom: {} });
    const longAgo = { storedAt: NOW - 3_600_000, jobMasterSince: NOW - WINDOW - 1, checkpoint: 3 };
    expect(zooKeeperVerification(snapshot(jobs({ [JOB_ID]: longAgo })), WINDOW).verify).toEqual([]);
  });

  test('a job not checkpointed yet is verified without a restore to demand; nothing is verified on a shared path', () => {
    const s = snapshot(jobs({ [JOB_ID]: { storedAt: NOW - 5_000 } }), { rest: { ...snapshot().rest, reachable: false, jobs: [] } });
    expect(zooKeeperVerification(s, WINDOW)).toEqual({ verify: [JOB_ID], restoreFrom: {} });
    const shared = snapshot(zookeeper({ sharedWith: [{ deployment: 'other', clusterIdDefaulted: true }] }), { rest: { ...snapshot().rest, reachable: false, jobs: [] } });
    expect(zooKeeperVerification(shared, WINDOW)).toEqual({ verify: [], restoreFrom: {} });
    expect(zooKeeperVerification(snapshot({ problem: 'x' }), WINDOW)).toEqual({ verify: [], restoreFrom: {} });
  });
});

describe('client settings that make failovers slower or riskier', () => {
  test('tolerated suspended connections and a long session are named, without making the cluster unhealthy', () => {
    const zk = zookeeper({
      settings: { sessionTimeoutMs: 60_000, connectionTimeoutMs: 15_000, tolerateSuspendedConnections: true, configured: [] },
      grantedSessionTimeoutMs: 40_000,
    });
    const d = diagnose(snapshot(zk), context());
    expect(d.status).toBe('healthy');
    const settings = d.findings.filter((f) => f.code === 'zk-failover-settings').map((f) => f.reason);
    expect(settings).toEqual([
      expect.stringMatching(/^tolerate-suspended-connections: true keeps a leader that lost its ZooKeeper connection leading until its session expires \(40s\): .*two leaders/),
      'session timeout 40s (asks for 1m, ZooKeeper grants 40s): a JobManager that dies without closing its session (killed, its node lost) stays the leader that long before a standby can take over; a graceful shutdown hands over at once',
    ]);
  });

  test('a very short session trades failover speed for spurious failovers', () => {
    const d = diagnose(snapshot(zookeeper({ grantedSessionTimeoutMs: 4_000 })), context());
    expect(d.findings.filter((f) => f.code === 'zk-failover-settings').map((f) => f.reason)).toEqual([expect.stringMatching(/^session timeout 4.0s \(asks for 20s, ZooKeeper grants 4.0s\): a garbage-collection pause/)]);
    expect(problems(d)).toEqual([]);
  });
});
