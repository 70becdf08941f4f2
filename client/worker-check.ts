import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { CliError, EXIT } from './exit-codes';

/**
 * A worker polls for workflow and activity tasks continuously, each poll lasting up to about a minute, so Temporal
 * has seen a live worker's poll within this long. Pollers of a stopped worker stay listed for minutes longer.
 */
const RECENT_POLL_MS = 90_000;

/**
 * Fails fast, with what to do, when no flinkops worker polls the task queue: a workflow started there would wait
 * forever and the CLI with it.
 */
export async function requireWorker(client: Client, namespace: string, taskQueue: string, address: string): Promise<void> {
  const types = [temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY];
  for (const taskQueueType of types) {
    const described = await client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue }, taskQueueType });
    const now = Date.now();
    const live = (described.pollers ?? []).filter((poller) => now - timestampMs(poller.lastAccessTime) < RECENT_POLL_MS);
    if (live.length === 0) {
      const kind = taskQueueType === types[0] ? 'workflow' : 'activity';
      throw new CliError(
        `no flinkops worker is polling task queue "${taskQueue}" in namespace ${namespace} on ${address} (no ${kind} poller in the last ${RECENT_POLL_MS / 1000}s): nothing was started`,
        EXIT.unavailable,
        'start the worker (or check its logs), or point the CLI at the worker\'s task queue with --task-queue / FLINKOPS_TASK_QUEUE',
      );
    }
  }
}

function timestampMs(time: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  if (!time) return 0;
  const seconds = Number(time.seconds ?? 0);
  return seconds * 1000 + Math.floor((time.nanos ?? 0) / 1e6);
}
