import type { WorkerSettings } from '../../config/worker';
import type { LockScopeRef } from '../../workflows/model/locks';
import type { JobSnapshot } from '../../workflows/model/snapshot';
import type { ClusterRef, TargetKind, VersionSpec } from '../../workflows/model/target';
import type { PreflightCheck, StopOutcome } from '../../workflows/upgrade/decide';
import type { FailpointName } from '../failpoints';
import type { FlinkRestClient } from '../flink/rest-client';
import type { FlinkClientFactory } from '../flink/transport';
import type { KubeClients } from '../kube/clients';
import { checkRestUrl } from '../policy';
import { applicationTarget } from './application/target';
import { serviceRestUrl } from './endpoint';
import { resolveCluster, type ResolvedCluster } from './resolve';
import { sessionJobTarget } from './session-job/target';

/**
 * The one seam between flinkops' workflows and the kinds of Flink deployment it operates (a job on a session
 * cluster, an application-mode Deployment, ...): every side effect an operation has on a target goes through a
 * FlinkTarget, and one factory per kind builds it. Workflows and activities never ask which kind they have.
 */
export interface FlinkTarget {
  readonly kind: TargetKind;
  readonly cluster: ResolvedCluster;
  /** The REST endpoint flinkops reads the cluster through. */
  readonly restUrl: string;
  readonly flink: FlinkRestClient;

  // Observe
  /** The version running now as the cluster itself tells it, if it can (an application's Deployment can). */
  currentVersion(): VersionSpec | undefined;
  /** Which kind of version this target deploys: a jar (session jobs) or an image (application clusters). */
  readonly versionKind: VersionSpec['kind'];
  /** What the target serializes on: one job of a session cluster, or the whole cluster. */
  lockScope(jobKey: string): LockScopeRef;
  /** Whether the target runs one job only (no --job needed). */
  readonly singleJob: boolean;
  /** The kind's own preflight checks of an upgrade, from what was observed (pure; failed ones refuse). */
  upgradeChecks(facts: UpgradeFacts): { checks: PreflightCheck[]; warnings: string[] };
  /** The plan's deploy step, with {version} and {restore} placeholders. */
  describeDeploy(timeout: string): string;
  /** The cluster's own savepoint and checkpoint directories, as it is configured now. */
  storageDirectories(): Promise<{ savepointDir?: string; checkpointDir?: string }>;
  /** What verification needs to know about one job right now; throws when it cannot be read (unknown, not a verdict). */
  jobFacts(jobId: string): Promise<JobSnapshot>;

  // Act
  stopWithSavepoint(operation: SavepointOperation): Promise<StopOutcome>;
  triggerSavepoint(operation: SavepointOperation): Promise<StopOutcome>;
  /** Cancels the job without a savepoint and waits until it is terminal. */
  cancel(jobId: string, timeoutMs: number): Promise<void>;
  /** Work that can happen while the old job still runs (uploading a jar), so the job is down for less time. */
  prepare(version: VersionSpec): Promise<PreparedVersion>;
  /** Undoes `prepare` when the version is not deployed after all. */
  discard(prepared: PreparedVersion): Promise<void>;
  /** Deploys `version`; idempotent for the same request (same job id). Resolves when Flink has the job. */
  deploy(request: DeployRequest): Promise<void>;
  /**
   * Makes sure the job `jobId` is gone (cancelled and confirmed terminal, or its JobManager gone) before another
   * version is brought back from the same savepoint: two jobs must never run from one savepoint.
   */
  retire(jobId: string, timeoutMs: number): Promise<RetireOutcome>;
}

/** What an upgrade preflight tells the kind about the cluster and the request. */
export interface UpgradeFacts {
  config: { shutdownOnApplicationFinish?: boolean };
  mode: 'savepoint' | 'last-state' | 'stateless';
}

export interface SavepointOperation {
  jobId: string;
  /** Fixed by the workflow: a retried activity asks about the same operation instead of starting another. */
  triggerId: string;
  targetDirectory: string;
  timeoutMs: number;
}

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

export interface PreparedVersion {
  /** A jar already uploaded to the session cluster. */
  jarId?: string;
}

export type RetireOutcome = { gone: true; detail: string } | { gone: false; detail: string };

/** What a kind's factory gets: the worker's clients and settings, and the cluster as found in Kubernetes. */
export interface TargetDeps {
  settings: WorkerSettings;
  kube: KubeClients;
  flinkClient: FlinkClientFactory;
  failpoints: Partial<Record<FailpointName, number>>;
}

export interface TargetEndpoint {
  restUrl: string;
  flink: FlinkRestClient;
}

export type TargetFactory = (deps: TargetDeps, cluster: ResolvedCluster, endpoint: TargetEndpoint) => FlinkTarget;

export interface TargetRef {
  cluster: ClusterRef;
  restUrl?: string;
}

/** One factory per kind: the only place that knows which class serves which kind. */
export const TARGET_FACTORIES: Record<TargetKind, TargetFactory> = {
  'session-job': sessionJobTarget,
  application: applicationTarget,
};

/**
 * Finds the target in Kubernetes and its REST endpoint: the cluster's own Service, or a user's --rest-url when the
 * worker's policy allows it (a refused override throws PolicyRefusal). `problem` says why there is no such target.
 */
export async function openTarget(deps: TargetDeps, ref: TargetRef): Promise<FlinkTarget | { problem: string }> {
  const override = ref.restUrl === undefined ? undefined : await checkRestUrl(ref.restUrl, deps.settings.flink.restUrlOverride);
  const cluster = await resolveCluster(deps.kube, ref.cluster);
  if ('problem' in cluster) return cluster;
  const restUrl = override ?? serviceRestUrl(cluster.restService, cluster.restPort, deps.settings.flink);
  const flink = deps.flinkClient(restUrl, override ? 'override' : 'service');
  return TARGET_FACTORIES[cluster.kind](deps, cluster, { restUrl, flink });
}
