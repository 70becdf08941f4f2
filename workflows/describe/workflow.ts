import { QUICK, withSummary } from '../activity-profiles';
import type { TargetSnapshot } from '../model/snapshot';
import type { ClusterRef } from '../model/target';

export interface DescribeTargetInput {
  cluster: ClusterRef;
  job?: string;
  restUrl?: string;
}

/** Read-only: what `flinkops status` shows about a cluster and its job, observed by the worker. */
export async function describeTargetWorkflow(input: DescribeTargetInput): Promise<TargetSnapshot> {
  return withSummary('observeTarget', QUICK, `observe ${input.cluster.namespace}/${input.cluster.name}`, input);
}
