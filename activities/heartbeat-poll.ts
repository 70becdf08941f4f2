import { Context, sleep } from '@temporalio/activity';
import { apiErrorMessage } from './kube/clients';

export interface PollStep<R> {
  /** Set when waiting is over (for better or worse). */
  done?: R;
  /** What the last look saw, for heartbeats and the timeout message. */
  detail: string;
}

/**
 * Looks every `intervalMs` until `probe` says it is done or `timeoutMs` has passed, inside one activity: heartbeats
 * carry the latest detail, also while one look hangs longer than the heartbeat timeout. A probe that throws counts
 * as "not yet" (a JobManager restarting, an API server hiccup).
 */
export async function pollWithHeartbeats<R>(timeoutMs: number, intervalMs: number, probe: () => Promise<PollStep<R>>): Promise<PollStep<R> & { waitedMs: number }> {
  const startedAt = Date.now();
  const activity = Context.current();
  let detail = 'not observed yet';
  const heartbeats = setInterval(() => activity.heartbeat(detail), 5_000);
  try {
    for (;;) {
      try {
        const step = await probe();
        detail = step.detail;
        if (step.done !== undefined) return { ...step, waitedMs: Date.now() - startedAt };
      } catch (error) {
        detail = apiErrorMessage(error);
      }
      if (Date.now() - startedAt > timeoutMs) return { detail, waitedMs: Date.now() - startedAt };
      activity.heartbeat(detail);
      await sleep(intervalMs);
    }
  } finally {
    clearInterval(heartbeats);
  }
}
