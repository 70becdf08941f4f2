import type { JobSnapshot } from '../../workflows/model/snapshot';
import { FlinkRestError, type FlinkRestClient } from './rest-client';

/**
 * One job as flinkops decides on it: state, tasks, checkpointing, restore origin and restarts. Every part must be
 * read: a failed read throws (the caller looks again), it is never taken for "no checkpoints" or "no restore".
 */
export async function snapshotJob(client: FlinkRestClient, jobId: string): Promise<JobSnapshot> {
  const [details, checkpointConfig, checkpoints, metrics] = await Promise.all([
    client.jobDetails(jobId),
    client.checkpointConfig(jobId),
    client.checkpoints(jobId).catch((error: unknown) => {
      // A job without checkpointing has no statistics: that is an answer. Anything else is not.
      if (error instanceof FlinkRestError && error.isNotFound && error.flinkErrors.some((e) => /not (been )?enabled/i.test(e))) return undefined;
      throw error;
    }),
    client.jobMetrics(jobId, ['numRestarts']),
  ]);
  const tasks = details.vertices.reduce(
    (sum, vertex) => ({ total: sum.total + vertex.parallelism, running: sum.running + (vertex.tasks.RUNNING ?? 0) }),
    { total: 0, running: 0 },
  );
  const completed = checkpoints?.latest.completed;
  const restored = checkpoints?.latest.restored;
  const restarts = metrics.numRestarts !== undefined ? Number(metrics.numRestarts) : undefined;
  return {
    id: details.jid,
    name: details.name,
    state: details.state,
    startTime: details['start-time'],
    tasks,
    checkpointing: checkpointConfig
      ? { intervalMs: checkpointConfig.interval, timeoutMs: checkpointConfig.timeout, retainedOnCancellation: checkpointConfig.externalization?.delete_on_cancellation === false }
      : undefined,
    latestCheckpoint:
      completed?.external_path && completed.latest_ack_timestamp
        ? { id: completed.id, path: completed.external_path, completedAt: completed.latest_ack_timestamp }
        : undefined,
    restoredFrom:
      restored?.external_path !== undefined
        ? { path: restored.external_path, isSavepoint: restored.is_savepoint ?? false, restoredAt: restored.restore_timestamp ?? 0, checkpointId: restored.id }
        : undefined,
    completedCheckpoints: checkpoints?.counts.completed ?? 0,
    numRestarts: Number.isFinite(restarts) ? restarts : undefined,
  };
}
