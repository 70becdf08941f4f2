import { z } from 'zod';

/** How the worker and the CLI reach Temporal. Issue #7 grows this into the full configuration. */
export const TemporalSettingsSchema = z.object({
  address: z.string().min(1).default('127.0.0.1:7233'),
  namespace: z.string().min(1).default('default'),
  taskQueue: z.string().min(1).default('flinkops'),
});
export type TemporalSettings = z.infer<typeof TemporalSettingsSchema>;

export function temporalSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  return TemporalSettingsSchema.parse({
    address: env.TEMPORAL_ADDRESS || undefined,
    namespace: env.TEMPORAL_NAMESPACE || undefined,
    taskQueue: env.FLINKOPS_TASK_QUEUE || undefined,
  });
}
