import type { TargetKind, VersionSpec } from '../../workflows/model/target';

/** Where the new job starts from. */
export interface RestoreSpec {
  /** Savepoint or retained checkpoint; absent starts without state. */
  path?: string;
  allowNonRestoredState: boolean;
}

export interface DeployRequest {
  version: VersionSpec;
  /** Whatever `prepare` returned for this version: work done before the job was stopped. */
  prepared?: PreparedVersion;
  restore: RestoreSpec;
  /** The id the new job gets: fixed per workflow step, so a retried deployment finds its own job. */
  jobId: string;
  timeoutMs: number;
  /** Reports progress and lets Temporal notice a dead worker. */
  heartbeat: (progress: string) => void;
}

/**
 * One kind of Flink deployment (a job on a session cluster, an application-mode Deployment; later the Flink
 * Operator's FlinkDeployment/FlinkSessionJob). Workflows never branch on the kind: activities pick the adapter.
 */
export interface TargetAdapter {
  readonly kind: TargetKind;
  /** The version running now as the cluster itself tells it, if it can (application clusters can). */
  currentVersion(): VersionSpec | undefined;
  /**
   * Work that can happen while the old job still runs (uploading a jar), so the job is down for less time.
   * Optional: deploy works without it.
   */
  prepare(version: VersionSpec): Promise<PreparedVersion>;
  /** Undoes `prepare` when the version is not deployed after all. */
  discard(prepared: PreparedVersion): Promise<void>;
  /** Deploys `version`; idempotent for the same request. Resolves when the job has been handed to Flink. */
  deploy(request: DeployRequest): Promise<void>;
}

export interface PreparedVersion {
  /** A jar already uploaded to the session cluster. */
  jarId?: string;
}
