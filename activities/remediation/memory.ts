import type { V1ConfigMap } from '@kubernetes/client-node';
import { emptyMemory, type RemediationMemory } from '../../workflows/model/cluster-health';
import type { ClusterRef } from '../../workflows/model/target';
import { isConflict, isNotFound, type KubeClients } from '../kube/clients';
import { CLUSTER_LABEL, labelValue, MANAGED_BY_LABELS, objectName } from '../kube/names';

const STATE_KEY = 'state.json';
const KIND_LABEL = 'flinkops.dev/kind';
/** Entries older than this no longer matter to any limit. */
const KEEP_MS = 24 * 3_600_000;

export function remediationConfigMapName(cluster: ClusterRef): string {
  return objectName(['flinkops-remediation', cluster.name]);
}

/**
 * What flinkops remembers of its remediations of one cluster (runs that acted, pod deletions, the last escalation),
 * in a ConfigMap next to the cluster: rate limits and "once per window" hold across worker restarts.
 */
export class RemediationMemoryStore {
  constructor(private readonly kube: KubeClients) {}

  async read(cluster: ClusterRef): Promise<RemediationMemory> {
    try {
      return parseMemory(await this.kube.core.readNamespacedConfigMap({ name: remediationConfigMapName(cluster), namespace: cluster.namespace }));
    } catch (error) {
      if (isNotFound(error)) return emptyMemory();
      throw error;
    }
  }

  /** Read-modify-write with optimistic concurrency; `change` may run more than once. */
  async update<T>(cluster: ClusterRef, change: (memory: RemediationMemory, nowMs: number) => T): Promise<T> {
    const name = remediationConfigMapName(cluster);
    for (let attempt = 0; attempt < 10; attempt++) {
      let existing: V1ConfigMap | undefined;
      try {
        existing = await this.kube.core.readNamespacedConfigMap({ name, namespace: cluster.namespace });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      const memory = existing ? parseMemory(existing) : emptyMemory();
      const nowMs = Date.now();
      const result = change(memory, nowMs);
      const body: V1ConfigMap = {
        metadata: {
          name,
          namespace: cluster.namespace,
          labels: { ...MANAGED_BY_LABELS, [CLUSTER_LABEL]: labelValue(cluster.name), [KIND_LABEL]: 'remediation-state' },
          ...(existing?.metadata?.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}),
        },
        data: { [STATE_KEY]: JSON.stringify(prune(memory, nowMs), null, 2) },
      };
      try {
        if (existing) await this.kube.core.replaceNamespacedConfigMap({ name, namespace: cluster.namespace, body });
        else await this.kube.core.createNamespacedConfigMap({ namespace: cluster.namespace, body });
        return result;
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
    }
    throw new Error(`could not update ${cluster.namespace}/${name}: too many concurrent changes`);
  }
}

export function prune(memory: RemediationMemory, nowMs: number): RemediationMemory {
  const since = nowMs - KEEP_MS;
  return {
    remediations: memory.remediations.filter((r) => r.at >= since),
    podDeletions: memory.podDeletions.filter((d) => d.at >= since),
    ...(memory.lastEscalation ? { lastEscalation: memory.lastEscalation } : {}),
  };
}

function parseMemory(configMap: V1ConfigMap): RemediationMemory {
  const text = configMap.data?.[STATE_KEY];
  if (!text) return emptyMemory();
  try {
    return { ...emptyMemory(), ...(JSON.parse(text) as Partial<RemediationMemory>) };
  } catch {
    return emptyMemory();
  }
}
