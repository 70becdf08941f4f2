import {
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineUpdate,
  isCancellation,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { PreparedVersion } from '../../activities/targets/adapter';
import type { VerifyResult } from '../../activities/verify';
import { failureMessage, polling, quickActivities, QUICK, withSummary } from '../activity-profiles';
import { formatDuration } from '../model/durations';
import { PROGRESS_QUERIES } from '../model/progress-queries';
import { reportStep } from '../progress';
import { lockScopeFor } from '../model/locks';
import type { JobSnapshot } from '../model/snapshot';
import { describeVersion, type VersionSpec } from '../model/target';
import { recordUpgrade } from '../metrics';
import { FLINK_JOB } from '../search-attributes';
import { decidePreflight, decideRestorePoint, type PreflightCheck, type RestoreDecision, type StopOutcome, type UpgradePlan } from './decide';
import { parseUpgradeRequest, type UpgradeRequest, type UpgradeRequestInput } from './request';

export type UpgradeStep =
  | 'preflight'
  | 'awaiting-approval'
  | 'stopping'
  | 'falling-back'
  | 'redeploying'
  | 'verifying'
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
  history: { step: UpgradeStep; at: number; message: string }[];
}

export interface UpgradeResult {
  outcome: 'succeeded' | 'dry-run';
  message: string;
  plan: UpgradePlan;
  savepoint?: string;
  jobId?: string;
  verification?: string;
}

export const getUpgradeProgressQuery = defineQuery<UpgradeProgress>(PROGRESS_QUERIES.upgradeWorkflow);
export const approveUpgradeUpdate = defineUpdate<string, [{ by: string; comment?: string }]>('approveUpgrade');
export const abortUpgradeUpdate = defineUpdate<string, [{ by: string; reason?: string }]>('abortUpgrade');

/**
 * Upgrade a Flink job: preflight, (approval), stop with savepoint, redeploy from it, verify the restore, and roll
 * back to the previous version from the same savepoint when the new one does not come up. Cancelling at any
 * point leaves a job running (old or new version).
 */
export async function upgradeWorkflow(input: UpgradeRequestInput): Promise<UpgradeResult> {
  const parsed = parseUpgradeRequest(input);
  if (!parsed.ok) throw ApplicationFailure.nonRetryable(`invalid upgrade request: ${parsed.problem}`, 'InvalidRequest');
  return new Upgrade(parsed.request).run();
}

class Upgrade {
  private readonly workflowId = workflowInfo().workflowId;
  private readonly progress: UpgradeProgress;
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

  constructor(private readonly request: UpgradeRequest) {
    const now = Date.now();
    this.progress = { step: 'preflight', message: 'starting', startedAt: now, stepStartedAt: now, history: [] };
    setHandler(getUpgradeProgressQuery, () => this.progress);
    setHandler(approveUpgradeUpdate, (approval) => {
      this.decision = { kind: 'approved', by: approval.by };
      return `approved by ${approval.by}`;
    }, {
      validator: (approval: { by: string; comment?: string }) => {
        if (typeof approval?.by !== 'string' || !approval.by.trim()) throw new Error('by: say who approves');
        if (!this.request.approval.required) throw new Error('this upgrade does not wait for approval');
        if (this.decision) throw new Error(`already ${this.decision.kind} by ${this.decision.by}`);
        if (this.progress.step !== 'preflight' && this.progress.step !== 'awaiting-approval') throw new Error(`too late to approve: the upgrade is ${this.progress.step}`);
      },
    });
    setHandler(abortUpgradeUpdate, (abort) => {
      this.decision = { kind: 'aborted', by: abort.by, reason: abort.reason ?? 'no reason given' };
      return `aborted by ${abort.by}`;
    }, {
      validator: (abort: { by: string; reason?: string }) => {
        if (typeof abort?.by !== 'string' || !abort.by.trim()) throw new Error('by: say who aborts');
        if (this.decision?.kind === 'aborted') throw new Error(`already aborted by ${this.decision.by}`);
        if (this.progress.step !== 'preflight' && this.progress.step !== 'awaiting-approval') {
          throw new Error(`too late to abort: the upgrade is ${this.progress.step}; cancel the workflow instead (the job will be left running)`);
        }
      },
    });
  }

  async run(): Promise<UpgradeResult> {
    const request = this.request;
    this.step('preflight', `observing ${request.cluster.namespace}/${request.cluster.name}`);
    const [policy, snapshot] = await Promise.all([
      quickActivities.getOperationPolicy(),
      withSummary('observeTarget', QUICK, 'observe cluster and job', {
        cluster: request.cluster,
        job: request.job,
        restUrl: request.restUrl,
        jarPath: request.to.kind === 'jar' ? request.to.jar : undefined,
      }),
    ]);
    const preflight = decidePreflight(snapshot, request, policy);
    if (preflight.kind === 'refuse') throw this.refused(preflight.reason, preflight.checks);
    const plan = (this.plan = preflight.plan);
    this.progress.plan = plan;
    this.checkpointTimeoutMs = snapshot.job?.checkpointing?.timeoutMs;
    upsertSearchAttributes([{ key: FLINK_JOB, value: plan.jobName }]);
    if (request.dryRun) {
      this.step('done', 'dry run: nothing changed');
      this.recordOutcome('dry-run');
      return { outcome: 'dry-run', message: `dry run: would upgrade ${plan.jobName} ${describeVersion(plan.from)} -> ${describeVersion(plan.to)}`, plan };
    }

    const lock = await quickActivities.acquireOperationLock({ scope: this.lockScope(), workflowId: this.workflowId, operation: 'upgrade' });
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
    this.prepared = await withSummary('prepareVersion', QUICK, `prepare ${describeVersion(plan.to)}`, {
      cluster: request.cluster,
      restUrl: request.restUrl,
      version: plan.to,
    });
    const restore = await this.stopOldJob(plan);
    if (restore.kind === 'nothing-changed') {
      await this.finish('nothing-changed', restore.reason, this.newJobId ? { version: plan.from, jobId: this.newJobId } : undefined);
      throw ApplicationFailure.nonRetryable(`nothing changed: ${restore.reason}`, 'SavepointFailed');
    }
    this.restore = restore;
    if (restore.kind !== 'empty-state') this.progress.savepoint = restore.path;
    // The restore point is recorded (so retention never disposes of it) while the new version deploys: the job's
    // lock keeps retention away until then, and the job is down meanwhile.
    const recording =
      restore.kind === 'empty-state'
        ? Promise.resolve()
        : quickActivities.recordRestorePoint({
            identity: this.identity(),
            point: { path: restore.path, at: new Date().toISOString(), workflowId: this.workflowId, operation: 'upgrade' },
            currentVersion: plan.from,
            isSavepoint: restore.kind === 'savepoint',
          });
    const [failure] = await Promise.all([this.deployAndVerify('redeploying', 'verifying', plan.to, plan.allowNonRestoredState), recording]);
    if (!failure) {
      const message = `upgraded ${plan.jobName} to ${describeVersion(plan.to)}${restore.kind === 'empty-state' ? ' without state' : ` from ${restore.path}`}`;
      await this.finish('succeeded', message, { version: plan.to, jobId: this.newJobId! });
      return { outcome: 'succeeded', message, plan, savepoint: this.progress.savepoint, jobId: this.newJobId, verification: this.verification };
    }
    return this.rollBack(failure);
  }

  private verification?: string;

  /** Stop (or cancel) the running job and decide what the new version starts from. */
  private async stopOldJob(plan: UpgradePlan): Promise<RestoreDecision> {
    const request = this.request;
    if (plan.mode === 'stateless') {
      this.step('stopping', `cancelling job ${plan.jobId} (stateless)`);
      this.stopStarted = true;
      this.stopStartedAt = Date.now();
      await this.cancelOldJob(plan, 'stateless');
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

    const job = await this.observeJob(plan.jobId);
    const decision = decideRestorePoint(plan, stop, job, request.maxCheckpointAge, Date.now());
    if (decision.kind !== 'checkpoint') {
      if (job?.state === 'RUNNING') this.stopStarted = false;
      return decision;
    }
    this.step('falling-back', decision.reason);
    await this.cancelOldJob(plan, 'last-state');
    const afterCancel = await this.observeJob(plan.jobId);
    const newest = afterCancel?.latestCheckpoint && afterCancel.latestCheckpoint.id >= decision.checkpointId ? afterCancel.latestCheckpoint : undefined;
    return newest ? { kind: 'checkpoint', path: newest.path, checkpointId: newest.id, reason: `${decision.reason}; newest checkpoint ${newest.id} after cancelling` } : decision;
  }

  /** The savepoint completed after the upgrade stopped waiting: the old version comes back from it. */
  private async restoreOldVersionAfterLateSavepoint(plan: UpgradePlan, timeout: string, location: string): Promise<RestoreDecision> {
    this.restore = { kind: 'savepoint', path: location, reason: 'completed after the timeout' };
    this.progress.savepoint = location;
    await quickActivities.recordRestorePoint({
      identity: this.identity(),
      point: { path: location, at: new Date().toISOString(), workflowId: this.workflowId, operation: 'rollback' },
      currentVersion: plan.from,
      isSavepoint: true,
    });
    const failure = await this.deployAndVerify('rolling-back', 'verifying-rollback', plan.from, false);
    if (failure) return this.rollbackFailed(`${timeout}, then the savepoint completed after all (${location})`, failure);
    return { kind: 'nothing-changed', reason: `${timeout}; the savepoint completed later (${location}) and ${describeVersion(plan.from)} was restored from it` };
  }

  private async cancelOldJob(plan: UpgradePlan, why: string): Promise<void> {
    await withSummary('cancelJob', polling(this.request.timeouts.savepoint), `cancel ${plan.jobId} (${why})`, {
      cluster: this.request.cluster,
      restUrl: this.request.restUrl,
      jobId: plan.jobId,
      timeoutMs: this.request.timeouts.savepoint,
    });
  }

  private stopWithSavepoint(plan: UpgradePlan, timeoutMs: number): Promise<StopOutcome> {
    return withSummary('stopJobWithSavepoint', polling(timeoutMs), `stop ${plan.jobId} with savepoint`, {
      cluster: this.request.cluster,
      restUrl: this.request.restUrl,
      jobId: plan.jobId,
      triggerId: this.stopTriggerId,
      targetDirectory: plan.savepointDir!,
      timeoutMs,
    });
  }

  /** Flink abandons a savepoint after the job's checkpoint timeout; wait a little longer than that for its verdict. */
  private settleTimeoutMs(): number {
    return (this.checkpointTimeoutMs ?? 600_000) + 60_000;
  }

  /** Deploys a version from the restore point and verifies it; returns why it failed, or undefined. */
  private async deployAndVerify(deployStep: UpgradeStep, verifyStep: UpgradeStep, version: VersionSpec, allowNonRestoredState: boolean): Promise<string | undefined> {
    const request = this.request;
    const restorePath = this.restore?.kind === 'empty-state' ? undefined : this.restore?.path;
    const jobId = uuidHex();
    this.newJobId = jobId;
    this.progress.newJobId = jobId;
    this.step(deployStep, `deploying ${describeVersion(version)} as job ${jobId}${restorePath ? ` from ${restorePath}` : ' without state'}`);
    try {
      const prepared = version === this.plan?.to ? this.prepared : undefined;
      this.prepared = undefined;
      await withSummary('deployVersion', polling(request.timeouts.deploy), `deploy ${describeVersion(version)}`, {
        cluster: request.cluster,
        restUrl: request.restUrl,
        version,
        prepared,
        restore: { path: restorePath, allowNonRestoredState },
        jobId,
        timeoutMs: request.timeouts.deploy,
      });
    } catch (error) {
      if (isCancellation(error)) throw error;
      return `deploying ${describeVersion(version)} failed: ${failureMessage(error)}`;
    }
    this.step(verifyStep, `verifying job ${jobId}`);
    const result: VerifyResult = await withSummary('verifyDeployment', polling(this.plan!.verifyTimeoutMs + request.stabilityWindow), `verify job ${jobId}`, {
      cluster: request.cluster,
      restUrl: request.restUrl,
      jobId,
      expectedRestorePath: restorePath,
      checkpointingEnabled: this.plan!.checkpointingEnabled,
      stabilityWindowMs: request.stabilityWindow,
      timeoutMs: this.plan!.verifyTimeoutMs + request.stabilityWindow,
    });
    if (result.verified) {
      this.verification = result.summary;
      this.runningSince = result.runningSince;
      return undefined;
    }
    return `verification of ${describeVersion(version)} failed: ${result.reason}`;
  }

  /** The previous version, from the same restore point, verified the same way. Always ends the workflow failed. */
  private async rollBack(reason: string): Promise<never> {
    const plan = this.plan!;
    await this.event('Warning', 'UpgradeFailed', `${reason}; rolling back to ${describeVersion(plan.from)}`);
    // The old version must come back with exactly its own state, so no allowNonRestoredState here.
    const rollbackFailure = await this.deployAndVerify('rolling-back', 'verifying-rollback', plan.from, false);
    if (rollbackFailure) return this.rollbackFailed(reason, rollbackFailure);
    const message = `${reason}; rolled back to ${describeVersion(plan.from)}${this.progress.savepoint ? ` from ${this.progress.savepoint}` : ''}, which runs again`;
    await this.finish('rolled-back', message, { version: plan.from, jobId: this.newJobId! });
    throw ApplicationFailure.nonRetryable(message, 'UpgradeRolledBack', { savepoint: this.progress.savepoint, jobId: this.newJobId });
  }

  private async rollbackFailed(reason: string, rollbackFailure: string): Promise<never> {
    const plan = this.plan!;
    const message = `${reason}; ROLLBACK FAILED too: ${rollbackFailure}. Needs a human: restore ${describeVersion(plan.from)} from ${this.progress.savepoint ?? '(no savepoint)'}`;
    await this.finish('rollback-failed', message);
    throw ApplicationFailure.nonRetryable(message, 'RollbackFailed', { savepoint: this.progress.savepoint });
  }

  /** After a cancellation: whatever happened so far, leave a job running (old or new version). */
  private async compensate(): Promise<void> {
    const plan = this.plan;
    if (!plan || !this.stopStarted) return;
    this.step('compensating', 'cancelled: making sure a job is running');
    if (!this.restore && plan.mode !== 'stateless') {
      // The stop may still be going on in Flink: wait for its outcome with the same trigger id.
      const stop = await this.stopWithSavepoint(plan, this.settleTimeoutMs());
      if (stop.status !== 'completed') {
        const job = await this.observeJob(plan.jobId);
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
      const job = await this.observeJob(this.newJobId);
      if (job && job.state !== 'FAILED' && job.state !== 'CANCELED' && job.state !== 'FINISHED') {
        await this.finish('cancelled', `cancelled; job ${this.newJobId} keeps running`);
        return;
      }
    }
    const failure = await this.deployAndVerify('rolling-back', 'verifying-rollback', plan.from, false);
    await this.finish('cancelled', failure ? `cancelled; bringing back ${describeVersion(plan.from)} failed: ${failure}` : `cancelled; ${describeVersion(plan.from)} runs again`, failure ? undefined : { version: plan.from, jobId: this.newJobId! });
  }

  private async observeJob(jobId: string): Promise<JobSnapshot | undefined> {
    return quickActivities.observeJob({ cluster: this.request.cluster, restUrl: this.request.restUrl, jobId });
  }

  private async finish(outcome: string, message: string, running?: { version: VersionSpec; jobId: string }): Promise<void> {
    this.step('done', `${outcome}: ${message}`);
    if (this.prepared) {
      await quickActivities.discardPreparedVersion({ cluster: this.request.cluster, restUrl: this.request.restUrl, prepared: this.prepared });
      this.prepared = undefined;
    }
    const plan = this.plan!;
    const savepoint = this.restore && this.restore.kind !== 'empty-state' ? this.restore.path : undefined;
    await quickActivities.recordOutcome({
      identity: this.identity(),
      entry: { at: new Date().toISOString(), workflowId: this.workflowId, operation: 'upgrade', outcome, from: plan.from, to: plan.to, savepoint, jobId: running?.jobId, message },
      running,
      goodSavepoint:
        running && savepoint
          ? { path: savepoint, at: new Date().toISOString(), jobId: plan.jobId, trigger: 'upgrade', workflowId: this.workflowId }
          : undefined,
    });
    this.recordOutcome(outcome, running !== undefined);
    const succeeded = outcome === 'succeeded';
    await this.event(succeeded ? 'Normal' : 'Warning', succeeded ? 'UpgradeSucceeded' : `Upgrade${outcome.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase())}`, message);
  }

  private async event(type: 'Normal' | 'Warning', reason: string, note: string): Promise<void> {
    await quickActivities.emitClusterEvent({ cluster: this.request.cluster, type, reason, action: 'Upgrade', note: `${note} (${this.workflowId})` });
  }

  private async releaseLock(): Promise<void> {
    if (!this.locked) return;
    await quickActivities.releaseOperationLock({ scope: this.lockScope(), workflowId: this.workflowId });
    this.locked = false;
  }

  private lockScope() {
    return lockScopeFor(this.plan!.kind, this.plan!.cluster, this.plan!.jobKey);
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
    recordUpgrade({ outcome, kind: this.plan?.kind, durationMs: Date.now() - this.progress.startedAt, downtimeMs });
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

function uuidHex(): string {
  return uuid4().replace(/-/g, '');
}
