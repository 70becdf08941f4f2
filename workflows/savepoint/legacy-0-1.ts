import { ApplicationFailure, CancellationScope, setHandler, upsertSearchAttributes, uuid4, workflowInfo } from '@temporalio/workflow';
import type { RecordIdentity } from '../../activities/records';
import type { DisposalResult } from '../../activities/savepoints';
import { polling, quickActivities, QUICK, withSummary } from '../activity-profiles';
import { formatDuration } from '../model/durations';
import { canonicalLocation } from '../model/locations';
import { reportStep } from '../progress';
import { lockScopeFor } from '../model/locks';
import type { TargetSnapshot } from '../model/snapshot';
import { jobKeyFor, type ClusterRef, type TargetKind } from '../model/target';
import { recordSavepointRun } from '../metrics';
import { FLINK_JOB } from '../search-attributes';
import { activeBlackout } from './blackout';
import { decideRetention } from './decide';
import type { SavepointRequest } from './request';
import { getSavepointProgressQuery, type SavepointProgress, type SavepointResult } from './contract';

/**
 * FROZEN: the savepoint run of flinkops 0.1.0, for runs that started on a 0.1.0 worker and replay on a newer one
 * (savepointWorkflow takes this path when its first patch marker is absent). It must schedule exactly the activities
 * 0.1.0 scheduled, in the same order; do not change it. Remove it once no 0.1.0 run can still be open.
 */
interface LegacyPlan {
  cluster: ClusterRef;
  kind: TargetKind;
  jobId: string;
  jobName: string;
  jobKey: string;
  savepointDir: string;
}

type LegacyPreflight = { kind: 'take'; plan: LegacyPlan } | { kind: 'skip'; reason: string } | { kind: 'fail'; reason: string };

/** 0.1.0's preflight: the branches it took (an empty prefix list allowed every directory then). */
function legacyPreflight(snapshot: TargetSnapshot, request: SavepointRequest, allowedPrefixes: readonly string[], now: Date): LegacyPreflight {
  const blackout = activeBlackout(now, request.blackouts, request.timeZone);
  if (blackout) return { kind: 'skip', reason: `inside the blackout window "${blackout.text}" (${request.timeZone})` };
  if (snapshot.problem || !snapshot.kind) return { kind: 'fail', reason: snapshot.problem ?? 'cluster could not be observed' };
  const job = snapshot.job;
  if (!job) return { kind: 'fail', reason: snapshot.jobProblem ?? 'no job found' };
  if (job.state !== 'RUNNING') return { kind: 'skip', reason: `job ${job.id} (${job.name}) is ${job.state}, not RUNNING: no savepoint taken` };
  if (snapshot.lockHolder) return { kind: 'skip', reason: `another flinkops operation holds the job: ${snapshot.lockHolder.operation} ${snapshot.lockHolder.workflowId}` };
  const savepointDir = request.savepointDir ?? snapshot.clusterConfig.savepointDir;
  if (!savepointDir) return { kind: 'fail', reason: 'no savepoint directory' };
  const canonical = canonicalLocation(savepointDir);
  const inside = allowedPrefixes.length === 0 || allowedPrefixes.some((p) => canonical === canonicalLocation(p) || canonical.startsWith(`${canonicalLocation(p)}/`));
  if (!inside) return { kind: 'fail', reason: `savepoint directory ${savepointDir} is outside the allowed prefixes` };
  return { kind: 'take', plan: { cluster: snapshot.cluster, kind: snapshot.kind, jobId: job.id, jobName: job.name, jobKey: snapshot.record?.jobKey ?? jobKeyFor(job.name), savepointDir: canonical } };
}

export class LegacySavepointRun {
  private readonly workflowId = workflowInfo().workflowId;
  private readonly progress: SavepointProgress = { step: 'preflight', message: 'starting', history: [] };

  constructor(private readonly request: SavepointRequest) {
    setHandler(getSavepointProgressQuery, () => this.progress);
  }

  async run(): Promise<SavepointResult> {
    const request = this.request;
    this.step('preflight', `observing ${request.cluster.namespace}/${request.cluster.name}`);
    const [policy, snapshot] = await Promise.all([
      quickActivities.getOperationPolicy(),
      withSummary('observeTarget', QUICK, 'observe cluster and job', { cluster: request.cluster, job: request.job, restUrl: request.restUrl }),
    ]);
    const decision = legacyPreflight(snapshot, request, policy.allowedSavepointPrefixes, new Date());
    if (decision.kind === 'fail') {
      this.step('done', `failed: ${decision.reason}`);
      recordSavepointRun({ outcome: 'refused', trigger: request.trigger, target: { cluster: request.cluster, job: request.job } });
      throw ApplicationFailure.nonRetryable(`savepoint not taken: ${decision.reason}`, 'SavepointPreflightFailed');
    }
    if (decision.kind === 'skip') {
      const job = snapshot.job && snapshot.kind ? { cluster: snapshot.cluster, kind: snapshot.kind, jobName: snapshot.job.name, jobId: snapshot.job.id, jobKey: snapshot.record?.jobKey ?? jobKeyFor(snapshot.job.name) } : undefined;
      return this.skip(decision.reason, job);
    }
    const plan = decision.plan;
    upsertSearchAttributes([{ key: FLINK_JOB, value: plan.jobName }]);

    const scope = lockScopeFor(plan.kind, plan.cluster, plan.jobKey);
    const lock = await quickActivities.acquireOperationLock({ scope, workflowId: this.workflowId, operation: 'savepoint' });
    if (!lock.acquired) return this.skip(`another flinkops operation holds the job: ${lock.holder.operation} ${lock.holder.workflowId}`, plan);
    try {
      return await this.take(plan);
    } finally {
      await CancellationScope.nonCancellable(() => quickActivities.releaseOperationLock({ scope, workflowId: this.workflowId }));
    }
  }

  private async take(plan: LegacyPlan): Promise<SavepointResult> {
    const request = this.request;
    const identity = this.identity(plan);
    this.step('savepoint', `savepoint of ${plan.jobId} into ${plan.savepointDir}`);
    const startedAt = Date.now();
    const outcome = await withSummary('triggerSavepoint', polling(request.timeout), `savepoint of ${plan.jobId}`, {
      cluster: request.cluster,
      restUrl: request.restUrl,
      jobId: plan.jobId,
      triggerId: uuid4().replace(/-/g, ''),
      targetDirectory: plan.savepointDir,
      timeoutMs: request.timeout,
    });
    if (outcome.status !== 'completed') {
      const message = `savepoint of ${plan.jobName} failed: ${outcome.reason}; the job keeps running`;
      this.step('done', message);
      recordSavepointRun({ outcome: 'failed', trigger: request.trigger, target: { cluster: request.cluster, job: request.job }, durationMs: Date.now() - startedAt });
      await this.note(identity, 'failed', message, 'Warning', 'SavepointFailed');
      throw ApplicationFailure.nonRetryable(message, 'SavepointFailed');
    }
    const durationMs = Date.now() - startedAt;
    const { record, entry } = await quickActivities.recordSavepoint({
      identity,
      entry: { path: outcome.location, at: new Date().toISOString(), jobId: plan.jobId, trigger: request.trigger, workflowId: this.workflowId, durationMs },
    });
    recordSavepointRun({ outcome: 'completed', trigger: request.trigger, target: { cluster: request.cluster, job: request.job }, durationMs, sizeBytes: entry.sizeBytes });

    this.step('retention', 'applying retention');
    const retention = decideRetention(record, request.retention, Date.now());
    const toDispose = [...retention.dispose.map((d) => d.entry.path), ...record.pendingDisposals.map((p) => p.path)];
    let disposals: DisposalResult = { disposed: [], failed: [] };
    if (toDispose.length > 0) {
      disposals = await withSummary('disposeSavepoints', polling(300_000), `dispose of ${toDispose.length} savepoint(s)`, {
        cluster: request.cluster,
        restUrl: request.restUrl,
        paths: [...new Set(toDispose)],
      });
      await quickActivities.recordDisposals({ identity, result: disposals });
    }
    const size = entry.sizeBytes !== undefined ? `, ${(entry.sizeBytes / 1024).toFixed(1)} KiB` : '';
    const failures = disposals.failed.length > 0 ? `; ${disposals.failed.length} disposal(s) failed and will be retried: ${disposals.failed.map((f) => `${f.path}: ${f.error}`).join('; ')}` : '';
    const message = `savepoint ${entry.path} (${formatDuration(durationMs)}${size}); disposed of ${disposals.disposed.length}, keeping ${retention.keep.length}${failures}`;
    this.step('done', message);
    await this.note(identity, 'completed', message, disposals.failed.length > 0 ? 'Warning' : 'Normal', disposals.failed.length > 0 ? 'SavepointDisposalFailed' : 'SavepointCompleted', entry.path);
    return {
      outcome: 'completed',
      message,
      savepoint: entry,
      disposed: disposals.disposed.map((d) => d.path),
      disposalFailures: disposals.failed,
      kept: retention.keep.map((k) => k.path),
    };
  }

  /** A skip is not a failure: the reason goes to the result (Temporal UI), the job's record and an event. */
  private async skip(reason: string, job?: Pick<LegacyPlan, 'cluster' | 'kind' | 'jobName' | 'jobId' | 'jobKey'>): Promise<SavepointResult> {
    this.step('done', `skipped: ${reason}`);
    recordSavepointRun({ outcome: 'skipped', trigger: this.request.trigger, target: { cluster: this.request.cluster, job: this.request.job } });
    if (job) await this.note(this.identity(job), 'skipped', reason, 'Normal', 'SavepointSkipped');
    return { outcome: 'skipped', message: `skipped: ${reason}`, disposed: [], disposalFailures: [], kept: [] };
  }

  private async note(identity: RecordIdentity, outcome: string, message: string, type: 'Normal' | 'Warning', reason: string, savepoint?: string): Promise<void> {
    await Promise.all([
      quickActivities.recordOutcome({
        identity,
        entry: { at: new Date().toISOString(), workflowId: this.workflowId, operation: `savepoint (${this.request.trigger})`, outcome, savepoint, jobId: identity.jobId, message },
      }),
      quickActivities.emitClusterEvent({ cluster: this.request.cluster, type, reason, action: 'Savepoint', note: `${message} (${this.workflowId})` }),
    ]);
  }

  private identity(plan: Pick<LegacyPlan, 'cluster' | 'kind' | 'jobKey' | 'jobName' | 'jobId'>): RecordIdentity {
    return { cluster: plan.cluster, kind: plan.kind, jobKey: plan.jobKey, jobName: plan.jobName, jobId: plan.jobId };
  }

  private step(step: string, message: string): void {
    reportStep(this.progress, 'savepoint', step, message);
  }
}
