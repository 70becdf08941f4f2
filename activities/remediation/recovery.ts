import type { ClusterHealthSnapshot } from '../../workflows/model/cluster-health';
import { formatDuration } from '../../workflows/model/durations';
import { zooKeeperLeaderStatus } from './zookeeper/recovery';

/** Pod waiting reasons that will not go away by waiting (the same list `kubectl rollout status` users learn). */
const STUCK = ['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'CreateContainerConfigError', 'RunContainerError'];
const DEFAULT_LEASE_MS = 15_000;

export interface RecoveryTarget {
  /** Jobs that must be RUNNING with all tasks running. */
  jobIds: string[];
  /** HA: a leader must hold a fresh lease (Kubernetes) or be published in ZooKeeper. */
  leader: boolean;
}

export type RecoveryStatus = { recovered: true; detail: string } | { recovered: false; detail: string; stuck?: string };

/**
 * Whether the cluster is back: exactly the desired JobManager pods, all ready, the REST API answering, a fresh HA
 * leader and the given jobs running. A stuck pod ends the wait at once: waiting would not change it.
 */
export function recoveryStatus(snapshot: ClusterHealthSnapshot, target: RecoveryTarget): RecoveryStatus {
  if (snapshot.problem || !snapshot.jobManager) return { recovered: false, detail: snapshot.problem ?? 'cluster not observed' };
  const live = snapshot.pods.filter((p) => !p.terminating);
  const stuck = live.find((p) => p.waitingReason && STUCK.includes(p.waitingReason));
  if (stuck) return { recovered: false, detail: `pod ${stuck.name} is ${stuck.waitingReason}`, stuck: `JobManager pod ${stuck.name} is ${stuck.waitingReason} (${stuck.restartCount} restarts)` };
  const { replicas } = snapshot.jobManager;
  const ready = live.filter((p) => p.ready).length;
  const terminating = snapshot.pods.length - live.length;
  if (replicas === 0 || ready !== replicas || live.length !== replicas) {
    return { recovered: false, detail: `${ready}/${replicas} JobManager pod(s) ready${terminating ? `, ${terminating} terminating` : ''}` };
  }
  if (!snapshot.rest.reachable) return { recovered: false, detail: `JobManager ready, REST API not answering yet (${snapshot.rest.error ?? 'no answer'})` };
  let zooKeeperLeader: string | undefined;
  if (target.leader && snapshot.ha.mode === 'zookeeper') {
    const status = zooKeeperLeaderStatus(snapshot);
    if (!status.ok) return { recovered: false, detail: status.detail };
    zooKeeperLeader = status.leader;
  } else if (target.leader) {
    const leader = snapshot.ha.leader;
    const lease = snapshot.ha.leaseDurationMs ?? DEFAULT_LEASE_MS;
    if (!leader?.holderIdentity || leader.renewTime === undefined) return { recovered: false, detail: 'no HA leader elected yet' };
    if (snapshot.observedAt - leader.renewTime > 2 * lease) {
      return { recovered: false, detail: `HA leader ${leader.holderIdentity} last renewed ${formatDuration(snapshot.observedAt - leader.renewTime)} ago` };
    }
  }
  for (const jobId of target.jobIds) {
    const job = snapshot.rest.jobs.find((j) => j.id === jobId);
    if (!job) return { recovered: false, detail: `job ${jobId} not known to the JobManager yet` };
    const allRunning = job.state === 'RUNNING' && (job.tasksTotal ?? 0) > 0 && job.tasksRunning === job.tasksTotal;
    if (!allRunning) return { recovered: false, detail: `job ${jobId} is ${job.state}${job.tasksTotal !== undefined ? `, ${job.tasksRunning ?? 0}/${job.tasksTotal} tasks running` : ''}` };
  }
  const jobs = target.jobIds.length > 0 ? `, ${target.jobIds.length} job(s) RUNNING` : '';
  const leader = zooKeeperLeader ? `, leader ${zooKeeperLeader}` : target.leader && snapshot.ha.leader?.holderIdentity ? `, leader ${snapshot.ha.leader.holderIdentity}` : '';
  return { recovered: true, detail: `${ready} JobManager pod(s) ready, REST answering${leader}${jobs}` };
}
