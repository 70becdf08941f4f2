import type { LockScopeRef } from '../workflows/model/locks';
import { operationLocks, type ActivityContext } from './context';
import type { LockResult } from './locks/operation-lock';

/** Taking and releasing the per-job / per-cluster operation lock (a Kubernetes Lease). */
export function createLockActivities(ctx: ActivityContext) {
  return {
    async acquireOperationLock(request: { scope: LockScopeRef; workflowId: string; operation: string }): Promise<LockResult> {
      return operationLocks(ctx).acquire(request);
    },
    async releaseOperationLock(request: { scope: LockScopeRef; workflowId: string }): Promise<void> {
      await operationLocks(ctx).release(request);
    },
  };
}
