import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';

/**
 * Named activity option profiles. Failures Flink or Kubernetes will keep giving (a rejected program, a failed
 * rollout) are thrown as non-retryable by the activities themselves; everything else is retried.
 */
export const QUICK: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '15 seconds', maximumAttempts: 8 },
};

/** Long polls (savepoint, rollout, verification) live inside one activity that heartbeats. */
export function polling(timeoutMs: number): ActivityOptions {
  return {
    startToCloseTimeout: timeoutMs + 120_000,
    heartbeatTimeout: '20 seconds',
    retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 10 },
  };
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
