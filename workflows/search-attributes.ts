import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import { clusterKey, type ClusterRef } from './model/target';

/**
 * Custom search attributes every flinkops workflow sets, so the Temporal UI and `flinkops status` can find
 * operations by cluster, job and kind. They must be registered on the namespace once (the local stack does it;
 * on a real server run `flinkops setup search-attributes`).
 */
export const FLINK_CLUSTER = defineSearchAttributeKey('FlinkCluster', SearchAttributeType.KEYWORD);
export const FLINK_JOB = defineSearchAttributeKey('FlinkJob', SearchAttributeType.KEYWORD);
export const FLINKOPS_OPERATION = defineSearchAttributeKey('FlinkopsOperation', SearchAttributeType.KEYWORD);

export const FLINKOPS_SEARCH_ATTRIBUTES = [FLINK_CLUSTER, FLINK_JOB, FLINKOPS_OPERATION] as const;

/** The search attributes of one flinkops operation on a cluster (and a job of it, for session jobs). */
export function operationSearchAttributes(operation: string, cluster: ClusterRef, job?: string): SearchAttributePair[] {
  return [
    { key: FLINK_CLUSTER, value: clusterKey(cluster) },
    { key: FLINKOPS_OPERATION, value: operation },
    ...(job ? [{ key: FLINK_JOB, value: job }] : []),
  ];
}
