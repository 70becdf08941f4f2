import {
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineUpdate,
  isCancellation,
  patched,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { PreparedVersion } from '../../activities/targets/seam';
import { failureMessage, quickActivities, QUICK, withSummary } from '../activity-profiles';
import { checkLocation } from '../model/locations';
import { formatDuration } from '../model/durations';
import { PROGRESS_QUERIES } from '../model/progress-queries';
import { reportStep } from '../progress';
import type { JobSnapshot } from '../model/snapshot';
import { clusterKey, describeVersion, type VersionSpec } from '../model/target';
import { recordUpgrade } from '../metrics';
import { resolvedTargetAttributes } from '../canonical-target';
import { FLINK_CLUSTER, FLINK_JOB } from '../search-attributes';
import { decidePreflight, decideRestorePoint, type PreflightCheck, type RestoreDecision, type StopOutcome, type UpgradePlan } from './decide';
import { withLegacyDefaults } from './legacy-snapshot';
import { parseUpgradeRequest, type UpgradeRequest, type UpgradeRequestInput } from './request';
import { cancelJob, deployAndVerify, observeJob, retireJob, stopWithSavepointOutcome, type StepTarget } from './steps';

export type UpgradeStep =
  | 'preflight'
  | 'awaiting-approval'
  | 'stopping'
  | 'falling-back'
  | 'redeploying'
  | 'verifying'
  | 'retiring'
  | 'rolling-back'
  | 'verifying-rollback'
  | 'compensating'
  | 'done';

export interface UpgradeProgress {
  step: UpgradeStep;
  message: string;
  startedAt: number;
  stepStartedAt: number;
  plan?: UpgradePlan;
  savepoint?: string;
  newJobId?: string;
  /** Bookkeeping that failed without changing the outcome (a record or event not written). */
  warnings?: string[];
  history: { step: UpgradeStep; at: number; message: string }[];
}

export interface UpgradeResult {
  outcome: 'succeeded' | 'dry-run';
  message: string;
  plan: UpgradePlan;
  savepoint?: string;
  jobId?: string;
  verification?: string;
  warnings?: string[];
}

export const getUpgradeProgressQuery = defineQuery<UpgradeProgress>(PROGRESS_QUERIES.upgradeWorkflow);
export const approveUpgradeUpdate = defineUpdate<string, [{ by: string; comment?: string }]>('approveUpgrade');
export const abortUpgradeUpdate = defineUpdate<string, [{ by: string; reason?: string }]>('abortUpgrade');

/**
 * Behaviour changes of running upgrades, each behind patched() so a workflow that started on an older worker replays
 * unchanged (test/unit/replay.test.ts replays the frozen histories of every release).
 */
export const UPGRADE_PATCHES = {
  /** 0.2.0: before the previous version comes back, the new job is cancelled and confirmed gone. */
  retireBeforeBringBack: 'retire-new-job-before-bringing-back-the-old',
  /**
   * 0.3.0: fewer history events. Every patched() call costs two events (its marker and the TemporalChangeVersion
   * search attribute), so this one stands for retireBeforeBringBack and the canonical FlinkCluster patch too; and the
   * worker's policy comes with the observation (observeTarget already returns it) instead of a getOperationPolicy
   * activity of its own.
   */
  fewerEvents: 'upgrade-0.3-fewer-events',
} as const;

/**
 * Upgrade a Flink job: preflight, (approval), stop with savepoint, redeploy from it, verify the restore, and roll
 * back to the previous version from the same savepoint when the new one does not come up. Once the old job is
 * stopped, any failure brings exactly one job back; cancelling at any point leaves a job running (old or new).
 */
export async function upgradeWorkflow(input: UpgradeRequestInput): Promise<UpgradeResult> {
  const parsed = parseUpgradeRequest(input);
  if (!parsed.ok) throw ApplicationFailure.nonRetryable(`invalid upgrade request: ${parsed.problem}`, 'InvalidRequest');
  return new Upgrade(parsed.request).run();
}

class Upgrade {
  private readonly workflowId = workflowInfo().workflowId;
  private readonly progress: UpgradeProgress;
  /** Where the steps act: as asked at first, then the target as flinkops keys it (found by preflight). */
  private target: StepTarget;
  private decision?: { kind: 'approved'; by: string } | { kind: 'aborted'; by: string; reason: string };
  private plan?: UpgradePlan;
  /** Set once the old job may have been stopped: from here on a job must be brought back on any failure. */
  private stopStarted = false;
  /** For the downtime metric: when the stop began, and when a job (new or old) ran with all tasks again. */
  private stopStartedAt?: number;
  private runningSince?: number;
  private outcomeRecorded = false;
  private stopTriggerId = uuidHex();
  private restore?: Exclude<RestoreDecision, { kind: 'nothing-changed' }>;
  private newJobId?: string;
  private locked = false;
  private checkpointTimeoutMs?: number;
  private prepared?: PreparedVersion;
  private verification?: string;
  private readonly warnings: string[] = [];
  /** UPGRADE_PATCHES.fewerEvents: decided once, at the start. */
  private fewerEvents = false;

  constructor(private readonly request: UpgradeRequest) {
    const now = Date.now();
    this.target = { cluster: request.cluster, restUrl: request.restUrl };
    this.progress = { step: 'preflight', message: 'starting', startedAt: now, stepStartedAt: now, history: [] };
    setHandler(getUpgradeProgressQuery, () => ({ ...this.progress, ...(this.warnings.length ? { warnings: this.warnings } : {}) }));
    setHandler(
      approveUpgradeUpdate,
      (approval) => {
        this.decision = { kind: 'approved', by: approval.by };
        return `approved by ${approval.by}`;
      },
      {
        validator: (approval: { by: string; comment?: string }) => {
          if (typeof approval?.by !== 'string' || !approval.by.trim()) throw new Error('by: say who approves');
          if (!this.request.approval.required) throw new Error('this upgrade does not wait for approval');
          if (this.decision) throw new Error(`already ${this.decision.kind} by ${this.decision.by}`);
          if (this.progress.step !== 'preflight' && this.progress.step !== 'awaiting-approval') throw new Error(`too late to approve: the upgrade is ${this.progress.step}`);
        },
      },
    );
    setHandler(
      abortUpgradeUpdate,
      (abort) => {
        this.decision = { kind: 'aborted', by: abort.by, reason: abort.reason ?? 'no reason given' };
        return `aborted by ${abort.by}`;
      },
      {
        validator: (abort: { by: string; reason?: string }) => {
          if (typeof abort?.by !== 'string' || !abort.by.trim()) throw new Error('by: say who aborts');
          if (this.decision?.kind === 'aborted') throw new Error(`already aborted by ${this.decision.by}`);
          if (this.progress.step !== 'preflight' && this.progress.step !== 'awaiting-approval') {
            throw new Error(`too late to abort: the upgrade is ${this.progress.step}; cancel the workflow instead (the job will be left running)`);
          }
        },
      },
    );
  }

  async run(): Promise<UpgradeResult> {
    const request = this.request;
    this.fewerEvents = patched(UPGRADE_PATCHES.fewerEvents);
    this.step('preflight', `observing ${request.cluster.namespace}/${request.cluster.name}`);
    const observe = () =>
      withSummary('observeTarget', QUICK, 'observe cluster and job', {
        cluster: request.cluster,
        job: request.job,
        restUrl: request.restUrl,
        jarPath: request.to.kind === 'jar' ? request.to.jar : undefined,
        // Absent unless given (--jar-uri), so the activity's input is what earlier histories recorded.
        jarUri: request.to.kind === 'image' ? request.to.jarUri : undefined,
        mode: request.mode,
        savepointDir: request.savepointDir,
        deployTimeoutMs: request.timeouts.deploy,
      });
    const [policy, snapshot] = this.fewerEvents
      ? await observe().then((observed) => [{ allowedSavepointPrefixes: observed.allowedSavepointPrefixes ?? [] }, observed] as const)
      : await Promise.all([quickActivities.getOperationPolicy(), observe()]);
    const preflight = decidePreflight(withLegacyDefaults(snapshot), request, policy);
    if (preflight.kind === 'refuse') throw this.refused(preflight.reason, preflight.checks);
    const plan = (this.plan = preflight.plan);
    this.progress.plan = plan;
    this.target = { cluster: plan.cluster, restUrl: request.restUrl };
    this.checkpointTimeoutMs = snapshot.job?.checkpointing?.timeoutMs;
    upsertSearchAttributes(
      this.fewerEvents ? [{ key: FLINK_CLUSTER, value: clusterKey(plan.cluster) }, { key: FLINK_JOB, value: plan.jobName }] : resolvedTargetAttributes(plan.cluster, plan.jobName),
    );
    if (request.dryRun) {
      this.step('done', 'dry run: nothing changed');
      this.recordOutcome('dry-run');
      return { outcome: 'dry-run', message: `dry run: would upgrade ${plan.jobName} ${describeVersion(plan.from)} -> ${describeVersion(plan.to)}`, plan };
    }

    const lock = await quickActivities.acquireOperationLock({ scope: plan.lockScope, workflowId: this.workflowId, operation: 'upgrade' });
    if (!lock.acquired) {
      throw this.refused(`another flinkops operation holds this job: ${lock.holder.operation} ${lock.holder.workflowId} since ${lock.holder.since}`, plan.checks);
    }
    this.locked = true;
    try {
      return await this.upgrade(plan);
    } catch (error) {
      if (isCancellation(error)) await CancellationScope.nonCancellable(() => this.compensate());
      this.recordOutcome(isCancellation(error) ? 'cancelled' : 'failed');
      throw error;
    } finally {
      await CancellationScope.nonCancellable(() => this.releaseLock());
    }
  }

  private async upgrade(plan: UpgradePlan): Promise<UpgradeResult> {
    const request = this.request;
    await this.event('Normal', 'UpgradeStarted', `upgrading ${plan.jobName}: ${describeVersion(plan.from)} -> ${describeVersion(plan.to)} (${plan.mode})`);

    if (request.approval.required && !this.decision) {
      this.step('awaiting-approval', `waiting up to ${formatDuration(request.approval.timeout)} for approval (flinkops approve)`);
      const decided = await condition(() => this.decision !== undefined, request.approval.timeout);
      if (!decided) this.decision = { kind: 'aborted', by: 'flinkops', reason: `no approval within ${formatDuration(request.approval.timeout)}` };
    }
    if (this.decision?.kind === 'aborted') {
      const message = `aborted by ${this.decision.by} before anything changed: ${this.decision.reason}`;
      await this.finish('aborted', message);
      throw ApplicationFailure.nonRetryable(message, 'UpgradeAborted');
    }

    // Anything that can happen while the old job still runs (uploading the new jar) is not downtime.
    this.prepared = await withSummary('prepareVersion', QUICK, `prepare ${describeVersion(plan.to)}`, { ...this.target, version: plan.to });
    const restore = await this.stopOldJob(plan);
    if (restore.kind === 'nothing-changed') {
      await this.finish('nothing-changed', restore.reason, this.newJobId ? { version: plan.from, jobId: this.newJobId } : undefined);
      throw ApplicationFailure.nonRetryable(`nothing changed: ${restore.reason}`, 'SavepointFailed');
    }
    this.restore = restore;
    if (restore.kind !== 'empty-state') this.progress.savepoint = restore.path;

    // The old job is stopped: from here on every failure brings exactly one job back. The restore point is recorded
    // (so retention never disposes of it) while the new version deploys; a failed record is a warning, not a reason
    // to leave the job down.
    const recording = restore.kind === 'empty-state' ? Promise.resolve() : this.recordRestorePoint(restore.path, 'upgrade', restore.kind === 'savepoint');
    let failure: string | undefined;
    try {
      [failure] = await Promise.all([this.deployAndVerify('redeploying', 'verifying', plan.to, plan.allowNonRestoredState), recording]);
    } catch (error) {
      if (isCancellation(error)) throw error;
      failure = `upgrading to ${describeVersion(plan.to)} failed: ${failureMessage(error)}`;
    }
    if (!failure) {
      const message = `upgraded ${plan.jobName} to ${describeVersion(plan.to)}${restore.kind === 'empty-state' ? ' without state' : ` from ${restore.path}`}`;
      await this.finish('succeeded', message, { version: plan.to, jobId: this.newJobId! });
      return {
        outcome: 'succeeded',
        message,
        plan,
        savepoint: this.progress.savepoint,
        jobId: this.newJobId,
        verification: this.verification,
        ...(this.warnings.length ? { warnings: this.warnings } : {}),
      };
    }
    return this.rollBack(failure);
  }

  /** Stop (or cancel) the running job and decide what the new version starts from. */
  private async stopOldJob(plan: UpgradePlan): Promise<RestoreDecision> {
    const request = this.request;
    if (plan.mode === 'stateless') {
      this.step('stopping', `cancelling job ${plan.jobId} (stateless)`);
      this.stopStarted = true;
      this.stopStartedAt = Date.now();
      const stillRunning = await this.cancelOldJob(plan, 'stateless');
      if (stillRunning) return stillRunning;
      return decideRestorePoint(plan, undefined, undefined, request.maxCheckpointAge, Date.now());
    }
    this.step('stopping', `stop-with-savepoint of ${plan.jobId} into ${plan.savepointDir}`);
    this.stopStarted = true;
    this.stopStartedAt = Date.now();
    let stop = await this.stopWithSavepoint(plan, request.timeouts.savepoint);
    if (stop.status === 'completed') return decideRestorePoint(plan, stop, undefined, request.maxCheckpointAge, Date.now());

    if (stop.status === 'timed-out' && plan.mode === 'savepoint') {
      // Flink goes on until its own checkpoint timeout: only its verdict says whether the job still runs.
      this.step('stopping', `${stop.reason}; waiting for Flink to finish or abandon the savepoint`);
      const verdict = await this.stopWithSavepoint(plan, this.settleTimeoutMs());
      if (verdict.status === 'completed') return this.restoreOldVersionAfterLateSavepoint(plan, stop.reason, verdict.location);
      stop = { status: verdict.status, reason: `${stop.reason}; ${verdict.status === 'failed' ? `Flink abandoned it: ${verdict.reason}` : verdict.reason}` };
    }

    const job = await observeJob(this.target, plan.jobId);
    const decision = decideRestorePoint(plan, stop, job, request.maxCheckpointAge, Date.now());
    if (decision.kind !== 'checkpoint') {
      if (job?.state === 'RUNNING') this.stopStarted = false;
      return decision;
    }
    this.step('falling-back', decision.reason);
    const stillRunning = await this.cancelOldJob(plan, 'last-state');
    if (stillRunning) return stillRunning;
    const afterCancel = await observeJob(this.target, plan.jobId);
    const newest = afterCancel?.latestCheckpoint && afterCancel.latestCheckpoint.id >= decision.checkpointId ? afterCancel.latestCheckpoint : undefined;
    if (!newest || !checkLocation(newest.path, plan.allowedPrefixes).ok) return decision;
    return { kind: 'checkpoint', path: newest.path, checkpointId: newest.id, reason: `${decision.reason}; newest checkpoint ${newest.id} after cancelling` };
  }

  /**
   * Cancels the old job (stateless mode, last-state fallback). A cancel that cannot be confirmed is looked at: a job
   * that still runs means nothing changed; one that stopped is treated as cancelled.
   */
  private async cancelOldJob(plan: UpgradePlan, why: string): Promise<RestoreDecision | undefined> {
    try {
      await cancelJob(this.target, plan.jobId, this.request.timeouts.savepoint, why);
      return undefined;
    } catch (error) {
      if (isCancellation(error)) throw error;
      const job = await observeJob(this.target, plan.jobId);
      if (!job || job.state === 'CANCELED' || job.state === 'FAILED' || job.state === 'FINISHED') return undefined;
      this.stopStarted = job.state !== 'RUNNING';
      return { kind: 'nothing-changed', reason: `cancelling job ${plan.jobId} failed (${failureMessage(error)}); it is ${job.state}` };
    }
  }

  /** The savepoint completed after the upgrade stopped waiting: the old version comes back from it. */
  private async restoreOldVersionAfterLateSavepoint(plan: UpgradePlan, timeout: string, location: string): Promise<RestoreDecision> {
    this.restore = { kind: 'savepoint', path: location, reason: 'completed after the timeout' };
    this.progress.savepoint = location;
    await this.recordRestorePoint(location, 'rollback', true);
    // Nothing new was deployed: the stopped job is the only one, and it is finished.
    const failure = await this.deployAndVerify('rolling-back', 'verifying-rollback', plan.from, false);
    if (failure) return this.rollbackFailed(`${timeout}, then the savepoint completed after all (${location})`, failure);
    return { kind: 'nothing-changed', reason: `${timeout}; the savepoint completed later (${location}) and ${describeVersion(plan.from)} was restored from it` };
  }

  /**
   * The stop step. An activity that fails altogether (Flink not answering for minutes) is not a verdict: the
   * outcome is unknown, and the settle step (same trigger id) or an observation of the job decides.
   */
  private stopWithSavepoint(plan: UpgradePlan, timeoutMs: number): Promise<StopOutcome> {
    return stopWithSavepointOutcome(this.target, { jobId: plan.jobId, triggerId: this.stopTriggerId, targetDirectory: plan.savepointDir!, timeoutMs });
  }

  /** Flink abandons a savepoint after the job's checkpoint timeout; wait a little longer than that for its verdict. */
  private settleTimeoutMs(): number {
    return (this.checkpointTimeoutMs ?? 600_000) + 60_000;
  }

  /** Deploys a version from the restore point and verifies it; returns why it failed, or undefined. */
  private async deployAndVerify(deployStep: UpgradeStep, verifyStep: UpgradeStep, version: VersionSpec, allowNonRestoredState: boolean): Promise<string | undefined> {
    const request = this.request;
    const plan = this.plan!;
    const restorePath = this.restore?.kind === 'empty-state' ? undefined : this.restore?.path;
    const jobId = uuidHex();
    this.newJobId = jobId;
    this.progress.newJobId = jobId;
    this.step(deployStep, `deploying ${describeVersion(version)} as job ${jobId}${restorePath ? ` from ${restorePath}` : ' without state'}`);
    const prepared = version === plan.to ? this.prepared : undefined;
    this.prepared = undefined;
    const outcome = await deployAndVerify(
      this.target,
      { version, prepared, restore: { path: restorePath, allowNonRestoredState }, jobId, timeoutMs: request.timeouts.deploy },
      { checkpointingEnabled: plan.checkpointingEnabled, stabilityWindowMs: request.stabilityWindow, timeoutMs: plan.verifyTimeoutMs + request.stabilityWindow },
      (deployedId) => {
        // Some targets choose the job's id themselves (the Flink Kubernetes Operator does).
        this.newJobId = deployedId;
        this.progress.newJobId = deployedId;
        this.step(verifyStep, `verifying job ${deployedId}`);
      },
    );
    if (!outcome.restored) return outcome.failure;
    this.verification = outcome.verification.summary;
    this.runningSince = outcome.verification.runningSince;
    return undefined;
  }

  /**
   * Before the previous version comes back, the new job must be gone (two jobs from one savepoint would both write
   * their output). Returns why it could not be made sure of, with what still runs.
   */
  private async retireNewJob(): Promise<string | undefined> {
    const jobId = this.newJobId;
    if (!jobId || !(this.fewerEvents || patched(UPGRADE_PATCHES.retireBeforeBringBack))) return undefined;
    this.step('retiring', `making sure job ${jobId} is gone before the previous version starts`);
    try {
      const retired = await retireJob(this.target, jobId, this.request.timeouts.savepoint);
      return retired.gone ? undefined : retired.detail;
    } catch (error) {
      if (isCancellation(error)) throw error;
      return `job ${jobId} could not be stopped: ${failureMessage(error)}`;
    }
  }

  /** The previous version, from the same restore point, verified the same way. Always ends the workflow failed. */
  private async rollBack(reason: string): Promise<never> {
    const plan = this.plan!;
    await this.event('Warning', 'UpgradeFailed', `${reason}; rolling back to ${describeVersion(plan.from)}`);
    const stillRunning = await this.retireNewJob();
    if (stillRunning) return this.rollbackFailed(reason, `the new job is not confirmed gone (${stillRunning}), so the previous version was NOT started: a second job from the same savepoint would run beside it`);
    // The old version must come back with exactly its own state, so no allowNonRestoredState here.
    const rollbackFailure = await this.deployAndVerify('rolling-back', 'verifying-rollback', plan.from, false);
    if (rollbackFailure) return this.rollbackFailed(reason, rollbackFailure);
    const message = `${reason}; rolled back to ${describeVersion(plan.from)}${this.progress.savepoint ? ` from ${this.progress.savepoint}` : ''}, which runs again`;
    await this.finish('rolled-back', message, { version: plan.from, jobId: this.newJobId! });
    throw ApplicationFailure.nonRetryable(message, 'UpgradeRolledBack', { savepoint: this.progress.savepoint, jobId: this.newJobId });
  }

  private async rollbackFailed(reason: string, rollbackFailure: string): Promise<never> {
    const plan = this.plan!;
    const savepoint = this.progress.savepoint ?? '(no savepoint)';
    const message = `${reason}; ROLLBACK FAILED too: ${rollbackFailure}. Needs a human: make sure no job of ${plan.jobName} runs, then restore ${describeVersion(plan.from)} from ${savepoint}`;
    await this.finish('rollback-failed', message);
    throw ApplicationFailure.nonRetryable(message, 'RollbackFailed', { savepoint: this.progress.savepoint, jobId: this.newJobId });
  }

  /** After a cancellation: whatever happened so far, leave exactly one job running (old or new version). */
  private async compensate(): Promise<void> {
    const plan = this.plan;
    if (!plan || !this.stopStarted) return;
    this.step('compensating', 'cancelled: making sure a job is running');
    if (!this.restore && plan.mode !== 'stateless') {
      // The stop may still be going on in Flink: wait for its outcome with the same trigger id.
      const stop = await this.stopWithSavepoint(plan, this.settleTimeoutMs());
      if (stop.status !== 'completed') {
        const job = await observeJob(this.target, plan.jobId);
        if (job?.state === 'RUNNING') {
          await this.finish('cancelled', 'cancelled before the job was stopped; it keeps running');
          return;
        }
        await this.finish('cancelled', `cancelled; the job is ${job?.state ?? 'gone'} and its savepoint failed (${stop.reason}): needs a human`);
        return;
      }
      this.restore = { kind: 'savepoint', path: stop.location, reason: 'completed after cancellation' };
      this.progress.savepoint = stop.location;
    }
    if (this.newJobId) {
      const job = await observeJob(this.target, this.newJobId).catch(() => undefined);
      if (job && keepsRunning(job, this.fewerEvents || patched(UPGRADE_PATCHES.retireBeforeBringBack))) {
        await this.finish('cancelled', `cancelled; job ${this.newJobId} keeps running`);
        return;
      }
      const stillRunning = await this.retireNewJob();
      if (stillRunning) {
        await this.finish('cancelled', `cancelled; job ${this.newJobId} is not confirmed gone (${stillRunning}), so ${describeVersion(plan.from)} was not started: needs a human`);
        return;
      }
    }
    const failure = await this.deployAndVerify('rolling-back', 'verifying-rollback', plan.from, false);
    await this.finish(
      'cancelled',
      failure ? `cancelled; bringing back ${describeVersion(plan.from)} failed: ${failure}` : `cancelled; ${describeVersion(plan.from)} runs again`,
      failure ? undefined : { version: plan.from, jobId: this.newJobId! },
    );
  }

  private async recordRestorePoint(path: string, operation: 'upgrade' | 'rollback', isSavepoint: boolean): Promise<void> {
    try {
      await quickActivities.recordRestorePoint({
        identity: this.identity(),
        point: { path, at: new Date().toISOString(), workflowId: this.workflowId, operation },
        currentVersion: this.plan!.from,
        isSavepoint,
      });
    } catch (error) {
      if (isCancellation(error)) throw error;
      this.warn(`the restore point ${path} was not recorded (${failureMessage(error)}): retention does not know to keep it`);
    }
  }

  /** The end of the operation: its record, metrics and event. Bookkeeping that fails is reported, never the outcome. */
  private async finish(outcome: string, message: string, running?: { version: VersionSpec; jobId: string }): Promise<void> {
    this.step('done', `${outcome}: ${message}`);
    const plan = this.plan!;
    if (this.prepared) {
      const prepared = this.prepared;
      this.prepared = undefined;
      await this.bookkeeping('discard the prepared version', () => quickActivities.discardPreparedVersion({ ...this.target, prepared }));
    }
    const savepoint = this.restore && this.restore.kind !== 'empty-state' ? this.restore.path : undefined;
    await this.bookkeeping('record the outcome', () =>
      quickActivities.recordOutcome({
        identity: this.identity(),
        entry: { at: new Date().toISOString(), workflowId: this.workflowId, operation: 'upgrade', outcome, from: plan.from, to: plan.to, savepoint, jobId: running?.jobId, message },
        running,
        goodSavepoint:
          running && savepoint ? { path: savepoint, at: new Date().toISOString(), jobId: plan.jobId, trigger: 'upgrade', workflowId: this.workflowId } : undefined,
      }),
    );
    this.recordOutcome(outcome, running !== undefined);
    const succeeded = outcome === 'succeeded';
    await this.event(succeeded ? 'Normal' : 'Warning', succeeded ? 'UpgradeSucceeded' : `Upgrade${outcome.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase())}`, message);
  }

  private async bookkeeping(what: string, write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (isCancellation(error)) throw error;
      this.warn(`could not ${what}: ${failureMessage(error)}`);
    }
  }

  private warn(message: string): void {
    this.warnings.push(message);
    this.step(this.progress.step, `warning: ${message}`);
  }

  private async event(type: 'Normal' | 'Warning', reason: string, note: string): Promise<void> {
    await this.bookkeeping(`emit the ${reason} event`, () =>
      quickActivities.emitClusterEvent({ cluster: this.request.cluster, type, reason, action: 'Upgrade', note: `${note} (${this.workflowId})` }),
    );
  }

  private async releaseLock(): Promise<void> {
    if (!this.locked) return;
    await quickActivities.releaseOperationLock({ scope: this.plan!.lockScope, workflowId: this.workflowId });
    this.locked = false;
  }

  private identity() {
    const plan = this.plan!;
    return { cluster: plan.cluster, kind: plan.kind, jobKey: plan.jobKey, jobName: plan.jobName, jobId: plan.jobId };
  }

  /** Upgrade metrics, once per workflow; downtime only when a stopped job came back. */
  private recordOutcome(outcome: string, jobCameBack = false): void {
    if (this.outcomeRecorded) return;
    this.outcomeRecorded = true;
    const downtimeMs = jobCameBack && this.stopStartedAt !== undefined && this.runningSince !== undefined ? this.runningSince - this.stopStartedAt : undefined;
    recordUpgrade({
      outcome,
      kind: this.plan?.kind,
      durationMs: Date.now() - this.progress.startedAt,
      downtimeMs,
      target: { cluster: this.plan?.cluster ?? this.request.cluster, job: this.plan?.jobName ?? this.request.job },
    });
  }

  private refused(reason: string, checks: PreflightCheck[]): ApplicationFailure {
    this.step('done', `refused: ${reason}`);
    this.recordOutcome('refused');
    return ApplicationFailure.nonRetryable(`preflight refused: ${reason}`, 'PreflightRefused', { checks });
  }

  private step(step: UpgradeStep, message: string): void {
    this.progress.stepStartedAt = reportStep(this.progress, 'upgrade', step, message);
  }
}

/** After a cancel: a new job that runs with all its tasks stays; anything less is retired and the old version comes back. */
function keepsRunning(job: JobSnapshot, strict: boolean): boolean {
  if (!strict) return job.state !== 'FAILED' && job.state !== 'CANCELED' && job.state !== 'FINISHED';
  return job.state === 'RUNNING' && job.tasks.total > 0 && job.tasks.running === job.tasks.total;
}

function uuidHex(): string {
  return uuid4().replace(/-/g, '');
}
