import { sleep } from '@temporalio/activity';
import { heartbeat } from './heartbeat';

/**
 * Test-only pauses at chosen points of activities, so end-to-end tests can kill the worker at exactly that
 * moment (e.g. after a job was submitted but before the activity reported it). Configured through
 * FLINKOPS_TEST_FAILPOINTS="redeploy.afterSubmit=15000,..." (milliseconds); unset in production.
 */
export type FailpointName = 'redeploy.afterSubmit' | 'redeploy.afterPatch';

export function failpointDelays(env: NodeJS.ProcessEnv = process.env): Partial<Record<FailpointName, number>> {
  const delays: Partial<Record<FailpointName, number>> = {};
  for (const entry of (env.FLINKOPS_TEST_FAILPOINTS ?? '').split(',').filter(Boolean)) {
    const [name, ms] = entry.split('=');
    if (name && ms && Number(ms) > 0) delays[name as FailpointName] = Number(ms);
  }
  return delays;
}

/** Pauses (heartbeating, so only a dead worker times the activity out) when the failpoint is set. */
export async function failpoint(delays: Partial<Record<FailpointName, number>>, name: FailpointName): Promise<void> {
  const delay = delays[name];
  if (!delay) return;
  const until = Date.now() + delay;
  while (Date.now() < until) {
    heartbeat(`failpoint ${name}`);
    await sleep(Math.min(1_000, until - Date.now()));
  }
}
