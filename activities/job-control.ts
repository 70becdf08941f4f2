import { Context, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { StopOutcome } from '../workflows/upgrade/decide';
import type { ClusterRef } from '../workflows/model/target';
import { connectTarget, type ActivityContext, type ConnectedTarget } from './context';
import { FlinkRestError, firstMeaningfulLine, type FlinkRestClient } from './flink/rest-client';
import type { AsyncOperation } from './flink/schemas';

export interface SavepointRequest {
  cluster: ClusterRef;
  restUrl?: string;
  jobId: string;
  /** Fixed by the workflow: a retried activity asks Flink about the same operation instead of starting another. */
  triggerId: string;
  targetDirectory: string;
  timeoutMs: number;
}

const POLL_MS = 250;
/** Worker and JobManager clocks may disagree a little. */
const CLOCK_SKEW_MS = 60_000;

/** Savepoints and stops, each polled inside one heartbeating activity (small histories, cheap replays). */
export function createJobControlActivities(ctx: ActivityContext) {
  const connect = async (cluster: ClusterRef, restUrl?: string): Promise<ConnectedTarget> => {
    const target = await connectTarget(ctx, cluster, restUrl);
    if ('problem' in target) throw ApplicationFailure.retryable(target.problem, 'TargetUnavailable');
    return target;
  };

  return {
    /** stop-with-savepoint (no drain). Never throws for a failed or slow savepoint: the workflow decides. */
    async stopJobWithSavepoint(request: SavepointRequest): Promise<StopOutcome> {
      const { flink } = await connect(request.cluster, request.restUrl);
      return runSavepointOperation(flink, request, 'stop');
    },

    /** A savepoint of a running job, which keeps running. */
    async triggerSavepoint(request: SavepointRequest): Promise<StopOutcome> {
      const { flink } = await connect(request.cluster, request.restUrl);
      return runSavepointOperation(flink, request, 'savepoint');
    },

    /** Cancels the job (no savepoint) and waits until Flink reports it CANCELED. */
    async cancelJob(request: { cluster: ClusterRef; restUrl?: string; jobId: string; timeoutMs: number }): Promise<void> {
      const { flink } = await connect(request.cluster, request.restUrl);
      const deadline = Date.now() + request.timeoutMs;
      let requested = false;
      for (;;) {
        const state = (await flink.jobDetails(request.jobId)).state;
        if (state === 'CANCELED' || state === 'FAILED' || state === 'FINISHED') return;
        if (!requested && state !== 'CANCELLING') {
          await flink.cancelJob(request.jobId);
          requested = true;
        }
        if (Date.now() > deadline) throw ApplicationFailure.nonRetryable(`job ${request.jobId} still ${state} after cancelling`, 'CancelTimedOut');
        Context.current().heartbeat(state);
        await sleep(POLL_MS);
      }
    },
  };
}

interface SavepointProgress {
  triggerId: string;
  /** When the first attempt started: retries keep the original deadline and recognise the savepoint by it. */
  firstStartedAt: number;
}

async function runSavepointOperation(flink: FlinkRestClient, request: SavepointRequest, kind: 'stop' | 'savepoint'): Promise<StopOutcome> {
  const previous = Context.current().info.heartbeatDetails as SavepointProgress | undefined;
  const startedAt = previous?.triggerId === request.triggerId ? previous.firstStartedAt : Date.now();
  const deadline = startedAt + request.timeoutMs;
  await startOrResume(flink, request, kind);
  for (;;) {
    let status: AsyncOperation | undefined;
    try {
      status = await flink.savepointStatus(request.jobId, request.triggerId);
    } catch (error) {
      if (!(error instanceof FlinkRestError && error.isNotFound)) throw error;
      // Flink forgets operations after rest.async.store-duration (5 min): read the outcome off the job instead.
      // The job's lock keeps other savepoints away, so one triggered since this operation began is this one.
      const fromJob = await savepointFromJobHistory(flink, request.jobId, startedAt - CLOCK_SKEW_MS);
      if (fromJob) return fromJob;
      await startOrResume(flink, request, kind);
    }
    if (status?.status.id === 'COMPLETED') {
      const location = status.operation?.location;
      if (location) return { status: 'completed', location };
      return { status: 'failed', reason: `savepoint failed: ${describeFailure(status)}` };
    }
    if (Date.now() > deadline) {
      return { status: 'timed-out', reason: `savepoint not completed within ${Math.round(request.timeoutMs / 1000)}s` };
    }
    const progress: SavepointProgress = { triggerId: request.triggerId, firstStartedAt: startedAt };
    Context.current().heartbeat(progress);
    await sleep(POLL_MS);
  }
}

/** Starts the operation; a retry with the same trigger id is answered with the existing operation. */
async function startOrResume(flink: FlinkRestClient, request: SavepointRequest, kind: 'stop' | 'savepoint'): Promise<void> {
  try {
    const body = { triggerId: request.triggerId, targetDirectory: request.targetDirectory };
    if (kind === 'stop') await flink.stopWithSavepoint(request.jobId, body);
    else await flink.triggerSavepoint(request.jobId, body);
  } catch (error) {
    // The job may have finished already because an earlier attempt's stop went through: the status tells.
    if (error instanceof FlinkRestError && !error.isUnreachable) return;
    throw error;
  }
}

async function savepointFromJobHistory(flink: FlinkRestClient, jobId: string, notBefore: number): Promise<StopOutcome | undefined> {
  const checkpoints = await flink.checkpoints(jobId).catch(() => undefined);
  const savepoint = checkpoints?.latest.savepoint;
  if (savepoint?.external_path && (savepoint.trigger_timestamp ?? 0) >= notBefore) return { status: 'completed', location: savepoint.external_path };
  return undefined;
}

function describeFailure(status: AsyncOperation): string {
  const cause = status.operation?.['failure-cause'];
  const trace = cause?.['stack-trace'];
  return trace ? firstMeaningfulLine(trace) : (cause?.class ?? 'unknown cause');
}
