import type { ClusterRef } from '../model/target';

/** One remediation per cluster at a time: a second `flinkops remediate` finds the first one running. */
export function remediationWorkflowId(cluster: ClusterRef): string {
  return `flinkops-remediate-${cluster.namespace}-${cluster.name}`;
}

/** The health-check schedule of a cluster: `watch enable` twice finds and updates it. */
export function watchScheduleId(cluster: ClusterRef): string {
  return `flinkops-watch-${cluster.namespace}-${cluster.name}`;
}

export const WATCH_SCHEDULE_PREFIX = 'flinkops-watch-';

/** `flinkops doctor` runs are read-only and may overlap, so each gets its own id. */
export function doctorWorkflowId(cluster: ClusterRef, nowMs: number): string {
  return `flinkops-doctor-${cluster.namespace}-${cluster.name}-${nowMs}`;
}

export function registerWorkflowId(cluster: ClusterRef, job: string, nowMs: number): string {
  const slug = job.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
  return `flinkops-register-${cluster.namespace}-${cluster.name}-${slug}-${nowMs}`;
}
