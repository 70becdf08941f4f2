import type { FlinkJobState, LockHolder } from './snapshot';
import type { ZooKeeperHaSnapshot } from './zookeeper';
import type { ClusterRef, JarVersion, TargetKind } from './target';

/**
 * Read-only observation of one Flink cluster's JobManager side, as the remediation workflow decides on it: the
 * JobManager Deployment and its pods, the high-availability setup, the REST API behind the Service, the jobs
 * flinkops knows should run and what flinkops remembers of earlier remediations.
 */
export interface ClusterHealthSnapshot {
  /** The cluster as flinkops keys it (its JobManager Deployment) once found; until then, as it was asked for. */
  cluster: ClusterRef;
  observedAt: number;
  /** Why the cluster could not be observed at all (no JobManager Deployment, no Service). */
  problem?: string;
  kind?: TargetKind;
  jobManager?: JobManagerDeploymentSnapshot;
  pods: JobManagerPodSnapshot[];
  /** TaskManager replicas the cluster's TaskManager Deployments ask for. */
  taskManagerReplicas: number;
  /**
   * The TaskManager side of a session cluster: its pods as Kubernetes has them, and (when a job flinkops knows is
   * missing from the JobManager) the TaskManagers registered with the JobManager and the jobs their slots hold.
   * Absent when not observed (light observations, older workers).
   */
  taskManagers?: TaskManagerSide;
  /**
   * Without HA, while the Service does not route to the JobManager yet (its pod not ready): the one live JobManager
   * pod asked on its own address (read-only), when it answered. What a lost job's TaskManagers are decided on before
   * the JobManager is ready (its TaskManagers take longer to start than it takes to become ready).
   */
  podAnswer?: PodAnswer;
  ha: HighAvailabilitySnapshot;
  rest: RestSnapshot;
  /** Where the cluster keeps checkpoints and savepoints (from REST when reachable, else from Kubernetes). */
  checkpointDir?: string;
  savepointDir?: string;
  /** Jobs flinkops knows should be running, with what it needs to bring each back. */
  knownJobs: KnownJob[];
  memory: RemediationMemory;
  /** Another flinkops operation holding this cluster or one of its jobs. */
  lockHolder?: LockHolder;
  /** The Flink Kubernetes Operator manages this cluster (its FlinkDeployment), and what it reports. */
  operator?: OperatorManaged;
}

export interface OperatorManaged {
  /** The FlinkDeployment that owns the JobManager Deployment. */
  deployment: string;
  lifecycleState?: string;
  jobManagerDeploymentStatus?: string;
  reconciliationState?: string;
  jobState?: string;
  error?: string;
  /** The spec generation, and the one the operator last reconciled. */
  generation?: number;
  reconciledGeneration?: number;
}

export interface TaskManagerSide {
  /** Pods of the cluster's TaskManager Deployments. */
  pods: TaskManagerPodSnapshot[];
  /**
   * TaskManagers registered with the JobManager that reported their slots, with the jobs their allocated slots belong
   * to; undefined when not read (no job missing, or the REST API did not answer).
   */
  registered?: { id: string; jobIds: string[] }[];
}

export interface PodAnswer {
  pod: string;
  /** The jobs that JobManager knows (any state). */
  jobs: { id: string; name: string; state: FlinkJobState }[];
  /** The TaskManagers registered with it, with the jobs their allocated slots belong to. */
  registered: { id: string; jobIds: string[] }[];
}

export interface TaskManagerPodSnapshot {
  name: string;
  uid: string;
  ready: boolean;
  /** Being deleted (deletionTimestamp set). */
  terminating: boolean;
}

export interface JobManagerDeploymentSnapshot {
  name: string;
  /** spec.replicas */
  replicas: number;
  readyReplicas: number;
  image: string;
}

export interface JobManagerPodSnapshot {
  name: string;
  uid: string;
  phase: string;
  ready: boolean;
  /** Being deleted (deletionTimestamp set). */
  terminating: boolean;
  createdAt: number;
  restartCount: number;
  /** The container's waiting reason (CrashLoopBackOff, ImagePullBackOff, ContainerCreating...). */
  waitingReason?: string;
  waitingMessage?: string;
  lastTermination?: { reason?: string; exitCode?: number; finishedAt?: number };
  /**
   * The jobs this JobManager runs, asked of the pod itself (several JobManagers without HA each run their own);
   * undefined when not asked, with `inventoryError` when asking failed.
   */
  jobs?: { id: string; name: string; state: FlinkJobState }[];
  inventoryError?: string;
}

export type HighAvailabilityMode = 'none' | 'kubernetes' | 'zookeeper' | 'other';

export interface HighAvailabilitySnapshot {
  mode: HighAvailabilityMode;
  /** The configured value, as written (`kubernetes`, a factory class, ...). */
  configured?: string;
  /** Where the setting was read: the running JobManager (REST) or the cluster's configuration in Kubernetes. */
  source: 'rest' | 'kubernetes' | 'default';
  clusterId?: string;
  /** Kubernetes HA: the leader ConfigMap `<cluster-id>-cluster-config-map` and its leader annotation. */
  leader?: LeaderSnapshot;
  /** The lease duration Flink's leader election uses (high-availability.kubernetes.leader-election.lease-duration). */
  leaseDurationMs?: number;
  /** ZooKeeper HA (./zookeeper.ts), or why its configuration names no usable quorum. */
  zookeeper?: ZooKeeperHaSnapshot | { problem: string };
}

export interface LeaderSnapshot {
  configMap: string;
  exists: boolean;
  holderIdentity?: string;
  renewTime?: number;
  /** The REST endpoint the leader published, when the ConfigMap has one. */
  restAddress?: string;
}

export interface RestSnapshot {
  url?: string;
  reachable: boolean;
  error?: string;
  flinkVersion?: string;
  taskManagers?: number;
  slotsTotal?: number;
  /**
   * Jobs the REST API answered with (every answer's jobs, when several JobManagers answered). Task counts of jobs
   * that are not finished; `tasksUnknown` when they could not be read (unknown, never "running").
   */
  jobs: { id: string; name: string; state: FlinkJobState; tasksRunning?: number; tasksTotal?: number; tasksUnknown?: boolean }[];
  /** With several JobManagers behind the Service: how many different job lists the answers had. */
  distinctAnswers?: number;
  answers?: number;
}

/** A job flinkops should see running: from its record (upgrades, savepoints, `flinkops register`). */
export interface KnownJob {
  jobKey: string;
  jobName: string;
  jobId: string;
  version?: JarVersion;
  /** Newest retained checkpoint of the job id on a file system the worker reads, and recorded savepoints. */
  restoreCandidates: RestoreCandidate[];
  /** Why checkpoints could not be looked for (not a local file system, no checkpoint directory). */
  checkpointProblem?: string;
}

export interface RestoreCandidate {
  path: string;
  source: 'checkpoint' | 'savepoint';
  /** When it completed (ms). */
  at: number;
  checkpointId?: number;
}

/**
 * What flinkops remembers of its remediations of a cluster (a ConfigMap, so it survives worker restarts). Runs are
 * told apart by run id: `flinkops remediate` reuses its workflow id.
 */
export interface RemediationMemory {
  /** Runs that acted (scaled, deleted a pod, resubmitted a job), newest last. */
  remediations: { at: number; workflowId: string; runId?: string }[];
  podDeletions: { at: number; pod: string; workflowId: string; runId?: string }[];
  /** TaskManager pods restarted so that they register with a new JobManager at once (absent in older memories). */
  taskManagerRestarts?: { at: number; pods: string[]; workflowId: string; runId?: string }[];
  lastEscalation?: { at: number; fingerprint: string; workflowId: string; runId?: string };
}

export function emptyMemory(): RemediationMemory {
  return { remediations: [], podDeletions: [] };
}
