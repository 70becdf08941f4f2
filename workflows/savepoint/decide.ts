import { formatDuration } from '../model/durations';
import type { LockScopeRef } from '../model/locks';
import { checkLocation, effectiveSavepointPrefixes, sameLocation } from '../model/locations';
import type { JobRecord, SavepointEntry } from '../model/record';
import type { TargetSnapshot } from '../model/snapshot';
import { jobKeyFor, type ClusterRef, type TargetKind } from '../model/target';
import { activeBlackout } from './blackout';
import type { Retention, SavepointRequest } from './request';

export interface SavepointPlan {
  /** As flinkops keys it (records, locks): the JobManager Deployment. */
  cluster: ClusterRef;
  kind: TargetKind;
  jobId: string;
  jobName: string;
  jobKey: string;
  /** What the run holds while the savepoint is taken: the job, or the whole cluster. */
  lockScope: LockScopeRef;
  savepointDir: string;
  /** Why retention disposes of nothing on this target, when it does not (the operator manages its savepoints). */
  retentionOff?: string;
}

/** A savepoint run takes one, skips with a reason (nothing wrong, nothing done), or fails with a reason. */
export type SavepointPreflight =
  | { kind: 'take'; plan: SavepointPlan }
  | { kind: 'skip'; reason: string }
  | { kind: 'fail'; reason: string };

export function decideSavepointPreflight(snapshot: TargetSnapshot, request: SavepointRequest, allowedPrefixes: readonly string[], now: Date): SavepointPreflight {
  const cluster = `${request.cluster.namespace}/${request.cluster.name}`;
  const refusal = snapshot.refusals?.[0];
  if (refusal) return { kind: 'fail', reason: `${refusal.field}: ${refusal.problem}` };
  const blackout = activeBlackout(now, request.blackouts, request.timeZone);
  if (blackout) return { kind: 'skip', reason: `inside the blackout window "${blackout.text}" (${request.timeZone})` };
  if (snapshot.problem || !snapshot.kind) return { kind: 'fail', reason: snapshot.problem ?? `cluster ${cluster} could not be observed` };
  const job = snapshot.job;
  if (!job) return { kind: 'fail', reason: snapshot.jobProblem ?? `no job found on ${cluster}` };
  if (job.state !== 'RUNNING') return { kind: 'skip', reason: `job ${job.id} (${job.name}) is ${job.state}, not RUNNING: no savepoint taken` };
  if (snapshot.lockHolder) {
    return { kind: 'skip', reason: `another flinkops operation holds the job: ${snapshot.lockHolder.operation} ${snapshot.lockHolder.workflowId}; this run is skipped, the next one will try again` };
  }
  if (!snapshot.record && snapshot.recordProblem) return { kind: 'fail', reason: snapshot.recordProblem };
  const requested = request.savepointDir ?? snapshot.clusterConfig.savepointDir;
  const field = request.savepointDir !== undefined ? '--savepoint-dir' : 'execution.checkpointing.savepoint-dir';
  if (!requested) return { kind: 'fail', reason: 'no savepoint directory: pass --savepoint-dir or set execution.checkpointing.savepoint-dir on the cluster' };
  const location = checkLocation(requested, effectiveSavepointPrefixes(allowedPrefixes, snapshot.clusterConfig));
  if (!location.ok) return { kind: 'fail', reason: `${field}: ${location.problem}` };
  const jobKey = snapshot.record?.jobKey ?? jobKeyFor(job.name);
  return {
    kind: 'take',
    plan: {
      cluster: snapshot.cluster,
      kind: snapshot.kind,
      jobId: job.id,
      jobName: job.name,
      jobKey,
      lockScope: snapshot.lockScope ?? { cluster: snapshot.cluster, jobKey },
      savepointDir: location.location,
      ...(snapshot.savepointOwner === 'operator' && !request.disposeOperatorSavepoints
        ? { retentionOff: 'the Flink Kubernetes Operator manages these savepoints (its savepoint history settings); flinkops disposes of none unless told (--dispose-operator-savepoints)' }
        : {}),
    },
  };
}

export interface RetentionDecision {
  keep: SavepointEntry[];
  dispose: { entry: SavepointEntry; reason: string }[];
  /** Why each kept savepoint that retention alone would have disposed of is kept. */
  protectedReasons: string[];
}

/**
 * Which recorded savepoints go. A savepoint is disposed of when it is neither among the newest `keepLast` nor
 * younger than `maxAge` (either rule alone when only one is set); never the newest one, never one an upgrade or
 * rollback restored from. Without any rule nothing is disposed of.
 */
export function decideRetention(record: JobRecord, retention: Retention, nowMs: number): RetentionDecision {
  const sorted = [...record.savepoints].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  const decision: RetentionDecision = { keep: [], dispose: [], protectedReasons: [] };
  if (retention.keepLast === undefined && retention.maxAge === undefined) return { ...decision, keep: sorted };
  sorted.forEach((entry, index) => {
    const ageMs = nowMs - Date.parse(entry.at);
    const withinCount = retention.keepLast !== undefined && index < retention.keepLast;
    const young = retention.maxAge !== undefined && ageMs < retention.maxAge;
    if (withinCount || young) {
      decision.keep.push(entry);
      return;
    }
    if (index === 0) {
      decision.keep.push(entry);
      decision.protectedReasons.push(`${entry.path} is the newest savepoint`);
      return;
    }
    const restorePoint = record.restorePoints.find((p) => sameLocation(p.path, entry.path));
    if (restorePoint) {
      decision.keep.push(entry);
      decision.protectedReasons.push(`${entry.path} is the restore point of ${restorePoint.operation} ${restorePoint.workflowId}`);
      return;
    }
    const rules = [
      retention.keepLast !== undefined ? `not among the newest ${retention.keepLast}` : undefined,
      retention.maxAge !== undefined ? `${formatDuration(ageMs)} old, older than ${formatDuration(retention.maxAge)}` : undefined,
    ].filter(Boolean);
    decision.dispose.push({ entry, reason: rules.join(' and ') });
  });
  return decision;
}
