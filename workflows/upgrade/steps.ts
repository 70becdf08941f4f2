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

export function stopWithSavepoint(target: StepTarget, operation: { jobId: string; triggerId: string; targetDirectory: string; timeoutMs: number }): Promise<StopOutcome> {
  return withSummary('stopJobWithSavepoint', polling(operation.timeoutMs), `stop ${operation.jobId} with savepoint`, { ...target, ...operation });
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
