import type { V1Pod } from '@kubernetes/client-node';
import type {
  ClusterHealthSnapshot,
  OperatorManaged,
  HighAvailabilitySnapshot,
  JobManagerPodSnapshot,
  KnownJob,
  LeaderSnapshot,
  RestoreCandidate,
  RestSnapshot,
  PodAnswer,
  TaskManagerSide,
} from '../../workflows/model/cluster-health';
import { emptyMemory } from '../../workflows/model/cluster-health';
import type { JobRecord } from '../../workflows/model/record';
import type { ClusterRef } from '../../workflows/model/target';
import type { FlinkJobState } from '../../workflows/model/snapshot';
import { jobRecords, operationLocks, type ActivityContext } from '../context';
import { callingWorkflowId } from '../locks/operation-lock';
import { FlinkRestError, type FlinkRestClient } from '../flink/rest-client';
import { TERMINAL_JOB_STATES } from '../flink/schemas';
import type { EndpointOrigin } from '../flink/transport';
import { checkRestUrl } from '../policy';
import { inventoryJobManagers, podRestClient } from './jobmanager-pods';
import { operatorError, readFlinkResource, reconciledGeneration } from '../kube/flink-resources';
import { OWNED_BY_FLINK_DEPLOYMENT } from '../targets/operator/resolve';
import { isNotFound } from '../kube/clients';
import { serviceRestUrl } from '../targets/endpoint';
import { resolveCluster, type ResolvedCluster } from '../targets/resolve';
import { retainedCheckpoints } from './checkpoints';
import { slotHolders, taskManagerPods } from './job-release';
import { flinkConfigFromKubernetes, highAvailabilityOf, parseFlinkDuration } from './flink-config';
import { RemediationMemoryStore } from './memory';
import { observeZooKeeperHa } from './zookeeper';

export interface ObserveClusterRequest {
  cluster: ClusterRef;
  restUrl?: string;
  /** The observing workflow: its own lock is not "another operation". */
  workflowId?: string;
  /** Only the JobManager side (pods, REST, leader, job states): for polling while waiting. */
  light?: boolean;
  /** Job ids whose task counts to read (light mode has no known jobs to take them from). */
  jobIds?: string[];
  /** Light mode: also ask the JobManager pod itself while the Service does not route to it (see ClusterHealthSnapshot.podAnswer). */
  askPod?: boolean;
}

export const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';

/** Read-only: every GET a diagnosis needs, nothing written. */
export async function observeCluster(ctx: ActivityContext, request: ObserveClusterRequest): Promise<ClusterHealthSnapshot> {
  const snapshot: ClusterHealthSnapshot = {
    cluster: request.cluster,
    observedAt: Date.now(),
    pods: [],
    taskManagerReplicas: 0,
    ha: { mode: 'none', source: 'default' },
    rest: { reachable: false, jobs: [] },
    knownJobs: [],
    memory: emptyMemory(),
  };
  const cluster = await resolveCluster(ctx.kube, request.cluster);
  if ('problem' in cluster) return { ...snapshot, problem: cluster.problem };
  const deployment = cluster.jobManager;
  // However the user named it (release or Deployment), records, locks and memory are keyed by the JobManager Deployment.
  snapshot.cluster = cluster.id;
  snapshot.kind = cluster.kind;
  snapshot.jobManager = {
    name: deployment.metadata!.name!,
    replicas: deployment.spec?.replicas ?? 1,
    readyReplicas: deployment.status?.readyReplicas ?? 0,
    image: cluster.jobManagerContainer.image ?? '',
  };
  snapshot.taskManagerReplicas = cluster.taskManagers.reduce((sum, d) => sum + (d.spec?.replicas ?? 1), 0);
  const owner = deployment.metadata?.ownerReferences?.find((o) => o.kind === OWNED_BY_FLINK_DEPLOYMENT);
  if (owner) snapshot.operator = await operatorStatus(ctx, request.cluster.namespace, owner.name);
  const pods = await jobManagerPods(ctx, cluster);
  snapshot.pods = pods.map(podSnapshot);

  const restUrl = request.restUrl === undefined ? serviceRestUrl(cluster.restService, cluster.restPort, ctx.settings.flink) : await checkRestUrl(request.restUrl, ctx.settings.flink.restUrlOverride);
  const records = request.light ? [] : (await jobRecords(ctx).list(cluster.id)).records.filter(expectedRunning);
  const origin = request.restUrl === undefined ? 'service' : 'override';
  const { rest, config: restConfig } = await observeRest(ctx, restUrl, origin);
  snapshot.rest = rest;
  if (!request.light) await inventory(ctx, cluster, pods, snapshot);

  const kubeConfig = await flinkConfigFromKubernetes(ctx.kube, deployment, cluster.jobManagerContainer);
  const config = { ...kubeConfig, ...restConfig };
  snapshot.checkpointDir = config['execution.checkpointing.dir'] ?? config['state.checkpoints.dir'];
  snapshot.savepointDir = config['execution.checkpointing.savepoint-dir'] ?? config['state.savepoints.dir'];
  snapshot.ha = await observeHighAvailability(ctx, request.cluster, config, restConfig ? 'rest' : Object.keys(kubeConfig).length > 0 ? 'kubernetes' : 'default');
  // ZooKeeper HA (activities/remediation/zookeeper/): leader, contenders, job entries, clusters sharing the path.
  if (snapshot.ha.mode === 'zookeeper') snapshot.ha.zookeeper = await observeZooKeeperHa(ctx, { cluster, pods, config, light: Boolean(request.light), flinkVersion: snapshot.rest.flinkVersion });
  if (cluster.kind === 'session-job' && snapshot.ha.mode === 'none' && !rest.reachable && (!request.light || request.askPod)) {
    const answer = await askJobManagerPod(ctx, cluster, pods);
    if (answer) snapshot.podAnswer = answer;
  }
  if (!request.light && cluster.kind === 'session-job') {
    // Which TaskManagers a lost job's resubmission depends on: registrations only read when a job flinkops knows is missing.
    const missing = records.some((r) => !snapshot.rest.jobs.some((j) => j.id === r.currentJobId));
    snapshot.taskManagers = await observeTaskManagers(ctx, cluster, missing && rest.reachable ? ctx.flinkClient(restUrl, origin) : undefined);
  }

  if (request.light) return snapshot;
  snapshot.knownJobs = await Promise.all(records.map((record) => knownJob(record, snapshot.checkpointDir)));
  snapshot.memory = await new RemediationMemoryStore(ctx.kube).read(cluster.id);
  const holder = await operationLocks(ctx).holder({ cluster: cluster.id }, request.workflowId ?? callingWorkflowId());
  if (holder) snapshot.lockHolder = holder;
  return snapshot;
}

/** What the Flink Kubernetes Operator reports about the FlinkDeployment it manages the cluster through. */
async function operatorStatus(ctx: ActivityContext, namespace: string, name: string): Promise<OperatorManaged> {
  const resource = await readFlinkResource(ctx.kube, 'flinkdeployments', namespace, name);
  if (!resource) return { deployment: name, error: 'the FlinkDeployment is gone' };
  const status = resource.status;
  return {
    deployment: name,
    lifecycleState: status?.lifecycleState,
    jobManagerDeploymentStatus: status?.jobManagerDeploymentStatus,
    reconciliationState: status?.reconciliationStatus?.state,
    jobState: status?.jobStatus?.state ?? undefined,
    error: operatorError(resource),
    generation: resource.metadata.generation,
    reconciledGeneration: reconciledGeneration(resource),
  };
}

async function jobManagerPods(ctx: ActivityContext, cluster: ResolvedCluster): Promise<V1Pod[]> {
  const labels = cluster.jobManager.spec?.selector.matchLabels ?? {};
  const labelSelector = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  if (!labelSelector) return [];
  return (await ctx.kube.core.listNamespacedPod({ namespace: cluster.ref.namespace, labelSelector })).items;
}

/**
 * The one live, running JobManager pod asked on its own address (flink.podAddressing), read-only: its jobs and the
 * TaskManagers registered with it. Undefined when there is not exactly one such pod or it does not answer (yet).
 */
async function askJobManagerPod(ctx: ActivityContext, cluster: ResolvedCluster, pods: V1Pod[]): Promise<PodAnswer | undefined> {
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running');
  if (live.length !== 1) return undefined;
  const pod = live[0]!;
  const client = podRestClient(ctx, cluster, pod);
  if (!client) return undefined;
  try {
    const [jobs, registered] = await Promise.all([client.listJobs(), slotHolders(client)]);
    return { pod: pod.metadata?.name ?? '', jobs: jobs.map((j) => ({ id: j.jid, name: j.name, state: j.state })), registered };
  } catch {
    return undefined;
  }
}

/** The cluster's TaskManager pods, and with `flink` the TaskManagers registered with the JobManager and their slots' jobs. */
async function observeTaskManagers(ctx: ActivityContext, cluster: ResolvedCluster, flink: FlinkRestClient | undefined): Promise<TaskManagerSide> {
  const pods = await taskManagerPods(ctx.kube, cluster);
  const side: TaskManagerSide = {
    pods: pods.map((pod) => ({
      name: pod.metadata?.name ?? '',
      uid: pod.metadata?.uid ?? '',
      ready: pod.status?.phase === 'Running' && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
      terminating: Boolean(pod.metadata?.deletionTimestamp),
    })),
  };
  if (flink) side.registered = await slotHolders(flink).catch(() => undefined);
  return side;
}

function podSnapshot(pod: V1Pod): JobManagerPodSnapshot {
  const status = pod.status?.containerStatuses?.find((c) => c.name === 'jobmanager') ?? pod.status?.containerStatuses?.[0];
  const terminated = status?.lastState?.terminated ?? status?.state?.terminated;
  const ready = (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  return {
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ready: pod.status?.phase === 'Running' && ready,
    terminating: Boolean(pod.metadata?.deletionTimestamp),
    createdAt: timeOf(pod.metadata?.creationTimestamp) ?? 0,
    restartCount: status?.restartCount ?? 0,
    ...(status?.state?.waiting?.reason ? { waitingReason: status.state.waiting.reason } : {}),
    ...(status?.state?.waiting?.message ? { waitingMessage: status.state.waiting.message } : {}),
    ...(terminated ? { lastTermination: { reason: terminated.reason, exitCode: terminated.exitCode, finishedAt: timeOf(terminated.finishedAt) } } : {}),
  };
}

/**
 * The REST API through the Service, and the task counts of every job that is not finished: a job counts as running
 * only with all its tasks running, and counts that could not be read are unknown, never "running".
 */
async function observeRest(ctx: ActivityContext, url: string, origin: EndpointOrigin): Promise<{ rest: RestSnapshot; config?: Record<string, string> }> {
  const flink = ctx.flinkClient(url, origin);
  const rest: RestSnapshot = { url, reachable: false, jobs: [] };
  let config: Record<string, string>;
  try {
    const [overview, jmConfig, jobs] = await Promise.all([flink.overview(), flink.jobManagerConfig(), flink.listJobs()]);
    rest.reachable = true;
    rest.flinkVersion = overview['flink-version'];
    rest.taskManagers = overview.taskmanagers;
    rest.slotsTotal = overview['slots-total'];
    rest.jobs = jobs.map((j) => ({ id: j.jid, name: j.name, state: j.state }));
    config = jmConfig;
  } catch (error) {
    if (!(error instanceof FlinkRestError)) throw error;
    rest.error = error.message;
    return { rest };
  }
  for (const job of rest.jobs.filter((j) => !TERMINAL_JOB_STATES.includes(j.state))) {
    const details = await flink.jobDetails(job.id).catch(() => undefined);
    if (!details) {
      job.tasksUnknown = true;
      continue;
    }
    job.tasksTotal = details.vertices.reduce((sum, v) => sum + v.parallelism, 0);
    job.tasksRunning = details.vertices.reduce((sum, v) => sum + (v.tasks.RUNNING ?? 0), 0);
  }
  return { rest, config };
}

/**
 * Several live JobManager pods: each is asked for its own jobs (through its pod address, not the Service), so a
 * scale-down knows which JobManager to keep and which jobs the others would take with them.
 */
async function inventory(ctx: ActivityContext, cluster: ResolvedCluster, pods: V1Pod[], snapshot: ClusterHealthSnapshot): Promise<void> {
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running');
  if (live.length < 2) return;
  const answers = await inventoryJobManagers(ctx, cluster, live);
  for (const answer of answers) {
    const pod = snapshot.pods.find((p) => p.name === answer.pod);
    if (!pod) continue;
    if (answer.jobs) pod.jobs = answer.jobs.map((j) => ({ id: j.id, name: j.name, state: j.state as FlinkJobState }));
    else pod.inventoryError = answer.error;
  }
  const sets = answers.filter((a) => a.jobs).map((a) => a.jobs!.map((j) => j.id).sort().join(','));
  snapshot.rest.answers = sets.length;
  snapshot.rest.distinctAnswers = new Set(sets).size;
  for (const answer of answers) {
    for (const job of answer.jobs ?? []) {
      if (!snapshot.rest.jobs.some((j) => j.id === job.id)) snapshot.rest.jobs.push({ id: job.id, name: job.name, state: job.state as FlinkJobState, tasksUnknown: true });
    }
  }
}

async function observeHighAvailability(ctx: ActivityContext, ref: ClusterRef, config: Record<string, string>, source: HighAvailabilitySnapshot['source']): Promise<HighAvailabilitySnapshot> {
  const { mode, configured } = highAvailabilityOf(config);
  const ha: HighAvailabilitySnapshot = { mode, configured, source };
  if (mode !== 'kubernetes') return ha;
  ha.clusterId = config['kubernetes.cluster-id'];
  ha.leaseDurationMs = parseFlinkDuration(config['high-availability.kubernetes.leader-election.lease-duration']);
  if (ha.clusterId) ha.leader = await readLeader(ctx, config['kubernetes.namespace'] ?? ref.namespace, `${ha.clusterId}-cluster-config-map`);
  return ha;
}

async function readLeader(ctx: ActivityContext, namespace: string, name: string): Promise<LeaderSnapshot> {
  try {
    const configMap = await ctx.kube.core.readNamespacedConfigMap({ name, namespace });
    const annotation = configMap.metadata?.annotations?.[LEADER_ANNOTATION];
    const record = annotation ? (JSON.parse(annotation) as { holderIdentity?: string; renewTime?: string }) : {};
    const restEntry = Object.entries(configMap.data ?? {}).find(([key]) => /restserver|rest_server/.test(key))?.[1];
    return {
      configMap: name,
      exists: true,
      holderIdentity: record.holderIdentity || undefined,
      renewTime: timeOf(record.renewTime),
      restAddress: restEntry ? /https?:\/\/[^\s,]+/.exec(restEntry)?.[0] : undefined,
    };
  } catch (error) {
    if (isNotFound(error)) return { configMap: name, exists: false };
    throw error;
  }
}

function expectedRunning(record: JobRecord): boolean {
  return record.kind === 'session-job' && record.expectRunning !== false && Boolean(record.currentJobId);
}

async function knownJob(record: JobRecord, checkpointDir: string | undefined): Promise<KnownJob> {
  const version = record.currentVersion?.kind === 'jar' ? record.currentVersion : undefined;
  // What the job ran from before counts too (a job lost again before its first checkpoint); a restore point from a
  // checkpoint is one.
  const recorded = [...record.savepoints, ...(record.lastGoodSavepoint ? [record.lastGoodSavepoint] : []), ...record.restorePoints];
  const savepoints: RestoreCandidate[] = recorded
    .map((s) => ({ path: s.path, source: /\/chk-\d+\/?$/.test(s.path) ? ('checkpoint' as const) : ('savepoint' as const), at: Date.parse(s.at) }))
    .filter((c, i, all) => Number.isFinite(c.at) && all.findIndex((o) => o.path === c.path) === i);
  const checkpoints = checkpointDir
    ? await retainedCheckpoints(checkpointDir, record.currentJobId)
    : { candidates: [], problem: 'the cluster has no execution.checkpointing.dir' };
  return {
    jobKey: record.jobKey,
    jobName: record.jobName,
    jobId: record.currentJobId,
    ...(version ? { version } : {}),
    restoreCandidates: [...checkpoints.candidates, ...savepoints].sort((a, b) => b.at - a.at),
    ...(checkpoints.problem ? { checkpointProblem: checkpoints.problem } : {}),
  };
}

function timeOf(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isFinite(ms) ? ms : undefined;
  }
  return undefined;
}
