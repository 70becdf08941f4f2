import { z } from 'zod';
import { describeIssues } from './validation';
import { TARGET_KINDS, VersionSpecSchema } from './target';

/**
 * What flinkops remembers about one job, kept in a ConfigMap next to the cluster so people (kubectl), the next
 * operation and retention can find it. Anyone with edit rights in the namespace can change that ConfigMap, so a
 * record is parsed against this schema whenever it is read, and every path in it is checked again where it is used.
 */
export const RECORD_SCHEMA_VERSION = 1;

const IsoTime = z.string().refine((t) => Number.isFinite(Date.parse(t)), 'must be an ISO time');
const Location = z.string().min(1).max(4096);

export const SavepointEntrySchema = z.object({
  path: Location,
  /** ISO time the savepoint completed. */
  at: IsoTime,
  jobId: z.string(),
  trigger: z.enum(['upgrade', 'schedule', 'manual', 'remediation']),
  workflowId: z.string(),
  durationMs: z.number().nonnegative().optional(),
  sizeBytes: z.number().nonnegative().optional(),
});
export type SavepointEntry = z.infer<typeof SavepointEntrySchema>;

export const RestorePointSchema = z.object({
  path: Location,
  at: IsoTime,
  workflowId: z.string(),
  operation: z.enum(['upgrade', 'rollback', 'remediation']),
});
export type RestorePoint = z.infer<typeof RestorePointSchema>;

export const HistoryEntrySchema = z.object({
  at: IsoTime,
  workflowId: z.string(),
  operation: z.string(),
  outcome: z.string(),
  from: VersionSpecSchema.optional(),
  to: VersionSpecSchema.optional(),
  savepoint: z.string().optional(),
  jobId: z.string().optional(),
  message: z.string().optional(),
});
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;

export const JobRecordSchema = z.object({
  /** Absent in records written before the field existed: those are version 1. */
  schemaVersion: z.literal(RECORD_SCHEMA_VERSION).default(RECORD_SCHEMA_VERSION),
  cluster: z.string(),
  kind: z.enum(TARGET_KINDS),
  jobKey: z.string().min(1),
  jobName: z.string(),
  currentJobId: z.string(),
  currentVersion: VersionSpecSchema.optional(),
  /**
   * Whether remediation brings the job back when a JobManager loses it (absent: yes). `flinkops register --forget`
   * turns it off for a job that was stopped on purpose.
   */
  expectRunning: z.boolean().optional(),
  lastGoodSavepoint: SavepointEntrySchema.optional(),
  /** Savepoints an upgrade, rollback or remediation restored from: never disposed of by retention. */
  restorePoints: z.array(RestorePointSchema).default([]),
  /** Savepoints taken by flinkops, newest last. */
  savepoints: z.array(SavepointEntrySchema).default([]),
  /** Disposals that failed and are retried on the next retention run. */
  pendingDisposals: z.array(z.object({ path: Location, error: z.string(), attempts: z.number().int().nonnegative() })).default([]),
  history: z.array(HistoryEntrySchema).default([]),
});
export type JobRecord = z.output<typeof JobRecordSchema>;

export function parseJobRecord(document: unknown): { ok: true; record: JobRecord } | { ok: false; problem: string } {
  const parsed = JobRecordSchema.safeParse(document);
  return parsed.success ? { ok: true, record: parsed.data } : { ok: false, problem: describeIssues(parsed.error) };
}

export function emptyRecord(fields: Pick<JobRecord, 'cluster' | 'kind' | 'jobKey' | 'jobName' | 'currentJobId'>): JobRecord {
  return { schemaVersion: RECORD_SCHEMA_VERSION, ...fields, restorePoints: [], savepoints: [], pendingDisposals: [], history: [] };
}

/** Bounds that keep a busy job's record far below the 1 MiB a ConfigMap may hold. */
export const RECORD_LIMITS = {
  history: 50,
  restorePoints: 20,
  savepoints: 1000,
  pendingDisposals: 100,
  messageChars: 2000,
  /** Serialized size the record is pruned down to (the ConfigMap limit is 1 MiB, including metadata). */
  bytes: 800 * 1024,
} as const;

/** @deprecated kept for callers of the old name; use RECORD_LIMITS.history. */
export const HISTORY_LIMIT = RECORD_LIMITS.history;

/**
 * Keeps a record within RECORD_LIMITS, oldest entries first. Savepoints and pending disposals that are forgotten
 * this way are not deleted: the returned notes say how many were forgotten, for the record's history.
 */
export function pruneRecord(record: JobRecord, size: (r: JobRecord) => number = (r) => JSON.stringify(r, null, 2).length): string[] {
  const notes: string[] = [];
  for (const entry of record.history) {
    if (entry.message && entry.message.length > RECORD_LIMITS.messageChars) entry.message = `${entry.message.slice(0, RECORD_LIMITS.messageChars)}…`;
  }
  const trim = <T>(list: T[], limit: number): T[] => (list.length > limit ? list.slice(list.length - limit) : list);
  record.history = trim(record.history, RECORD_LIMITS.history);
  record.restorePoints = trim(record.restorePoints, RECORD_LIMITS.restorePoints);
  const forgetSavepoints = record.savepoints.length - RECORD_LIMITS.savepoints;
  if (forgetSavepoints > 0) {
    record.savepoints = record.savepoints.slice(forgetSavepoints);
    notes.push(`forgot the ${forgetSavepoints} oldest savepoint entries (at most ${RECORD_LIMITS.savepoints} are kept); their files were not deleted`);
  }
  const forgetDisposals = record.pendingDisposals.length - RECORD_LIMITS.pendingDisposals;
  if (forgetDisposals > 0) {
    record.pendingDisposals = record.pendingDisposals.slice(forgetDisposals);
    notes.push(`forgot the ${forgetDisposals} oldest pending disposals (at most ${RECORD_LIMITS.pendingDisposals} are kept); their files were not deleted`);
  }
  // Still too big (very long paths): history first, then the oldest savepoint entries.
  let bytes = size(record);
  while (bytes > RECORD_LIMITS.bytes && record.history.length > 1) bytes -= JSON.stringify(record.history.shift()).length + 1;
  let forgotten = 0;
  while (bytes > RECORD_LIMITS.bytes && record.savepoints.length > 1) {
    bytes -= JSON.stringify(record.savepoints.shift()).length + 1;
    forgotten++;
  }
  if (forgotten > 0) notes.push(`forgot the ${forgotten} oldest savepoint entries to stay under ${Math.round(RECORD_LIMITS.bytes / 1024)} KiB; their files were not deleted`);
  return notes;
}
