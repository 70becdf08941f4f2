import { operationId } from '../model/ids';
import type { ClusterRef } from '../model/target';

/** One upgrade of a session cluster at a time: the workflow id says which cluster. */
export function clusterUpgradeWorkflowId(cluster: ClusterRef): string {
  return operationId('upgrade-cluster', cluster);
}
