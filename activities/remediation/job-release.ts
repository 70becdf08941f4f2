import type { ClusterRef } from '../../workflows/model/target';
import { requireTarget, type ActivityContext } from '../context';
import { resolveCluster } from '../targets/resolve';
import { FlinkRestError, type FlinkRestClient } from '../flink/rest-client';

/** What the JobManager and its TaskManagers hold of one job that is about to be submitted again under its id. */
export interface JobReleaseObservation {
  /** TaskManager pods Kubernetes reports ready: each one is expected to register with the JobManager. */
  readyTaskManagerPods: number;
  /** The TaskManagers whose slots the JobManager knows, with the jobs their allocated slots belong to. */
  taskManagers: { id: string; jobIds: string[] }[];
  /** The JobManager has the job already: an earlier attempt submitted it. */
  jobKnown: boolean;
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
  const expected = Math.max(1, observation.readyTaskManagerPods);
  const registered = observation.taskManagers.length;
  if (registered < expected) return { released: false, detail: `${registered}/${expected} TaskManager(s) registered with the JobManager` };
  const holding = observation.taskManagers.filter((tm) => tm.jobIds.includes(jobId)).map((tm) => tm.id);
  if (holding.length > 0) return { released: false, detail: `TaskManager(s) ${holding.join(', ')} still hold slots of job ${jobId}` };
  return { released: true, detail: `${registered} TaskManager(s) registered, none holds job ${jobId}` };
}

export async function observeJobRelease(ctx: ActivityContext, request: { cluster: ClusterRef; restUrl?: string; jobId: string }): Promise<JobReleaseObservation> {
  const target = await requireTarget(ctx, request.cluster, request.restUrl);
  const cluster = await resolveCluster(ctx.kube, request.cluster);
  const readyTaskManagerPods = 'problem' in cluster ? 0 : cluster.taskManagers.reduce((sum, d) => sum + (d.status?.readyReplicas ?? 0), 0);
  const jobKnown = (await target.flink.listJobs()).some((j) => j.jid === request.jobId);
  return { readyTaskManagerPods, taskManagers: await slotHolders(target.flink), jobKnown };
}

/** Registered TaskManagers that reported their slots (the report follows the registration), with their slots' jobs. */
async function slotHolders(flink: FlinkRestClient): Promise<JobReleaseObservation['taskManagers']> {
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
