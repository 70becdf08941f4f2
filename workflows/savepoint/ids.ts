import { operationId } from '../model/ids';
import type { ClusterRef } from '../model/target';

/** The schedule of one cluster's (or session job's) savepoints: re-running `create` finds and updates it. */
export function savepointScheduleId(cluster: ClusterRef, job?: string): string {
  return operationId('savepoint', cluster, job);
}

export function fleetScheduleId(fleet: string): string {
  return `flinkops-fleet-savepoint-${fleet}`;
}

/** A manual `flinkops savepoint` run. */
export function manualSavepointWorkflowId(cluster: ClusterRef, job: string | undefined, nowMs: number): string {
  return `${operationId('savepoint', cluster, job)}-manual-${nowMs}`;
}
