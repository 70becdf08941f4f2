import type { V1ConfigMap } from '@kubernetes/client-node';
import { emptyRecord, type JobRecord } from '../../workflows/model/record';
import type { ClusterRef } from '../../workflows/model/target';
import type { KubeClients } from '../kube/clients';
import { readJsonConfigMap, updateJsonConfigMap, type JsonConfigMapRef } from '../kube/json-config-map';
import { CLUSTER_LABEL, JOB_KEY_LABEL, labelValue, MANAGED_BY_LABELS, objectName } from '../kube/names';

const RECORD_KEY = 'record.json';

/** flinkops' memory of a job: one ConfigMap per job, next to the cluster, readable with kubectl. */
export function recordConfigMapName(cluster: ClusterRef, jobKey: string): string {
  return objectName(['flinkops', cluster.name, jobKey]);
}

export class JobRecordStore {
  constructor(private readonly kube: KubeClients) {}

  async read(cluster: ClusterRef, jobKey: string): Promise<JobRecord | undefined> {
    const configMap = await readJsonConfigMap(this.kube, this.ref(cluster, jobKey));
    return configMap && parseRecord(configMap);
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
    return updateJsonConfigMap(this.kube, this.ref(cluster, init.jobKey), (existing) => {
      const record = (existing && parseRecord(existing)) ?? emptyRecord({ cluster: `${cluster.namespace}/${cluster.name}`, ...init });
      change(record);
      return { document: record, result: record };
    });
  }

  private ref(cluster: ClusterRef, jobKey: string): JsonConfigMapRef {
    return {
      namespace: cluster.namespace,
      name: recordConfigMapName(cluster, jobKey),
      key: RECORD_KEY,
      labels: { ...MANAGED_BY_LABELS, [CLUSTER_LABEL]: labelValue(cluster.name), [JOB_KEY_LABEL]: labelValue(jobKey) },
    };
  }
}

function parseRecord(configMap: V1ConfigMap): JobRecord | undefined {
  const text = configMap.data?.[RECORD_KEY];
  if (!text) return undefined;
  const record = JSON.parse(text) as JobRecord;
  return { ...emptyRecord(record), ...record };
}
