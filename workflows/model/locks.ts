import type { ClusterRef, TargetKind } from './target';

/** What an operation serializes on: one job of a session cluster, or a whole (application) cluster. */
export interface LockScopeRef {
  cluster: ClusterRef;
  jobKey?: string;
}

export function lockScopeFor(kind: TargetKind, cluster: ClusterRef, jobKey: string): LockScopeRef {
  return kind === 'session-job' ? { cluster, jobKey } : { cluster };
}
