import { z } from 'zod';
import { ClusterRefSchema } from '../model/target';
import { describeIssues, DurationSchema } from '../model/validation';
import { assertTimeZone, parseBlackoutWindow, type BlackoutWindow } from './blackout';

/** How many savepoints to keep: the newest N and/or those younger than a maximum age. */
export const RetentionSchema = z
  .object({
    keepLast: z.number().int().min(1, 'must keep at least 1 (the newest savepoint is never disposed of)').optional(),
    maxAge: DurationSchema.optional(),
  })
  .refine((r) => r.maxAge === undefined || r.maxAge > 0, { message: 'maxAge must be positive', path: ['maxAge'] });
export type Retention = z.infer<typeof RetentionSchema>;

export const BlackoutListSchema = z.array(z.string()).transform((texts, ctx) => {
  const windows: BlackoutWindow[] = [];
  texts.forEach((text, i) => {
    try {
      windows.push(parseBlackoutWindow(text));
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: [i], message: (error as Error).message });
    }
  });
  return windows;
});

export const TimeZoneSchema = z.string().superRefine((zone, ctx) => {
  try {
    assertTimeZone(zone);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

/** One savepoint run (scheduled or `flinkops savepoint`). */
export const SavepointRequestSchema = z.object({
  cluster: ClusterRefSchema,
  job: z.string().min(1).optional(),
  restUrl: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
  savepointDir: z.string().min(1).optional(),
  trigger: z.enum(['schedule', 'manual']).default('manual'),
  retention: RetentionSchema.default({}),
  blackouts: BlackoutListSchema.default([]),
  timeZone: TimeZoneSchema.default('UTC'),
  timeout: DurationSchema.default(600_000),
  /** Retention may dispose of savepoints the Flink Kubernetes Operator manages (off: the operator's own history does). */
  disposeOperatorSavepoints: z.boolean().default(false),
  /** Scheduled runs: the longest gap the schedule leaves between two runs, for the savepoint-age alert (a metric). */
  scheduleInterval: DurationSchema.refine((ms) => ms > 0, 'must be longer than 0').optional(),
});
export type SavepointRequestInput = z.input<typeof SavepointRequestSchema>;
export type SavepointRequest = z.output<typeof SavepointRequestSchema>;

export function parseSavepointRequest(input: unknown): { ok: true; request: SavepointRequest } | { ok: false; problem: string } {
  const parsed = SavepointRequestSchema.safeParse(input);
  return parsed.success ? { ok: true, request: parsed.data } : { ok: false, problem: describeIssues(parsed.error) };
}
