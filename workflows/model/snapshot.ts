import type { ClusterRef, TargetKind, VersionSpec } from './target';
import type { JobRecord } from './record';

/** Flink job states, as the REST API reports them. */
export type FlinkJobState =
  | 'INITIALIZING'
  | 'CREATED'
  | 'RUNNING'
  | 'FAILING'
  | 'FAILED'
  | 'CANCELLING'
  | 'CANCELED'
  | 'FINISHED'
  | 'RESTARTING'
  | 'SUSPENDED'
  | 'RECONCILING';

export interface JobSnapshot {
  id: string;
  name: string;
  state: FlinkJobState;
  startTime: number;
  tasks: { total: number; running: number };
  /** Undefined when checkpointing is off for the job. */
  checkpointing?: { intervalMs: number; timeoutMs: number; retainedOnCancellation: boolean };
  latestCheckpoint?: { id: number; path: string; completedAt: number };
  restoredFrom?: { path: string; isSavepoint: boolean; restoredAt: number; checkpointId: number };
  completedCheckpoints: number;
  numRestarts?: number;
}

export interface ContainerSnapshot {
  deployment: string;
  container: string;
  image: string;
  args: string[];
}

/** Everything the preflight decides on: read-only observation of one cluster (and one job on it). */
export interface TargetSnapshot {
  /** The cluster as flinkops keys it (its JobManager Deployment) once found; until then, as it was asked for. */
  cluster: ClusterRef;
  observedAt: number;
  /** Why the cluster could not be observed at all (no such Deployment, REST unreachable). */
  problem?: string;
  kind?: TargetKind;
  restUrl?: string;
  flinkVersion?: string;
  clusterConfig: {
    savepointDir?: string;
    highAvailability?: string;
    shutdownOnApplicationFinish?: boolean;
  };
  jobManager?: ContainerSnapshot & { replicas: number; strategy: string };
  taskManagers: ContainerSnapshot[];
  /** The job the request is about; `jobProblem` says why there is none. */
  job?: JobSnapshot;
  jobProblem?: string;
  /** The version running now, as flinkops knows it (application: from the Deployment; session: from its record). */
  currentVersion?: VersionSpec;
  record?: JobRecord;
  /** Whether the worker can read the jar of the requested version (session jobs). */
  jarReadable?: boolean;
  /** A flinkops operation that holds this job or cluster now. */
  lockHolder?: LockHolder;
}

export interface LockHolder {
  workflowId: string;
  operation: string;
  since: string;
}
