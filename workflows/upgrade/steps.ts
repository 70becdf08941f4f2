import { isCancellation } from '@temporalio/workflow';
import type { RetireOutcome } from '../../activities/targets/seam';
import type { PreparedVersion } from '../../activities/targets/seam';
import type { VerifyResult } from '../../activities/verify';
import { deploying, failureMessage, polling, quickActivities, withSummary } from '../activity-profiles';
import type { JobSnapshot } from '../model/snapshot';
import { describeVersion, type ClusterRef, type VersionSpec } from '../model/target';
import type { StopOutcome } from './decide';

/**
 * The per-job steps of an upgrade, shared by job upgrades and session-cluster upgrades: stop with a savepoint, deploy
 * a version from a restore point, verify it, make sure a job is gone. Each is one activity (a long one heartbeats),
 * called with a one-line summary for the Temporal UI. None of them knows which kind of target it works on.
 */
export interface StepTarget {
  cluster: ClusterRef;
  restUrl?: string;
}

export interface StopStep {
  jobId: string;
  triggerId: string;
  targetDirectory: string;
  timeoutMs: number;
}

export function stopWithSavepoint(target: StepTarget, operation: StopStep): Promise<StopOutcome> {
  return withSummary('stopJobWithSavepoint', polling(operation.timeoutMs), `stop ${operation.jobId} with savepoint`, { ...target, ...operation });
}

/**
 * The stop as a verdict that never throws (but for cancellation): an activity that fails altogether (Flink not
 * answering for minutes) is not a verdict, so its outcome is "timed out" and a second call with the same trigger id, or
 * an observation of the job, decides.
 */
export async function stopWithSavepointOutcome(target: StepTarget, operation: StopStep): Promise<StopOutcome> {
  try {
    return await stopWithSavepoint(target, operation);
  } catch (error) {
    if (isCancellation(error)) throw error;
    return { status: 'timed-out', reason: `the stop could not be followed: ${failureMessage(error)}` };
  }
}

export function cancelJob(target: StepTarget, jobId: string, timeoutMs: number, why: string): Promise<void> {
  return withSummary('cancelJob', polling(timeoutMs), `cancel ${jobId} (${why})`, { ...target, jobId, timeoutMs });
}

export function observeJob(target: StepTarget, jobId: string): Promise<JobSnapshot | undefined> {
  return quickActivities.observeJob({ ...target, jobId });
}

/** Makes sure `jobId` is gone before another version starts from the same savepoint. */
export function retireJob(target: StepTarget, jobId: string, timeoutMs: number): Promise<RetireOutcome> {
  return withSummary('retireDeployment', polling(timeoutMs), `make sure job ${jobId} is gone`, { ...target, jobId, timeoutMs });
}

export interface DeployStep {
  version: VersionSpec;
  prepared?: PreparedVersion;
  restore: { path?: string; allowNonRestoredState: boolean };
  jobId: string;
  timeoutMs: number;
}

/**
 * Hands the version to Flink (or Kubernetes, or the operator); returns the id the job runs under (the step's own,
 * unless the target chose one), or why that failed. Cancellation propagates.
 */
export async function deployVersion(target: StepTarget, step: DeployStep): Promise<{ jobId: string } | { failure: string }> {
  try {
    const deployed = await withSummary('deployVersion', deploying(step.timeoutMs), `deploy ${describeVersion(step.version)}`, { ...target, ...step });
    return { jobId: deployed?.jobId ?? step.jobId };
  } catch (error) {
    if (isCancellation(error)) throw error;
    return { failure: `deploying ${describeVersion(step.version)} failed: ${failureMessage(error)}` };
  }
}

export interface VerifyStep {
  jobId: string;
  expectedRestorePath?: string;
  checkpointingEnabled: boolean;
  stabilityWindowMs: number;
  timeoutMs: number;
}

/** "It came back with its state"; an activity that fails altogether counts as not verified. Cancellation propagates. */
export async function verifyJob(target: StepTarget, step: VerifyStep): Promise<VerifyResult> {
  try {
    return await withSummary('verifyDeployment', polling(step.timeoutMs), `verify job ${step.jobId}`, { ...target, ...step });
  } catch (error) {
    if (isCancellation(error)) throw error;
    return { verified: false, reason: `verification could not observe the job: ${failureMessage(error)}` };
  }
}

export type RestoreOutcome =
  | { restored: true; jobId: string; verification: Extract<VerifyResult, { verified: true }> }
  | { restored: false; jobId: string; failure: string };

/**
 * A version started from a restore point with a fixed job id, then verified: the job's outcome, never a throw (but
 * for cancellation). `jobId` is the id the job runs (or would run) under.
 */
export async function deployAndVerify(target: StepTarget, step: DeployStep, verify: Omit<VerifyStep, 'jobId' | 'expectedRestorePath'>, onDeployed?: (jobId: string) => void): Promise<RestoreOutcome> {
  const deployed = await deployVersion(target, step);
  if ('failure' in deployed) return { restored: false, jobId: step.jobId, failure: deployed.failure };
  onDeployed?.(deployed.jobId);
  const result = await verifyJob(target, { ...verify, jobId: deployed.jobId, expectedRestorePath: step.restore.path });
  if (result.verified) return { restored: true, jobId: deployed.jobId, verification: result };
  return { restored: false, jobId: deployed.jobId, failure: `verification of ${describeVersion(step.version)} failed: ${result.reason}` };
}
