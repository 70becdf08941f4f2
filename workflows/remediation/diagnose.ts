import { formatDuration } from '../model/durations';
import type { ClusterHealthSnapshot, HighAvailabilityMode, JobManagerPodSnapshot, KnownJob, RestoreCandidate } from '../model/cluster-health';
import { clusterKey, type JarVersion } from '../model/target';
import type { RemediationLimits } from './request';
import { chooseTaskManagerRecovery, resubmittableLostJobs } from './taskmanagers';
import { ZOOKEEPER_HARD_STOPS, zooKeeperFindings, type ZooKeeperFindingCode } from './zookeeper';

/**
 * The remediation's decisions as one pure function: an observation of the cluster (and what this run already did)
 * in, findings with a severity, a plain-language reason and the planned action out. Every guard (rate limit, one
 * pod deletion per window, HA gets time to recover by itself, an action that did not help is not repeated) lives
 * here, so it is unit-tested without Temporal or Kubernetes.
 */
export type Severity = 'info' | 'warning' | 'critical';

export type FindingCode =
  | 'cluster-not-found'
  | 'operator-managed'
  | 'operator-failing'
  | 'jobmanager-scaled-to-zero'
  | 'jobmanager-replicas-without-ha'
  | 'jobs-at-risk'
  | 'no-taskmanagers'
  | 'jobmanager-standby-with-ha'
  | 'jobmanager-crash-looping'
  | 'jobmanager-oom-killed'
  | 'jobmanager-cannot-start'
  | 'jobmanager-starting'
  | 'jobmanager-healthy'
  | 'rest-unreachable'
  | 'ha-leader-missing'
  | 'ha-leader-stale'
  | 'ha-leader-elected'
  | 'ha-leader-not-observed'
  | 'application-without-ha'
  | 'jobs-not-observable'
  | 'job-running'
  | 'job-recovering'
  | 'job-lost'
  | 'job-failed'
  | 'job-stopped'
  | 'operation-in-progress'
  | 'rate-limited'
  | 'pod-deletion-window'
  | 'action-did-not-help'
  | 'recovery-timed-out'
  | 'taskmanagers-tied-to-lost-jobmanager'
  | ZooKeeperFindingCode;

/** What remediation does about a cluster. Scale, delete-pod and resubmit-job are destructive; waits are not. */
export type RemediationAction =
  | {
      kind: 'scale-jobmanager';
      deployment: string;
      from: number;
      to: 1;
      /** The JobManager pod that stays (the one running the jobs), and those the scale-down removes. */
      keep?: string;
      remove?: string[];
    }
  | { kind: 'delete-pod'; pod: string; uid: string }
  | { kind: 'wait-for-jobmanager' }
  | { kind: 'await-recovery'; jobIds: string[]; leader: boolean }
  /** TaskManager pods still tied to a lost JobManager, restarted so fresh ones register at once (./taskmanagers.ts). */
  | { kind: 'restart-taskmanagers'; pods: { name: string; uid: string }[]; jobIds: string[] }
  | { kind: 'resubmit-job'; jobKey: string; jobName: string; jobId: string; version: JarVersion; restore: RestoreCandidate };

export type PlannedAction = RemediationAction | { kind: 'none' } | { kind: 'escalate' } | { kind: 'deferred'; until: string };

export interface Finding {
  code: FindingCode;
  severity: Severity;
  /** What the finding is about: a pod, a job, the Deployment. */
  subject: string;
  reason: string;
  action: PlannedAction;
}

export interface Diagnosis {
  cluster: string;
  observedAt: number;
  ha: HighAvailabilityMode;
  /** healthy: nothing to do; unhealthy: `plan` or `escalation` says what next; blocked: another flinkops operation holds the cluster. */
  status: 'healthy' | 'unhealthy' | 'blocked';
  findings: Finding[];
  /** The next actions, in order; only one phase at a time (the cluster is observed again in between). */
  plan: RemediationAction[];
  /** Why a human is needed now; set when nothing (more) may or can be done. */
  escalation?: string;
  summary: string;
}

/** What this run already did and sat through: a second try of the same action means the first did not help. */
export interface DiagnoseContext {
  nowMs: number;
  limits: RemediationLimits;
  taken: TakenAction[];
  /** Waits this run sat through without the cluster recovering. */
  waitedOut: { jobManager?: boolean; recovery?: boolean };
  /** This run already counts against the rate limit (it acted before). */
  counted: boolean;
  /**
   * The run may restart TaskManagers still tied to a lost JobManager (limits.lostJobRecovery decides whether it does);
   * false for runs that started on a worker without that choice.
   */
  taskManagerRestart?: boolean;
}

export interface TakenAction {
  kind: RemediationAction['kind'];
  /** The pod, deployment or job acted on. */
  target: string;
  at: number;
  detail: string;
}

const DESTRUCTIVE: ReadonlySet<RemediationAction['kind']> = new Set(['scale-jobmanager', 'delete-pod', 'restart-taskmanagers', 'resubmit-job']);
/** Waiting reasons that a new pod would hit again: deleting the pod cannot help. */
const CANNOT_START = ['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'CreateContainerConfigError', 'RunContainerError'];
const TERMINAL = ['FAILED', 'CANCELED', 'FINISHED'];
const NUMBER_WORDS = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
const DEFAULT_LEASE_MS = 15_000;

/** HA whose leader flinkops reads (Kubernetes: the leader ConfigMap; ZooKeeper: connection_info), so a wait can include it. */
function leaderObserved(snapshot: ClusterHealthSnapshot): boolean {
  return snapshot.ha.mode === 'kubernetes' || snapshot.ha.mode === 'zookeeper';
}

export function isDestructive(action: Pick<RemediationAction, 'kind'>): boolean {
  return DESTRUCTIVE.has(action.kind);
}

export function actionTarget(action: RemediationAction): string {
  switch (action.kind) {
    case 'scale-jobmanager':
      return action.deployment;
    case 'delete-pod':
      return action.pod;
    case 'resubmit-job':
      return action.jobId;
    case 'restart-taskmanagers':
      return action.pods.map((p) => p.name).join(',');
    case 'await-recovery':
      return action.jobIds.join(',') || 'leader';
    case 'wait-for-jobmanager':
      return 'jobmanager';
  }
}

export function diagnose(snapshot: ClusterHealthSnapshot, context: DiagnoseContext): Diagnosis {
  const findings: Finding[] = [];
  const add = (finding: Finding) => findings.push(finding);
  const base = { cluster: clusterKey(snapshot.cluster), observedAt: snapshot.observedAt, ha: snapshot.ha.mode };

  if (snapshot.problem || !snapshot.jobManager) {
    const reason = snapshot.problem ?? 'the cluster could not be observed';
    add({ code: 'cluster-not-found', severity: 'critical', subject: base.cluster, reason, action: { kind: 'escalate' } });
    return finish(base, findings, [], reason);
  }
  if (snapshot.operator) return operatorManaged(base, snapshot, findings);
  const haOn = snapshot.ha.mode !== 'none';
  const jm = snapshot.jobManager;
  const live = snapshot.pods.filter((p) => !p.terminating);
  const ready = live.filter((p) => p.ready);
  const split = jm.replicas > 1 && !haOn;

  // The JobManager Deployment and its pods.
  if (jm.replicas === 0) {
    add({
      code: 'jobmanager-scaled-to-zero',
      severity: 'critical',
      subject: jm.name,
      reason: `the JobManager Deployment ${jm.name} is scaled to 0: the cluster was stopped on purpose or by another tool, and flinkops does not start it`,
      action: { kind: 'escalate' },
    });
  } else if (split) {
    const scaleDown = planScaleDown(snapshot, live);
    const evidence =
      scaleDown.inventory ??
      ((snapshot.rest.distinctAnswers ?? 0) > 1 ? `; ${snapshot.rest.answers} requests through the Service saw ${snapshot.rest.distinctAnswers} different job lists` : '');
    const scale: RemediationAction = { kind: 'scale-jobmanager', deployment: jm.name, from: jm.replicas, to: 1, ...(scaleDown.keep ? { keep: scaleDown.keep, remove: scaleDown.remove } : {}) };
    add({
      code: 'jobmanager-replicas-without-ha',
      severity: 'critical',
      subject: jm.name,
      reason: `${jm.replicas} JobManager replicas without high availability: requests are split between ${NUMBER_WORDS[jm.replicas] ?? jm.replicas} independent leaders${evidence}`,
      action: scaleDown.atRisk ? { kind: 'escalate' } : scale,
    });
    if (scaleDown.atRisk) add({ code: 'jobs-at-risk', severity: 'critical', subject: jm.name, reason: scaleDown.atRisk, action: { kind: 'escalate' } });
  } else if (jm.replicas > 1) {
    add({
      code: 'jobmanager-standby-with-ha',
      severity: 'info',
      subject: jm.name,
      reason: `${jm.replicas} JobManager replicas with ${snapshot.ha.mode} high availability: one leads, the others stand by`,
      action: { kind: 'none' },
    });
  }

  for (const pod of live) {
    const finding = podFinding(pod);
    if (finding) add(finding);
  }
  const stuck = findings.some((f) => f.code === 'jobmanager-crash-looping' || f.code === 'jobmanager-oom-killed' || f.code === 'jobmanager-cannot-start');
  if (jm.replicas > 0 && ready.length === 0 && !stuck) {
    const starting = live.map((p) => `${p.name} ${p.waitingReason ?? p.phase}${p.phase === 'Running' ? ', not ready' : ''}`).join('; ');
    add({
      code: 'jobmanager-starting',
      severity: 'warning',
      subject: jm.name,
      reason: `no JobManager is ready${starting ? ` (${starting})` : ' (no pod yet)'}: it is starting or restarting`,
      action: { kind: 'wait-for-jobmanager' },
    });
  } else if (ready.length > 0 && !snapshot.rest.reachable) {
    add({
      code: 'rest-unreachable',
      severity: 'critical',
      subject: snapshot.rest.url ?? 'REST',
      reason: `${ready.length} JobManager pod(s) are ready, but the Flink REST API at ${snapshot.rest.url} does not answer: ${snapshot.rest.error ?? 'no answer'}`,
      action: { kind: 'wait-for-jobmanager' },
    });
  } else if (ready.length > 0 && !split && !stuck) {
    add({
      code: 'jobmanager-healthy',
      severity: 'info',
      subject: jm.name,
      reason: `JobManager ready (${ready.map((p) => p.name).join(', ')}), Flink ${snapshot.rest.flinkVersion ?? '?'}, ${snapshot.rest.taskManagers ?? 0} TaskManager(s)`,
      action: { kind: 'none' },
    });
  }

  // High availability: Flink elects the leader and recovers jobs by itself; flinkops only watches that it does.
  const leaseMs = snapshot.ha.leaseDurationMs ?? DEFAULT_LEASE_MS;
  if (snapshot.ha.mode === 'kubernetes') {
    const leader = snapshot.ha.leader;
    if (!leader?.exists || !leader.holderIdentity) {
      add({
        code: 'ha-leader-missing',
        severity: 'warning',
        subject: leader?.configMap ?? 'leader ConfigMap',
        reason: `Kubernetes HA is on but ${leader?.configMap ?? 'the leader ConfigMap'} names no leader: Flink is electing one`,
        action: { kind: 'await-recovery', jobIds: [], leader: true },
      });
    } else if (leader.renewTime === undefined || snapshot.observedAt - leader.renewTime > 2 * leaseMs) {
      add({
        code: 'ha-leader-stale',
        severity: 'warning',
        subject: leader.configMap,
        reason: `the HA leader ${leader.holderIdentity} last renewed its lease ${leader.renewTime === undefined ? 'never' : `${formatDuration(snapshot.observedAt - leader.renewTime)} ago`} (lease ${formatDuration(leaseMs)}): the leader is gone and Flink is electing a new one`,
        action: { kind: 'await-recovery', jobIds: [], leader: true },
      });
    } else {
      add({
        code: 'ha-leader-elected',
        severity: 'info',
        subject: leader.configMap,
        reason: `HA leader ${leader.holderIdentity} renewed its lease ${formatDuration(Math.max(0, snapshot.observedAt - leader.renewTime))} ago${leader.restAddress ? ` (REST ${leader.restAddress})` : ''}`,
        action: { kind: 'none' },
      });
    }
  } else if (snapshot.ha.mode === 'zookeeper' && snapshot.ha.zookeeper) {
    // ZooKeeper HA: leader, standby, shared path, job entries, quorum (./zookeeper.ts).
    for (const finding of zooKeeperFindings(snapshot)) add(finding);
  } else if (haOn) {
    add({
      code: 'ha-leader-not-observed',
      severity: 'info',
      subject: snapshot.ha.configured ?? snapshot.ha.mode,
      reason: `${snapshot.ha.mode} high availability (${snapshot.ha.configured}): flinkops does not read its leader, it relies on the REST API`,
      action: { kind: 'none' },
    });
  } else if (snapshot.kind === 'application') {
    // The JobManager runs the job from its Deployment's arguments: a restart silently goes back to that savepoint.
    // A standing risk, not a problem now: it must not make every health check of the cluster "unhealthy".
    add({
      code: 'application-without-ha',
      severity: 'info',
      subject: jm.name,
      reason:
        'application cluster without high availability: when its JobManager restarts, Flink starts the job again from the savepoint in the Deployment (or without state) and the progress since is lost; flinkops does not repair that, turn on Kubernetes HA',
      action: { kind: 'none' },
    });
  }

  // Known jobs: only once one JobManager answers for the cluster.
  if (snapshot.knownJobs.length > 0) {
    if (!snapshot.rest.reachable || split || jm.replicas === 0) {
      const until = split ? 'a single JobManager answers' : 'the JobManager answers';
      add({
        code: 'jobs-not-observable',
        severity: 'info',
        subject: snapshot.knownJobs.map((j) => j.jobName).join(', '),
        reason: `${snapshot.knownJobs.length} job(s) flinkops knows (${snapshot.knownJobs.map((j) => j.jobName).join(', ')}) are checked once ${until}`,
        action: { kind: 'deferred', until },
      });
    } else {
      for (const job of snapshot.knownJobs) add(jobFinding(job, snapshot, haOn, context));
    }
  }
  if (snapshot.rest.reachable && !split && jm.replicas > 0) {
    // Healthy means every job RUNNING with all its tasks, including jobs flinkops was never told about.
    const known = new Set(snapshot.knownJobs.map((j) => j.jobId));
    const active = snapshot.rest.jobs.filter((j) => !TERMINAL.includes(j.state));
    for (const job of active.filter((j) => !known.has(j.id) && !allTasksRunning(j))) {
      const tasks = job.tasksUnknown ? 'its tasks could not be read' : `${job.tasksRunning ?? 0}/${job.tasksTotal ?? '?'} tasks running`;
      add({
        code: 'job-recovering',
        severity: 'warning',
        subject: `${job.name} (${job.id})`,
        reason: `job ${job.name} (${job.id}) is ${job.state}, ${tasks}: not healthy until every task runs`,
        action: { kind: 'await-recovery', jobIds: [job.id], leader: false },
      });
    }
    if (active.length > 0 && (snapshot.rest.taskManagers ?? 0) === 0) {
      add({
        code: 'no-taskmanagers',
        severity: 'warning',
        subject: 'taskmanagers',
        reason: `no TaskManager is registered with the JobManager, so none of its ${active.length} job(s) can run (${snapshot.taskManagerReplicas} TaskManager replica(s) asked for)`,
        action: { kind: 'await-recovery', jobIds: active.map((j) => j.id), leader: false },
      });
    }
  }

  if (snapshot.lockHolder) {
    const holder = snapshot.lockHolder;
    add({
      code: 'operation-in-progress',
      severity: 'info',
      subject: holder.workflowId,
      reason: `${holder.operation} ${holder.workflowId} holds the cluster since ${holder.since}: its jobs may be stopped on purpose, so remediation leaves the cluster alone until it ends`,
      action: { kind: 'none' },
    });
    return finish(base, findings, [], undefined, true);
  }
  return plan(base, findings, snapshot, context);
}

/**
 * A cluster the Flink Kubernetes Operator manages: it scales, restarts and redeploys it itself, so flinkops reports
 * what the operator is doing and never acts against it. A failure the operator reports is a human's to look at.
 */
function operatorManaged(base: DiagnosisBase, snapshot: ClusterHealthSnapshot, findings: Finding[]): Diagnosis {
  const operator = snapshot.operator!;
  const state = [
    `lifecycle ${operator.lifecycleState ?? '?'}`,
    `JobManager ${operator.jobManagerDeploymentStatus ?? '?'}`,
    operator.jobState ? `job ${operator.jobState}` : undefined,
    operator.reconciliationState ? `reconciliation ${operator.reconciliationState}` : undefined,
    operator.generation !== undefined ? `generation ${operator.generation} (reconciled ${operator.reconciledGeneration ?? 'never'})` : undefined,
  ].filter(Boolean).join(', ');
  findings.push({
    code: 'operator-managed',
    severity: 'info',
    subject: operator.deployment,
    reason: `the Flink Kubernetes Operator manages this cluster through FlinkDeployment ${operator.deployment} (${state}): flinkops reports, and leaves acting to the operator`,
    action: { kind: 'none' },
  });
  const failing = operator.error || operator.lifecycleState === 'FAILED' || operator.jobState === 'FAILED';
  if (!failing) return finish(base, findings, [], undefined);
  const reason = `the operator reports ${operator.lifecycleState === 'FAILED' || operator.jobState === 'FAILED' ? 'a failure' : 'an error'} on FlinkDeployment ${operator.deployment}${operator.error ? `: ${operator.error}` : ''}; flinkops does not act against the operator`;
  findings.push({ code: 'operator-failing', severity: 'critical', subject: operator.deployment, reason, action: { kind: 'escalate' } });
  return finish(base, findings, [], reason);
}

/** RUNNING with all its tasks running, as read (unknown counts are not running). */
function allTasksRunning(job: { state: string; tasksRunning?: number; tasksTotal?: number; tasksUnknown?: boolean }): boolean {
  return job.state === 'RUNNING' && !job.tasksUnknown && job.tasksTotal !== undefined && job.tasksTotal > 0 && job.tasksRunning === job.tasksTotal;
}

/**
 * Which JobManager a scale-down to one replica keeps: the one that runs jobs (the most, then the oldest). Every job
 * on the others goes with them; each must be one flinkops can bring back on the one kept (it knows the jar and has a
 * checkpoint or savepoint), or nothing is done and the jobs at risk are named. Without an inventory of every live
 * pod nothing is known, and nothing is done either.
 */
function planScaleDown(snapshot: ClusterHealthSnapshot, live: JobManagerPodSnapshot[]): { keep?: string; remove?: string[]; inventory?: string; atRisk?: string } {
  const running = live.filter((p) => p.phase === 'Running');
  if (running.length < 2) return {};
  const unasked = running.filter((p) => p.jobs === undefined);
  if (unasked.length > 0) {
    return {
      atRisk: `which jobs JobManager pod(s) ${unasked.map((p) => `${p.name} (${p.inventoryError ?? 'not asked'})`).join(', ')} run is not known, so a scale-down could silently drop them: ask each pod (GET /jobs/overview on its own address) and stop or register its jobs first`,
    };
  }
  const ordered = [...running].sort((a, b) => (b.jobs?.length ?? 0) - (a.jobs?.length ?? 0) || a.createdAt - b.createdAt);
  const keep = ordered[0]!;
  const remove = ordered.slice(1);
  const inventory = `; ${running.map((p) => `${p.name} runs ${p.jobs!.length === 0 ? 'no job' : p.jobs!.map((j) => `${j.name} (${j.id})`).join(', ')}`).join('; ')}`;
  const unrecoverable: string[] = [];
  for (const pod of remove) {
    for (const job of pod.jobs ?? []) {
      const known = snapshot.knownJobs.find((k) => k.jobId === job.id);
      if (!known?.version) unrecoverable.push(`${job.name} (${job.id}) on ${pod.name}: flinkops does not know its jar (flinkops register)`);
      else if (known.restoreCandidates.length === 0) unrecoverable.push(`${job.name} (${job.id}) on ${pod.name}: no retained checkpoint or recorded savepoint${known.checkpointProblem ? ` (${known.checkpointProblem})` : ''}`);
    }
  }
  if (unrecoverable.length > 0) {
    return {
      inventory,
      atRisk: `scaling down keeps ${keep.name} and removes ${remove.map((p) => p.name).join(', ')}, which would take ${unrecoverable.length} job(s) flinkops cannot bring back: ${unrecoverable.join('; ')}. Register them, or stop them with a savepoint and submit them to ${keep.name}, then remediate again`,
    };
  }
  return { keep: keep.name, remove: remove.map((p) => p.name), inventory };
}

function podFinding(pod: JobManagerPodSnapshot): Finding | undefined {
  const reason = pod.waitingReason;
  if (!reason) return undefined;
  const last = pod.lastTermination;
  const lastText = last ? `, last exit code ${last.exitCode ?? '?'}${last.reason ? ` (${last.reason})` : ''}` : '';
  const message = pod.waitingMessage ? `: ${pod.waitingMessage}` : '';
  if (CANNOT_START.includes(reason)) {
    return {
      code: 'jobmanager-cannot-start',
      severity: 'critical',
      subject: pod.name,
      reason: `JobManager pod ${pod.name} cannot start (${reason}${message}): a new pod would fail the same way; fix the Deployment or the ConfigMap/Secret it refers to`,
      action: { kind: 'escalate' },
    };
  }
  if (reason !== 'CrashLoopBackOff') return undefined;
  if (last?.reason === 'OOMKilled') {
    return {
      code: 'jobmanager-oom-killed',
      severity: 'critical',
      subject: pod.name,
      reason: `JobManager pod ${pod.name} is crash-looping because it is OOMKilled (${pod.restartCount} restarts): its memory limit is below what jobmanager.memory.process.size asks for; a new pod gets the same limit`,
      action: { kind: 'escalate' },
    };
  }
  return {
    code: 'jobmanager-crash-looping',
    severity: 'critical',
    subject: pod.name,
    reason: `JobManager pod ${pod.name} is crash-looping (CrashLoopBackOff, ${pod.restartCount} restart(s)${lastText}): the JobManager exits shortly after it starts, often because of a bad configuration`,
    action: { kind: 'delete-pod', pod: pod.name, uid: pod.uid },
  };
}

function jobFinding(job: KnownJob, snapshot: ClusterHealthSnapshot, haOn: boolean, context: DiagnoseContext): Finding {
  const subject = `${job.jobName} (${job.jobId})`;
  const flinkJob = snapshot.rest.jobs.find((j) => j.id === job.jobId);
  if (flinkJob && TERMINAL.includes(flinkJob.state)) {
    if (flinkJob.state === 'FAILED') {
      return {
        code: 'job-failed',
        severity: 'critical',
        subject,
        reason: `job ${subject} FAILED in Flink: the job itself failed (its restart strategy gave up), the JobManager did not lose it; flinkops does not restart failed jobs, look at its exceptions`,
        action: { kind: 'escalate' },
      };
    }
    return { code: 'job-stopped', severity: 'info', subject, reason: `job ${subject} is ${flinkJob.state} in Flink: it was stopped, flinkops leaves it stopped`, action: { kind: 'none' } };
  }
  if (flinkJob) {
    if (allTasksRunning(flinkJob)) return { code: 'job-running', severity: 'info', subject, reason: `job ${subject} is RUNNING, all ${flinkJob.tasksTotal} tasks running`, action: { kind: 'none' } };
    const tasks = flinkJob.tasksUnknown ? ', its tasks could not be read' : flinkJob.tasksTotal !== undefined ? `, ${flinkJob.tasksRunning ?? 0}/${flinkJob.tasksTotal} tasks running` : '';
    return {
      code: 'job-recovering',
      severity: 'warning',
      subject,
      reason: `job ${subject} is ${flinkJob.state}${tasks}: Flink is (re)starting it`,
      action: { kind: 'await-recovery', jobIds: [job.jobId], leader: leaderObserved(snapshot) },
    };
  }
  if (haOn) {
    return {
      code: 'job-recovering',
      severity: 'warning',
      subject,
      reason: `job ${subject} is not known to the JobManager yet: with ${snapshot.ha.mode} high availability Flink recovers it from its HA store`,
      action: { kind: 'await-recovery', jobIds: [job.jobId], leader: leaderObserved(snapshot) },
    };
  }
  const lost = `job ${subject} is gone: the JobManager runs without high availability and does not know it (it restarted, or another JobManager had it)`;
  if (!job.version) {
    return {
      code: 'job-lost',
      severity: 'critical',
      subject,
      reason: `${lost}; flinkops does not know its jar (no version in its record): resubmit it by hand, or tell flinkops with \`flinkops register\``,
      action: { kind: 'escalate' },
    };
  }
  const restore = newestRestoreCandidate(job.restoreCandidates);
  if (!restore) {
    const where = job.checkpointProblem ? ` (${job.checkpointProblem})` : '';
    return {
      code: 'job-lost',
      severity: 'critical',
      subject,
      reason: `${lost}; there is no retained checkpoint or recorded savepoint to restore it from${where}: resubmitting would start it without its state`,
      action: { kind: 'escalate' },
    };
  }
  const age = formatDuration(Math.max(0, context.nowMs - restore.at));
  return {
    code: 'job-lost',
    severity: 'critical',
    subject,
    reason: `${lost}; it will be resubmitted from its newest ${restore.source} ${restore.path} (${age} old)`,
    action: { kind: 'resubmit-job', jobKey: job.jobKey, jobName: job.jobName, jobId: job.jobId, version: job.version, restore },
  };
}

/** The newest of the retained checkpoints and recorded savepoints, by completion time. */
export function newestRestoreCandidate(candidates: RestoreCandidate[]): RestoreCandidate | undefined {
  return [...candidates].sort((a, b) => b.at - a.at || (b.checkpointId ?? 0) - (a.checkpointId ?? 0))[0];
}

/** Phases run one at a time: the JobManager first, then the leader and recovering jobs, then lost jobs. */
const PHASES: RemediationAction['kind'][][] = [['scale-jobmanager', 'delete-pod', 'wait-for-jobmanager'], ['await-recovery'], ['restart-taskmanagers', 'resubmit-job']];

function plan(base: DiagnosisBase, findings: Finding[], snapshot: ClusterHealthSnapshot, context: DiagnoseContext): Diagnosis {
  const { limits, nowMs } = context;
  const haOn = snapshot.ha.mode !== 'none';
  const stop = (code: FindingCode, subject: string, reason: string): Diagnosis => {
    findings.push({ code, severity: 'critical', subject, reason, action: { kind: 'escalate' } });
    return finish(base, findings, [], reason);
  };
  const hardStop = findings.find((f) => f.code === 'jobmanager-scaled-to-zero' || (ZOOKEEPER_HARD_STOPS as readonly FindingCode[]).includes(f.code));
  if (hardStop) return finish(base, findings, [], hardStop.reason);

  const actions = findings.map((f) => f.action).filter((a): a is RemediationAction => a.kind !== 'none' && a.kind !== 'escalate' && a.kind !== 'deferred');
  let next: RemediationAction[] = [];
  for (const kinds of PHASES) {
    next = actions.filter((a) => kinds.includes(a.kind));
    if (next.length > 0) break;
  }
  next = mergeWaits(next);

  // A JobManager without HA that answers on its pod address before the Service routes to it: its lost jobs'
  // TaskManagers are decided on now, so they restart while the JobManager becomes ready (./taskmanagers.ts).
  const answer = snapshot.podAnswer;
  if (answer && next.length > 0 && next.every((a) => a.kind === 'wait-for-jobmanager')) {
    const view = { reachable: true, jobs: answer.jobs, registered: answer.registered, name: `JobManager pod ${answer.pod} (asked on its own address, not ready yet)` };
    const lost = resubmittableLostJobs(snapshot, view);
    const choice = lost.length > 0 ? chooseTaskManagerRecovery(snapshot, lost, { nowMs, limits, taken: context.taken, restartSupported: context.taskManagerRestart ?? false }, view) : undefined;
    if (choice) findings.push(choice.finding);
    if (choice?.restart) next = [choice.restart, ...next];
  }

  // Lost jobs: restart TaskManagers still tied to the lost JobManager first, or wait for them (./taskmanagers.ts).
  const resubmits = next.filter((a): a is Extract<RemediationAction, { kind: 'resubmit-job' }> => a.kind === 'resubmit-job');
  if (resubmits.length > 0) {
    const choice = chooseTaskManagerRecovery(
      snapshot,
      resubmits.map((a) => a.jobId),
      { nowMs, limits, taken: context.taken, restartSupported: context.taskManagerRestart ?? false },
    );
    if (choice) findings.push(choice.finding);
    if (choice?.restart) next = [choice.restart, ...next];
  }

  // A JobManager that did not become ready (or reachable) in time is stuck: deleting its pod is what is left to try.
  if (context.waitedOut.jobManager && next.some((a) => a.kind === 'wait-for-jobmanager')) {
    const pod = stuckPod(snapshot);
    if (!pod) return stop('recovery-timed-out', 'jobmanager', `no JobManager became ready and reachable within ${formatDuration(limits.jobManagerTimeout)}`);
    next = [{ kind: 'delete-pod', pod: pod.name, uid: pod.uid }];
  }

  // With HA, Flink gets its recovery timeout before flinkops deletes anything.
  if (haOn && !context.waitedOut.recovery && next.some((a) => a.kind === 'delete-pod')) {
    const jobIds = snapshot.knownJobs.map((j) => j.jobId);
    next = [{ kind: 'await-recovery', jobIds, leader: leaderObserved(snapshot) }];
  }

  for (const action of next) {
    if (action.kind === 'await-recovery' && context.waitedOut.recovery) {
      const deletable = findings.map((f) => f.action).find((a): a is Extract<RemediationAction, { kind: 'delete-pod' }> => a.kind === 'delete-pod');
      const stuck = deletable ? undefined : stuckPod(snapshot);
      if (deletable || stuck) {
        next = [deletable ?? { kind: 'delete-pod', pod: stuck!.name, uid: stuck!.uid }];
        break;
      }
      const what = action.jobIds.length > 0 ? `job(s) ${action.jobIds.join(', ')}` : 'a leader';
      return stop('recovery-timed-out', actionTarget(action), `Flink did not recover ${what} by itself within ${formatDuration(limits.haRecoveryTimeout)}, and there is no stuck JobManager pod flinkops may delete`);
    }
    const earlier = context.taken.find((t) => t.kind === action.kind && t.target === actionTarget(action) && DESTRUCTIVE.has(t.kind));
    if (earlier) {
      return stop('action-did-not-help', actionTarget(action), `${earlier.detail} did not help: the cluster still needs it; flinkops does not repeat it`);
    }
  }

  if (!context.counted && next.some(isDestructive)) {
    const recent = snapshot.memory.remediations.filter((r) => r.at > nowMs - 3_600_000);
    if (recent.length >= limits.maxRemediationsPerHour) {
      return stop(
        'rate-limited',
        base.cluster,
        `rate limit: ${recent.length} remediation(s) of this cluster in the last hour (at most ${limits.maxRemediationsPerHour}); flinkops does not act again, so a flapping cluster is not restarted in a loop`,
      );
    }
  }

  for (const action of next) {
    if (action.kind !== 'delete-pod') continue;
    const deletedBefore = context.taken.find((t) => t.kind === 'delete-pod');
    if (deletedBefore) {
      const how = snapshot.pods.find((p) => p.name === action.pod)?.waitingReason === 'CrashLoopBackOff' ? 'is crash-looping too' : 'is stuck the same way';
      return stop('action-did-not-help', action.pod, `${deletedBefore.detail} did not help: its replacement ${action.pod} ${how}`);
    }
    const since = nowMs - limits.podDeletionWindow;
    const previous = [...snapshot.memory.podDeletions].reverse().find((d) => d.at >= since);
    if (previous) {
      return stop(
        'pod-deletion-window',
        action.pod,
        `a JobManager pod of this cluster was already deleted ${formatDuration(nowMs - previous.at)} ago (${previous.pod}, by ${previous.workflowId}); within the ${formatDuration(limits.podDeletionWindow)} window deleting another would only restart it in a loop`,
      );
    }
  }

  if (next.length === 0) {
    const escalating = findings.filter((f) => f.action.kind === 'escalate');
    if (escalating.length > 0) return finish(base, findings, [], escalating.map((f) => f.reason).join('; '));
  }
  return finish(base, findings, next, undefined);
}

/** The JobManager pod to delete when waiting did not help: one that is not ready, or a ready one whose REST API is dead. */
function stuckPod(snapshot: ClusterHealthSnapshot): JobManagerPodSnapshot | undefined {
  const live = snapshot.pods.filter((p) => !p.terminating).sort((a, b) => a.createdAt - b.createdAt);
  return live.find((p) => !p.ready) ?? (snapshot.rest.reachable ? undefined : live[0]);
}

/** Several findings may each want a wait: one wait for all of them. */
function mergeWaits(actions: RemediationAction[]): RemediationAction[] {
  const result: RemediationAction[] = [];
  for (const action of actions) {
    if (action.kind === 'wait-for-jobmanager' && result.some((a) => a.kind === 'wait-for-jobmanager')) continue;
    if (action.kind === 'await-recovery') {
      const existing = result.find((a): a is Extract<RemediationAction, { kind: 'await-recovery' }> => a.kind === 'await-recovery');
      if (existing) {
        existing.jobIds = [...new Set([...existing.jobIds, ...action.jobIds])];
        existing.leader ||= action.leader;
        continue;
      }
      result.push({ ...action, jobIds: [...action.jobIds] });
      continue;
    }
    if (action.kind === 'delete-pod' && result.some((a) => a.kind === 'delete-pod')) continue; // one pod per pass
    result.push(action);
  }
  // Scaling down removes the surplus pods anyway: no pod deletion in the same pass.
  if (result.some((a) => a.kind === 'scale-jobmanager')) return result.filter((a) => a.kind !== 'delete-pod' && a.kind !== 'wait-for-jobmanager');
  // Deleting a pod is followed by waiting for the JobManager anyway.
  return result.some((a) => a.kind === 'delete-pod') ? result.filter((a) => a.kind !== 'wait-for-jobmanager') : result;
}

type DiagnosisBase = Pick<Diagnosis, 'cluster' | 'observedAt' | 'ha'>;

function finish(base: DiagnosisBase, findings: Finding[], next: RemediationAction[], escalation: string | undefined, blocked = false): Diagnosis {
  const problems = findings.filter((f) => f.severity !== 'info');
  const status = blocked && problems.length > 0 ? 'blocked' : problems.length === 0 && !escalation ? 'healthy' : 'unhealthy';
  const summary =
    status === 'healthy'
      ? `${base.cluster} is healthy${base.ha !== 'none' ? ` (${base.ha} HA)` : ''}`
      : status === 'blocked'
        ? `${base.cluster}: ${problems.length} problem(s), but another flinkops operation holds the cluster`
        : escalation
          ? `${base.cluster} needs a human: ${escalation}`
          : `${base.cluster}: ${problems.length} problem(s); next: ${next.map(describeAction).join('; ')}`;
  return { ...base, status, findings, plan: status === 'unhealthy' && !escalation ? next : [], escalation: status === 'unhealthy' ? escalation : undefined, summary };
}

export function describeAction(action: PlannedAction): string {
  switch (action.kind) {
    case 'scale-jobmanager':
      return `scale Deployment ${action.deployment} from ${action.from} to ${action.to} replica${action.keep ? `, keeping pod ${action.keep} (it runs the jobs) and resubmitting the jobs of ${action.remove?.join(', ')} on it` : ''}`;
    case 'delete-pod':
      return `delete JobManager pod ${action.pod} (at most once per window)`;
    case 'wait-for-jobmanager':
      return 'wait for a JobManager to become ready';
    case 'await-recovery':
      return `wait for Flink's own recovery${action.leader ? ' (a leader elected)' : ''}${action.jobIds.length ? ` of job(s) ${action.jobIds.join(', ')}` : ''}, then verify`;
    case 'restart-taskmanagers':
      return `restart TaskManager pod(s) ${action.pods.map((p) => p.name).join(', ')} so they register with the new JobManager at once, instead of waiting for their heartbeat to the lost one to time out`;
    case 'resubmit-job':
      return `resubmit ${action.jobName} as job ${action.jobId} from ${action.restore.source} ${action.restore.path} once the TaskManagers let go of it, then verify`;
    case 'escalate':
      return 'needs a human';
    case 'deferred':
      return `checked once ${action.until}`;
    case 'none':
      return 'nothing to do';
  }
}

/** Findings that say why flinkops stopped acting, not what is wrong with the cluster. */
const GUARD_CODES: readonly FindingCode[] = ['rate-limited', 'pod-deletion-window', 'action-did-not-help', 'recovery-timed-out'];

/**
 * Escalations about the same problems are the same escalation (notified once per repeat interval), whichever guard
 * stopped the run and whichever pod currently has the problem.
 */
export function escalationFingerprint(diagnosis: Diagnosis): string {
  const problems = diagnosis.findings.filter((f) => f.severity === 'critical' && !GUARD_CODES.includes(f.code));
  const keys = (problems.length > 0 ? problems : diagnosis.findings.filter((f) => f.severity === 'critical')).map(
    (f) => `${f.code}:${f.code.startsWith('jobmanager-') ? 'jobmanager' : f.subject}`,
  );
  return [...new Set(keys)].sort().join('|');
}
