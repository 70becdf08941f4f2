import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { CliError, EXIT } from './exit-codes';

/**
 * A worker polls for workflow and activity tasks continuously, each poll lasting up to about a minute, so Temporal
 * has seen a live worker's poll within this long (with room for clock skew between the CLI and the server). Pollers
 * of a stopped worker stay listed for up to five minutes.
 */
const RECENT_POLL_MS = 120_000;

/**
 * Fails fast, with what to do, when no flinkops worker polls the task queue: a workflow started there would wait
 * forever and the CLI with it.
 */
export async function requireWorker(client: Client, namespace: string, taskQueue: string, address: string, graceMs = 10_000): Promise<void> {
  const types = [temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY];
  const deadline = Date.now() + graceMs;
  for (const taskQueueType of types) {
    // A worker that was just started may not have polled yet: a few seconds' grace, not minutes.
    while (!(await polled(client, namespace, taskQueue, taskQueueType)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 500));
    if (!(await polled(client, namespace, taskQueue, taskQueueType))) {
      const kind = taskQueueType === types[0] ? 'workflow' : 'activity';
      throw new CliError(
        `no flinkops worker is polling task queue "${taskQueue}" in namespace ${namespace} on ${address} (no ${kind} poller in the last ${RECENT_POLL_MS / 1000}s): nothing was started`,
        EXIT.unavailable,
        'start the worker (or check its logs), or point the CLI at the worker\'s task queue with --task-queue / FLINKOPS_TASK_QUEUE',
      );
    }
  }
}

async function polled(client: Client, namespace: string, taskQueue: string, taskQueueType: temporal.api.enums.v1.TaskQueueType): Promise<boolean> {
  const described = await client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue }, taskQueueType });
  const now = Date.now();
  return (described.pollers ?? []).some((poller) => now - timestampMs(poller.lastAccessTime) < RECENT_POLL_MS);
}

function timestampMs(time: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  if (!time) return 0;
  const seconds = Number(time.seconds ?? 0);
  return seconds * 1000 + Math.floor((time.nanos ?? 0) / 1e6);
}
