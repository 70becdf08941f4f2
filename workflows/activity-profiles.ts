import { ActivityCancellationType, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_FAILURE_TYPES } from './model/failures';

/**
 * Named activity option profiles. Every activity with a heartbeat timeout is kept alive by the worker (a heartbeat
 * every second or two), so a worker that dies is noticed within the heartbeat timeout and the activity resumes on
 * another worker within seconds. Failures that retrying cannot fix (workflows/model/failures.ts) are non-retryable.
 */
const RETRY = { nonRetryableErrorTypes: NON_RETRYABLE_FAILURE_TYPES };

/** Short reads and writes: a few seconds normally; bounded in all, so a broken dependency fails the step in minutes. */
export const QUICK: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '5 seconds',
  scheduleToCloseTimeout: '5 minutes',
  retry: { ...RETRY, initialInterval: '1 second', maximumInterval: '15 seconds', maximumAttempts: 10 },
};

/** Long polls (savepoint, rollout, verification) live inside one activity; retries keep to an overall bound too. */
export function polling(timeoutMs: number): ActivityOptions {
  return {
    startToCloseTimeout: timeoutMs + 120_000,
    heartbeatTimeout: '10 seconds',
    scheduleToCloseTimeout: 2 * timeoutMs + 300_000,
    retry: { ...RETRY, initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 10 },
  };
}

/**
 * A step that submits or deploys something: when the workflow is cancelled, it waits until the activity has
 * really stopped, so compensation never races a submission still in flight.
 */
export function deploying(timeoutMs: number): ActivityOptions {
  return { ...polling(timeoutMs), cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED };
}

export const quickActivities = proxyActivities<Activities>(QUICK);

/** An activity call with a one-line summary for the Temporal UI. */
export function withSummary<K extends keyof Activities>(
  name: K,
  options: ActivityOptions,
  summary: string,
  ...args: Parameters<Activities[K]>
): Promise<Awaited<ReturnType<Activities[K]>>> {
  const proxy = proxyActivities<Activities>(options)[name] as unknown as {
    executeWithOptions(o: ActivityOptions, a: Parameters<Activities[K]>): Promise<Awaited<ReturnType<Activities[K]>>>;
  };
  return proxy.executeWithOptions({ ...options, summary: summary.slice(0, 200) }, args);
}

/** The message of a failed activity or child workflow: its cause's (the activity's own error), not the wrapper's. */
export function failureMessage(error: unknown): string {
  const failure = error as { cause?: { message?: string }; message?: string };
  return failure.cause?.message ?? failure.message ?? String(error);
}

/** The failure type of a failed activity or child workflow (its cause's), if it has one. */
export function failureType(error: unknown): string | undefined {
  for (let cause = error as { cause?: unknown; type?: string } | undefined; cause; cause = cause.cause as typeof cause) {
    if (cause.type) return cause.type;
  }
  return undefined;
}
