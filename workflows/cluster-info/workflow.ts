import type { ClusterInfo } from '../../activities/cluster-info';
import { quickActivities } from '../activity-profiles';

export interface ClusterInfoInput {
  restUrl: string;
}

/** Reads a Flink cluster's overview and job list. The smallest end-to-end path: CLI -> Temporal -> worker -> Flink. */
export async function clusterInfoWorkflow(input: ClusterInfoInput): Promise<ClusterInfo> {
  return quickActivities.describeFlinkCluster(input.restUrl);
}
