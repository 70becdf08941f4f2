import type { V1ConfigMap } from '@kubernetes/client-node';
import { emptyMemory, type RemediationMemory } from '../../workflows/model/cluster-health';
import type { ClusterRef } from '../../workflows/model/target';
import type { KubeClients } from '../kube/clients';
import { readJsonConfigMap, updateJsonConfigMap, type JsonConfigMapRef } from '../kube/json-config-map';
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
    const configMap = await readJsonConfigMap(this.kube, this.ref(cluster));
    return configMap ? parseMemory(configMap) : emptyMemory();
  }

  /** Read-modify-write with optimistic concurrency; `change` may run more than once. */
  async update<T>(cluster: ClusterRef, change: (memory: RemediationMemory, nowMs: number) => T): Promise<T> {
    return updateJsonConfigMap(this.kube, this.ref(cluster), (existing) => {
      const memory = existing ? parseMemory(existing) : emptyMemory();
      const nowMs = Date.now();
      const result = change(memory, nowMs);
      return { document: prune(memory, nowMs), result };
    });
  }

  private ref(cluster: ClusterRef): JsonConfigMapRef {
    return {
      namespace: cluster.namespace,
      name: remediationConfigMapName(cluster),
      key: STATE_KEY,
      labels: { ...MANAGED_BY_LABELS, [CLUSTER_LABEL]: labelValue(cluster.name), [KIND_LABEL]: 'remediation-state' },
    };
  }
}

export function prune(memory: RemediationMemory, nowMs: number): RemediationMemory {
  const since = nowMs - KEEP_MS;
  return {
    remediations: memory.remediations.filter((r) => r.at >= since),
    podDeletions: memory.podDeletions.filter((d) => d.at >= since),
    ...(memory.taskManagerRestarts ? { taskManagerRestarts: memory.taskManagerRestarts.filter((r) => r.at >= since) } : {}),
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
