import { formatDuration } from '../model/durations';
import type { ClusterHealthSnapshot, JobManagerPodSnapshot } from '../model/cluster-health';
import type { ZooKeeperHaSnapshot, ZooKeeperLeaderEntry, ZooKeeperPeer } from '../model/zookeeper';
import type { Finding } from './diagnose';

/**
 * What ZooKeeper high availability adds to a diagnosis, as a pure function of the observation: who leads and whether
 * the leader is one of this cluster's running JobManagers, a standby, clusters sharing the path, ZooKeeper's job
 * entries against the running jobs, a lost quorum and client settings that make failovers slower or riskier.
 *
 * Flink elects its leader and recovers its jobs by itself: flinkops waits for that and verifies. It acts (deletes a
 * leader pod, once per window, after the HA recovery timeout) only on a leader that holds the leadership without
 * answering, and never when ZooKeeper is down or two clusters share a path: those are escalated with the fix.
 */
export type ZooKeeperFindingCode =
  | 'zk-config-invalid'
  | 'zk-quorum-lost'
  | 'zk-unobservable'
  | 'zk-leader-elected'
  | 'zk-leader-missing'
  | 'zk-leader-stale'
  | 'zk-leader-unreachable'
  | 'zk-standby-missing'
  | 'zk-path-shared'
  | 'zk-job-entry-orphaned'
  | 'zk-job-entry-missing'
  | 'zk-failover-settings';

/** Findings after which nothing may be done to the cluster, whatever else the diagnosis would plan. */
export const ZOOKEEPER_HARD_STOPS: readonly ZooKeeperFindingCode[] = ['zk-quorum-lost', 'zk-path-shared'];

/** A session timeout above this makes a failover after a JobManager that dies (killed, node lost) wait that long. */
export const SLOW_SESSION_TIMEOUT_MS = 30_000;
/** Below this, a garbage-collection pause or a short network hiccup costs the leadership (and restarts every job). */
export const SHORT_SESSION_TIMEOUT_MS = 10_000;

const TERMINAL = ['FAILED', 'CANCELED', 'FINISHED'];

export function zooKeeperFindings(snapshot: ClusterHealthSnapshot): Finding[] {
  const observed = snapshot.ha.zookeeper;
  if (!observed) return [];
  if ('problem' in observed) {
    return [{ code: 'zk-config-invalid', severity: 'critical', subject: 'high-availability.zookeeper.quorum', reason: `${observed.problem}: the JobManagers cannot elect a leader`, action: { kind: 'escalate' } }];
  }
  const zk = observed;
  const where = `${zk.path} on ${zk.quorum}`;
  if (!zk.reachable) return [unreachable(snapshot, zk)];

  const findings: Finding[] = [];
  if (zk.readError) {
    findings.push({ code: 'zk-unobservable', severity: 'info', subject: where, reason: `ZooKeeper gave a session, but reading ${zk.path} failed (${zk.readError}): its leader and job entries are unknown`, action: { kind: 'none' } });
  }
  if (zk.sharedWith && zk.sharedWith.length > 0) findings.push(sharedPath(snapshot, zk, zk.sharedWith));
  else if (zk.peersUnknown) {
    findings.push({ code: 'zk-unobservable', severity: 'info', subject: where, reason: `whether another cluster in ${snapshot.cluster.namespace} uses ${where} is unknown: ${zk.peersUnknown}`, action: { kind: 'none' } });
  }
  if (zk.leaders) findings.push(...leadership(snapshot, zk, zk.leaders));
  findings.push(...jobEntries(snapshot, zk));
  findings.push(...failoverSettings(zk));
  return findings;
}

/**
 * ZooKeeper gave no session. The JobManagers decide whether that is the quorum or only the worker's way to it: Flink
 * without ZooKeeper loses its leader (the REST API answers 503 "leader election") and its JobManagers restart.
 */
function unreachable(snapshot: ClusterHealthSnapshot, zk: ZooKeeperHaSnapshot): Finding {
  const servers = (zk.unreachable?.servers ?? []).map((s) => `${s.server}: ${s.error}`).join('; ');
  const asked = `ZooKeeper ${zk.quorum} gives no session (${servers || 'no server'}; asked within ${formatDuration(zk.unreachable?.waitedMs ?? 0)})`;
  const ready = snapshot.pods.filter((p) => !p.terminating && p.ready).length;
  const flinkAgrees = !snapshot.rest.reachable || ready === 0;
  if (!flinkAgrees) {
    return {
      code: 'zk-unobservable',
      severity: 'info',
      subject: zk.quorum,
      reason: `${asked}, but the JobManagers answer through the Service with a leader: ZooKeeper works for Flink, so the worker's way to it is the problem; the ZooKeeper picture (leader, job entries) is unknown`,
      action: { kind: 'none' },
    };
  }
  const flinkSide = !snapshot.rest.reachable ? `the REST API does not answer (${snapshot.rest.error ?? 'no answer'})` : 'no JobManager is ready';
  const suspended = zk.settings.tolerateSuspendedConnections
    ? `the JobManagers keep their leadership only until their ZooKeeper sessions expire (tolerate-suspended-connections: true), then lose it`
    : 'the JobManagers lost their leadership at once';
  return {
    code: 'zk-quorum-lost',
    severity: 'critical',
    subject: zk.quorum,
    reason:
      `${asked}: its quorum is lost or it cannot be reached, and the JobManagers confirm it (${flinkSide}). Consequence: ${suspended}; no JobManager can win the leadership, ` +
      `so every job of the cluster is suspended and none can be submitted, recovered or checkpointed until ZooKeeper serves again; then Flink elects a leader and recovers the jobs from their latest checkpoints by itself. ` +
      'flinkops takes no action: restarting or deleting JobManagers cannot help while ZooKeeper is down. Bring the ZooKeeper ensemble back (a majority of its servers)',
    action: { kind: 'escalate' },
  };
}

function leadership(snapshot: ClusterHealthSnapshot, zk: ZooKeeperHaSnapshot, leaders: ZooKeeperLeaderEntry[]): Finding[] {
  const subject = `${zk.path}/leader`;
  const contenders = zk.contenders?.length ?? 0;
  const published = leaders.filter((l) => l.address);
  if (published.length === 0) {
    const undecodable = leaders.find((l) => l.problem);
    return [
      {
        code: 'zk-leader-missing',
        severity: 'warning',
        subject,
        reason: `no leader under ${subject}${undecodable ? ` (connection_info of ${undecodable.component}: ${undecodable.problem})` : ''}, ${contenders} JobManager(s) contending: Flink is electing one`,
        action: { kind: 'await-recovery', jobIds: [], leader: true },
      },
    ];
  }
  const main = published.find((l) => l.component === 'dispatcher') ?? published[0]!;
  const rest = published.find((l) => l.component === 'rest_server')?.address;
  const since = main.since !== undefined ? ` since ${formatDuration(Math.max(0, snapshot.observedAt - main.since))}` : '';
  const sessions = `leader session ${main.leaderSessionId ?? '?'}, ZooKeeper session ${main.owner ?? '?'}`;
  const described = `${main.address}${rest ? ` (REST ${rest})` : ''}${since}, ${sessions}`;
  const live = snapshot.pods.filter((p) => !p.terminating);

  if (!zk.leaderPod) {
    if (zk.sharedWith && zk.sharedWith.length > 0) return []; // the shared path explains it (sharedPath names who leads)
    const asked = zk.jobManagers ?? [];
    const failed = asked.filter((jm) => jm.error);
    if (asked.length === 0 || failed.length > 0) {
      const why = asked.length === 0 ? 'no JobManager pod is running to be asked' : failed.map((jm) => `${jm.pod}: ${jm.error}`).join('; ');
      return [
        {
          code: 'zk-leader-elected',
          severity: 'info',
          subject,
          reason: `ZooKeeper HA leader ${described}; which JobManager pod that is, is unknown (${why})`,
          action: { kind: 'none' },
        },
      ];
    }
    const advertised = asked.map((jm) => `${jm.pod} ${jm.rpcAddress ?? '?'}:${jm.rpcPort ?? '?'}`).join(', ');
    return [
      {
        code: 'zk-leader-stale',
        severity: 'warning',
        subject,
        reason:
          `ZooKeeper names ${described} the leader, but none of this cluster's running JobManagers advertises that address (${advertised}): ` +
          `the leader is gone and its ZooKeeper session has not expired yet (it does within ${formatDuration(zk.grantedSessionTimeoutMs ?? zk.settings.sessionTimeoutMs)}), then a standby takes over; if it stays, a cluster outside ${snapshot.cluster.namespace} may use the same path`,
        action: { kind: 'await-recovery', jobIds: [], leader: true },
      },
    ];
  }

  const pod = live.find((p) => p.name === zk.leaderPod);
  const addresses = zk.jobManagers?.find((jm) => jm.pod === zk.leaderPod);
  const problem = !pod ? 'its pod is being deleted' : !pod.ready ? `its pod is not ready (${pod.waitingReason ?? pod.phase})` : addresses?.error ? `its REST API does not answer when asked directly (${addresses.error})` : pod.inventoryError ? `it does not answer when asked directly (${pod.inventoryError})` : undefined;
  if (problem) {
    return [
      {
        code: 'zk-leader-unreachable',
        severity: 'critical',
        subject: zk.leaderPod,
        reason: `ZooKeeper names JobManager pod ${zk.leaderPod} the leader (${described}), but ${problem}: it keeps the leadership as long as its ZooKeeper session lives, so the standby cannot take over`,
        action: pod ? { kind: 'delete-pod', pod: pod.name, uid: pod.uid } : { kind: 'await-recovery', jobIds: [], leader: true },
      },
    ];
  }

  const standbys = live.filter((p) => p.ready && p.name !== zk.leaderPod);
  const replicas = snapshot.jobManager?.replicas ?? 1;
  const findings: Finding[] = [
    {
      code: 'zk-leader-elected',
      severity: 'info',
      subject,
      reason:
        `ZooKeeper HA leader ${zk.leaderPod} at ${described}; ` +
        (standbys.length > 0 ? `standby ${standbys.map((p) => p.name).join(', ')}` : replicas > 1 ? 'no standby ready' : 'no standby (1 JobManager replica: losing it means downtime until Kubernetes restarts it)') +
        `; ${contenders} contender(s) under ${zk.path} on ${zk.quorum}`,
      action: { kind: 'none' },
    },
  ];
  if (replicas > 1 && standbys.length === 0) {
    const others = live.filter((p) => p.name !== zk.leaderPod).map(describePod);
    findings.push({
      code: 'zk-standby-missing',
      severity: 'warning',
      subject: snapshot.jobManager?.name ?? 'jobmanager',
      reason: `${replicas} JobManager replicas, but no standby is ready (${others.join('; ') || 'no other pod'}): if the leader ${zk.leaderPod} is lost now, the jobs wait until Kubernetes starts another JobManager`,
      action: { kind: 'wait-for-jobmanager' },
    });
  }
  return findings;
}

/** Two clusters on one path: one leader election, one job store. Moving a cluster id loses what is stored under it. */
function sharedPath(snapshot: ClusterHealthSnapshot, zk: ZooKeeperHaSnapshot, peers: ZooKeeperPeer[]): Finding {
  const self = snapshot.jobManager?.name ?? snapshot.cluster.name;
  const names = [self, ...peers.map((p) => p.deployment)];
  const defaulted = [...(zk.clusterIdDefaulted ? [self] : []), ...peers.filter((p) => p.clusterIdDefaulted).map((p) => p.deployment)];
  const how =
    defaulted.length === names.length
      ? `high-availability.cluster-id is set on none of them: all take the default ${zk.clusterId}`
      : defaulted.length > 0
        ? `${defaulted.join(', ')} leave high-availability.cluster-id at the default ${zk.clusterId}, the others set the same`
        : `all set high-availability.cluster-id: ${zk.clusterId}`;
  const peerLeader = peers.find((p) => p.leads);
  const leader = zk.leaderPod ? self : peerLeader?.deployment;
  const jobs = zk.jobEntries ? `${zk.jobEntries.jobIds.length} job entr${zk.jobEntries.jobIds.length === 1 ? 'y' : 'ies'} under ${zk.path}/${zk.jobEntries.layout}` : 'its job entries';
  const move = leader ? names.filter((n) => n !== leader) : [];
  const setting = (name: string) => {
    const configMap = name === self ? zk.configMap : peers.find((p) => p.deployment === name)?.configMap;
    return `set high-availability.cluster-id: /${snapshot.cluster.namespace}-${name} in ${name}'s configuration${configMap ? ` (ConfigMap ${configMap})` : ''}`;
  };
  const state = leader
    ? `${leader} leads the shared path now: the other cluster's JobManagers only stand by, and its TaskManagers and REST requests end up at ${leader}'s leader`
    : 'which cluster leads it is unknown';
  const fix = leader
    ? `Fix: ${move.map(setting).join('; ')}, then restart ${move.length === 1 ? 'its' : 'their'} JobManagers; leave ${leader} on ${zk.path}, where ${jobs} are: a cluster whose cluster id changes loses the job graphs and checkpoint pointers stored under the old path`
    : `Fix: give every cluster but the one whose jobs are stored there (${jobs}) its own cluster id (${names.map(setting).join('; ')}), then restart their JobManagers: a cluster whose cluster id changes loses the job graphs and checkpoint pointers stored under the old path`;
  return {
    code: 'zk-path-shared',
    severity: 'critical',
    subject: `${zk.path} on ${zk.quorum}`,
    reason: `${names.join(' and ')} in ${snapshot.cluster.namespace} use the same ZooKeeper path ${zk.path} on ${zk.quorum} (${how}): their JobManagers compete in one leader election and share one store of job graphs and checkpoints; ${state}. ${fix}. flinkops does not change a cluster id itself`,
    action: { kind: 'escalate' },
  };
}

/** ZooKeeper's job entries against the jobs the JobManager answers with: a failover recovers exactly the entries. */
function jobEntries(snapshot: ClusterHealthSnapshot, zk: ZooKeeperHaSnapshot): Finding[] {
  const entries = zk.jobEntries;
  const replicas = snapshot.jobManager?.replicas ?? 0;
  if (!entries || !snapshot.rest.reachable || replicas === 0 || (zk.sharedWith?.length ?? 0) > 0) return [];
  const findings: Finding[] = [];
  const where = `${zk.path}/${entries.layout}`;
  const known = new Map(snapshot.rest.jobs.map((j) => [j.id, j]));
  const orphaned = entries.jobIds.filter((id) => !known.has(id));
  if (orphaned.length > 0) {
    findings.push({
      code: 'zk-job-entry-orphaned',
      severity: 'warning',
      subject: orphaned.join(', '),
      reason: `ZooKeeper holds ${entries.layout === 'jobgraphs' ? 'the job graph' : 'the execution plan'} of ${orphaned.length} job(s) the JobManager does not run (${orphaned.join(', ')} under ${where}): a new leader recovers every job stored there, so Flink is recovering them, or their recovery failed`,
      action: { kind: 'await-recovery', jobIds: orphaned, leader: true },
    });
  }
  const stored = new Set(entries.jobIds);
  const missing = snapshot.rest.jobs.filter((j) => !TERMINAL.includes(j.state) && !stored.has(j.id));
  if (missing.length > 0) {
    findings.push({
      code: 'zk-job-entry-missing',
      severity: 'critical',
      subject: missing.map((j) => `${j.name} (${j.id})`).join(', '),
      reason: `${missing.map((j) => `${j.name} (${j.id}) is ${j.state}`).join(', ')}, but ZooKeeper has no entry for ${missing.length === 1 ? 'it' : 'them'} under ${where}: a leader failover would not bring ${missing.length === 1 ? 'it' : 'them'} back (Flink recovers only the jobs in its HA store); check that the JobManagers write to ${zk.path} and high-availability.storageDir`,
      action: { kind: 'escalate' },
    });
  }
  return findings;
}

/** Client settings that make failovers slower or riskier: standing risks, named without making the cluster unhealthy. */
function failoverSettings(zk: ZooKeeperHaSnapshot): Finding[] {
  const findings: Finding[] = [];
  const subject = 'high-availability.zookeeper.client';
  const asked = zk.settings.sessionTimeoutMs;
  const granted = zk.grantedSessionTimeoutMs ?? asked;
  const grant = granted !== asked ? ` (asks for ${formatDuration(asked)}, ZooKeeper grants ${formatDuration(granted)})` : '';
  if (zk.settings.tolerateSuspendedConnections) {
    findings.push({
      code: 'zk-failover-settings',
      severity: 'info',
      subject: `${subject}.tolerate-suspended-connections`,
      reason: `tolerate-suspended-connections: true keeps a leader that lost its ZooKeeper connection leading until its session expires (${formatDuration(granted)}): meanwhile another JobManager may be elected, so two leaders can run the same jobs; Flink's default (false) gives the leadership up at once`,
      action: { kind: 'none' },
    });
  }
  if (granted > SLOW_SESSION_TIMEOUT_MS) {
    findings.push({
      code: 'zk-failover-settings',
      severity: 'info',
      subject: `${subject}.session-timeout`,
      reason: `session timeout ${formatDuration(granted)}${grant}: a JobManager that dies without closing its session (killed, its node lost) stays the leader that long before a standby can take over; a graceful shutdown hands over at once`,
      action: { kind: 'none' },
    });
  } else if (granted < SHORT_SESSION_TIMEOUT_MS) {
    findings.push({
      code: 'zk-failover-settings',
      severity: 'info',
      subject: `${subject}.session-timeout`,
      reason: `session timeout ${formatDuration(granted)}${grant}: a garbage-collection pause or a network hiccup that long ends the leader's session, and every job fails over to a standby`,
      action: { kind: 'none' },
    });
  }
  return findings;
}

function describePod(pod: JobManagerPodSnapshot): string {
  return `${pod.name} ${pod.waitingReason ?? pod.phase}${pod.phase === 'Running' && !pod.ready ? ', not ready' : ''}`;
}

/**
 * A JobMaster that took over more than this long after its job was stored is not the job's first: a new leader (or a
 * restart) recovered the job. A first JobMaster takes over within a second or two of the submission.
 */
export const RECOVERED_AFTER_MS = 10_000;

export interface ZooKeeperVerification {
  /** Jobs to verify once the cluster is healthy: recovered recently, or not running now. */
  verify: string[];
  /** Jobs that must come back restored from a checkpoint (ZooKeeper holds one for them), with the newest one it held. */
  restoreFrom: Record<string, number>;
}

/**
 * Which of the jobs stored in ZooKeeper flinkops verifies after a recovery, registered with flinkops or not: those a
 * new JobMaster took over within `recentMs` (a leader change recovers every job) and those not running with all their
 * tasks. A job that was recovered, or is down, while ZooKeeper holds a checkpoint for it must come back restored from
 * one: starting from nothing would lose its state.
 */
export function zooKeeperVerification(snapshot: ClusterHealthSnapshot, recentMs: number): ZooKeeperVerification {
  const zk = snapshot.ha.zookeeper;
  const result: ZooKeeperVerification = { verify: [], restoreFrom: {} };
  if (!zk || 'problem' in zk || (zk.sharedWith?.length ?? 0) > 0) return result;
  const running = (id: string) => snapshot.rest.reachable && snapshot.rest.jobs.some((j) => j.id === id && j.state === 'RUNNING' && j.tasksTotal !== undefined && j.tasksRunning === j.tasksTotal);
  for (const jobId of zk.jobEntries?.jobIds ?? []) {
    const job = zk.jobs?.[jobId] ?? {};
    const recovered = job.storedAt !== undefined && job.jobMasterSince !== undefined && job.jobMasterSince - job.storedAt > RECOVERED_AFTER_MS;
    const recently = recovered && snapshot.observedAt - job.jobMasterSince! < recentMs;
    const down = !running(jobId);
    if (recently || down) result.verify.push(jobId);
    if ((recovered || down) && job.checkpoint !== undefined) result.restoreFrom[jobId] = job.checkpoint;
  }
  return result;
}
