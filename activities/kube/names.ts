import { fnv1a } from '../../workflows/model/target';

/** A Kubernetes object name from parts, shortened with a hash suffix when it would exceed `max`. */
export function objectName(parts: string[], max = 253): string {
  const name = parts.join('-').toLowerCase().replace(/[^a-z0-9.-]+/g, '-');
  if (name.length <= max) return name;
  const suffix = fnv1a(name);
  return `${name.slice(0, max - suffix.length - 1).replace(/[-.]+$/, '')}-${suffix}`;
}

/** A label value (at most 63 characters). */
export function labelValue(value: string): string {
  return objectName([value], 63).replace(/^[^a-z0-9]+/, '');
}

export const MANAGED_BY_LABELS = { 'app.kubernetes.io/managed-by': 'flinkops' };
export const CLUSTER_LABEL = 'flinkops.dev/cluster';
export const JOB_KEY_LABEL = 'flinkops.dev/job-key';
