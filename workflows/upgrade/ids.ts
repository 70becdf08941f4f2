import { fnv1a, type ClusterRef } from '../model/target';

/** One upgrade per cluster (or per session job) at a time: the workflow id says which. */
export function upgradeWorkflowId(cluster: ClusterRef, job?: string): string {
  const base = `flinkops-upgrade-${cluster.namespace}-${cluster.name}`;
  if (!job) return base;
  const slug = job.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
  return `${base}-${slug}-${fnv1a(job).slice(0, 6)}`;
}
