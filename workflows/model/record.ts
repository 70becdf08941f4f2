import type { TargetKind, VersionSpec } from './target';

/**
 * What flinkops remembers about one job, kept in a ConfigMap next to the cluster so people (kubectl), the next
 * operation and retention can find it.
 */
export interface SavepointEntry {
  path: string;
  /** ISO time the savepoint completed. */
  at: string;
  jobId: string;
  trigger: 'upgrade' | 'schedule' | 'manual' | 'remediation';
  workflowId: string;
  durationMs?: number;
  sizeBytes?: number;
}

export interface RestorePoint {
  path: string;
  at: string;
  workflowId: string;
  operation: 'upgrade' | 'rollback' | 'remediation';
}

export interface HistoryEntry {
  at: string;
  workflowId: string;
  operation: string;
  outcome: string;
  from?: VersionSpec;
  to?: VersionSpec;
  savepoint?: string;
  jobId?: string;
  message?: string;
}

export interface JobRecord {
  cluster: string;
  kind: TargetKind;
  jobKey: string;
  jobName: string;
  currentJobId: string;
  currentVersion?: VersionSpec;
  /**
   * Whether remediation brings the job back when a JobManager loses it (absent: yes). `flinkops register --forget`
   * turns it off for a job that was stopped on purpose.
   */
  expectRunning?: boolean;
  lastGoodSavepoint?: SavepointEntry;
  /** Savepoints an upgrade or rollback restored from: never disposed of by retention. */
  restorePoints: RestorePoint[];
  /** Savepoints taken by flinkops, newest last. */
  savepoints: SavepointEntry[];
  /** Disposals that failed and are retried on the next retention run. */
  pendingDisposals: { path: string; error: string; attempts: number }[];
  history: HistoryEntry[];
}

export const HISTORY_LIMIT = 50;

export function emptyRecord(fields: Pick<JobRecord, 'cluster' | 'kind' | 'jobKey' | 'jobName' | 'currentJobId'>): JobRecord {
  return { ...fields, restorePoints: [], savepoints: [], pendingDisposals: [], history: [] };
}
