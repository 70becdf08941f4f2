import { z } from 'zod';
import { describeIssues, DurationSchema } from '../model/validation';
import { ClusterRefSchema, ImageVersionSchema, JarVersionSchema, VersionSpecSchema } from '../model/target';

export const UpgradeModeSchema = z.enum(['savepoint', 'last-state', 'stateless']);
export type UpgradeMode = z.infer<typeof UpgradeModeSchema>;

/** An upgrade as the CLI (or anyone starting the workflow) asks for it. Durations accept "30s", "5m", ... */
export const UpgradeRequestSchema = z
  .object({
    cluster: ClusterRefSchema,
    /** Session clusters: the job, by id or by name. Application clusters run one job and need none. */
    job: z.string().min(1).optional(),
    /** Explicit Flink REST endpoint, for setups where the cluster's Service is not reachable from the worker. */
    restUrl: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
    to: VersionSpecSchema,
    /** The version running now, when flinkops has no record of it (session jobs; needed for rollback). */
    from: VersionSpecSchema.optional(),
    mode: UpgradeModeSchema.default('savepoint'),
    allowNonRestoredState: z.boolean().default(false),
    savepointDir: z.string().min(1).optional(),
    dryRun: z.boolean().default(false),
    approval: z.object({ required: z.boolean().default(false), timeout: DurationSchema.default(3_600_000) }).default({ required: false, timeout: 3_600_000 }),
    timeouts: z
      .object({
        savepoint: DurationSchema.default(300_000),
        deploy: DurationSchema.default(300_000),
        verify: DurationSchema.default(300_000),
      })
      .default({ savepoint: 300_000, deploy: 300_000, verify: 300_000 }),
    /** How long the new version must run without restarting before the upgrade counts as done. */
    stabilityWindow: DurationSchema.default(30_000),
    /** last-state mode: the newest retained checkpoint must be younger than this. */
    maxCheckpointAge: DurationSchema.default(600_000),
    /** Who asked, for the record and the Kubernetes events. */
    requestedBy: z.string().min(1).max(128).default('flinkops'),
  })
  .superRefine((request, ctx) => {
    if (request.from && request.from.kind !== request.to.kind) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: `must be the same kind of version as "to" (${request.to.kind})` });
    }
    if (request.mode === 'stateless' && request.allowNonRestoredState) {
      ctx.addIssue({ code: 'custom', path: ['allowNonRestoredState'], message: 'has no meaning in stateless mode' });
    }
  });

export type UpgradeRequestInput = z.input<typeof UpgradeRequestSchema>;
export type UpgradeRequest = z.output<typeof UpgradeRequestSchema>;

export { ImageVersionSchema, JarVersionSchema };

export function parseUpgradeRequest(input: unknown): { ok: true; request: UpgradeRequest } | { ok: false; problem: string } {
  const parsed = UpgradeRequestSchema.safeParse(input);
  return parsed.success ? { ok: true, request: parsed.data } : { ok: false, problem: describeIssues(parsed.error) };
}
