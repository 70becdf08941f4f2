import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Context, sleep } from '@temporalio/activity';
import { localPath } from '../workflows/model/locations';
import type { JobRecord, SavepointEntry } from '../workflows/model/record';
import type { ClusterRef } from '../workflows/model/target';
import { connectTarget, jobRecords, type ActivityContext } from './context';
import { firstMeaningfulLine, type FlinkRestClient } from './flink/rest-client';
import type { RecordIdentity } from './records';

export interface DisposalResult {
  disposed: { path: string; via: 'flink' | 'local-delete' | 'already-gone' }[];
  failed: { path: string; error: string }[];
}

/** Recording savepoints in the job's record, measuring them, and disposing of those retention lets go. */
export function createSavepointActivities(ctx: ActivityContext) {
  const store = () => jobRecords(ctx);
  const init = (identity: RecordIdentity) => ({ kind: identity.kind, jobKey: identity.jobKey, jobName: identity.jobName, currentJobId: identity.jobId });

  return {
    /** Adds a completed savepoint to the job's record, with its size where the worker can see it (local file systems). */
    async recordSavepoint(request: { identity: RecordIdentity; entry: SavepointEntry }): Promise<{ record: JobRecord; entry: SavepointEntry }> {
      const dir = localPath(request.entry.path);
      const sizeBytes = dir ? await directorySize(dir).catch(() => undefined) : undefined;
      const entry = sizeBytes === undefined ? request.entry : { ...request.entry, sizeBytes };
      const record = await store().update(request.identity.cluster, init(request.identity), (r) => {
        if (!r.savepoints.some((s) => s.path === entry.path)) r.savepoints.push(entry);
      });
      return { record, entry };
    },

    /**
     * Disposes of savepoints through Flink's savepoint-disposal API (any file system Flink can reach), deleting
     * local directories directly when Flink cannot. Never throws for one savepoint: failures are returned.
     */
    async disposeSavepoints(request: { cluster: ClusterRef; restUrl?: string; paths: string[] }): Promise<DisposalResult> {
      const result: DisposalResult = { disposed: [], failed: [] };
      const target = await connectTarget(ctx, request.cluster, request.restUrl);
      for (const path of request.paths) {
        Context.current().heartbeat(path);
        const local = localPath(path);
        if (local && !(await exists(local))) {
          result.disposed.push({ path, via: 'already-gone' });
          continue;
        }
        let flinkError = 'cluster not reachable';
        if (!('problem' in target)) {
          try {
            await disposeThroughFlink(target.flink, path);
            result.disposed.push({ path, via: 'flink' });
            continue;
          } catch (error) {
            flinkError = (error as Error).message;
          }
        }
        if (local) {
          try {
            await rm(local, { recursive: true, force: true });
            result.disposed.push({ path, via: 'local-delete' });
            continue;
          } catch (error) {
            flinkError = `${flinkError}; deleting ${local} failed too: ${(error as Error).message}`;
          }
        }
        result.failed.push({ path, error: flinkError });
      }
      return result;
    },

    /** Drops disposed savepoints from the record; failed ones wait in pendingDisposals for the next run. */
    async recordDisposals(request: { identity: RecordIdentity; result: DisposalResult }): Promise<JobRecord> {
      return store().update(request.identity.cluster, init(request.identity), (record) => {
        const disposed = new Set(request.result.disposed.map((d) => d.path));
        const failed = new Map(request.result.failed.map((f) => [f.path, f.error]));
        record.savepoints = record.savepoints.filter((s) => !disposed.has(s.path) && !failed.has(s.path));
        const pending = record.pendingDisposals.filter((p) => !disposed.has(p.path) && !failed.has(p.path));
        for (const [path, error] of failed) {
          const previous = record.pendingDisposals.find((p) => p.path === path);
          pending.push({ path, error, attempts: (previous?.attempts ?? 0) + 1 });
        }
        record.pendingDisposals = pending;
      });
    },
  };
}

async function disposeThroughFlink(flink: FlinkRestClient, path: string): Promise<void> {
  const triggerId = await flink.disposeSavepoint(path);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const status = await flink.disposalStatus(triggerId);
    if (status.status.id === 'COMPLETED') {
      const cause = status.operation?.['failure-cause'];
      if (cause) throw new Error(`Flink could not dispose of ${path}: ${cause['stack-trace'] ? firstMeaningfulLine(cause['stack-trace']) : (cause.class ?? 'unknown cause')}`);
      return;
    }
    if (Date.now() > deadline) throw new Error(`Flink did not finish disposing of ${path} within 2 minutes`);
    await sleep(250);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function directorySize(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await directorySize(join(path, entry));
  return total;
}
