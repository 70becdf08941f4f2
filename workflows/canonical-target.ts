import { patched } from '@temporalio/workflow';
import type { SearchAttributePair } from '@temporalio/common';
import { clusterKey, type ClusterRef } from './model/target';
import { FLINK_CLUSTER, FLINK_JOB } from './search-attributes';

/**
 * 0.3.0: once a workflow has resolved its target, FlinkCluster holds the cluster as flinkops keys it (its JobManager
 * Deployment: the name records, events and metrics use), whatever name the command was given (a chart release, say),
 * so a Temporal UI filter on FlinkCluster finds every operation on the cluster. Behind patched(): workflows that
 * started on an older worker replay unchanged (the upsert they recorded named the job only).
 */
export const CANONICAL_CLUSTER_PATCH = 'canonical-flink-cluster-search-attribute';

export function resolvedTargetAttributes(cluster: ClusterRef, job: string): SearchAttributePair[] {
  const canonical = patched(CANONICAL_CLUSTER_PATCH) ? [{ key: FLINK_CLUSTER, value: clusterKey(cluster) }] : [];
  return [...canonical, { key: FLINK_JOB, value: job }];
}
