import { fnv1a, type ClusterRef } from '../model/target';

function jobSuffix(job: string): string {
  const slug = job.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
  return `-${slug}-${fnv1a(job).slice(0, 6)}`;
}

/** The schedule of one cluster's (or session job's) savepoints: re-running `create` finds and updates it. */
export function savepointScheduleId(cluster: ClusterRef, job?: string): string {
  return `flinkops-savepoint-${cluster.namespace}-${cluster.name}${job ? jobSuffix(job) : ''}`;
}

export function fleetScheduleId(fleet: string): string {
  return `flinkops-fleet-savepoint-${fleet}`;
}

/** A manual `flinkops savepoint` run. */
export function manualSavepointWorkflowId(cluster: ClusterRef, job: string | undefined, nowMs: number): string {
  return `flinkops-savepoint-${cluster.namespace}-${cluster.name}${job ? jobSuffix(job) : ''}-manual-${nowMs}`;
}
