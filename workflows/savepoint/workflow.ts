import { ApplicationFailure, isCancellation, patched, setHandler, upsertSearchAttributes, uuid4, workflowInfo } from '@temporalio/workflow';
import type { RecordIdentity } from '../../activities/records';
import { failureMessage, polling, QUICK, withSummary } from '../activity-profiles';
import { reportStep } from '../progress';
import { clusterKey, jobKeyFor } from '../model/target';
import { FLINK_CLUSTER, FLINK_JOB } from '../search-attributes';
import type { TargetSnapshot } from '../model/snapshot';
import { recordSavepointRun, recordSavepointState } from '../metrics';
import { newestSavepointAt, type MetricTarget } from '../model/metric-labels';
import { resolvedTargetAttributes } from '../canonical-target';
import { getSavepointProgressQuery, type SavepointProgress, type SavepointResult } from './contract';
import { decideRetention, decideSavepointPreflight, type SavepointPlan } from './decide';
import { LegacySavepointRun } from './legacy-0-1';
import { completedRunMessage } from './messages';
import { parseSavepointRequest, type SavepointRequest, type SavepointRequestInput } from './request';

export { getSavepointProgressQuery, type SavepointProgress, type SavepointResult } from './contract';

/** Behaviour changes of running savepoint runs, each behind patched() (see the upgrade workflow's UPGRADE_PATCHES). */
export const SAVEPOINT_PATCHES = {
  /** 0.2.0: three activities per run instead of eight (smaller histories); the 0.1.0 run is kept for replays. */
  fewerActivities: 'savepoint-run-in-three-activities',
  /**
   * 0.3.0: one patch marker per run instead of two. Every patched() call costs a run two history events (its marker
   * and the TemporalChangeVersion search attribute), so this one stands for both 0.2.0 patches above and the canonical
   * FlinkCluster attribute (canonical-target.ts); runs that recorded those replay through the 0.2.0 path unchanged.
   */
  onePatchMarker: 'savepoint-run-0.3',
} as const;

/**
 * One savepoint of a running job (it keeps running): observe and decide (skip when the job is not running, another
 * flinkops operation holds it, or inside a blackout window), take it under the job's lock and record it in one
 * heartbeating activity, then apply retention and write the outcome in another.
 */
export async function savepointWorkflow(input: SavepointRequestInput): Promise<SavepointResult> {
  const parsed = parseSavepointRequest(input);
  if (!parsed.ok) throw ApplicationFailure.nonRetryable(`invalid savepoint request: ${parsed.problem}`, 'InvalidRequest');
  if (patched(SAVEPOINT_PATCHES.onePatchMarker)) return new SavepointRun(parsed.request, 'canonical').run();
  if (!patched(SAVEPOINT_PATCHES.fewerActivities)) return new LegacySavepointRun(parsed.request).run();
  return new SavepointRun(parsed.request, 'behind-patch').run();
}

class SavepointRun {
  private readonly workflowId = workflowInfo().workflowId;
  private readonly progress: SavepointProgress = { step: 'preflight', message: 'starting', history: [] };
  /** The job the run's metrics are about: as asked for until observed, then as flinkops keys it. */
  private target: MetricTarget;

  /**
   * @param clusterAttribute 'canonical': FlinkCluster is upserted as the resolved cluster (0.3.0 runs); 'behind-patch':
   * as 0.2.0 runs decided it, through CANONICAL_CLUSTER_PATCH.
   */
  constructor(
    private readonly request: SavepointRequest,
    private readonly clusterAttribute: 'canonical' | 'behind-patch',
  ) {
    setHandler(getSavepointProgressQuery, () => this.progress);
    this.target = { cluster: request.cluster, job: request.job };
  }

  async run(): Promise<SavepointResult> {
    const request = this.request;
    this.step('preflight', `observing ${request.cluster.namespace}/${request.cluster.name}`);
    const snapshot = await this.observe();
    this.target = { cluster: snapshot.cluster, job: snapshot.job?.name ?? request.job };
    // What the job's record says now; a completed run updates it below.
    if (snapshot.job) this.recordState(newestSavepointAt(snapshot.record), snapshot.record?.pendingDisposals.length);
    const decision = decideSavepointPreflight(snapshot, request, snapshot.allowedSavepointPrefixes ?? [], new Date());
    if (decision.kind === 'fail') {
      this.step('done', `failed: ${decision.reason}`);
      recordSavepointRun({ outcome: 'refused', trigger: request.trigger, target: this.target });
      throw ApplicationFailure.nonRetryable(`savepoint not taken: ${decision.reason}`, 'SavepointPreflightFailed');
    }
    if (decision.kind === 'skip') {
      const job = snapshot.job && snapshot.kind ? { cluster: snapshot.cluster, kind: snapshot.kind, jobName: snapshot.job.name, jobId: snapshot.job.id, jobKey: snapshot.record?.jobKey ?? jobKeyFor(snapshot.job.name) } : undefined;
      return this.skip(decision.reason, job);
    }
    upsertSearchAttributes(
      this.clusterAttribute === 'canonical'
        ? [{ key: FLINK_CLUSTER, value: clusterKey(decision.plan.cluster) }, { key: FLINK_JOB, value: decision.plan.jobName }]
        : resolvedTargetAttributes(decision.plan.cluster, decision.plan.jobName),
    );
    return this.take(decision.plan);
  }

  /** Not being able to look is not a refusal: it fails the run as "unavailable", and the next scheduled run tries again. */
  private async observe(): Promise<TargetSnapshot> {
    const request = this.request;
    try {
      return await withSummary('observeTarget', QUICK, 'observe cluster and job', { cluster: request.cluster, job: request.job, restUrl: request.restUrl });
    } catch (error) {
      if (isCancellation(error)) throw error;
      const message = `savepoint not taken: ${request.cluster.namespace}/${request.cluster.name} could not be observed: ${failureMessage(error)}`;
      this.step('done', message);
      recordSavepointRun({ outcome: 'failed', trigger: request.trigger, target: this.target });
      throw ApplicationFailure.nonRetryable(message, 'TargetUnavailable');
    }
  }

  private async take(plan: SavepointPlan): Promise<SavepointResult> {
    const request = this.request;
    const identity = this.identity(plan);
    this.step('savepoint', `savepoint of ${plan.jobId} into ${plan.savepointDir}`);
    const startedAt = Date.now();
    const taken = await withSummary('takeSavepoint', polling(request.timeout), `savepoint of ${plan.jobId}`, {
      cluster: request.cluster,
      restUrl: request.restUrl,
      lock: { scope: plan.lockScope, workflowId: this.workflowId },
      identity,
      operation: { jobId: plan.jobId, triggerId: uuid4().replace(/-/g, ''), targetDirectory: plan.savepointDir, timeoutMs: request.timeout },
      entry: { jobId: plan.jobId, trigger: request.trigger, workflowId: this.workflowId },
    });
    if (taken.status === 'locked') return this.skip(`another flinkops operation holds the job: ${taken.holder.operation} ${taken.holder.workflowId}`, plan);
    if (taken.status !== 'completed') {
      const message = `savepoint of ${plan.jobName} failed: ${taken.reason}; the job keeps running`;
      this.step('done', message);
      recordSavepointRun({ outcome: 'failed', trigger: request.trigger, target: this.target, durationMs: Date.now() - startedAt });
      await this.note(identity, 'failed', message, 'Warning', 'SavepointFailed');
      throw ApplicationFailure.nonRetryable(message, 'SavepointFailed');
    }
    const { entry, record } = taken;
    const durationMs = entry.durationMs ?? Date.now() - startedAt;
    recordSavepointRun({ outcome: 'completed', trigger: request.trigger, target: this.target, durationMs, sizeBytes: entry.sizeBytes });

    this.step('retention', 'applying retention');
    const decided = decideRetention(record, request.retention, Date.now());
    const retention = plan.retentionOff ? { ...decided, keep: [...decided.keep, ...decided.dispose.map((d) => d.entry)], dispose: [] } : decided;
    if (plan.retentionOff) this.step('retention', plan.retentionOff);
    const dispose = plan.retentionOff ? [] : [...new Set([...retention.dispose.map((d) => d.entry.path), ...record.pendingDisposals.map((p) => p.path)])];
    const disposals = await withSummary('finishSavepointRun', polling(300_000), `retention: dispose of ${dispose.length} savepoint(s)`, {
      cluster: request.cluster,
      restUrl: request.restUrl,
      identity,
      entry,
      durationMs,
      dispose,
      kept: retention.keep.length,
      historyEntry: { at: new Date().toISOString(), workflowId: this.workflowId, operation: `savepoint (${request.trigger})`, outcome: 'completed', savepoint: entry.path, jobId: plan.jobId },
      event: { cluster: request.cluster, action: 'Savepoint' },
    });
    const message = completedRunMessage(entry, durationMs, disposals, retention.keep.length);
    this.recordState(newestSavepointAt(record) ?? entry.at, disposals.failed.length);
    this.step('done', message);
    return {
      outcome: 'completed',
      message,
      savepoint: entry,
      disposed: disposals.disposed.map((d) => d.path),
      disposalFailures: disposals.failed,
      kept: retention.keep.map((k) => k.path),
    };
  }

  private recordState(lastGoodSavepointAt: string | undefined, pendingDisposals: number | undefined): void {
    recordSavepointState({ target: this.target, lastGoodSavepointAt, pendingDisposals, scheduleIntervalMs: this.request.scheduleInterval });
  }

  /** A skip is not a failure: the reason goes to the result (Temporal UI), the job's record and an event. */
  private async skip(reason: string, job?: Pick<SavepointPlan, 'cluster' | 'kind' | 'jobName' | 'jobId' | 'jobKey'>): Promise<SavepointResult> {
    this.step('done', `skipped: ${reason}`);
    recordSavepointRun({ outcome: 'skipped', trigger: this.request.trigger, target: this.target });
    if (job) await this.note(this.identity(job), 'skipped', reason, 'Normal', 'SavepointSkipped');
    return { outcome: 'skipped', message: `skipped: ${reason}`, disposed: [], disposalFailures: [], kept: [] };
  }

  private async note(identity: RecordIdentity, outcome: string, message: string, type: 'Normal' | 'Warning', reason: string): Promise<void> {
    await withSummary('noteSavepointRun', QUICK, `note: ${outcome}`, {
      identity,
      entry: { at: new Date().toISOString(), workflowId: this.workflowId, operation: `savepoint (${this.request.trigger})`, outcome, jobId: identity.jobId, message },
      event: { cluster: this.request.cluster, type, reason, action: 'Savepoint', note: `${message} (${this.workflowId})` },
    });
  }

  private identity(plan: Pick<SavepointPlan, 'cluster' | 'kind' | 'jobKey' | 'jobName' | 'jobId'>): RecordIdentity {
    return { cluster: plan.cluster, kind: plan.kind, jobKey: plan.jobKey, jobName: plan.jobName, jobId: plan.jobId };
  }

  private step(step: string, message: string): void {
    reportStep(this.progress, 'savepoint', step, message);
  }
}
