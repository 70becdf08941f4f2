import type { WorkerSettings } from '../../config/worker';
import type { LockScopeRef } from '../../workflows/model/locks';
import type { V1Service } from '@kubernetes/client-node';
import type { ContainerSnapshot, JobSnapshot } from '../../workflows/model/snapshot';
import type { ClusterConfigSource, ClusterDeployment, ClusterSpec } from '../../workflows/model/cluster-snapshot';
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
import { sessionClusterTarget } from './session-cluster/target';
import { operatorTarget } from './operator/target';
import { resolveOperatorResource, type OperatorResource } from './operator/resolve';

/**
 * The one seam between flinkops' workflows and the kinds of Flink deployment it operates (a job on a session
 * cluster, an application-mode Deployment, ...): every side effect an operation has on a target goes through a
 * FlinkTarget, and one factory per kind builds it. Workflows and activities never ask which kind they have.
 */
export interface FlinkTarget {
  readonly kind: TargetKind;
  /** The name it was asked for, and the one records and locks are keyed by (a JobManager Deployment, an operator resource). */
  readonly ref: ClusterRef;
  readonly id: ClusterRef;
  /** The REST endpoint flinkops reads the cluster through. */
  readonly restUrl: string;
  readonly flink: FlinkRestClient;

  // Observe
  /** The Kubernetes Deployments that run it, as far as the kind knows them (for status and plans). */
  deployments(): { jobManager?: ContainerSnapshot & { replicas: number; strategy: string }; taskManagers: ContainerSnapshot[] };
  /** The version running now as the cluster itself tells it, if it can (an application's Deployment can). */
  currentVersion(): VersionSpec | undefined;
  /** Which kind of version this target deploys: a jar (session jobs) or an image (application clusters). */
  readonly versionKind: VersionSpec['kind'];
  /** What the target serializes on: one job of a session cluster, or the whole cluster. */
  lockScope(jobKey: string): LockScopeRef;
  /** Who keeps (and disposes of) the target's savepoints: flinkops, or the Flink Kubernetes Operator's own history. */
  readonly savepointOwner: 'flinkops' | 'operator';
  /** Whether the target runs one job only (no --job needed). */
  readonly singleJob: boolean;
  /**
   * The job the target stands for, when the kind itself records it (a FlinkSessionJob's status): chosen over --job,
   * which only picked the resource, and over the other jobs of the session cluster it runs on.
   */
  readonly ownJobId?: string;
  /**
   * The new version's jar is one this target may use (the worker's jar policy): throws PolicyRefusal naming --jar.
   * Returns what the target will read or hand on.
   */
  checkJar(jar: string): Promise<string>;
  /**
   * A new jar URI inside the image's version (an application FlinkDeployment's spec.job.jarURI): allowed by the
   * worker's policy, or PolicyRefusal naming --jar-uri. Kinds without one do not implement it (refused).
   */
  checkJarUri?(uri: string): Promise<string>;
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
  /**
   * Deploys `version`; idempotent for the same request (same job id). Resolves when Flink has the job, with the job's
   * id when Flink (or the operator) chose it rather than the request.
   */
  deploy(request: DeployRequest): Promise<void | { jobId: string }>;
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
  /** --savepoint-dir, when given. */
  savepointDir?: string;
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

/** What discovery found for each kind: a JobManager Deployment (and its Service), or an operator resource. */
interface Discovered {
  'session-job': ResolvedCluster;
  application: ResolvedCluster;
  'operator-session-job': OperatorResource;
  'operator-deployment': OperatorResource;
}

export interface TargetRef {
  cluster: ClusterRef;
  restUrl?: string;
  /** A job of a session FlinkDeployment (its FlinkSessionJob): the operator target is that resource. */
  job?: string;
}

/** One factory per kind: the only place that knows which class serves which kind. */
export const TARGET_FACTORIES: { [K in TargetKind]: (deps: TargetDeps, found: Discovered[K], endpoint: TargetEndpoint) => FlinkTarget } = {
  'session-job': sessionJobTarget,
  application: applicationTarget,
  'operator-session-job': operatorTarget,
  'operator-deployment': operatorTarget,
};

/**
 * A whole cluster whose image and configuration flinkops changes while carrying every job on it: a session cluster.
 * Its jobs are stopped, started and verified through the per-job FlinkTarget; this seam changes the cluster itself.
 */
export interface ClusterTarget {
  readonly id: ClusterRef;
  readonly restUrl: string;
  readonly flink: FlinkRestClient;
  /** The Deployments, the image and the configuration as they are now (`flinkVersion`: what the cluster runs). */
  describe(flinkVersion?: string): Promise<ClusterShape>;
  /** What can be written before any job stops (a new configuration); idempotent. */
  prepare(spec: ClusterSpec): Promise<void>;
  /** Undoes `prepare` for a spec that is not used after all (nothing runs with it). */
  discard(spec: ClusterSpec): Promise<void>;
  /**
   * Puts the spec on the cluster's Deployments and waits for Kubernetes' rollout and for the JobManager to answer with
   * every TaskManager registered; idempotent for the same spec.
   */
  roll(spec: ClusterSpec, timeoutMs: number, heartbeat: (progress: string) => void): Promise<RolledCluster>;
}

export interface ClusterShape {
  image: string;
  jobManager: ClusterDeployment;
  taskManagers: ClusterDeployment[];
  config?: ClusterConfigSource;
  configProblem?: string;
}

export interface RolledCluster {
  flinkVersion: string;
  taskManagers: number;
  slots: number;
  /** Jobs the JobManager runs right after the roll (it should run none: every job was stopped). */
  activeJobs: string[];
}

/** The kinds that are upgraded as a whole cluster, and why the others are not. */
export const CLUSTER_FACTORIES: Partial<{ [K in TargetKind]: (deps: TargetDeps, found: Discovered[K], endpoint: TargetEndpoint) => ClusterTarget }> = {
  'session-job': sessionClusterTarget,
};

const NOT_A_CLUSTER_UPGRADE: Record<TargetKind, string> = {
  'session-job': '',
  application: 'an application cluster runs one job from its image: upgrade it with `flinkops upgrade --image`',
  'operator-session-job': 'the Flink Kubernetes Operator owns this cluster: change its FlinkDeployment',
  'operator-deployment': 'the Flink Kubernetes Operator owns this cluster: change its FlinkDeployment',
};

/** The cluster as a whole, or why it cannot be changed as one (`problem`). */
export async function openClusterTarget(deps: TargetDeps, ref: TargetRef): Promise<ClusterTarget | { problem: string }> {
  const override = ref.restUrl === undefined ? undefined : await checkRestUrl(ref.restUrl, deps.settings.flink.restUrlOverride);
  const cluster = await resolveCluster(deps.kube, ref.cluster);
  const operator = await resolveOperatorResource(deps.kube, ref.cluster, undefined, 'problem' in cluster ? undefined : cluster.jobManager);
  if (operator) return { problem: NOT_A_CLUSTER_UPGRADE['problem' in operator ? 'operator-deployment' : operator.kind] };
  if ('problem' in cluster) return cluster;
  const factory = CLUSTER_FACTORIES[cluster.kind] as ((deps: TargetDeps, found: ResolvedCluster, endpoint: TargetEndpoint) => ClusterTarget) | undefined;
  if (!factory) return { problem: NOT_A_CLUSTER_UPGRADE[cluster.kind] };
  const restUrl = override ?? serviceRestUrl(cluster.restService, cluster.restPort, deps.settings.flink);
  return factory(deps, cluster, { restUrl, flink: deps.flinkClient(restUrl, override ? 'override' : 'service') });
}

/**
 * Finds the target in Kubernetes and its REST endpoint: the cluster's own Service, or a user's --rest-url when the
 * worker's policy allows it (a refused override throws PolicyRefusal). `problem` says why there is no such target.
 */
export async function openTarget(deps: TargetDeps, ref: TargetRef): Promise<FlinkTarget | { problem: string }> {
  const override = ref.restUrl === undefined ? undefined : await checkRestUrl(ref.restUrl, deps.settings.flink.restUrlOverride);
  const endpoint = (service: V1Service | undefined, port: number): TargetEndpoint | { problem: string } => {
    if (!override && !service) return { problem: `no REST Service for ${ref.cluster.namespace}/${ref.cluster.name}` };
    const restUrl = override ?? serviceRestUrl(service!, port, deps.settings.flink);
    return { restUrl, flink: deps.flinkClient(restUrl, override ? 'override' : 'service') };
  };
  const cluster = await resolveCluster(deps.kube, ref.cluster);
  const operator = await resolveOperatorResource(deps.kube, ref.cluster, ref.job, 'problem' in cluster ? undefined : cluster.jobManager);
  if (operator && 'problem' in operator) return operator;
  if (operator) {
    const port = operator.restService?.spec?.ports?.find((p) => p.name === 'rest')?.port ?? 8081;
    // A suspended application FlinkDeployment has no cluster, so no Service: the operator creates <name>-rest again
    // when it deploys. Deploying and retiring read the resource's status only; a REST call meanwhile fails as "gone".
    const absent = !override && !operator.restService && operator.kind === 'operator-deployment';
    const found = absent ? absentServiceEndpoint(deps, { namespace: operator.id.namespace, name: `${operator.id.name}-rest` }, port) : endpoint(operator.restService, port);
    return 'problem' in found ? found : TARGET_FACTORIES[operator.kind](deps, operator, found);
  }
  if ('problem' in cluster) return cluster;
  const found = endpoint(cluster.restService, cluster.restPort);
  if ('problem' in found) return found;
  return cluster.kind === 'application' ? TARGET_FACTORIES.application(deps, cluster, found) : TARGET_FACTORIES['session-job'](deps, cluster, found);
}

/** The endpoint a Service will have once it exists again (its DNS name: there is no cluster IP yet). */
function absentServiceEndpoint(deps: TargetDeps, service: { namespace: string; name: string }, port: number): TargetEndpoint {
  const restUrl = serviceRestUrl({ metadata: service }, port, { ...deps.settings.flink, serviceAddressing: 'dns' });
  return { restUrl, flink: deps.flinkClient(restUrl, 'service') };
}
