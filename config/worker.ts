import { z } from 'zod';
import { TemporalSettingsSchema, temporalSettingsFromEnv } from './temporal';

/** How the worker reaches Flink's REST API behind a cluster's Kubernetes Service. */
export const ServiceAddressingSchema = z.enum(['dns', 'cluster-ip']);

export const WorkerSettingsSchema = z.object({
  temporal: TemporalSettingsSchema,
  kube: z.object({
    /** A kubeconfig file; without one the worker uses its in-cluster service account. */
    kubeconfig: z.string().min(1).optional(),
  }),
  flink: z.object({
    /**
     * `dns`: http://<service>.<namespace>.svc.<clusterDomain>:<port> (an in-cluster worker);
     * `cluster-ip`: the Service's ClusterIP (a worker that reaches ClusterIPs but has no cluster DNS).
     */
    serviceAddressing: ServiceAddressingSchema.default('dns'),
    clusterDomain: z.string().min(1).default('cluster.local'),
    requestTimeoutMs: z.number().int().positive().default(30_000),
  }),
  savepoints: z.object({
    /** Savepoint and checkpoint locations flinkops may write to or restore from; empty allows any. */
    allowedPrefixes: z.array(z.string().min(1)).default([]),
  }),
  remediation: z
    .object({
      /**
       * Where escalations ("needs a human") are POSTed as JSON. Read by the activity that sends them, so the URL
       * (which may carry a token) never appears in workflow input or history.
       */
      escalationWebhookUrl: z.url({ protocol: /^https?$/, message: 'FLINKOPS_ESCALATION_WEBHOOK_URL must be an http(s) URL' }).optional(),
    })
    .default({}),
});
export type WorkerSettings = z.infer<typeof WorkerSettingsSchema>;

export function workerSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerSettings {
  const list = (value: string | undefined) => (value ? value.split(',').map((s) => s.trim()).filter(Boolean) : undefined);
  return WorkerSettingsSchema.parse({
    temporal: temporalSettingsFromEnv(env),
    kube: { kubeconfig: env.KUBECONFIG || undefined },
    flink: {
      serviceAddressing: env.FLINKOPS_SERVICE_ADDRESSING || undefined,
      clusterDomain: env.FLINKOPS_CLUSTER_DOMAIN || undefined,
    },
    savepoints: { allowedPrefixes: list(env.FLINKOPS_ALLOWED_SAVEPOINT_PREFIXES) },
    remediation: { escalationWebhookUrl: env.FLINKOPS_ESCALATION_WEBHOOK_URL || undefined },
  });
}
