import type { ClusterRef } from '../workflows/model/target';
import type { StopOutcome } from '../workflows/upgrade/decide';
import { requireTarget, type ActivityContext } from './context';
import { requireAllowedLocation } from './locations';
import type { RetireOutcome, SavepointOperation } from './targets/seam';

export interface SavepointRequest extends SavepointOperation {
  cluster: ClusterRef;
  restUrl?: string;
}

/** Savepoints, stops and cancellations through the target's seam, each polled inside one heartbeating activity. */
export function createJobControlActivities(ctx: ActivityContext) {
  return {
    /** stop-with-savepoint (no drain). Never throws for a failed or slow savepoint: the workflow decides. */
    async stopJobWithSavepoint(request: SavepointRequest): Promise<StopOutcome> {
      const target = await requireTarget(ctx, request.cluster, request.restUrl);
      const targetDirectory = await requireAllowedLocation(ctx, target, request.targetDirectory, '--savepoint-dir');
      return target.stopWithSavepoint({ ...request, targetDirectory });
    },

    /** A savepoint of a running job, which keeps running. */
    async triggerSavepoint(request: SavepointRequest): Promise<StopOutcome> {
      const target = await requireTarget(ctx, request.cluster, request.restUrl);
      const targetDirectory = await requireAllowedLocation(ctx, target, request.targetDirectory, '--savepoint-dir');
      return target.triggerSavepoint({ ...request, targetDirectory });
    },

    /** Cancels the job (no savepoint) and waits until Flink reports it terminal. */
    async cancelJob(request: { cluster: ClusterRef; restUrl?: string; jobId: string; timeoutMs: number }): Promise<void> {
      await (await requireTarget(ctx, request.cluster, request.restUrl)).cancel(request.jobId, request.timeoutMs);
    },

    /** Makes sure a deployed job is gone before another version starts from the same savepoint. */
    async retireDeployment(request: { cluster: ClusterRef; restUrl?: string; jobId: string; timeoutMs: number }): Promise<RetireOutcome> {
      return (await requireTarget(ctx, request.cluster, request.restUrl)).retire(request.jobId, request.timeoutMs);
    },
  };
}
