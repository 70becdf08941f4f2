import { z } from 'zod';
import { describeIssues, DurationSchema } from '../model/validation';
import { ClusterRefSchema, IMAGE_PATTERN, JarVersionSchema } from '../model/target';

/** A Flink configuration key as config.yaml and flink-conf.yaml write it. */
const ConfigKeySchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.\-[\]]*$/, 'must be a Flink configuration key such as taskmanager.numberOfTaskSlots');

/** How one job is started on the new cluster (from --jobs FILE), and, if it differs, on the old one after a rollback. */
export const JobRestartSpecSchema = JarVersionSchema.omit({ kind: true }).extend({
  rollback: JarVersionSchema.omit({ kind: true }).optional(),
});
export type JobRestartSpec = z.infer<typeof JobRestartSpecSchema>;

export const FailurePolicySchema = z.enum(['rollback', 'keep-going']);
export type FailurePolicy = z.infer<typeof FailurePolicySchema>;

/** An upgrade of a whole session cluster (image and/or configuration) that carries every job on it. */
export const ClusterUpgradeRequestSchema = z
  .object({
    cluster: ClusterRefSchema,
    restUrl: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
    /** The new image of the JobManager and TaskManager containers. */
    image: z.string().regex(IMAGE_PATTERN, 'must be an image reference such as flink:2.2.1').optional(),
    /** The Flink version of the new image, when its tag does not tell (e.g. 2.2.1). */
    flinkVersion: z.string().regex(/^\d+\.\d+(\.\d+)?$/, 'must be a Flink version such as 2.2.1').optional(),
    /** Configuration keys to set (--set KEY=VALUE) and to remove (--unset KEY). */
    set: z.record(ConfigKeySchema, z.string()).default({}),
    unset: z.array(ConfigKeySchema).default([]),
    /** Job name -> how it runs on the new cluster (--jobs FILE); wins over flinkops' records. */
    jobs: z.record(z.string().min(1), JobRestartSpecSchema).default({}),
    /** Jobs flinkops may stop with a savepoint and not start again (--allow-drop JOB), by name or id. */
    allowDrop: z.array(z.string().min(1)).default([]),
    onFailure: FailurePolicySchema.default('rollback'),
    /** How many jobs are stopped (and started) at once. */
    concurrency: z.number().int().min(1).max(32).default(4),
    savepointDir: z.string().min(1).optional(),
    dryRun: z.boolean().default(false),
    approval: z.object({ required: z.boolean().default(false), timeout: DurationSchema.default(3_600_000) }).default({ required: false, timeout: 3_600_000 }),
    timeouts: z
      .object({
        savepoint: DurationSchema.default(300_000),
        /** The cluster's rollout, and each job's submission. */
        deploy: DurationSchema.default(300_000),
        verify: DurationSchema.default(300_000),
      })
      .default({ savepoint: 300_000, deploy: 300_000, verify: 300_000 }),
    stabilityWindow: DurationSchema.default(30_000),
    requestedBy: z.string().min(1).max(128).default('flinkops'),
  })
  .superRefine((request, ctx) => {
    if (!request.image && Object.keys(request.set).length === 0 && request.unset.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['image'], message: 'nothing to change: give a new image and/or configuration (--set KEY=VALUE, --unset KEY)' });
    }
    for (const key of request.unset) {
      if (key in request.set) ctx.addIssue({ code: 'custom', path: ['unset'], message: `${key} is both set and unset` });
    }
    if (request.flinkVersion && !request.image) ctx.addIssue({ code: 'custom', path: ['flinkVersion'], message: 'describes a new image: give --image too' });
  });

export type ClusterUpgradeRequestInput = z.input<typeof ClusterUpgradeRequestSchema>;
export type ClusterUpgradeRequest = z.output<typeof ClusterUpgradeRequestSchema>;

export function parseClusterUpgradeRequest(input: unknown): { ok: true; request: ClusterUpgradeRequest } | { ok: false; problem: string } {
  const parsed = ClusterUpgradeRequestSchema.safeParse(input);
  return parsed.success ? { ok: true, request: parsed.data } : { ok: false, problem: describeIssues(parsed.error) };
}
