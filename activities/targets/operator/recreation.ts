import { z } from 'zod';
import { isConflict, type KubeClients } from '../../kube/clients';
import { createFlinkResource, FlinkResourceSchema, type FlinkPlural, type FlinkResource } from '../../kube/flink-resources';
import { readJsonConfigMap, updateJsonConfigMap } from '../../kube/json-config-map';
import { MANAGED_BY_LABELS, objectName } from '../../kube/names';

/**
 * Recreating an operator resource (delete, then create with the same name) must survive a worker that dies in
 * between: the resource as it is to be created is written to a ConfigMap first (`flinkops-recreate-<kind>-<name>`,
 * readable with kubectl), and whoever finds the resource missing while that intent is pending creates it from there.
 * The ConfigMap stays afterwards, marked done: the spec flinkops last replaced, for people.
 */
const KEY = 'recreation.json';

const IntentSchema = z.object({
  state: z.enum(['pending', 'done']),
  /** The deployment step that recreates it (a retried step finds its own intent). */
  step: z.string(),
  at: z.string(),
  resource: FlinkResourceSchema,
});
export type RecreationIntent = z.infer<typeof IntentSchema>;

function ref(plural: FlinkPlural, namespace: string, name: string) {
  return { namespace, name: objectName(['flinkops-recreate', plural === 'flinksessionjobs' ? 'sessionjob' : 'deployment', name], 253), key: KEY, labels: MANAGED_BY_LABELS };
}

/** Writes the intent before the resource is deleted. */
export async function recordRecreationIntent(kube: KubeClients, plural: FlinkPlural, resource: FlinkResource, step: string): Promise<RecreationIntent> {
  const intent: RecreationIntent = { state: 'pending', step, at: new Date().toISOString(), resource };
  await updateJsonConfigMap(kube, ref(plural, resource.metadata.namespace, resource.metadata.name), () => ({ document: intent, result: undefined }));
  return intent;
}

/** The resource a pending recreation still has to create, if any. */
export async function pendingRecreation(kube: KubeClients, plural: FlinkPlural, namespace: string, name: string): Promise<RecreationIntent | undefined> {
  const configMap = await readJsonConfigMap(kube, ref(plural, namespace, name));
  const text = configMap?.data?.[KEY];
  if (!text) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = IntentSchema.safeParse(raw);
  return parsed.success && parsed.data.state === 'pending' ? parsed.data : undefined;
}

/** Creates the resource of a pending intent (a conflict means it exists already) and marks the intent done. */
export async function completeRecreation(kube: KubeClients, plural: FlinkPlural, intent: RecreationIntent): Promise<void> {
  const { apiVersion, kind, metadata, spec } = intent.resource;
  try {
    await createFlinkResource(kube, plural, metadata.namespace, { apiVersion, kind, metadata: { name: metadata.name, namespace: metadata.namespace, labels: metadata.labels, annotations: metadata.annotations }, spec });
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
  await updateJsonConfigMap(kube, ref(plural, metadata.namespace, metadata.name), () => ({ document: { ...intent, state: 'done' }, result: undefined }));
}
