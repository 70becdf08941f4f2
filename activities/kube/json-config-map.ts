import type { V1ConfigMap } from '@kubernetes/client-node';
import { isConflict, isNotFound, type KubeClients } from './clients';

/** A ConfigMap that holds one JSON document under one key (flinkops' records and memories), readable with kubectl. */
export interface JsonConfigMapRef {
  namespace: string;
  name: string;
  key: string;
  labels: Record<string, string>;
}

export async function readJsonConfigMap(kube: KubeClients, ref: Omit<JsonConfigMapRef, 'labels'>): Promise<V1ConfigMap | undefined> {
  try {
    return await kube.core.readNamespacedConfigMap({ name: ref.name, namespace: ref.namespace });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Read-modify-write with optimistic concurrency: `change` gets the current ConfigMap (undefined when there is none)
 * and returns the document to store plus a result; on a conflict it runs again against the newer version.
 */
export async function updateJsonConfigMap<T>(
  kube: KubeClients,
  ref: JsonConfigMapRef,
  change: (existing: V1ConfigMap | undefined) => { document: unknown; result: T },
): Promise<T> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const existing = await readJsonConfigMap(kube, ref);
    const { document, result } = change(existing);
    const body: V1ConfigMap = {
      metadata: {
        name: ref.name,
        namespace: ref.namespace,
        labels: ref.labels,
        ...(existing?.metadata?.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}),
      },
      data: { [ref.key]: JSON.stringify(document, null, 2) },
    };
    try {
      if (existing) await kube.core.replaceNamespacedConfigMap({ name: ref.name, namespace: ref.namespace, body });
      else await kube.core.createNamespacedConfigMap({ namespace: ref.namespace, body });
      return result;
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
  }
  throw new Error(`could not update ${ref.namespace}/${ref.name}: too many concurrent changes`);
}
