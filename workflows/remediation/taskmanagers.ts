import { formatDuration } from '../model/durations';
import type { ClusterHealthSnapshot } from '../model/cluster-health';
import type { Finding, RemediationAction, TakenAction } from './diagnose';
import type { RemediationLimits } from './request';

/**
 * A job lost with its JobManager (no HA) is resubmitted under its own id; the cluster's TaskManagers decide how soon.
 * A TaskManager registers with the new JobManager only after its heartbeat to the JobManager that is gone times out
 * (heartbeat.timeout, 50 s by default), and until then it may still hold the lost job's slots and libraries: a
 * resubmission before that is offered those slots and fails its tasks. Two ways out, as a pure decision with its reason:
 *
 * - restart those TaskManager pods: fresh ones register at once. Only while the new JobManager runs no job (a restart
 *   would stop its tasks), at most once per `taskManagerRestartWindow` per cluster (remembered across runs) and once
 *   per run; it counts as a destructive action against the hourly limit like the resubmission it serves;
 * - wait for the heartbeat timeout (`lostJobRecovery: wait-for-taskmanagers`, and whenever a guard says no).
 */
export interface TaskManagerChoice {
  /** Why the TaskManagers matter now, and which way was chosen. */
  finding: Finding;
  /** The restart, when chosen: it runs before the resubmissions. */
  restart?: Extract<RemediationAction, { kind: 'restart-taskmanagers' }>;
}

export interface TaskManagerContext {
  nowMs: number;
  limits: Pick<RemediationLimits, 'lostJobRecovery' | 'taskManagerRestartWindow'>;
  taken: TakenAction[];
  /** The running workflow may restart TaskManagers (false while replaying a run that started on an older worker). */
  restartSupported: boolean;
}

const TERMINAL = ['FAILED', 'CANCELED', 'FINISHED'];

/** The JobManager the decision is made on: the Service's answer, or the one JobManager pod asked on its own address. */
export interface JobManagerView {
  reachable: boolean;
  jobs: { id: string; name: string; state: string }[];
  /** TaskManagers registered with it and their slots' jobs; undefined when not read. */
  registered?: { id: string; jobIds: string[] }[];
  /** How it was asked, for the reason ("the new JobManager", "JobManager pod x (asked on its own address)"). */
  name: string;
}

export function serviceView(snapshot: ClusterHealthSnapshot): JobManagerView {
  return { reachable: snapshot.rest.reachable, jobs: snapshot.rest.jobs, registered: snapshot.taskManagers?.registered, name: 'the new JobManager' };
}

/**
 * The jobs flinkops would resubmit once the JobManager answers through its Service: known, not among the jobs the
 * (pod-level) view knows, with a jar and a restore point. For deciding on the TaskManagers before that.
 */
export function resubmittableLostJobs(snapshot: ClusterHealthSnapshot, view: JobManagerView): string[] {
  return snapshot.knownJobs.filter((k) => !view.jobs.some((j) => j.id === k.jobId) && k.version && k.restoreCandidates.length > 0).map((k) => k.jobId);
}

/**
 * `lostJobIds`: the jobs about to be resubmitted; `view`: the JobManager as asked (by default through its Service).
 * Undefined when the TaskManagers are free (or were not observed).
 */
export function chooseTaskManagerRecovery(snapshot: ClusterHealthSnapshot, lostJobIds: string[], context: TaskManagerContext, view: JobManagerView = serviceView(snapshot)): TaskManagerChoice | undefined {
  const side = snapshot.taskManagers;
  if (!context.restartSupported || !side || !view.registered || lostJobIds.length === 0 || snapshot.ha.mode !== 'none') return undefined;
  const live = side.pods.filter((p) => !p.terminating);
  const ready = live.filter((p) => p.ready);
  const registered = view.registered;
  const unregistered = Math.max(0, ready.length - registered.length);
  const holding = registered.filter((tm) => tm.jobIds.some((id) => lostJobIds.includes(id)));
  if (unregistered === 0 && holding.length === 0) return undefined;

  const jobs = lostJobIds.join(', ');
  const tied = [
    unregistered > 0 ? `${registered.length} of ${ready.length} ready TaskManager pod(s) registered with ${view.name}` : undefined,
    holding.length > 0 ? `TaskManager(s) ${holding.map((tm) => tm.id).join(', ')} still hold slots of lost job(s) ${jobs}` : undefined,
  ]
    .filter(Boolean)
    .join('; ');
  const why = `${tied}: TaskManagers stay tied to the JobManager that is gone, with the lost job's slots, until their heartbeat to it times out (heartbeat.timeout, 50 s by default), and a resubmission has to wait for that`;
  const subject = live.map((p) => p.name).join(', ') || 'taskmanagers';
  const waiting = (because: string): TaskManagerChoice => ({
    finding: { code: 'taskmanagers-tied-to-lost-jobmanager', severity: 'warning', subject, reason: `${why}; ${because}`, action: { kind: 'none' } },
  });

  if (context.limits.lostJobRecovery === 'wait-for-taskmanagers') return waiting('flinkops waits for them (lost-job recovery: wait-for-taskmanagers)');
  const active = view.jobs.filter((j) => !TERMINAL.includes(j.state));
  if (!view.reachable || active.length > 0) {
    const runs = active.length > 0 ? `the JobManager runs ${active.map((j) => `${j.name} (${j.id})`).join(', ')}, which a restart of its TaskManagers would stop` : 'the JobManager does not answer';
    return waiting(`${runs}, so flinkops waits for them instead of restarting them`);
  }
  if (live.length === 0) return waiting('no TaskManager pod to restart');
  const earlier = context.taken.find((t) => t.kind === 'restart-taskmanagers');
  if (earlier) return waiting(`${earlier.detail} already in this run; flinkops waits for them now`);
  const since = context.nowMs - context.limits.taskManagerRestartWindow;
  const previous = [...(snapshot.memory.taskManagerRestarts ?? [])].reverse().find((r) => r.at >= since);
  if (previous) {
    return waiting(
      `its TaskManagers were restarted ${formatDuration(context.nowMs - previous.at)} ago (by ${previous.workflowId}); within the ${formatDuration(context.limits.taskManagerRestartWindow)} window flinkops waits for them instead of restarting them again`,
    );
  }
  const restart: TaskManagerChoice['restart'] = { kind: 'restart-taskmanagers', pods: live.map((p) => ({ name: p.name, uid: p.uid })), jobIds: [...lostJobIds] };
  return {
    restart,
    finding: {
      code: 'taskmanagers-tied-to-lost-jobmanager',
      severity: 'warning',
      subject,
      reason: `${why}; ${view.name} runs no job, so restarting the TaskManager pod(s) stops nothing, and fresh ones register at once (at most once per ${formatDuration(context.limits.taskManagerRestartWindow)})`,
      action: restart,
    },
  };
}
