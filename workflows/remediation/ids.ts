import { operationId } from '../model/ids';
import type { ClusterRef } from '../model/target';

/** One remediation per cluster at a time: a second `flinkops remediate` finds the first one running. */
export function remediationWorkflowId(cluster: ClusterRef): string {
  return operationId('remediate', cluster);
}

/** The health-check schedule of a cluster: `watch enable` twice finds and updates it. */
export function watchScheduleId(cluster: ClusterRef): string {
  return operationId('watch', cluster);
}

export const WATCH_SCHEDULE_PREFIX = 'flinkops-watch-';

/** `flinkops doctor` runs are read-only and may overlap, so each gets its own id. */
export function doctorWorkflowId(cluster: ClusterRef, nowMs: number): string {
  return `${operationId('doctor', cluster)}-${nowMs}`;
}

export function registerWorkflowId(cluster: ClusterRef, job: string, nowMs: number): string {
  return `${operationId('register', cluster, job)}-${nowMs}`;
}
