import type { JobRecord } from './record';
import type { ClusterRef } from './target';

/** The Flink target of a metric: the cluster as flinkops keys it (its JobManager Deployment) and the job's name. */
export interface MetricTarget {
  cluster: ClusterRef;
  job?: string;
}

/**
 * Labels of flinkops' domain metrics. `flink_cluster` is `namespace/name`, the same canonical name records, events and
 * the FlinkCluster search attribute use; `k8s_namespace` is its namespace (for routing alerts by team); `flink_job`
 * the job's name where the metric is about one job.
 */
export function targetLabels(target: MetricTarget): Record<string, string> {
  return {
    flink_cluster: `${target.cluster.namespace}/${target.cluster.name}`,
    k8s_namespace: target.cluster.namespace,
    ...(target.job ? { flink_job: target.job } : {}),
  };
}

/**
 * The Temporal SDK tags every metric of a worker with `namespace` (the Temporal namespace). A Prometheus scrape of a
 * pod sets its own `namespace` target label (the pod's Kubernetes namespace) and renames a clashing scraped label to
 * `exported_namespace`. flinkops' own metrics therefore carry the Temporal namespace as `temporal_namespace` and an
 * empty `namespace` (an empty label is no label to Prometheus: nothing clashes, nothing is renamed).
 */
export function temporalNamespaceLabels(namespace: string): Record<string, string> {
  return { namespace: '', temporal_namespace: namespace };
}

/** When the job's newest savepoint in its record was taken (ISO time), whoever took it; undefined: none. */
export function newestSavepointAt(record: Pick<JobRecord, 'savepoints' | 'lastGoodSavepoint'> | undefined): string | undefined {
  const times = [...(record?.savepoints ?? []), ...(record?.lastGoodSavepoint ? [record.lastGoodSavepoint] : [])].map((s) => s.at).filter((at) => Number.isFinite(Date.parse(at)));
  return times.sort((a, b) => Date.parse(a) - Date.parse(b)).at(-1);
}
