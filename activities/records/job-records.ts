import type { V1ConfigMap } from '@kubernetes/client-node';
import { emptyRecord, parseJobRecord, pruneRecord, type JobRecord } from '../../workflows/model/record';
import type { ClusterRef } from '../../workflows/model/target';
import type { KubeClients } from '../kube/clients';
import { readJsonConfigMap, updateJsonConfigMap, type JsonConfigMapRef } from '../kube/json-config-map';
import { CLUSTER_LABEL, JOB_KEY_LABEL, labelValue, MANAGED_BY_LABELS, objectName } from '../kube/names';

const RECORD_KEY = 'record.json';

/** flinkops' memory of a job: one ConfigMap per job, next to the cluster, readable with kubectl. */
export function recordConfigMapName(cluster: ClusterRef, jobKey: string): string {
  return objectName(['flinkops', cluster.name, jobKey]);
}

/** A record that does not parse against its schema (someone edited the ConfigMap): flinkops neither uses nor overwrites it. */
export class RecordInvalid extends Error {
  override readonly name = 'RecordInvalid';

  constructor(
    readonly configMap: string,
    readonly problem: string,
  ) {
    super(`flinkops' record ${configMap} is invalid (${problem}): fix it or delete the ConfigMap`);
  }
}

export class JobRecordStore {
  constructor(private readonly kube: KubeClients) {}

  async read(cluster: ClusterRef, jobKey: string): Promise<JobRecord | undefined> {
    const configMap = await readJsonConfigMap(this.kube, this.ref(cluster, jobKey));
    return configMap && parseRecordConfigMap(configMap);
  }

  /** All records of a cluster (every job flinkops operated on there), and those that fail their schema. */
  async list(cluster: ClusterRef): Promise<{ records: JobRecord[]; invalid: RecordInvalid[] }> {
    const configMaps = await this.kube.core.listNamespacedConfigMap({ namespace: cluster.namespace, labelSelector: `${CLUSTER_LABEL}=${labelValue(cluster.name)}` });
    const records: JobRecord[] = [];
    const invalid: RecordInvalid[] = [];
    for (const configMap of configMaps.items) {
      if (configMap.data?.[RECORD_KEY] === undefined) continue;
      try {
        const record = parseRecordConfigMap(configMap);
        if (record) records.push(record);
      } catch (error) {
        if (!(error instanceof RecordInvalid)) throw error;
        invalid.push(error);
      }
    }
    return { records, invalid };
  }

  /**
   * Read-modify-write with optimistic concurrency: `change` may run more than once, against the newest record.
   * Creates the record from `init` when there is none; refuses (RecordInvalid) to overwrite one that fails its
   * schema. The result is pruned to the record's limits; what pruning forgot is noted in its history.
   */
  async update(cluster: ClusterRef, init: Pick<JobRecord, 'kind' | 'jobKey' | 'jobName' | 'currentJobId'>, change: (record: JobRecord) => void): Promise<JobRecord> {
    return updateJsonConfigMap(this.kube, this.ref(cluster, init.jobKey), (existing) => {
      const record = (existing && parseRecordConfigMap(existing)) ?? emptyRecord({ cluster: `${cluster.namespace}/${cluster.name}`, ...init });
      change(record);
      for (const note of pruneRecord(record)) {
        record.history.push({ at: new Date().toISOString(), workflowId: '', operation: 'record', outcome: 'pruned', message: note });
      }
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

function parseRecordConfigMap(configMap: V1ConfigMap): JobRecord | undefined {
  const text = configMap.data?.[RECORD_KEY];
  if (!text) return undefined;
  const name = configMap.metadata?.name ?? '?';
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new RecordInvalid(name, `${RECORD_KEY} is not JSON`);
  }
  const parsed = parseJobRecord(document);
  if (!parsed.ok) throw new RecordInvalid(name, parsed.problem);
  return parsed.record;
}
