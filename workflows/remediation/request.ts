import { z } from 'zod';
import { ClusterRefSchema } from '../model/target';
import { describeIssues, DurationSchema } from '../model/validation';

export const DEFAULT_LIMITS = {
  maxRemediationsPerHour: 3,
  podDeletionWindow: 1_800_000,
  haRecoveryTimeout: 120_000,
  jobManagerTimeout: 180_000,
  verifyTimeout: 180_000,
  stabilityWindow: 10_000,
  escalationRepeat: 3_600_000,
  lostJobRecovery: 'restart-taskmanagers',
  taskManagerRestartWindow: 1_800_000,
} as const;

/**
 * How a job lost with its JobManager (no HA) comes back when the cluster's TaskManagers are still tied to the JobManager
 * that is gone (they register with the new one only once their heartbeat to the old one times out, heartbeat.timeout,
 * 50 s by default): `restart-taskmanagers` restarts those TaskManager pods (only while the new JobManager runs no job,
 * so nothing running is touched) and resubmits as soon as fresh ones registered; `wait-for-taskmanagers` waits for the
 * heartbeat timeout.
 */
export const LOST_JOB_RECOVERY = ['restart-taskmanagers', 'wait-for-taskmanagers'] as const;
export type LostJobRecovery = (typeof LOST_JOB_RECOVERY)[number];

/** How far a remediation may go, and how long it waits. Durations accept "30s", "5m", ... */
export const RemediationLimitsSchema = z.object({
  /** Runs that act (scale, delete a pod, resubmit) per cluster in any hour; beyond it the run escalates. */
  maxRemediationsPerHour: z.number().int().min(1, 'must allow at least 1').max(60).default(DEFAULT_LIMITS.maxRemediationsPerHour),
  /** A JobManager pod is deleted at most once in this window; a second need escalates. */
  podDeletionWindow: DurationSchema.default(DEFAULT_LIMITS.podDeletionWindow),
  /** With HA, how long Flink gets to recover by itself before flinkops takes any destructive action. */
  haRecoveryTimeout: DurationSchema.default(DEFAULT_LIMITS.haRecoveryTimeout),
  /** How long a JobManager may take to become ready after a scale or pod deletion (or while starting). */
  jobManagerTimeout: DurationSchema.default(DEFAULT_LIMITS.jobManagerTimeout),
  /** How long a resubmitted or recovering job may take to prove it runs with its state. */
  verifyTimeout: DurationSchema.default(DEFAULT_LIMITS.verifyTimeout),
  /** How long a job must run without restarting to count as recovered. */
  stabilityWindow: DurationSchema.default(DEFAULT_LIMITS.stabilityWindow),
  /** The same escalation is notified (webhook) again only after this long. */
  escalationRepeat: DurationSchema.default(DEFAULT_LIMITS.escalationRepeat),
  /** Lost jobs without HA: restart the TaskManagers still tied to the lost JobManager, or wait for their heartbeat timeout. */
  lostJobRecovery: z.enum(LOST_JOB_RECOVERY).default(DEFAULT_LIMITS.lostJobRecovery),
  /** A cluster's TaskManagers are restarted at most once in this window; within it, flinkops waits for them instead. */
  taskManagerRestartWindow: DurationSchema.default(DEFAULT_LIMITS.taskManagerRestartWindow),
});
export type RemediationLimits = z.output<typeof RemediationLimitsSchema>;

/** One remediation run: `flinkops doctor` (diagnose), `flinkops remediate`, or a watch schedule's run. */
export const RemediationRequestSchema = z.object({
  cluster: ClusterRefSchema,
  /** Explicit Flink REST endpoint, for setups where the cluster's Service is not reachable from the worker. */
  restUrl: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
  /** `diagnose` only observes and reports: no lock, no records, no events, no writes at all. */
  mode: z.enum(['diagnose', 'remediate']).default('remediate'),
  /** Remediate mode: diagnose and print the plan, change nothing. */
  dryRun: z.boolean().default(false),
  trigger: z.enum(['manual', 'watch']).default('manual'),
  limits: RemediationLimitsSchema.default(RemediationLimitsSchema.parse({})),
});
export type RemediationRequestInput = z.input<typeof RemediationRequestSchema>;
export type RemediationRequest = z.output<typeof RemediationRequestSchema>;

export function parseRemediationRequest(input: unknown): { ok: true; request: RemediationRequest } | { ok: false; problem: string } {
  const parsed = RemediationRequestSchema.safeParse(input);
  return parsed.success ? { ok: true, request: parsed.data } : { ok: false, problem: describeIssues(parsed.error) };
}
