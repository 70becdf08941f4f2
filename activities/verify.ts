import { sleep } from '@temporalio/activity';
import { formatDuration } from '../workflows/model/durations';
import { sameLocation } from '../workflows/model/locations';
import type { JobSnapshot } from '../workflows/model/snapshot';
import type { ClusterRef } from '../workflows/model/target';
import { requireTarget, type ActivityContext } from './context';
import { describeError } from './failures';
import { FlinkRestError, firstMeaningfulLine } from './flink/rest-client';
import type { ExceptionHistory } from './flink/schemas';
import type { FlinkTarget } from './targets/seam';
import { heartbeat } from './heartbeat';

export interface VerifyRequest {
  cluster: ClusterRef;
  restUrl?: string;
  jobId: string;
  /** The savepoint or checkpoint the job must report it restored from; absent for a stateless start. */
  expectedRestorePath?: string;
  checkpointingEnabled: boolean;
  stabilityWindowMs: number;
  timeoutMs: number;
}

export type VerifyResult =
  | { verified: true; summary: string; job: JobSnapshot; runningSince: number }
  | { verified: false; reason: string; job?: JobSnapshot };

const POLL_MS = 1_000;
/**
 * Flink's REST API caches checkpoint statistics (rest.cache.checkpoint-statistics.timeout, web.refresh-interval:
 * 3 s), so the first answers after a start may predate the restore. Only after this long with all tasks running does
 * "no restore information" count as an answer.
 */
export const RESTORE_INFO_GRACE_MS = 10_000;

/**
 * "It came back with its state", not just "RUNNING": all tasks running, restored from exactly the expected
 * savepoint, a checkpoint completed after the restore, and no restart during the stability window. An observation
 * that failed is "unknown, look again", never a verdict.
 */
export function createVerifyActivities(ctx: ActivityContext) {
  return {
    async verifyDeployment(request: VerifyRequest): Promise<VerifyResult> {
      const deadline = Date.now() + request.timeoutMs;
      let allRunningSince: number | undefined;
      let restartsAtStart: number | undefined;
      let last = 'the job has not appeared yet';
      let failedRead: string | undefined;
      let lastJob: JobSnapshot | undefined;
      for (;;) {
        let job: JobSnapshot | undefined;
        try {
          job = await (await requireTarget(ctx, request.cluster, request.restUrl)).jobFacts(request.jobId);
        } catch (error) {
          // A JobManager that is (re)starting, a job not submitted yet, an answer lost on the way: look again.
          if (error instanceof FlinkRestError && error.isNotFound) last = `job ${request.jobId} not found (yet)`;
          else failedRead = describeError(error);
        }
        if (job) {
          failedRead = undefined;
          lastJob = job;
          const verdict = judge(job, request, { allRunningSince, restartsAtStart, nowMs: Date.now() });
          if (verdict.failed) return { verified: false, reason: await explained(ctx, request, verdict.failed), job };
          if (verdict.allRunning) {
            allRunningSince ??= Date.now();
            restartsAtStart ??= job.numRestarts ?? 0;
          } else {
            allRunningSince = undefined;
          }
          last = verdict.progress;
          if (verdict.done && allRunningSince !== undefined && Date.now() - allRunningSince >= request.stabilityWindowMs) {
            return { verified: true, summary: verdict.progress, job, runningSince: allRunningSince };
          }
        }
        if (Date.now() > deadline) return { verified: false, reason: await explained(ctx, request, notVerifiedReason(request.timeoutMs, last, failedRead)), job: lastJob };
        heartbeat(failedRead ?? last);
        await sleep(POLL_MS);
      }
    },
  };
}

/** Why verification ran out of time: what the last successful look showed, and a read that failed after it. Pure. */
export function notVerifiedReason(timeoutMs: number, progress: string, failedRead?: string): string {
  return `not verified within ${formatDuration(timeoutMs)}: ${progress}${failedRead ? ` (the last look failed: ${failedRead})` : ''}`;
}

interface Verdict {
  failed?: string;
  allRunning: boolean;
  done: boolean;
  progress: string;
}

/** One successful observation of the job, judged: a failure (a verdict), progress, or done. Pure. */
export function judge(job: JobSnapshot, request: Pick<VerifyRequest, 'expectedRestorePath' | 'checkpointingEnabled'>, seen: { allRunningSince?: number; restartsAtStart?: number; nowMs: number }): Verdict {
  if (job.state === 'FAILED' || job.state === 'CANCELED' || job.state === 'FINISHED' || job.state === 'SUSPENDED') {
    return { failed: `job ${job.id} is ${job.state}`, allRunning: false, done: false, progress: '' };
  }
  if (seen.restartsAtStart !== undefined && job.numRestarts !== undefined && job.numRestarts > seen.restartsAtStart) {
    return { failed: `job ${job.id} restarted ${job.numRestarts - seen.restartsAtStart} time(s) during the stability window`, allRunning: false, done: false, progress: '' };
  }
  if (seen.allRunningSince !== undefined && job.state !== 'RUNNING') {
    return { failed: `job ${job.id} left RUNNING (now ${job.state}) during the stability window`, allRunning: false, done: false, progress: '' };
  }
  const allRunning = job.state === 'RUNNING' && job.tasks.total > 0 && job.tasks.running === job.tasks.total;
  if (!allRunning) return { allRunning, done: false, progress: `job ${job.id} is ${job.state}, ${job.tasks.running}/${job.tasks.total} tasks running` };

  if (request.expectedRestorePath) {
    if (!job.restoredFrom) {
      const runningFor = seen.allRunningSince === undefined ? 0 : seen.nowMs - seen.allRunningSince;
      if (runningFor < RESTORE_INFO_GRACE_MS) return { allRunning, done: false, progress: `all ${job.tasks.total} tasks running; no restore information yet` };
      return { failed: `job ${job.id} runs but did not restore any savepoint (expected ${request.expectedRestorePath})`, allRunning, done: false, progress: '' };
    }
    if (!sameLocation(job.restoredFrom.path, request.expectedRestorePath)) {
      return { failed: `job ${job.id} restored from ${job.restoredFrom.path}, not from ${request.expectedRestorePath}`, allRunning, done: false, progress: '' };
    }
  }
  if (request.checkpointingEnabled) {
    const after = job.restoredFrom?.checkpointId ?? -1;
    if (!job.latestCheckpoint || job.latestCheckpoint.id <= after) {
      return { allRunning, done: false, progress: `all ${job.tasks.total} tasks running; waiting for a checkpoint after the restore` };
    }
  }
  const restoredText = job.restoredFrom ? `restored from ${job.restoredFrom.path}` : 'started without state';
  const checkpointText = job.latestCheckpoint ? `, checkpoint ${job.latestCheckpoint.id} completed` : '';
  return { allRunning, done: true, progress: `all ${job.tasks.total} tasks running, ${restoredText}${checkpointText}` };
}

/** The reason, with the cause Flink recorded for the job's newest failure (a restore that failed says why). */
async function explained(ctx: ActivityContext, request: VerifyRequest, reason: string): Promise<string> {
  let target: FlinkTarget;
  try {
    target = await requireTarget(ctx, request.cluster, request.restUrl);
    return withFailureCause(reason, await target.flink.exceptions(request.jobId));
  } catch {
    return reason; // the cause is a courtesy: without it the verdict stands
  }
}

/** Adds the root cause of the newest exception in a job's exception history to a reason. Pure. */
export function withFailureCause(reason: string, exceptions: ExceptionHistory | undefined): string {
  const newest = [...(exceptions?.exceptionHistory?.entries ?? [])].sort((a, b) => b.timestamp - a.timestamp)[0];
  const cause = newest ? firstMeaningfulLine(newest.stacktrace) : exceptions?.['root-exception'] ? firstMeaningfulLine(exceptions['root-exception']) : undefined;
  return cause ? `${reason} (Flink: ${cause})` : reason;
}
