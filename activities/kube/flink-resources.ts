import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { z } from 'zod';
import { isNotFound, type KubeClients } from './clients';

/**
 * The Flink Kubernetes Operator's custom resources, as flinkops reads and changes them: FlinkDeployment,
 * FlinkSessionJob and FlinkStateSnapshot (flink.apache.org/v1beta1). Every call goes through the CustomObjectsApi
 * with `flinkResource(plural)`, which the RBAC-from-code check reads.
 */
export const FLINK_API_GROUP = 'flink.apache.org';
export const FLINK_API_VERSION = 'v1beta1';
export type FlinkPlural = 'flinkdeployments' | 'flinksessionjobs' | 'flinkstatesnapshots';

export function flinkResource(plural: FlinkPlural): { group: string; version: string; plural: FlinkPlural } {
  return { group: FLINK_API_GROUP, version: FLINK_API_VERSION, plural };
}

const JsonString = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'is not JSON' });
    return z.NEVER;
  }
});

const SavepointSchema = z.object({ timeStamp: z.number().optional(), location: z.string().optional(), triggerType: z.string().optional(), triggerNonce: z.number().nullable().optional() }).loose();

export const JobSpecSchema = z
  .object({
    jarURI: z.string().optional(),
    entryClass: z.string().optional(),
    args: z.array(z.string()).optional(),
    parallelism: z.number().optional(),
    upgradeMode: z.enum(['stateless', 'savepoint', 'last-state']).optional(),
    state: z.enum(['running', 'suspended']).optional(),
    savepointTriggerNonce: z.number().nullable().optional(),
    initialSavepointPath: z.string().nullable().optional(),
    allowNonRestoredState: z.boolean().nullable().optional(),
  })
  .loose();

export const OperatorStatusSchema = z
  .object({
    lifecycleState: z.string().optional(),
    jobManagerDeploymentStatus: z.string().optional(),
    error: z.string().nullable().optional(),
    jobStatus: z
      .object({
        jobId: z.string().nullable().optional(),
        jobName: z.string().nullable().optional(),
        state: z.string().nullable().optional(),
        savepointInfo: z.object({ lastSavepoint: SavepointSchema.nullable().optional(), triggerId: z.string().nullable().optional(), savepointHistory: z.array(SavepointSchema).optional() }).loose().nullable().optional(),
      })
      .loose()
      .optional(),
    reconciliationStatus: z
      .object({
        state: z.string().optional(),
        lastReconciledSpec: JsonString.optional(),
        lastStableSpec: JsonString.optional(),
      })
      .loose()
      .optional(),
  })
  .loose();

export const FlinkResourceSchema = z
  .object({
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    metadata: z.object({ name: z.string(), namespace: z.string(), generation: z.number().optional(), resourceVersion: z.string().optional(), uid: z.string().optional(), labels: z.record(z.string(), z.string()).optional(), annotations: z.record(z.string(), z.string()).optional() }).loose(),
    spec: z
      .object({
        image: z.string().optional(),
        flinkVersion: z.string().optional(),
        mode: z.string().optional(),
        deploymentName: z.string().optional(),
        flinkConfiguration: z.record(z.string(), z.string()).optional(),
        job: JobSpecSchema.optional(),
        restartNonce: z.number().nullable().optional(),
      })
      .loose(),
    status: OperatorStatusSchema.optional(),
  })
  .loose();
export type FlinkResource = z.infer<typeof FlinkResourceSchema>;
export type OperatorStatus = z.infer<typeof OperatorStatusSchema>;

/** A FlinkDeployment or FlinkSessionJob, or undefined when there is none of that name. */
export async function readFlinkResource(kube: KubeClients, plural: FlinkPlural, namespace: string, name: string): Promise<FlinkResource | undefined> {
  let raw: unknown;
  try {
    raw = await kube.custom.getNamespacedCustomObject({ ...flinkResource(plural), namespace, name });
  } catch (error) {
    // 404 for a missing object, and for a cluster without the operator's CRDs.
    if (isNotFound(error)) return undefined;
    throw error;
  }
  const parsed = FlinkResourceSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${plural} ${namespace}/${name} does not look like a Flink Kubernetes Operator resource: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export async function listFlinkResources(kube: KubeClients, plural: FlinkPlural, namespace: string | undefined, labelSelector?: string): Promise<FlinkResource[]> {
  let raw: { items?: unknown[] };
  try {
    raw = (namespace
      ? await kube.custom.listNamespacedCustomObject({ ...flinkResource(plural), namespace, labelSelector })
      : await kube.custom.listClusterCustomObject({ ...flinkResource(plural), labelSelector })) as { items?: unknown[] };
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  return (raw.items ?? []).flatMap((item) => {
    const parsed = FlinkResourceSchema.safeParse(item);
    return parsed.success ? [parsed.data] : [];
  });
}

/** A JSON merge patch of a Flink resource (declarative: the same patch twice changes nothing). */
export async function patchFlinkResource(kube: KubeClients, plural: FlinkPlural, namespace: string, name: string, body: object): Promise<FlinkResource> {
  const patched: unknown = await kube.custom.patchNamespacedCustomObject({ ...flinkResource(plural), namespace, name, body, fieldManager: 'flinkops' }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  return FlinkResourceSchema.parse(patched);
}

export async function createFlinkResource(kube: KubeClients, plural: FlinkPlural, namespace: string, body: object): Promise<void> {
  await kube.custom.createNamespacedCustomObject({ ...flinkResource(plural), namespace, body, fieldManager: 'flinkops' });
}

export async function deleteFlinkResource(kube: KubeClients, plural: FlinkPlural, namespace: string, name: string): Promise<void> {
  try {
    await kube.custom.deleteNamespacedCustomObject({ ...flinkResource(plural), namespace, name });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** The generation the operator last acted on (1.7 has no observedGeneration: it is inside lastReconciledSpec). */
export function reconciledGeneration(resource: FlinkResource): number | undefined {
  const spec = resource.status?.reconciliationStatus?.lastReconciledSpec as { resource_metadata?: { metadata?: { generation?: number } } } | undefined;
  return spec?.resource_metadata?.metadata?.generation;
}

/** The operator's error, as one line (it stores a JSON document with type, message and the throwable list). */
/**
 * The savepoint the operator took when it suspended the job for an upgrade, at or after `sinceMs`. Operator 1.7.0
 * also reports the job's latest checkpoint as `lastSavepoint` (trigger type UNKNOWN) once the job is terminal, which
 * can hide the suspend's savepoint (trigger type UPGRADE) in the history: only the latter is the stop's savepoint.
 */
export function upgradeSavepointOf(resource: FlinkResource, sinceMs: number): string | undefined {
  const info = resource.status?.jobStatus?.savepointInfo;
  const candidates = [info?.lastSavepoint, ...(info?.savepointHistory ?? [])].filter((s) => s?.triggerType === 'UPGRADE' && s.location && (s.timeStamp ?? 0) >= sinceMs);
  return candidates.sort((a, b) => (b?.timeStamp ?? 0) - (a?.timeStamp ?? 0))[0]?.location;
}

export function operatorError(resource: FlinkResource): string | undefined {
  const error = resource.status?.error;
  if (!error) return undefined;
  let summary: string;
  let text = error;
  try {
    const parsed = JSON.parse(error) as { type?: string; message?: string; throwableList?: { type?: string; message?: string }[] };
    summary = [parsed.type?.split('.').pop(), firstLine(parsed.message ?? '')].filter(Boolean).join(': ');
    text = [parsed.message, ...(parsed.throwableList ?? []).map((t) => `Caused by: ${t.type ?? ''}: ${t.message ?? ''}`)].join('\n');
  } catch {
    summary = firstLine(error);
  }
  // Flink's REST errors carry the remote stack trace as text: its last "Caused by" is what went wrong (a state that
  // does not map, a class not found), which the outer "Could not execute application" does not say.
  const rootCause = [...text.matchAll(/Caused by: ([^\n]+)/g)].pop()?.[1]?.trim();
  const described = rootCause && !summary.includes(rootCause) ? `${summary}; root cause: ${rootCause}` : summary;
  return described.slice(0, 800);
}

function firstLine(text: string): string {
  return text.split('\n')[0]?.trim() ?? '';
}
