import { Context, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { StopOutcome } from '../../workflows/upgrade/decide';
import { FlinkRestError, firstMeaningfulLine, type FlinkRestClient } from '../flink/rest-client';
import type { AsyncOperation } from '../flink/schemas';
import { TERMINAL_JOB_STATES } from '../flink/schemas';
import { heartbeat } from '../heartbeat';
import type { RetireOutcome, SavepointOperation } from './seam';

/**
 * Job control through the Flink REST API, shared by the kinds whose jobs flinkops stops and starts itself (session
 * jobs, application clusters). Each wait is polled inside the calling activity, which heartbeats.
 */
const POLL_MS = 250;
/** A stop is downtime from the moment its savepoint completes: the job is looked at more often. */
const STOP_POLL_MS = 100;
/** Small savepoints complete in tens of milliseconds: the first looks come sooner (50, 100, 200 ms, then steady). */
const FIRST_POLL_MS = 50;
/** Worker and JobManager clocks may disagree a little. */
const CLOCK_SKEW_MS = 60_000;

interface SavepointProgress {
  triggerId: string;
  /** When the first attempt started: retries keep the original deadline and recognise the savepoint by it. */
  firstStartedAt: number;
}

/** A savepoint, or stop-with-savepoint (no drain), polled to its end. Never throws for a failed or slow savepoint. */
export async function runSavepointOperation(flink: FlinkRestClient, request: SavepointOperation, kind: 'stop' | 'savepoint'): Promise<StopOutcome> {
  const previous = Context.current().info.heartbeatDetails as SavepointProgress | undefined;
  const startedAt = previous?.triggerId === request.triggerId ? previous.firstStartedAt : Date.now();
  const progress: SavepointProgress = { triggerId: request.triggerId, firstStartedAt: startedAt };
  heartbeat(progress);
  const deadline = startedAt + request.timeoutMs;
  await startOrResume(flink, request, kind);
  for (let look = 0; ; look++) {
    let status: AsyncOperation | undefined;
    try {
      status = await flink.savepointStatus(request.jobId, request.triggerId);
    } catch (error) {
      if (!(error instanceof FlinkRestError && error.isNotFound)) throw error;
      // Flink forgets operations after rest.async.store-duration (5 min), and a trigger lost on its way never
      // registered one: read the outcome off the job, or trigger again (same id: Flink deduplicates).
      // The job's lock keeps other savepoints away, so one triggered since this operation began is this one.
      const fromJob = await savepointFromJobHistory(flink, request.jobId, startedAt - CLOCK_SKEW_MS);
      if (fromJob) return fromJob;
      await startOrResume(flink, request, kind);
    }
    if (status?.status.id === 'COMPLETED') {
      const location = status.operation?.location;
      if (location) return { status: 'completed', location, durationMs: Date.now() - startedAt };
      return { status: 'failed', reason: `savepoint failed: ${describeFailure(status)}` };
    }
    if (Date.now() > deadline) {
      return { status: 'timed-out', reason: `savepoint not completed within ${Math.round(request.timeoutMs / 1000)}s` };
    }
    heartbeat(progress);
    await sleep(Math.min(kind === 'stop' ? STOP_POLL_MS : POLL_MS, FIRST_POLL_MS * 2 ** look));
  }
}

/** Starts the operation; a retry with the same trigger id is answered with the existing operation. */
async function startOrResume(flink: FlinkRestClient, request: SavepointOperation, kind: 'stop' | 'savepoint'): Promise<void> {
  try {
    const body = { triggerId: request.triggerId, targetDirectory: request.targetDirectory };
    if (kind === 'stop') await flink.stopWithSavepoint(request.jobId, body);
    else await flink.triggerSavepoint(request.jobId, body);
  } catch (error) {
    // The job may have finished already because an earlier attempt's stop went through: the status tells.
    if (error instanceof FlinkRestError && error.status !== undefined && error.status < 500) return;
    throw error;
  }
}

async function savepointFromJobHistory(flink: FlinkRestClient, jobId: string, notBefore: number): Promise<StopOutcome | undefined> {
  const checkpoints = await flink.checkpoints(jobId).catch((error: unknown) => {
    if (error instanceof FlinkRestError && error.isNotFound) return undefined;
    throw error;
  });
  const savepoint = checkpoints?.latest.savepoint;
  if (savepoint?.external_path && (savepoint.trigger_timestamp ?? 0) >= notBefore) return { status: 'completed', location: savepoint.external_path };
  return undefined;
}

function describeFailure(status: AsyncOperation): string {
  const cause = status.operation?.['failure-cause'];
  const trace = cause?.['stack-trace'];
  return trace ? firstMeaningfulLine(trace) : (cause?.class ?? 'unknown cause');
}

/** The job's state, or undefined when the JobManager does not know it (never submitted, or a JobManager lost it). */
export async function jobState(flink: FlinkRestClient, jobId: string): Promise<string | undefined> {
  try {
    return (await flink.jobDetails(jobId)).state;
  } catch (error) {
    if (error instanceof FlinkRestError && error.isNotFound) return undefined;
    throw error;
  }
}

/** Cancels the job (no savepoint) and waits until Flink reports it terminal; returns that state (undefined: unknown). */
export async function cancelAndWait(flink: FlinkRestClient, jobId: string, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let requested = false;
  for (;;) {
    const state = await jobState(flink, jobId);
    if (state === undefined || TERMINAL_JOB_STATES.includes(state as never)) return state;
    if (!requested && state !== 'CANCELLING') {
      try {
        await flink.cancelJob(jobId);
      } catch (error) {
        // 409: the job reached a terminal state (FAILED, FINISHED) between the read and the cancel; look again.
        if (!(error instanceof FlinkRestError && error.status === 409)) throw error;
      }
      requested = true;
    }
    if (Date.now() > deadline) throw ApplicationFailure.nonRetryable(`job ${jobId} still ${state} after cancelling`, 'CancelTimedOut');
    heartbeat(state);
    await sleep(POLL_MS);
  }
}

/** A job on a JobManager that answers: gone once terminal or unknown; cancelled and confirmed otherwise. */
export async function retireJob(flink: FlinkRestClient, jobId: string, timeoutMs: number): Promise<RetireOutcome> {
  const state = await jobState(flink, jobId);
  if (state === undefined) return { gone: true, detail: `job ${jobId} is not known to the JobManager` };
  if (TERMINAL_JOB_STATES.includes(state as never)) return { gone: true, detail: `job ${jobId} is ${state}` };
  let ended: string | undefined;
  try {
    ended = await cancelAndWait(flink, jobId, timeoutMs);
  } catch (error) {
    // Only a job that did not stop in time is an answer. A request that failed on the way (a 5xx, a reset) says
    // nothing about the job: the attempt fails and the activity retries, instead of sending the rollback to a human.
    if (!(error instanceof ApplicationFailure && error.type === 'CancelTimedOut')) throw error;
    const now = await jobState(flink, jobId).catch(() => 'unknown');
    return { gone: false, detail: `job ${jobId} could not be cancelled (${(error as Error).message}); it is ${now ?? 'gone'}` };
  }
  return { gone: true, detail: `job ${jobId} ${ended ?? 'unknown to the JobManager'} after cancelling (was ${state})` };
}

/** A cluster's savepoint and checkpoint directories, from its JobManager's configuration. */
export async function storageDirectoriesOf(flink: FlinkRestClient): Promise<{ savepointDir?: string; checkpointDir?: string }> {
  const config = await flink.jobManagerConfig();
  return {
    savepointDir: config['execution.checkpointing.savepoint-dir'] ?? config['state.savepoints.dir'],
    checkpointDir: config['execution.checkpointing.dir'] ?? config['state.checkpoints.dir'],
  };
}
