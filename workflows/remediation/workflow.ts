import { ApplicationFailure, CancellationScope, defineQuery, isCancellation, patched, setHandler, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type { RecordIdentity } from '../../activities/records';
import { failureMessage, polling, quickActivities, QUICK, withSummary } from '../activity-profiles';
import { recordRemediation } from '../metrics';
import type { ClusterHealthSnapshot } from '../model/cluster-health';
import { formatDuration } from '../model/durations';
import { PROGRESS_QUERIES } from '../model/progress-queries';
import { reportStep } from '../progress';
import { clusterKey, describeVersion, type ClusterRef } from '../model/target';
import { actionTarget, describeAction, diagnose, escalationFingerprint, isDestructive, type Diagnosis, type RemediationAction, type TakenAction } from './diagnose';
import { parseRemediationRequest, type RemediationRequest, type RemediationRequestInput } from './request';
import { zooKeeperVerification } from './zookeeper';

export type RemediationOutcome = 'healthy' | 'diagnosed' | 'dry-run' | 'remediated' | 'recovered' | 'skipped';

export interface JobVerification {
  jobId: string;
  jobName: string;
  summary: string;
  restoredFrom?: string;
}

export interface RemediationResult {
  outcome: RemediationOutcome;
  message: string;
  /** The diagnosis this run started from. */
  diagnosis: Diagnosis;
  /** The last diagnosis, after the actions. */
  final?: Diagnosis;
  actions: TakenAction[];
  verified: JobVerification[];
  /** When this run first saw the cluster unhealthy, and when it saw it healthy again (ms). */
  detectedAt?: number;
  recoveredAt?: number;
}

/** What a run that ends in "needs a human" carries in its failure details. */
export interface EscalationDetails {
  diagnosis: Diagnosis;
  actions: TakenAction[];
  notification: string;
}

export interface RemediationProgress {
  step: string;
  message: string;
  startedAt: number;
  diagnosis?: Diagnosis;
  actions: TakenAction[];
  history: { step: string; at: number; message: string }[];
}

export const getRemediationProgressQuery = defineQuery<RemediationProgress>(PROGRESS_QUERIES.remediationWorkflow);

/** Behaviour changes of running remediations, each behind patched() (see the upgrade workflow's UPGRADE_PATCHES). */
export const REMEDIATION_PATCHES = {
  /**
   * ZooKeeper HA: the jobs stored in ZooKeeper are verified after a recovery (registered with flinkops or not; all of
   * them after a leader change), and one that ZooKeeper held a checkpoint for must come back restored from one.
   */
  zooKeeperState: 'remediation-zookeeper-verify-state',
  /**
   * A job lost without HA: TaskManagers still tied to the lost JobManager may be restarted (limits.lostJobRecovery),
   * so the job is resubmitted as soon as fresh ones register instead of after their heartbeat timeout.
   */
  restartTaskManagers: 'remediation-restart-taskmanagers',
} as const;

/** The observation reads Kubernetes and, with several JobManagers, asks the REST API several times. */
const OBSERVE: ActivityOptions = { ...QUICK, startToCloseTimeout: '3 minutes' };
/** A webhook that is down must not hold the escalation up for long. */
const NOTIFY: ActivityOptions = { startToCloseTimeout: '30 seconds', retry: { initialInterval: '1 second', maximumAttempts: 3 } };
/** Observe -> act rounds in one run; more means the actions are not converging. */
const MAX_PASSES = 5;

/**
 * JobManager failover remediation of one cluster: observe, diagnose (pure), act with guarded idempotent actions,
 * observe again, until healthy or a human is needed. In diagnose mode (`flinkops doctor`) it only observes and
 * diagnoses: no lock, no records, no events, no writes.
 */
export async function remediationWorkflow(input: RemediationRequestInput): Promise<RemediationResult> {
  const parsed = parseRemediationRequest(input);
  if (!parsed.ok) throw ApplicationFailure.nonRetryable(`invalid remediation request: ${parsed.problem}`, 'InvalidRequest');
  return new Remediation(parsed.request).run();
}

class Remediation {
  private readonly workflowId = workflowInfo().workflowId;
  private readonly runId = workflowInfo().runId;
  private readonly progress: RemediationProgress;
  private readonly taken: TakenAction[] = [];
  private readonly verified: JobVerification[] = [];
  /** Known jobs this run saw not running: verified before the run counts as a success. */
  private readonly atRisk = new Set<string>();
  private readonly waitedOut: { jobManager?: boolean; recovery?: boolean } = {};
  /** Uids of the TaskManager pods this run restarted: the resubmission waits only until they are gone. */
  private readonly restartedTaskManagers: string[] = [];
  /** ZooKeeper HA: jobs that must come back restored from a checkpoint, with the newest ZooKeeper held for each. */
  private readonly zooKeeperCheckpoints = new Map<string, number>();
  private counted = false;
  private podAnswerAsked = false;
  private locked = false;
  private lockScope?: { cluster: ClusterRef };
  private first?: Diagnosis;
  private snapshot?: ClusterHealthSnapshot;
  private detectedAt?: number;

  constructor(private readonly request: RemediationRequest) {
    this.progress = { step: 'observing', message: 'starting', startedAt: Date.now(), actions: this.taken, history: [] };
    setHandler(getRemediationProgressQuery, () => this.progress);
  }

  async run(): Promise<RemediationResult> {
    const request = this.request;
    const diagnosis = await this.observeAndDiagnose();
    this.first = diagnosis;
    if (request.mode === 'diagnose') {
      this.step('done', diagnosis.summary);
      return this.result('diagnosed', diagnosis.summary, diagnosis);
    }
    const missing = diagnosis.findings.find((f) => f.code === 'cluster-not-found');
    if (missing && request.trigger === 'manual') {
      // A mistyped name is not an incident: nobody is paged. A watched cluster that disappears is one.
      this.step('done', `unknown cluster: ${missing.reason}`);
      throw ApplicationFailure.nonRetryable(`unknown cluster: ${missing.reason}`, 'PreflightRefused');
    }
    if (diagnosis.status === 'healthy') return this.end('healthy', diagnosis.summary, diagnosis);
    if (diagnosis.status === 'blocked') return this.end('skipped', `skipped: ${diagnosis.summary}`, diagnosis);
    this.detectedAt = diagnosis.observedAt;
    if (request.dryRun) {
      const message = diagnosis.escalation
        ? `dry run: would escalate: ${diagnosis.escalation}`
        : `dry run, nothing changed; would: ${diagnosis.plan.map(describeAction).join('; ')}`;
      this.step('done', message);
      return this.result('dry-run', message, diagnosis);
    }
    if (diagnosis.escalation) return this.escalate(diagnosis);

    this.lockScope = { cluster: this.clusterId };
    const lock = await quickActivities.acquireOperationLock({ scope: this.lockScope, workflowId: this.workflowId, operation: 'remediation' });
    if (!lock.acquired) {
      return this.end('skipped', `skipped: ${lock.holder.operation} ${lock.holder.workflowId} holds the cluster since ${lock.holder.since}`, diagnosis);
    }
    this.locked = true;
    try {
      return await this.remediate();
    } finally {
      await CancellationScope.nonCancellable(() => this.releaseLock());
    }
  }

  /** Observe -> decide -> act, observing again after every round (the first round re-observes under the lock). */
  private async remediate(): Promise<RemediationResult> {
    for (let pass = 1; ; pass++) {
      const diagnosis = await this.observeAndDiagnose();
      if (diagnosis.status === 'healthy') return this.succeed(diagnosis);
      if (diagnosis.status === 'blocked') return this.end('skipped', `skipped: ${diagnosis.summary}`, diagnosis);
      if (diagnosis.escalation) return this.escalate(diagnosis);
      if (pass > MAX_PASSES) return this.escalate(diagnosis, `still unhealthy after ${MAX_PASSES} rounds of remediation`);
      if (!this.counted && diagnosis.plan.some(isDestructive)) {
        await quickActivities.recordRemediationRun({ cluster: this.clusterId, workflowId: this.workflowId, runId: this.runId });
        this.counted = true;
        await this.event('Normal', 'RemediationStarted', diagnosis.summary);
      }
      for (const action of diagnosis.plan) {
        const failure = await this.act(action);
        if (failure) return this.escalate(diagnosis, failure);
      }
    }
  }

  /** One action; returns why it failed when that needs a human at once. */
  private async act(action: RemediationAction): Promise<string | undefined> {
    const { cluster, limits } = this.request;
    const kubernetesHa = this.snapshot?.ha.mode === 'kubernetes';
    switch (action.kind) {
      case 'scale-jobmanager': {
        this.step('scaling', describeAction(action));
        await withSummary('scaleJobManager', QUICK, `scale ${action.deployment} to ${action.to}`, { cluster, deployment: action.deployment, replicas: action.to, keep: action.keep, remove: action.remove });
        this.took(action, `scaling ${action.deployment} from ${action.from} to ${action.to} replica${action.keep ? ` (keeping ${action.keep})` : ''}`);
        await this.event(
          'Warning',
          'JobManagerScaled',
          `scaled ${action.deployment} from ${action.from} to ${action.to} replica: without high availability every JobManager is an independent leader. Make it permanent where the Deployment comes from (Bitnami chart: jobmanager.replicaCount: 1), or enable high availability`,
        );
        await this.awaitJobManager(kubernetesHa);
        return undefined;
      }
      case 'delete-pod': {
        this.step('deleting-pod', describeAction(action));
        const { deleted } = await withSummary('deleteJobManagerPod', QUICK, `delete pod ${action.pod}`, { cluster: this.clusterId, pod: action.pod, uid: action.uid, workflowId: this.workflowId, runId: this.runId });
        this.took(action, `deleting JobManager pod ${action.pod}`);
        if (deleted) await this.event('Warning', 'JobManagerPodDeleted', `deleted JobManager pod ${action.pod} so Kubernetes starts a fresh one (at most once per ${formatDuration(limits.podDeletionWindow)})`);
        await this.awaitJobManager(kubernetesHa);
        return undefined;
      }
      case 'wait-for-jobmanager':
        await this.awaitJobManager(kubernetesHa);
        return undefined;
      case 'await-recovery':
        return this.awaitFlinkRecovery(action);
      case 'restart-taskmanagers':
        return this.restartTaskManagers(action);
      case 'resubmit-job':
        return this.resubmit(action);
    }
  }

  /** TaskManagers tied to the lost JobManager go, so fresh ones register at once; the resubmission waits for those. */
  private async restartTaskManagers(action: Extract<RemediationAction, { kind: 'restart-taskmanagers' }>): Promise<string | undefined> {
    this.step('restarting-taskmanagers', describeAction(action));
    const { deleted } = await withSummary('restartTaskManagers', QUICK, `restart TaskManager pod(s) ${action.pods.map((p) => p.name).join(', ')}`, {
      cluster: this.clusterId,
      pods: action.pods,
      workflowId: this.workflowId,
      runId: this.runId,
    });
    this.restartedTaskManagers.push(...action.pods.map((p) => p.uid));
    const which = deleted.length > 0 ? deleted.join(', ') : 'none (they were gone already)';
    this.took(action, `restarting TaskManager pod(s) ${which} so they register with the new JobManager at once`);
    if (deleted.length > 0) {
      await this.event(
        'Warning',
        'TaskManagersRestarted',
        `restarted TaskManager pod(s) ${which}: they were tied to the lost JobManager until their heartbeat timeout, and the new JobManager ran no job (at most once per ${formatDuration(this.request.limits.taskManagerRestartWindow)})`,
      );
    }
    return undefined;
  }

  private async awaitJobManager(kubernetesHa: boolean): Promise<void> {
    const timeoutMs = this.request.limits.jobManagerTimeout;
    this.step('waiting', `waiting up to ${formatDuration(timeoutMs)} for a JobManager to be ready`);
    const untilPodAnswers = this.untilPodAnswers() ? { untilPodAnswers: true } : {};
    const result = await withSummary('awaitClusterRecovery', polling(timeoutMs), 'wait for the JobManager', {
      cluster: this.request.cluster,
      restUrl: this.request.restUrl,
      jobIds: [],
      leader: kubernetesHa,
      timeoutMs,
      stopWhenStuck: true,
      ...untilPodAnswers,
    });
    this.took({ kind: 'wait-for-jobmanager' }, `waited ${formatDuration(result.waitedMs)} for the JobManager: ${result.detail}`);
    if (!result.recovered && !result.stuck && !result.answeredByPod) this.waitedOut.jobManager = true;
  }

  /** Flink recovers by itself (HA, or a job's restart strategy): wait for it, then verify the jobs it brought back. */
  private async awaitFlinkRecovery(action: Extract<RemediationAction, { kind: 'await-recovery' }>): Promise<string | undefined> {
    const timeoutMs = this.request.limits.haRecoveryTimeout;
    this.step('awaiting-recovery', `${describeAction(action)} (up to ${formatDuration(timeoutMs)}, no destructive action meanwhile)`);
    const result = await withSummary('awaitClusterRecovery', polling(timeoutMs), "wait for Flink's own recovery", {
      cluster: this.request.cluster,
      restUrl: this.request.restUrl,
      jobIds: action.jobIds,
      leader: action.leader,
      timeoutMs,
      stopWhenStuck: false,
    });
    this.took(action, `waited ${formatDuration(result.waitedMs)} for Flink's own recovery: ${result.detail}`);
    if (!result.recovered) {
      this.waitedOut.recovery = true;
      return undefined;
    }
    for (const jobId of action.jobIds) {
      const failure = await this.verify(jobId, undefined);
      if (failure) return failure;
    }
    return undefined;
  }

  /**
   * A lost job back under its own id, from its newest checkpoint or savepoint. Submitted once: a retry, and any later
   * run, finds the JobManager has the job and submits nothing.
   */
  private async resubmit(action: Extract<RemediationAction, { kind: 'resubmit-job' }>): Promise<string | undefined> {
    const { jobId, restore } = action;
    const identity: RecordIdentity = { cluster: this.clusterId, kind: 'session-job', jobKey: action.jobKey, jobName: action.jobName, jobId };
    this.step('resubmitting', describeAction(action));
    // Recorded first: retention never disposes of what a running job restored from.
    await quickActivities.recordRestorePoint({
      identity,
      point: { path: restore.path, at: new Date(restore.at).toISOString(), workflowId: this.workflowId, operation: 'remediation' },
      currentVersion: action.version,
    });
    let released: string;
    try {
      released = await this.submit(action);
    } catch (error) {
      if (isCancellation(error)) throw error;
      const message = `resubmitting ${action.jobName} from ${restore.path} failed: ${failureMessage(error)}`;
      await this.recordJob(identity, action, 'resubmit-failed', message, false);
      return message;
    }
    this.took(action, `resubmitting ${action.jobName} (${describeVersion(action.version)}) as job ${jobId} from ${restore.source} ${restore.path} ${released}`);
    const failure = await this.verify(jobId, restore.path, action.jobName);
    const verified = this.verified.find((v) => v.jobId === jobId);
    const message = failure ?? `resubmitted ${action.jobName} as job ${jobId} from ${restore.source} ${restore.path}; ${verified?.summary ?? ''}`;
    // Submitted either way: the record follows the job Flink now has.
    await this.recordJob(identity, action, failure ? 'resubmit-failed' : 'resubmitted', message, true);
    if (!failure) await this.event('Normal', 'JobResubmitted', message);
    return failure;
  }

  /**
   * Uploads the jar, waits for the TaskManagers to let go of the lost job, submits it; returns how the wait went.
   * The upload comes first, so that it is not part of the downtime. After the wait's timeout the job is submitted
   * anyway: a TaskManager that still holds it fails its tasks until Flink gives up its slots, and the verification
   * tells whether the job came back in time.
   */
  private async submit(action: Extract<RemediationAction, { kind: 'resubmit-job' }>): Promise<string> {
    const { cluster, restUrl, limits } = this.request;
    const { jobId, version, restore } = action;
    const timeoutMs = limits.jobManagerTimeout;
    const prepared = await withSummary('prepareVersion', QUICK, `upload ${describeVersion(version)}`, { cluster, restUrl, version });
    this.step('resubmitting', `waiting up to ${formatDuration(timeoutMs)} for the TaskManagers to let go of job ${jobId}`);
    const restartedPods = this.restartedTaskManagers.length > 0 ? { restartedPods: this.restartedTaskManagers } : {};
    const release = await withSummary('awaitJobReleased', polling(timeoutMs), `wait for the TaskManagers to let go of ${jobId}`, { cluster, restUrl, jobId, timeoutMs, ...restartedPods });
    this.step('resubmitting', describeAction(action));
    await withSummary('deployVersion', polling(timeoutMs), `resubmit ${action.jobName} as ${jobId}`, {
      cluster,
      restUrl,
      version,
      prepared,
      restore: { path: restore.path, allowNonRestoredState: false },
      jobId,
      timeoutMs,
    });
    return release.released
      ? `after waiting ${formatDuration(release.waitedMs)} for the TaskManagers to let go of it (${release.detail})`
      : `although the TaskManagers had not let go of it after ${formatDuration(timeoutMs)} (${release.detail})`;
  }

  /** RUNNING with all tasks, restored from the expected point (when known), a checkpoint after it, no restart. */
  private async verify(jobId: string, expectedRestorePath: string | undefined, jobName = this.jobName(jobId)): Promise<string | undefined> {
    const { cluster, restUrl, limits } = this.request;
    this.step('verifying', `verifying job ${jobName} (${jobId})`);
    const job = await quickActivities.observeJob({ cluster, restUrl, jobId }).catch(() => undefined);
    const timeoutMs = limits.verifyTimeout + limits.stabilityWindow;
    const result = await withSummary('verifyDeployment', polling(timeoutMs), `verify job ${jobId}`, {
      cluster,
      restUrl,
      jobId,
      expectedRestorePath,
      checkpointingEnabled: job ? job.checkpointing !== undefined : true,
      stabilityWindowMs: limits.stabilityWindow,
      timeoutMs,
    });
    if (!result.verified) return `job ${jobName} (${jobId}) did not come back: ${result.reason}`;
    const restoredFrom = result.job.restoredFrom?.path;
    const held = this.zooKeeperCheckpoints.get(jobId);
    if (held !== undefined && !restoredFrom && expectedRestorePath === undefined) {
      return `job ${jobName} (${jobId}) came back without its state: ZooKeeper held checkpoint ${held} for it, but it restored from none (it started from nothing)`;
    }
    const summary = restoredFrom ? result.summary : `${result.summary} (no checkpoint to restore: the job started without state)`;
    this.verified.push({ jobId, jobName, summary, ...(restoredFrom ? { restoredFrom } : {}) });
    return undefined;
  }

  private async recordJob(identity: RecordIdentity, action: Extract<RemediationAction, { kind: 'resubmit-job' }>, outcome: string, message: string, submitted: boolean): Promise<void> {
    await quickActivities.recordOutcome({
      identity,
      entry: { at: new Date().toISOString(), workflowId: this.workflowId, operation: 'remediation', outcome, savepoint: action.restore.path, jobId: action.jobId, to: action.version, message },
      running: submitted ? { version: action.version, jobId: action.jobId } : undefined,
    });
  }

  private async succeed(diagnosis: Diagnosis): Promise<RemediationResult> {
    // Jobs Flink brought back by itself (HA, restart strategy) are verified too: running is not enough, their state must be back.
    const resubmitted = new Set(this.taken.filter((t) => t.kind === 'resubmit-job').map((t) => t.target));
    for (const jobId of this.atRisk) {
      if (resubmitted.has(jobId) || this.verified.some((v) => v.jobId === jobId)) continue;
      const failure = await this.verify(jobId, undefined);
      if (failure) return this.escalate(diagnosis, failure);
    }
    const destructive = this.taken.filter((t) => isDestructive(t));
    const verified = this.verified.map((v) => `${v.jobName}: ${v.summary}`).join('; ');
    if (destructive.length > 0) {
      const message = `remediated ${clusterKey(this.request.cluster)}: ${destructive.map((t) => t.detail).join('; ')}${verified ? `; verified ${verified}` : ''}`;
      await this.event('Normal', 'RemediationSucceeded', message);
      return this.end('remediated', message, diagnosis);
    }
    if (this.taken.length > 0) {
      const message = `Flink recovered ${clusterKey(this.request.cluster)} by itself; flinkops only waited and verified, no destructive action${verified ? `; verified ${verified}` : ''}`;
      await this.event('Normal', 'FlinkRecovered', message);
      return this.end('recovered', message, diagnosis);
    }
    return this.end('healthy', `${diagnosis.summary} (it recovered before flinkops acted)`, diagnosis);
  }

  /** Ends the run with "needs a human": the diagnosis, an event, a webhook notification (once per repeat interval). */
  private async escalate(diagnosis: Diagnosis, reason?: string): Promise<never> {
    const { cluster, limits } = this.request;
    const escalation = reason ?? diagnosis.escalation ?? diagnosis.summary;
    this.step('escalating', escalation);
    // Without its memory (the namespace itself may be gone) an escalation is still notified.
    const { notify, previous } = await quickActivities
      .recordEscalation({ cluster: this.clusterId, workflowId: this.workflowId, runId: this.runId, fingerprint: escalationFingerprint(diagnosis), repeatMs: limits.escalationRepeat })
      .catch((error: unknown) => {
        if (isCancellation(error)) throw error;
        return { notify: true, previous: undefined };
      });
    let notification = previous ? `not notified again: the same escalation was notified by ${previous.workflowId}` : 'not notified';
    if (notify) {
      notification = await withSummary('notifyEscalation', NOTIFY, 'notify the escalation webhook', {
        cluster,
        workflowId: this.workflowId,
        trigger: this.request.trigger,
        summary: diagnosis.summary,
        escalation,
        findings: diagnosis.findings.filter((f) => f.severity !== 'info').map(({ code, severity, subject, reason }) => ({ code, severity, subject, reason })),
        actions: this.taken.map(({ kind, target, detail }) => ({ kind, target, detail })),
      }).then(
        (r) => r.detail,
        (error: unknown) => `notification failed: ${failureMessage(error)}`,
      );
    }
    const message = `needs a human: ${escalation}`;
    await this.event('Warning', 'RemediationEscalated', `${message} (${notification})`);
    this.step('done', `${message} (${notification})`);
    this.count('escalated');
    const details: EscalationDetails = { diagnosis, actions: this.taken, notification };
    throw ApplicationFailure.nonRetryable(message, 'NeedsHuman', details);
  }

  private async observeAndDiagnose(): Promise<Diagnosis> {
    const { cluster, restUrl, limits } = this.request;
    this.step('observing', `observing ${clusterKey(cluster)}`);
    const snapshot = await withSummary('observeClusterHealth', OBSERVE, `observe ${clusterKey(cluster)}`, { cluster, restUrl, workflowId: this.workflowId });
    this.snapshot = snapshot;
    const diagnosis = diagnose(snapshot, {
      nowMs: Date.now(),
      limits,
      taken: this.taken,
      waitedOut: { ...this.waitedOut },
      counted: this.counted,
      taskManagerRestart: this.taskManagerRestartAllowed(snapshot),
    });
    this.progress.diagnosis = diagnosis;
    if (diagnosis.status === 'unhealthy' && this.request.mode === 'remediate') {
      const running = (jobId: string) => snapshot.rest.reachable && snapshot.rest.jobs.some((j) => j.id === jobId && j.state === 'RUNNING' && j.tasksRunning === j.tasksTotal);
      for (const job of snapshot.knownJobs) {
        if (!running(job.jobId)) this.atRisk.add(job.jobId);
      }
      // ZooKeeper HA: the jobs stored there are Flink's to recover and flinkops' to verify, registered or not.
      const zooKeeper = zooKeeperVerification(snapshot, limits.haRecoveryTimeout);
      if (zooKeeper.verify.length > 0 && patched(REMEDIATION_PATCHES.zooKeeperState)) {
        for (const jobId of zooKeeper.verify) this.atRisk.add(jobId);
        for (const [jobId, checkpoint] of Object.entries(zooKeeper.restoreFrom)) this.zooKeeperCheckpoints.set(jobId, Math.max(checkpoint, this.zooKeeperCheckpoints.get(jobId) ?? 0));
      }
    }
    this.step('diagnosed', diagnosis.summary);
    return diagnosis;
  }

  /**
   * Whether this run knows the choice between restarting TaskManagers tied to a lost JobManager and waiting for them
   * (limits.lostJobRecovery makes it): asked (patched) only when a job flinkops knows is missing from the JobManager, so
   * runs of healthy clusters carry no marker.
   */
  private taskManagerRestartAllowed(snapshot: ClusterHealthSnapshot): boolean {
    const jobs = snapshot.rest.reachable ? snapshot.rest.jobs : snapshot.podAnswer?.jobs;
    if (!jobs) return false;
    const missing = snapshot.knownJobs.some((known) => !jobs.some((j) => j.id === known.jobId));
    return missing && patched(REMEDIATION_PATCHES.restartTaskManagers);
  }

  /**
   * The first wait for a JobManager without HA, when its lost jobs' TaskManagers could be restarted: it also ends when
   * the JobManager pod answers on its own address (before the Service routes to it), once per run.
   */
  private untilPodAnswers(): boolean {
    const snapshot = this.snapshot;
    if (this.podAnswerAsked || !snapshot || snapshot.ha.mode !== 'none' || snapshot.kind !== 'session-job' || snapshot.knownJobs.length === 0) return false;
    if (this.request.limits.lostJobRecovery !== 'restart-taskmanagers' || this.taken.some((t) => t.kind === 'restart-taskmanagers')) return false;
    if (!patched(REMEDIATION_PATCHES.restartTaskManagers)) return false;
    this.podAnswerAsked = true;
    return true;
  }

  /** The cluster as flinkops keys records, locks and memory: its JobManager Deployment, once observed. */
  private get clusterId(): ClusterRef {
    return this.snapshot?.cluster ?? this.request.cluster;
  }

  private took(action: RemediationAction, detail: string): void {
    this.taken.push({ kind: action.kind, target: actionTarget(action), at: Date.now(), detail });
  }

  private jobName(jobId: string): string {
    return this.snapshot?.knownJobs.find((j) => j.jobId === jobId)?.jobName ?? this.snapshot?.rest.jobs.find((j) => j.id === jobId)?.name ?? jobId;
  }

  private end(outcome: RemediationOutcome, message: string, final: Diagnosis): RemediationResult {
    this.step('done', message);
    this.count(outcome);
    return this.result(outcome, message, final);
  }

  private result(outcome: RemediationOutcome, message: string, final: Diagnosis): RemediationResult {
    const recovered = outcome === 'remediated' || outcome === 'recovered' || (outcome === 'healthy' && this.detectedAt !== undefined);
    return {
      outcome,
      message,
      diagnosis: this.first ?? final,
      ...(final !== this.first ? { final } : {}),
      actions: this.taken,
      verified: this.verified,
      ...(this.detectedAt !== undefined ? { detectedAt: this.detectedAt } : {}),
      ...(recovered ? { recoveredAt: final.observedAt } : {}),
    };
  }

  private count(outcome: string): void {
    recordRemediation({ outcome, target: { cluster: this.clusterId } });
  }

  private async event(type: 'Normal' | 'Warning', reason: string, note: string): Promise<void> {
    await quickActivities.emitClusterEvent({ cluster: this.request.cluster, type, reason, action: 'Remediate', note: `${note} (${this.workflowId})` });
  }

  private async releaseLock(): Promise<void> {
    if (!this.locked || !this.lockScope) return;
    await quickActivities.releaseOperationLock({ scope: this.lockScope, workflowId: this.workflowId });
    this.locked = false;
  }

  private step(step: string, message: string): void {
    reportStep(this.progress, 'remediation', step, message);
  }
}

/**
 * `flinkops doctor`: the diagnosis alone, read-only (no lock, no records, no events, no writes). Its own workflow type,
 * so the Temporal UI and visibility queries never count a look as a remediation.
 */
export async function doctorWorkflow(input: Omit<RemediationRequestInput, 'mode' | 'dryRun'>): Promise<RemediationResult> {
  return remediationWorkflow({ ...input, mode: 'diagnose' });
}
