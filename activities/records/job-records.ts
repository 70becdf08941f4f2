import type { V1ConfigMap } from '@kubernetes/client-node';
import { emptyRecord, type JobRecord } from '../../workflows/model/record';
import type { ClusterRef } from '../../workflows/model/target';
import { isConflict, isNotFound, type KubeClients } from '../kube/clients';
import { CLUSTER_LABEL, JOB_KEY_LABEL, labelValue, MANAGED_BY_LABELS, objectName } from '../kube/names';

const RECORD_KEY = 'record.json';

/** flinkops' memory of a job: one ConfigMap per job, next to the cluster, readable with kubectl. */
export function recordConfigMapName(cluster: ClusterRef, jobKey: string): string {
  return objectName(['flinkops', cluster.name, jobKey]);
}

export class JobRecordStore {
  constructor(private readonly kube: KubeClients) {}

  async read(cluster: ClusterRef, jobKey: string): Promise<JobRecord | undefined> {
    try {
      const configMap = await this.kube.core.readNamespacedConfigMap({ name: recordConfigMapName(cluster, jobKey), namespace: cluster.namespace });
      return parseRecord(configMap);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** All records of a cluster (every job flinkops operated on there). */
  async list(cluster: ClusterRef): Promise<JobRecord[]> {
    const configMaps = await this.kube.core.listNamespacedConfigMap({ namespace: cluster.namespace, labelSelector: `${CLUSTER_LABEL}=${labelValue(cluster.name)}` });
    return configMaps.items.map(parseRecord).filter((r): r is JobRecord => r !== undefined);
  }

  /**
   * Read-modify-write with optimistic concurrency: `change` may run more than once, against the newest record.
   * Creates the record from `init` when there is none.
   */
  async update(cluster: ClusterRef, init: Pick<JobRecord, 'kind' | 'jobKey' | 'jobName' | 'currentJobId'>, change: (record: JobRecord) => void): Promise<JobRecord> {
    const name = recordConfigMapName(cluster, init.jobKey);
    for (let attempt = 0; attempt < 10; attempt++) {
      let existing: V1ConfigMap | undefined;
      try {
        existing = await this.kube.core.readNamespacedConfigMap({ name, namespace: cluster.namespace });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      const record = (existing && parseRecord(existing)) ?? emptyRecord({ cluster: `${cluster.namespace}/${cluster.name}`, ...init });
      change(record);
      const body: V1ConfigMap = {
        metadata: {
          name,
          namespace: cluster.namespace,
          labels: { ...MANAGED_BY_LABELS, [CLUSTER_LABEL]: labelValue(cluster.name), [JOB_KEY_LABEL]: labelValue(init.jobKey) },
          ...(existing?.metadata?.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}),
        },
        data: { [RECORD_KEY]: JSON.stringify(record, null, 2) },
      };
      try {
        if (existing) await this.kube.core.replaceNamespacedConfigMap({ name, namespace: cluster.namespace, body });
        else await this.kube.core.createNamespacedConfigMap({ namespace: cluster.namespace, body });
        return record;
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
    }
    throw new Error(`could not update ${cluster.namespace}/${name}: too many concurrent changes`);
  }
}

function parseRecord(configMap: V1ConfigMap): JobRecord | undefined {
  const text = configMap.data?.[RECORD_KEY];
  if (!text) return undefined;
  const record = JSON.parse(text) as JobRecord;
  return { ...emptyRecord(record), ...record };
}
