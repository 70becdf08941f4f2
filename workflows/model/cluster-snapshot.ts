import type { ConfigFileKey } from '../cluster-upgrade/config';
import type { JobRecord } from './record';
import type { JobSnapshot, LockHolder } from './snapshot';
import type { ClusterRef, TargetKind } from './target';

/** A Deployment of the cluster: its replicas and the containers that run Flink. */
export interface ClusterDeployment {
  deployment: string;
  replicas: number;
  /** Containers that run the cluster's Flink image (they get the new one). */
  flinkContainers: string[];
}

/** Where the cluster's configuration lives: a ConfigMap mounted as the Flink configuration directory. */
export interface ClusterConfigSource {
  configMap: string;
  /** The pod volume that mounts it (the same name on the JobManager and TaskManager Deployments). */
  volume: string;
  file: ConfigFileKey;
  /** Flat `key -> value` options (nested config.yaml flattened with dots). */
  options: Record<string, string>;
}

/** The image and configuration a session cluster runs with: what a roll puts on its Deployments. */
export interface ClusterSpec {
  image: string;
  /** The Flink version that image runs, as far as known (the roll waits for the JobManager to report it). */
  flinkVersion?: string;
  /** The ConfigMap mounted as the configuration directory; `write` when flinkops creates it for this spec. */
  config?: {
    configMap: string;
    volume: string;
    /** The configuration file flinkops writes; the ConfigMap's other files (log4j, ...) are copied from `copyFrom`. */
    write?: { file: ConfigFileKey; options: Record<string, string>; copyFrom?: string };
  };
}

/** One job on the cluster, with flinkops' record of it. */
export interface ClusterJob {
  job: JobSnapshot;
  record?: JobRecord;
  /** A flinkops operation that holds this job now. */
  lockHolder?: LockHolder;
}

/** Everything the cluster upgrade's plan is decided from: read-only. */
export interface ClusterSnapshot {
  cluster: ClusterRef;
  /** Why the cluster cannot be upgraded as a whole at all (not found, not a session cluster): a real answer. */
  problem?: string;
  refusals?: { field: string; problem: string }[];
  kind?: TargetKind;
  restUrl?: string;
  flinkVersion?: string;
  jobManager?: ClusterDeployment;
  taskManagers: ClusterDeployment[];
  /** The image the Flink containers run now. */
  image?: string;
  config?: ClusterConfigSource;
  /** Why the configuration could not be read from a ConfigMap (then it cannot be changed or translated). */
  configProblem?: string;
  clusterConfig: { savepointDir?: string; checkpointDir?: string };
  allowedSavepointPrefixes: string[];
  taskSlots?: { total: number; available: number; taskManagers: number };
  /** Every job that is not finished, cancelled or failed. */
  jobs: ClusterJob[];
  /** The jars of --jobs the worker may not read, by job name. */
  jarProblems?: Record<string, string>;
  recordProblem?: string;
  /** A flinkops operation that holds the cluster or any of its jobs. */
  lockHolder?: LockHolder;
}
