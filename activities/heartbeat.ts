import { Context } from '@temporalio/activity';

/**
 * Heartbeats of flinkops' activities. Every activity with a heartbeat timeout is kept alive by the worker's activity
 * interceptor (a heartbeat every second or two), so a worker that dies is noticed within seconds, not after the
 * activity's start-to-close timeout. Activities that carry progress in their heartbeat details (a savepoint
 * operation's trigger id and start) report it here, and the interceptor's keep-alive heartbeats repeat the latest
 * details instead of erasing them.
 */
const latest = new WeakMap<Context, { details: unknown }>();

export function heartbeat(details?: unknown): void {
  const context = Context.current();
  latest.set(context, { details });
  context.heartbeat(details);
}

/** What a keep-alive heartbeat sends: the activity's own latest details, or the previous attempt's until then. */
export function keepAliveDetails(context: Context): unknown {
  return latest.has(context) ? latest.get(context)!.details : (context.info.heartbeatDetails as unknown);
}
