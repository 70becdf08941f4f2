import { fnv1a, type ClusterRef } from './target';

/**
 * The id of one kind of operation on one cluster (or one session job on it): `flinkops-<operation>-<ns>-<name>`
 * plus, for a job, a readable slug and a short hash (job names may contain anything). Deterministic, so a second
 * start of the same operation finds the first.
 */
export function operationId(operation: string, cluster: ClusterRef, job?: string): string {
  const base = `flinkops-${operation}-${cluster.namespace}-${cluster.name}`;
  if (!job) return base;
  const slug = job.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
  return `${base}-${slug}-${fnv1a(job).slice(0, 6)}`;
}
