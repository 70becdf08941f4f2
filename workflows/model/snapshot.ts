import type { LockScopeRef } from './locks';
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
  /** The worker's configured savepoint prefixes (empty: the cluster's own directories). */
  allowedSavepointPrefixes?: string[];
  /** Why the cluster could not be observed at all (no such Deployment): a real answer, so a refusal. */
  problem?: string;
  /** Inputs the worker's policy refuses, by field (--rest-url, --jar): nothing is read or sent for them. */
  refusals?: { field: string; problem: string }[];
  kind?: TargetKind;
  /** What a new version of this target is: a jar (session jobs) or an image (application clusters). */
  versionKind?: VersionSpec['kind'];
  restUrl?: string;
  flinkVersion?: string;
  clusterConfig: {
    savepointDir?: string;
    checkpointDir?: string;
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
  /** Why flinkops' record of the job cannot be used (it fails its schema). */
  recordProblem?: string;
  /** Why the worker may not use the requested jar (outside the allowed directories, not a jar, not found). */
  jarProblem?: string;
  /** A flinkops operation that holds this job or cluster now. */
  lockHolder?: LockHolder;
  /** Who disposes of this target's savepoints: flinkops' retention, or the Flink Kubernetes Operator. */
  savepointOwner?: 'flinkops' | 'operator';
  /** What an operation on the job locks: the job, or the whole cluster. */
  lockScope?: LockScopeRef;
  /** The kind's own upgrade checks and warnings (the kind knows what its deployments need). */
  kindChecks?: { name: string; ok: boolean; detail: string }[];
  kindWarnings?: string[];
  /** The plan's deploy step for this kind, with {version} and {restore} placeholders. */
  deployStep?: string;
}

export interface LockHolder {
  workflowId: string;
  operation: string;
  since: string;
}
