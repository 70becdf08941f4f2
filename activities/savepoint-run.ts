import type { LockScopeRef } from '../workflows/model/locks';
import type { HistoryEntry, JobRecord, SavepointEntry } from '../workflows/model/record';
import type { LockHolder } from '../workflows/model/snapshot';
import type { ClusterRef } from '../workflows/model/target';
import { completedRunMessage } from '../workflows/savepoint/messages';
import { operationLocks, requireTarget, type ActivityContext } from './context';
import { requireAllowedLocation } from './locations';
import { emitClusterEvent, recordOutcome, type ClusterEvent, type RecordIdentity } from './records';
import { disposeSavepoints, recordDisposals, recordSavepoint, type DisposalResult } from './savepoints';
import type { SavepointOperation } from './targets/seam';

export interface TakeSavepointRequest {
  cluster: ClusterRef;
  restUrl?: string;
  lock: { scope: LockScopeRef; workflowId: string };
  identity: RecordIdentity;
  operation: SavepointOperation;
  /** The record entry of the savepoint, once it completed (path and size are filled in). */
  entry: Omit<SavepointEntry, 'path' | 'at' | 'durationMs' | 'sizeBytes'>;
}

export type TakeSavepointResult =
  | { status: 'locked'; holder: LockHolder }
  | { status: 'failed' | 'timed-out'; reason: string }
  | { status: 'completed'; entry: SavepointEntry; record: JobRecord };

export interface FinishSavepointRunRequest {
  cluster: ClusterRef;
  restUrl?: string;
  identity: RecordIdentity;
  entry: SavepointEntry;
  durationMs: number;
  /** What retention decided to dispose of, and how many savepoints it keeps. */
  dispose: string[];
  kept: number;
  historyEntry: Omit<HistoryEntry, 'message'>;
  event: Omit<ClusterEvent, 'note' | 'type' | 'reason'>;
}

export interface NoteRequest {
  identity: RecordIdentity;
  entry: HistoryEntry;
  event: ClusterEvent;
}

/**
 * A savepoint run in few, full activities (small histories): one takes the savepoint under the job's lock and
 * records it, one applies retention and writes the outcome. Each is idempotent, so a retry repeats nothing: the
 * lock is taken again by the same workflow, the trigger id is the same operation, the record keeps one entry per path.
 */
export function createSavepointRunActivities(ctx: ActivityContext) {
  return {
    async takeSavepoint(request: TakeSavepointRequest): Promise<TakeSavepointResult> {
      const locks = operationLocks(ctx);
      const lock = await locks.acquire({ ...request.lock, operation: 'savepoint' });
      if (!lock.acquired) return { status: 'locked', holder: lock.holder };
      try {
        const target = await requireTarget(ctx, request.cluster, request.restUrl);
        const targetDirectory = await requireAllowedLocation(ctx, target, request.operation.targetDirectory, '--savepoint-dir');
        const outcome = await target.triggerSavepoint({ ...request.operation, targetDirectory });
        if (outcome.status !== 'completed') return { status: outcome.status, reason: outcome.reason };
        const { record, entry } = await recordSavepoint(ctx, request.identity, { ...request.entry, path: outcome.location, at: new Date().toISOString(), durationMs: outcome.durationMs });
        return { status: 'completed', entry, record };
      } finally {
        await locks.release(request.lock);
      }
    },

    /** Retention's disposals, then the run's outcome in the job's record and a Kubernetes event. */
    async finishSavepointRun(request: FinishSavepointRunRequest): Promise<DisposalResult> {
      let disposals: DisposalResult = { disposed: [], failed: [] };
      if (request.dispose.length > 0) {
        disposals = await disposeSavepoints(ctx, await requireTarget(ctx, request.cluster, request.restUrl), request.dispose);
        await recordDisposals(ctx, request.identity, disposals);
      }
      const message = completedRunMessage(request.entry, request.durationMs, disposals, request.kept);
      const failed = disposals.failed.length > 0;
      await recordOutcome(ctx, { identity: request.identity, entry: { ...request.historyEntry, message } });
      await emitClusterEvent(ctx, {
        ...request.event,
        type: failed ? 'Warning' : 'Normal',
        reason: failed ? 'SavepointDisposalFailed' : 'SavepointCompleted',
        note: `${message} (${request.historyEntry.workflowId})`,
      });
      return disposals;
    },

    /** A run that did not take a savepoint (skipped, failed): its reason in the job's record and an event. */
    async noteSavepointRun(request: NoteRequest): Promise<void> {
      await recordOutcome(ctx, { identity: request.identity, entry: request.entry });
      await emitClusterEvent(ctx, request.event);
    },
  };
}
