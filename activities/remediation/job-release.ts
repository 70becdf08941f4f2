import type { V1Pod } from '@kubernetes/client-node';
import type { ClusterRef } from '../../workflows/model/target';
import { requireTarget, type ActivityContext } from '../context';
import type { KubeClients } from '../kube/clients';
import { resolveCluster, type ResolvedCluster } from '../targets/resolve';
import { FlinkRestError, type FlinkRestClient } from '../flink/rest-client';

/** What the JobManager and its TaskManagers hold of one job that is about to be submitted again under its id. */
export interface JobReleaseObservation {
  /** TaskManager pods Kubernetes reports ready: each one is expected to register with the JobManager. */
  readyTaskManagerPods: number;
  /**
   * TaskManager pods being deleted (a restart): until they are gone, a registered TaskManager may be one of them, whose
   * slots would be offered to the job and lost a moment later.
   */
  terminatingTaskManagerPods?: number;
  /** The TaskManagers whose slots the JobManager knows, with the jobs their allocated slots belong to. */
  taskManagers: { id: string; jobIds: string[] }[];
  /** The JobManager has the job already: an earlier attempt submitted it. */
  jobKnown: boolean;
  /**
   * After flinkops restarted the TaskManagers tied to the lost JobManager: how many of the restarted pods still exist,
   * and how many other (fresh) TaskManager pods are there, starting or running.
   */
  restarted?: { remaining: number; fresh: number };
}

export type JobReleaseStatus = { released: boolean; detail: string };

/**
 * Whether a job id is free to be submitted again: every ready TaskManager (at least one) has registered with the
 * JobManager and reported its slots, and none of them holds a slot of the job. A TaskManager registers with a new
 * JobManager only after its heartbeat to the old one times out, so a TaskManager not registered yet may still hold
 * the job.
 */
export function jobReleaseStatus(jobId: string, observation: JobReleaseObservation): JobReleaseStatus {
  if (observation.jobKnown) return { released: true, detail: `the JobManager has job ${jobId} already` };
  const terminating = observation.terminatingTaskManagerPods ?? 0;
  const restarted = observation.restarted;
  if (restarted && restarted.remaining > 0) return { released: false, detail: `${restarted.remaining} restarted TaskManager pod(s) still shutting down` };
  if (terminating > 0) return { released: false, detail: `${terminating} TaskManager pod(s) still shutting down` };
  if (restarted) {
    // Every TaskManager pod left was created after the restart: none can be tied to the lost JobManager. The job is
    // submitted now and takes their slots as they register (its submission overlaps their start).
    if (restarted.fresh === 0) return { released: false, detail: 'no fresh TaskManager pod yet' };
    const holding = observation.taskManagers.filter((tm) => tm.jobIds.includes(jobId)).map((tm) => tm.id);
    if (holding.length > 0) return { released: false, detail: `TaskManager(s) ${holding.join(', ')} still hold slots of job ${jobId}` };
    return { released: true, detail: `the restarted TaskManagers are gone; ${restarted.fresh} fresh TaskManager pod(s) (${observation.taskManagers.length} registered so far) offer their slots as they register` };
  }
  const expected = Math.max(1, observation.readyTaskManagerPods);
  const registered = observation.taskManagers.length;
  if (registered < expected) return { released: false, detail: `${registered}/${expected} TaskManager(s) registered with the JobManager` };
  const holding = observation.taskManagers.filter((tm) => tm.jobIds.includes(jobId)).map((tm) => tm.id);
  if (holding.length > 0) return { released: false, detail: `TaskManager(s) ${holding.join(', ')} still hold slots of job ${jobId}` };
  return { released: true, detail: `${registered} TaskManager(s) registered, none holds job ${jobId}` };
}

export async function observeJobRelease(
  ctx: ActivityContext,
  request: { cluster: ClusterRef; restUrl?: string; jobId: string; restartedPods?: string[] },
): Promise<JobReleaseObservation> {
  const target = await requireTarget(ctx, request.cluster, request.restUrl);
  const cluster = await resolveCluster(ctx.kube, request.cluster);
  const pods = 'problem' in cluster ? [] : await taskManagerPods(ctx.kube, cluster);
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  const readyTaskManagerPods = live.filter((p) => p.status?.phase === 'Running' && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')).length;
  const jobKnown = (await target.flink.listJobs()).some((j) => j.jid === request.jobId);
  const restarted = request.restartedPods
    ? { remaining: pods.filter((p) => request.restartedPods!.includes(p.metadata?.uid ?? '')).length, fresh: live.filter((p) => !request.restartedPods!.includes(p.metadata?.uid ?? '')).length }
    : undefined;
  return { readyTaskManagerPods, terminatingTaskManagerPods: pods.length - live.length, taskManagers: await slotHolders(target.flink), jobKnown, ...(restarted ? { restarted } : {}) };
}

/** The pods of a cluster's TaskManager Deployments (by each Deployment's selector). */
export async function taskManagerPods(kube: KubeClients, cluster: ResolvedCluster): Promise<V1Pod[]> {
  const lists = await Promise.all(
    cluster.taskManagers.map(async (deployment) => {
      const labelSelector = Object.entries(deployment.spec?.selector.matchLabels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      if (!labelSelector) return [];
      return (await kube.core.listNamespacedPod({ namespace: cluster.ref.namespace, labelSelector })).items;
    }),
  );
  return lists.flat();
}

/** Registered TaskManagers that reported their slots (the report follows the registration), with their slots' jobs. */
export async function slotHolders(flink: FlinkRestClient): Promise<JobReleaseObservation['taskManagers']> {
  const reported = (await flink.taskManagers()).filter((tm) => tm.slotsNumber > 0);
  const holders = await Promise.all(
    reported.map(async (tm) => {
      try {
        const details = await flink.taskManagerDetails(tm.id);
        return { id: tm.id, jobIds: [...new Set(details.allocatedSlots.map((s) => s.jobId))] };
      } catch (error) {
        if (error instanceof FlinkRestError && error.isNotFound) return undefined; // gone since the list
        throw error;
      }
    }),
  );
  return holders.filter((h) => h !== undefined);
}
