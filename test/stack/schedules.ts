import type { Client } from '@temporalio/client';
import { waitFor } from './wait';

/**
 * The result of the newest run a schedule started after `since` (schedules append the start time to the workflow
 * id, so the run is found through the schedule's recent actions).
 */
export async function newestScheduledRunResult<T>(client: Client, scheduleId: string, since: Date, timeoutMs = 600_000): Promise<T> {
  const workflowId = await waitFor(
    async () => {
      const description = await client.schedule.getHandle(scheduleId).describe();
      const action = description.info.recentActions.filter((a) => a.takenAt >= since).at(-1);
      return action?.action.workflow.workflowId;
    },
    { timeoutMs: 60_000, description: `a run of schedule ${scheduleId}` },
  );
  const handle = client.workflow.getHandle(workflowId);
  return Promise.race([
    handle.result() as Promise<T>,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`run ${workflowId} did not finish within ${timeoutMs} ms`)), timeoutMs).unref()),
  ]);
}
