import { ApplicationFailure, CancellationScope, condition, defineUpdate, isCancellation, setHandler, upsertSearchAttributes, uuid4, workflowInfo } from '@temporalio/workflow';
import type { RolledCluster } from '../../activities/targets/seam';
import { deploying, failureMessage, quickActivities, QUICK, withSummary } from '../activity-profiles';
import { FLINK_CLUSTER } from '../search-attributes';
import type { ClusterSpec } from '../model/cluster-snapshot';
import { formatDuration } from '../model/durations';
import type { LockScopeRef } from '../model/locks';
import { clusterKey, describeVersion, type JarVersion } from '../model/target';
import { reportStep } from '../progress';
import type { StopOutcome } from '../upgrade/decide';
import { deployAndVerify, observeJob, retireJob, stopWithSavepointOutcome, type StepTarget } from '../upgrade/steps';
import { getClusterUpgradeProgressQuery, type ClusterUpgradeProgress, type ClusterUpgradeResult, type ClusterUpgradeStep, type JobProgress, type JobStep } from './contract';
import { decideAfterResubmit, howToRestore, type JobResult } from './outcome';
import { decideClusterPlan, type ClusterUpgradePlan, type DroppedJob, type PlannedJob } from './plan';
import { boundedAll } from './pool';
import { parseClusterUpgradeRequest, type ClusterUpgradeRequest, type ClusterUpgradeRequestInput } from './request';

export type { ClusterUpgradeProgress, ClusterUpgradeResult } from './contract';

export const approveClusterUpgradeUpdate = defineUpdate<string, [{ by: string; comment?: string }]>('approveUpgrade');
export const abortClusterUpgradeUpdate = defineUpdate<string, [{ by: string; reason?: string }]>('abortUpgrade');

/** Each job's ids, fixed once by the workflow: a retried activity repeats the same operation, never a second one. */
interface JobIds {
  stopTrigger: string;
  /** The job id on the new cluster, and the one of a restore on the old cluster. */
  onNew: string;
  onOld: string;
}

/**
 * Upgrade a session cluster (its image and/or configuration) carrying every job on it: plan (read-only), freeze (the
 * cluster's lock and each job's), stop every job with a savepoint, roll the cluster's Deployments, start each job
 * again from its savepoint and verify it. A failed stop brings the stopped jobs back on the unchanged cluster; a job
 * that does not verify rolls the whole cluster back (or, with keep-going, is reported with its savepoint). Cancelling
 * at any point leaves every job running somewhere.
 */
export async function upgradeClusterWorkflow(input: ClusterUpgradeRequestInput): Promise<ClusterUpgradeResult> {
  const parsed = parseClusterUpgradeRequest(input);
  if (!parsed.ok) throw ApplicationFailure.nonRetryable(`invalid cluster upgrade request: ${parsed.problem}`, 'InvalidRequest');
  return new ClusterUpgrade(parsed.request).run();
}

class ClusterUpgrade {
  private readonly workflowId = workflowInfo().workflowId;
  private readonly progress: ClusterUpgradeProgress;
  private readonly warnings: string[] = [];
  private target: StepTarget;
  private plan?: ClusterUpgradePlan;
  private decision?: { kind: 'approved'; by: string } | { kind: 'aborted'; by: string; reason: string };
  private readonly ids = new Map<string, JobIds>();
  private readonly jobs = new Map<string, JobProgress>();
  private readonly locks: LockScopeRef[] = [];
  /** Set once a job may have been stopped, and once the cluster may have changed: what compensation must undo. */
  private stopsBegan = false;
  private rollBegan = false;
  private finished = false;
  /** Bookkeeping started alongside a step, awaited before the next one. */
  private readonly pending: Promise<void>[] = [];

  constructor(private readonly request: ClusterUpgradeRequest) {
    const now = Date.now();
    this.target = { cluster: request.cluster, restUrl: request.restUrl };
    this.progress = { step: 'preflight', message: 'starting', startedAt: now, stepStartedAt: now, jobs: [], history: [] };
    setHandler(getClusterUpgradeProgressQuery, () => ({ ...this.progress, jobs: [...this.jobs.values()], ...(this.warnings.length ? { warnings: this.warnings } : {}) }));
    const tooLate = () => this.progress.step !== 'preflight' && this.progress.step !== 'awaiting-approval';
    setHandler(
      approveClusterUpgradeUpdate,
      (approval) => {
        this.decision = { kind: 'approved', by: approval.by };
        return `approved by ${approval.by}`;
      },
      {
        validator: (approval: { by: string; comment?: string }) => {
          if (typeof approval?.by !== 'string' || !approval.by.trim()) throw new Error('by: say who approves');
          if (!this.request.approval.required) throw new Error('this cluster upgrade does not wait for approval');
          if (this.decision) throw new Error(`already ${this.decision.kind} by ${this.decision.by}`);
          if (tooLate()) throw new Error(`too late to approve: the cluster upgrade is ${this.progress.step}`);
        },
      },
    );
    setHandler(
      abortClusterUpgradeUpdate,
      (abort) => {
        this.decision = { kind: 'aborted', by: abort.by, reason: abort.reason ?? 'no reason given' };
        return `aborted by ${abort.by}`;
      },
      {
        validator: (abort: { by: string; reason?: string }) => {
          if (typeof abort?.by !== 'string' || !abort.by.trim()) throw new Error('by: say who aborts');
          if (this.decision?.kind === 'aborted') throw new Error(`already aborted by ${this.decision.by}`);
          if (tooLate()) throw new Error(`too late to abort: the cluster upgrade is ${this.progress.step}; cancel it instead (every job is left running)`);
        },
      },
    );
  }

  async run(): Promise<ClusterUpgradeResult> {
    const request = this.request;
    this.step('preflight', `taking inventory of ${request.cluster.namespace}/${request.cluster.name}`);
    const jars = Object.fromEntries(Object.entries(request.jobs).map(([job, spec]) => [job, [spec.jar, ...(spec.rollback ? [spec.rollback.jar] : [])]]));
    const [policy, snapshot] = await Promise.all([
      quickActivities.getOperationPolicy(),
      withSummary('observeSessionCluster', QUICK, 'inventory of the cluster and its jobs', { cluster: request.cluster, restUrl: request.restUrl, jars }),
    ]);
    const decision = decideClusterPlan(snapshot, request, policy, { clusterIdSuffix: uuid4().replace(/-/g, '').slice(0, 6) });
    if (decision.kind === 'refuse') {
      this.step('done', `refused: ${decision.reason}`);
      throw ApplicationFailure.nonRetryable(`preflight refused: ${decision.reason}`, 'PreflightRefused', { checks: decision.checks });
    }
    const plan = (this.plan = decision.plan);
    this.progress.plan = plan;
    this.target = { cluster: plan.cluster, restUrl: request.restUrl };
    // The cluster as flinkops keys it (records, events, `flinkops status`), whatever name the command was given.
    upsertSearchAttributes([{ key: FLINK_CLUSTER, value: clusterKey(plan.cluster) }]);
    for (const job of plan.jobs) {
      this.ids.set(job.jobName, { stopTrigger: uuidHex(), onNew: uuidHex(), onOld: uuidHex() });
      this.jobs.set(job.jobName, { jobName: job.jobName, step: 'running', message: `${describeVersion(job.from)} on ${plan.from.image}`, oldJobId: job.jobId });
    }
    for (const job of plan.dropped) {
      this.ids.set(job.jobName, { stopTrigger: uuidHex(), onNew: uuidHex(), onOld: uuidHex() });
      this.jobs.set(job.jobName, { jobName: job.jobName, step: 'running', message: job.reason, oldJobId: job.jobId });
    }
    if (request.dryRun) {
      this.step('done', 'dry run: nothing changed');
      return { outcome: 'dry-run', message: `dry run: would upgrade ${plan.cluster.namespace}/${plan.cluster.name} to ${plan.to.image} carrying ${plan.jobs.length} job(s)`, plan, jobs: [...this.jobs.values()] };
    }

    await this.freeze(plan);
    try {
      return await this.upgrade(plan);
    } catch (error) {
      if (isCancellation(error)) await CancellationScope.nonCancellable(() => this.compensate());
      throw error;
    } finally {
      await CancellationScope.nonCancellable(() => this.releaseLocks());
    }
  }

  /** The cluster's lock, then each job's: scheduled savepoints and other operations skip while they are held. */
  private async freeze(plan: ClusterUpgradePlan): Promise<void> {
    for (const scope of [plan.lockScope, ...plan.jobs.map((j) => j.lockScope), ...plan.dropped.map((j) => j.lockScope)]) {
      const lock = await quickActivities.acquireOperationLock({ scope, workflowId: this.workflowId, operation: 'upgrade-cluster' });
      if (!lock.acquired) {
        await this.releaseLocks();
        const what = scope.jobKey ? `job ${scope.jobKey}` : 'the cluster';
        this.step('done', `refused: another flinkops operation holds ${what}`);
        throw ApplicationFailure.nonRetryable(`preflight refused: another flinkops operation holds ${what}: ${lock.holder.operation} ${lock.holder.workflowId} since ${lock.holder.since}`, 'PreflightRefused');
      }
      this.locks.push(scope);
    }
  }

  private async upgrade(plan: ClusterUpgradePlan): Promise<ClusterUpgradeResult> {
    const request = this.request;
    await this.event('Normal', 'ClusterUpgradeStarted', `upgrading to ${plan.to.image} (Flink ${plan.fromVersion} -> ${plan.toVersion}), carrying ${plan.jobs.length} job(s), on failure: ${plan.onFailure}`);
    if (request.approval.required && !this.decision) {
      this.step('awaiting-approval', `waiting up to ${formatDuration(request.approval.timeout)} for approval (flinkops approve --cluster-upgrade)`);
      if (!(await condition(() => this.decision !== undefined, request.approval.timeout))) {
        this.decision = { kind: 'aborted', by: 'flinkops', reason: `no approval within ${formatDuration(request.approval.timeout)}` };
      }
    }
    if (this.decision?.kind === 'aborted') {
      const message = `aborted by ${this.decision.by} before anything changed: ${this.decision.reason}`;
      await this.finish('aborted', message);
      throw ApplicationFailure.nonRetryable(message, 'UpgradeAborted');
    }

    // Written while every job still runs: not downtime.
    if (plan.to.config?.write) {
      this.step('preparing', `writing the new configuration to ConfigMap ${plan.to.config.configMap}`);
      await withSummary('prepareClusterSpec', QUICK, `write ConfigMap ${plan.to.config.configMap}`, { ...this.target, spec: plan.to });
    }

    const stopFailure = await this.stopEveryJob(plan);
    if (stopFailure) return this.nothingChanged(stopFailure);

    this.step('rolling', `rolling the cluster to ${plan.to.image}${plan.to.config?.write ? ` with ConfigMap ${plan.to.config.configMap}` : ''}`);
    const rollFailure = await this.roll(plan.to);
    if (rollFailure) return this.rollBack(`rolling the cluster to ${plan.to.image} failed: ${rollFailure}`);

    this.step('resubmitting', `starting ${plan.jobs.length} job(s) from their savepoints, ${plan.concurrency} at a time`);
    const results = await boundedAll(plan.jobs, plan.concurrency, (job) => this.restoreJob(job, job.to, this.ids.get(job.jobName)!.onNew, 'deploying'));
    const after = decideAfterResubmit(results as JobResult[], plan.onFailure, plan.to.image);
    if (after.kind === 'rollback') return this.rollBack(after.reason);
    if (after.kind === 'keep-going') return this.keepGoing(after.failed, after.reason);
    await Promise.all(plan.jobs.map((job) => this.recordJob(job, 'upgraded', `runs ${describeVersion(job.to)} on ${plan.to.image}, restored from ${this.jobs.get(job.jobName)!.savepoint}`, job.to, 'Normal', 'ClusterUpgradeJobCarried')));
    await this.noteDropped(plan);
    await this.finish('succeeded', after.message);
    return this.result('succeeded', after.message);
  }

  /**
   * Every job that runs is stopped with a savepoint, `concurrency` at a time, the jobs let go last. After the first
   * failure no other stop starts; the ones in flight finish. Returns why a stop failed, or undefined.
   */
  private async stopEveryJob(plan: ClusterUpgradePlan): Promise<string | undefined> {
    const toStop: (PlannedJob | DroppedJob)[] = [...plan.jobs, ...plan.dropped.filter((d) => d.running)];
    this.step('stopping', `stopping ${toStop.length} job(s) with a savepoint into ${plan.savepointDir}, ${plan.concurrency} at a time`);
    this.stopsBegan = toStop.length > 0;
    const failures: string[] = [];
    await boundedAll(
      toStop,
      plan.concurrency,
      async (job) => {
        const failure = await this.stopJob(job);
        if (failure) failures.push(failure);
      },
      // The jobs let go are stopped only once every job that comes back is stopped.
      () => failures.length === 0,
    );
    // Each stopped job's savepoint is a restore point (retention keeps it) before anything else happens.
    await Promise.all(this.pending.splice(0));
    return failures.length > 0 ? failures.join('; ') : undefined;
  }

  private async stopJob(job: PlannedJob | DroppedJob): Promise<string | undefined> {
    const plan = this.plan!;
    const request = this.request;
    const operation = { jobId: job.jobId, triggerId: this.ids.get(job.jobName)!.stopTrigger, targetDirectory: plan.savepointDir, timeoutMs: request.timeouts.savepoint };
    this.jobStep(job.jobName, 'stopping', `stop-with-savepoint of ${job.jobId}`);
    let stop = await stopWithSavepointOutcome(this.target, operation);
    if (stop.status === 'timed-out') {
      // Flink goes on until its own checkpoint timeout: only its verdict says whether the job still runs.
      this.jobStep(job.jobName, 'stopping', `${stop.reason}; waiting for Flink's verdict`);
      stop = await stopWithSavepointOutcome(this.target, { ...operation, timeoutMs: SETTLE_MS });
    }
    if (stop.status === 'completed') {
      this.stopped(job, stop);
      return undefined;
    }
    const now = await observeJob(this.target, job.jobId).catch(() => undefined);
    const state = now?.state ?? 'gone';
    this.jobStep(job.jobName, now?.state === 'RUNNING' ? 'stop-failed' : 'needs-human', `${stop.reason}; the job is ${state}`);
    return `stopping ${job.jobName} failed: ${stop.reason}; it is ${state}${now?.state === 'RUNNING' ? ' and keeps running' : ', with no savepoint: look at it'}`;
  }

  private stopped(job: PlannedJob | DroppedJob, stop: Extract<StopOutcome, { status: 'completed' }>): void {
    const progress = this.jobs.get(job.jobName)!;
    progress.savepoint = stop.location;
    this.jobStep(job.jobName, 'from' in job ? 'stopped' : 'dropped', `stopped with savepoint ${stop.location}`);
    this.pending.push(
      this.bookkeeping(`record the restore point of ${job.jobName}`, () =>
        quickActivities.recordRestorePoint({
          identity: this.identity(job),
          point: { path: stop.location, at: new Date().toISOString(), workflowId: this.workflowId, operation: 'upgrade' },
          currentVersion: 'from' in job ? job.from : undefined,
          isSavepoint: true,
        }),
      ),
    );
  }

  /** A stop failed before the cluster changed: the stopped jobs come back on it, from their savepoints. */
  private async nothingChanged(stopFailure: string): Promise<never> {
    const plan = this.plan!;
    await this.settleStops();
    this.step('restoring-old', `${stopFailure}; starting the stopped jobs again on the unchanged cluster`);
    const stopped = plan.jobs.filter((j) => this.jobs.get(j.jobName)!.savepoint);
    const results = await boundedAll(stopped, plan.concurrency, (job) => this.restoreJob(job, job.from, this.ids.get(job.jobName)!.onOld, 'restoring'));
    const failed = (results as JobResult[]).filter((r) => !r.restored);
    if (plan.to.config?.write) await this.bookkeeping('remove the unused ConfigMap', () => withSummary('discardClusterSpec', QUICK, 'remove the new ConfigMap', { ...this.target, spec: plan.to }));
    if (failed.length > 0) return this.needsHuman(stopFailure, failed);
    const restored = stopped.map((j) => j.jobName);
    const message = `nothing changed: ${stopFailure}${restored.length ? `; ${restored.join(', ')} run again from their savepoints` : ''}`;
    await Promise.all(stopped.map((job) => this.recordJob(job, 'restored', `runs again on the unchanged cluster from ${this.jobs.get(job.jobName)!.savepoint}`, job.from, 'Normal', 'ClusterUpgradeJobRestored')));
    await this.finish('nothing-changed', message);
    throw ApplicationFailure.nonRetryable(message, 'SavepointFailed');
  }

  /** The stops still in flight when a stop failed or the upgrade was cancelled: their outcome, same trigger ids. */
  private async settleStops(): Promise<void> {
    const plan = this.plan!;
    const open = plan.jobs.filter((j) => this.jobs.get(j.jobName)!.step === 'stopping');
    await Promise.all(
      open.map(async (job) => {
        const stop = await stopWithSavepointOutcome(this.target, { jobId: job.jobId, triggerId: this.ids.get(job.jobName)!.stopTrigger, targetDirectory: plan.savepointDir, timeoutMs: SETTLE_MS });
        if (stop.status === 'completed') this.stopped(job, stop);
        else this.jobStep(job.jobName, 'stop-failed', stop.reason);
      }),
    );
  }

  /** Puts a spec on the cluster; returns why it failed, or undefined. Cancellation waits for the activity to stop. */
  private async roll(spec: ClusterSpec): Promise<string | undefined> {
    this.rollBegan = true;
    let rolled: RolledCluster;
    try {
      rolled = await withSummary('rollSessionCluster', deploying(this.request.timeouts.deploy), `roll to ${spec.image}`, { ...this.target, spec, timeoutMs: this.request.timeouts.deploy });
    } catch (error) {
      if (isCancellation(error)) throw error;
      return failureMessage(error);
    }
    if (rolled.activeJobs.length > 0) return `the JobManager runs job(s) flinkops did not start after the roll (${rolled.activeJobs.join(', ')}): it must have recovered them`;
    this.step(this.progress.step, `the cluster runs Flink ${rolled.flinkVersion} with ${rolled.taskManagers} TaskManager(s), ${rolled.slots} slots`);
    return undefined;
  }

  /** One job from its savepoint with a fixed id, verified; the job's progress tells each step. */
  private async restoreJob(job: PlannedJob, version: JarVersion, jobId: string, step: 'deploying' | 'restoring'): Promise<JobResult> {
    const request = this.request;
    const savepoint = this.jobs.get(job.jobName)!.savepoint!;
    this.jobStep(job.jobName, step, `starting ${describeVersion(version)} as job ${jobId} from ${savepoint}`, jobId);
    const outcome = await deployAndVerify(
      this.target,
      { version, restore: { path: savepoint, allowNonRestoredState: false }, jobId, timeoutMs: request.timeouts.deploy },
      { checkpointingEnabled: job.checkpointingEnabled, stabilityWindowMs: request.stabilityWindow, timeoutMs: job.verifyTimeoutMs + request.stabilityWindow },
      (deployed) => this.jobStep(job.jobName, step === 'deploying' ? 'verifying' : 'restoring', `verifying job ${deployed}`, deployed),
    );
    if (outcome.restored) {
      this.jobStep(job.jobName, step === 'deploying' ? 'verified' : 'restored', outcome.verification.summary, outcome.jobId);
      return { jobName: job.jobName, restored: true, jobId: outcome.jobId, summary: outcome.verification.summary };
    }
    this.jobStep(job.jobName, 'failed', outcome.failure, outcome.jobId);
    return { jobName: job.jobName, restored: false, jobId: outcome.jobId, failure: outcome.failure };
  }

  /**
   * The whole cluster back: the jobs started on the new cluster made sure gone, the old image and configuration rolled
   * out, every job started with its previous version from the same savepoint and verified. Always ends failed.
   */
  private async rollBack(reason: string): Promise<never> {
    const plan = this.plan!;
    this.step('rolling-back', `${reason}; rolling the cluster back to ${plan.from.image}`);
    await this.event('Warning', 'ClusterUpgradeFailed', `${reason}; rolling back to ${plan.from.image}`);
    const stillRunning = await this.retireNewJobs(plan.jobs);
    if (stillRunning.length > 0) {
      return this.needsHuman(reason, [], `the new jobs are not confirmed gone (${stillRunning.join('; ')}), so the cluster was NOT rolled back and no old job was started: a second job from the same savepoint would run beside it`);
    }
    const rollFailure = await this.roll(plan.from);
    if (rollFailure) return this.needsHuman(reason, [], `rolling the cluster back to ${plan.from.image} failed too: ${rollFailure}`);
    const results = await boundedAll(plan.jobs, plan.concurrency, (job) => this.restoreJob(job, job.from, this.ids.get(job.jobName)!.onOld, 'restoring'));
    const failed = (results as JobResult[]).filter((r) => !r.restored);
    if (failed.length > 0) return this.needsHuman(reason, failed);
    if (plan.to.config?.write) await this.bookkeeping('remove the unused ConfigMap', () => withSummary('discardClusterSpec', QUICK, 'remove the new ConfigMap', { ...this.target, spec: plan.to }));
    const message = `${reason}; rolled the cluster back to ${plan.from.image}: every job runs again with its previous version from its savepoint`;
    await Promise.all(plan.jobs.map((job) => this.recordJob(job, 'rolled-back', `runs ${describeVersion(job.from)} on ${plan.from.image} again, from ${this.jobs.get(job.jobName)!.savepoint}`, job.from, 'Warning', 'ClusterUpgradeJobRolledBack')));
    await this.noteDropped(plan);
    await this.finish('rolled-back', message);
    throw ApplicationFailure.nonRetryable(message, 'UpgradeRolledBack', { jobs: [...this.jobs.values()] });
  }

  /** Before anything comes back from a savepoint, the jobs started from it are made sure gone; returns what still runs. */
  private async retireNewJobs(jobs: PlannedJob[]): Promise<string[]> {
    const plan = this.plan!;
    const started = jobs.filter((j) => this.jobs.get(j.jobName)!.jobId);
    const results = await boundedAll(started, plan.concurrency, async (job) => {
      const jobId = this.jobs.get(job.jobName)!.jobId!;
      this.jobStep(job.jobName, 'retiring', `making sure job ${jobId} is gone`);
      try {
        const retired = await retireJob(this.target, jobId, this.request.timeouts.savepoint);
        this.jobStep(job.jobName, retired.gone ? 'retired' : 'needs-human', retired.detail);
        return retired.gone ? undefined : `${job.jobName}: ${retired.detail}`;
      } catch (error) {
        if (isCancellation(error)) throw error;
        this.jobStep(job.jobName, 'needs-human', failureMessage(error));
        return `${job.jobName}: job ${jobId} could not be stopped: ${failureMessage(error)}`;
      }
    });
    return results.filter((r): r is string => typeof r === 'string');
  }

  /** keep-going: the jobs that verified stay; the failed ones are made sure gone and reported with their savepoint. */
  private async keepGoing(failed: Extract<JobResult, { restored: false }>[], reason: string): Promise<ClusterUpgradeResult> {
    const plan = this.plan!;
    const failedJobs = plan.jobs.filter((j) => failed.some((f) => f.jobName === j.jobName));
    const stillRunning = await this.retireNewJobs(failedJobs);
    const carried = plan.jobs.filter((j) => !failedJobs.includes(j));
    await Promise.all(carried.map((job) => this.recordJob(job, 'upgraded', `runs ${describeVersion(job.to)} on ${plan.to.image}, restored from ${this.jobs.get(job.jobName)!.savepoint}`, job.to, 'Normal', 'ClusterUpgradeJobCarried')));
    const restore = failedJobs.map((job) => howToRestore(job.jobName, this.jobs.get(job.jobName)!.savepoint!, job.from));
    for (const job of failedJobs) {
      const failure = failed.find((f) => f.jobName === job.jobName)!.failure;
      const message = `did not come back on ${plan.to.image} (${failure}); ${howToRestore(job.jobName, this.jobs.get(job.jobName)!.savepoint!, job.from)}`;
      this.jobStep(job.jobName, stillRunning.some((s) => s.startsWith(`${job.jobName}:`)) ? 'needs-human' : 'failed', message);
      await this.recordJob(job, 'failed', message, undefined, 'Warning', 'ClusterUpgradeJobFailed');
    }
    await this.noteDropped(plan);
    const message = `${reason}; keep-going: ${carried.length} job(s) stay on ${plan.to.image}${stillRunning.length ? `; NOT confirmed gone: ${stillRunning.join('; ')}` : ''}; to restore: ${restore.join('; ')}`;
    await this.finish('partially-upgraded', message);
    return this.result('partially-upgraded', message);
  }

  /** Whatever happened so far, leave every job running somewhere. */
  private async compensate(): Promise<void> {
    const plan = this.plan;
    if (!plan || this.finished || !this.stopsBegan) return;
    this.step('compensating', 'cancelled: making sure every job runs');
    await this.settleStops();
    const allVerified = plan.jobs.every((j) => this.jobs.get(j.jobName)!.step === 'verified');
    if (this.rollBegan && allVerified) {
      await this.finish('cancelled', `cancelled; every job already runs on ${plan.to.image}`);
      return;
    }
    let problem: string | undefined;
    if (this.rollBegan) {
      const stillRunning = await this.retireNewJobs(plan.jobs);
      if (stillRunning.length > 0) problem = `the new jobs are not confirmed gone (${stillRunning.join('; ')}): the cluster was not rolled back`;
      else problem = await this.roll(plan.from).then((failure) => (failure ? `rolling back to ${plan.from.image} failed: ${failure}` : undefined));
    }
    if (!problem) {
      const stopped = plan.jobs.filter((j) => this.jobs.get(j.jobName)!.savepoint);
      const results = await boundedAll(stopped, plan.concurrency, (job) => this.restoreJob(job, job.from, this.ids.get(job.jobName)!.onOld, 'restoring'));
      const failed = (results as JobResult[]).filter((r) => !r.restored);
      if (failed.length > 0) problem = `could not bring back ${failed.map((f) => `${f.jobName} (${f.failure})`).join(', ')}`;
    }
    await this.finish('cancelled', problem ? `cancelled; ${problem}: needs a human (savepoints: ${this.savepointList()})` : `cancelled; every job runs again on ${plan.from.image}`);
  }

  private async needsHuman(reason: string, failed: JobResult[], what?: string): Promise<never> {
    for (const f of failed) this.jobStep(f.jobName, 'needs-human', (f as { failure: string }).failure);
    const detail = what ?? `could not bring back ${failed.map((f) => `${f.jobName} (${(f as { failure: string }).failure})`).join(', ')}`;
    const message = `${reason}; ${detail}. Needs a human: the savepoints are ${this.savepointList()}`;
    await this.finish('rollback-failed', message);
    throw ApplicationFailure.nonRetryable(message, 'RollbackFailed', { jobs: [...this.jobs.values()] });
  }

  private savepointList(): string {
    const list = [...this.jobs.values()].filter((j) => j.savepoint).map((j) => `${j.jobName}: ${j.savepoint}`);
    return list.length ? list.join(', ') : 'none taken';
  }

  private async noteDropped(plan: ClusterUpgradePlan): Promise<void> {
    for (const job of plan.dropped) {
      const savepoint = this.jobs.get(job.jobName)!.savepoint;
      await this.recordJob(job, 'dropped', savepoint ? `let go: stopped with savepoint ${savepoint}, not started again` : job.reason, undefined, 'Warning', 'ClusterUpgradeJobDropped');
    }
  }

  /** A job's outcome in its record (history, the version and job id it runs now) and a Kubernetes event. */
  private async recordJob(job: PlannedJob | DroppedJob, outcome: string, message: string, running: JarVersion | undefined, type: 'Normal' | 'Warning', reason: string): Promise<void> {
    const progress = this.jobs.get(job.jobName)!;
    const jobId = running ? progress.jobId : undefined;
    const savepoint = progress.savepoint;
    await this.bookkeeping(`record the outcome of ${job.jobName}`, () =>
      quickActivities.recordOutcome({
        identity: this.identity(job),
        entry: {
          at: new Date().toISOString(),
          workflowId: this.workflowId,
          operation: 'upgrade-cluster',
          outcome,
          ...('from' in job ? { from: job.from, to: job.to } : {}),
          savepoint,
          jobId,
          message,
        },
        running: running && jobId ? { version: running, jobId } : undefined,
        goodSavepoint: running && jobId && savepoint ? { path: savepoint, at: new Date().toISOString(), jobId: job.jobId, trigger: 'upgrade', workflowId: this.workflowId } : undefined,
      }),
    );
    await this.event(type, reason, `${job.jobName}: ${message}`);
  }

  private async finish(outcome: string, message: string): Promise<void> {
    this.finished = true;
    this.step('done', `${outcome}: ${message}`);
    const succeeded = outcome === 'succeeded';
    const reason = succeeded ? 'ClusterUpgradeSucceeded' : `ClusterUpgrade${outcome.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase())}`;
    await this.event(succeeded ? 'Normal' : 'Warning', reason, message);
  }

  private result(outcome: 'succeeded' | 'partially-upgraded', message: string): ClusterUpgradeResult {
    return { outcome, message, plan: this.plan!, jobs: [...this.jobs.values()], ...(this.warnings.length ? { warnings: this.warnings } : {}) };
  }

  private async bookkeeping(what: string, write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (isCancellation(error)) throw error;
      this.warnings.push(`could not ${what}: ${failureMessage(error)}`);
    }
  }

  private async event(type: 'Normal' | 'Warning', reason: string, note: string): Promise<void> {
    await this.bookkeeping(`emit the ${reason} event`, () => quickActivities.emitClusterEvent({ cluster: this.target.cluster, type, reason, action: 'UpgradeCluster', note: `${note} (${this.workflowId})` }));
  }

  private async releaseLocks(): Promise<void> {
    while (this.locks.length > 0) {
      const scope = this.locks.pop()!;
      await quickActivities.releaseOperationLock({ scope, workflowId: this.workflowId });
    }
  }

  private identity(job: PlannedJob | DroppedJob) {
    return { cluster: this.plan!.cluster, kind: this.plan!.jobKind, jobKey: job.jobKey, jobName: job.jobName, jobId: job.jobId };
  }

  private jobStep(jobName: string, step: JobStep, message: string, jobId?: string): void {
    const job = this.jobs.get(jobName)!;
    job.step = step;
    job.message = message;
    if (jobId) job.jobId = jobId;
  }

  private step(step: ClusterUpgradeStep, message: string): void {
    this.progress.stepStartedAt = reportStep(this.progress, 'upgrade-cluster', step, message);
  }
}

/** How long a stop that timed out may take to reach Flink's own verdict (its checkpoint timeout is 10 minutes by default). */
const SETTLE_MS = 660_000;

function uuidHex(): string {
  return uuid4().replace(/-/g, '');
}
