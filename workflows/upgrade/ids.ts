import { operationId } from '../model/ids';
import type { ClusterRef } from '../model/target';

/** One upgrade per cluster (or per session job) at a time: the workflow id says which. */
export function upgradeWorkflowId(cluster: ClusterRef, job?: string): string {
  return operationId('upgrade', cluster, job);
}
