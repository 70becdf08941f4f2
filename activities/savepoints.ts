import { lstat, readdir, realpath, rm, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { sleep } from '@temporalio/activity';
import { checkLocation, isStrictlyInsideAllowedPrefixes, localPath } from '../workflows/model/locations';
import type { JobRecord, SavepointEntry } from '../workflows/model/record';
import type { ClusterRef } from '../workflows/model/target';
import { jobRecords, requireTarget, type ActivityContext } from './context';
import { firstMeaningfulLine, type FlinkRestClient } from './flink/rest-client';
import { heartbeat } from './heartbeat';
import { allowedPrefixes } from './locations';
import { recordInit, type RecordIdentity } from './records';
import type { FlinkTarget } from './targets/seam';

export interface DisposalResult {
  disposed: { path: string; via: 'flink' | 'local-delete' | 'already-gone' }[];
  failed: { path: string; error: string }[];
}

/** Recording savepoints in the job's record, measuring them, and disposing of those retention lets go. */
export function createSavepointActivities(ctx: ActivityContext) {
  return {
    /** Adds a completed savepoint to the job's record, with its size where the worker can see it (local file systems). */
    async recordSavepoint(request: { identity: RecordIdentity; entry: SavepointEntry }): Promise<{ record: JobRecord; entry: SavepointEntry }> {
      return recordSavepoint(ctx, request.identity, request.entry);
    },

    async disposeSavepoints(request: { cluster: ClusterRef; restUrl?: string; paths: string[] }): Promise<DisposalResult> {
      return disposeSavepoints(ctx, await requireTarget(ctx, request.cluster, request.restUrl), request.paths);
    },

    /** Drops disposed savepoints from the record; failed ones wait in pendingDisposals for the next run. */
    async recordDisposals(request: { identity: RecordIdentity; result: DisposalResult }): Promise<JobRecord> {
      return recordDisposals(ctx, request.identity, request.result);
    },
  };
}

export async function recordSavepoint(ctx: ActivityContext, identity: RecordIdentity, given: SavepointEntry): Promise<{ record: JobRecord; entry: SavepointEntry }> {
  const dir = localPath(given.path);
  const sizeBytes = dir ? await directorySize(dir).catch(() => undefined) : undefined;
  const entry = sizeBytes === undefined ? given : { ...given, sizeBytes };
  const record = await jobRecords(ctx).update(identity.cluster, recordInit(identity), (r) => {
    if (!r.savepoints.some((s) => s.path === entry.path)) r.savepoints.push(entry);
  });
  return { record, entry };
}

/**
 * Disposes of savepoints through Flink's savepoint-disposal API (any file system Flink can reach), deleting local
 * directories directly when Flink cannot. Paths come from job records, which anyone with edit rights in the
 * namespace can change, so each must be an allowed savepoint location; local deletion further needs configured
 * prefixes, a directory strictly below one (symbolic links resolved) and a `_metadata` file in it. Never throws for
 * one savepoint: failures are returned.
 */
export async function disposeSavepoints(ctx: ActivityContext, target: FlinkTarget, paths: string[]): Promise<DisposalResult> {
  const result: DisposalResult = { disposed: [], failed: [] };
  const allowed = await allowedPrefixes(ctx, target);
  for (const path of paths) {
    heartbeat(path);
    const check = checkLocation(path, allowed);
    if (!check.ok || !isStrictlyInsideAllowedPrefixes(check.location, allowed)) {
      result.failed.push({ path, error: `not disposed of: ${check.ok ? `${check.location} is an allowed prefix itself, not a savepoint in it` : check.problem}` });
      continue;
    }
    const local = localPath(check.location);
    if (local && !(await exists(local))) {
      result.disposed.push({ path, via: 'already-gone' });
      continue;
    }
    let error: string;
    try {
      await disposeThroughFlink(target.flink, check.location);
      result.disposed.push({ path, via: 'flink' });
      continue;
    } catch (flinkError) {
      error = (flinkError as Error).message;
    }
    const deletion = local ? await deleteLocalSavepoint(local, ctx.settings.savepoints.allowedPrefixes) : 'not on a file system the worker can delete from';
    if (deletion === undefined) {
      result.disposed.push({ path, via: 'local-delete' });
      continue;
    }
    result.failed.push({ path, error: `${error}; ${deletion}` });
  }
  return result;
}

export async function recordDisposals(ctx: ActivityContext, identity: RecordIdentity, result: DisposalResult): Promise<JobRecord> {
  return jobRecords(ctx).update(identity.cluster, recordInit(identity), (record) => {
    const disposed = new Set(result.disposed.map((d) => d.path));
    const failed = new Map(result.failed.map((f) => [f.path, f.error]));
    record.savepoints = record.savepoints.filter((s) => !disposed.has(s.path) && !failed.has(s.path));
    const pending = record.pendingDisposals.filter((p) => !disposed.has(p.path) && !failed.has(p.path));
    for (const [path, error] of failed) {
      const previous = record.pendingDisposals.find((p) => p.path === path);
      pending.push({ path, error, attempts: (previous?.attempts ?? 0) + 1 });
    }
    record.pendingDisposals = pending;
  });
}

/**
 * Deletes a local savepoint directory the worker's configuration allows: the configured prefixes only (never a
 * cluster's directories by default), strictly below one with every symbolic link resolved, and only a directory
 * that is a savepoint (it has `_metadata`). Returns why not, or undefined when deleted.
 */
export async function deleteLocalSavepoint(path: string, configuredPrefixes: readonly string[]): Promise<string | undefined> {
  const localPrefixes = configuredPrefixes.map(localPath).filter((p): p is string => p !== undefined);
  if (localPrefixes.length === 0) return 'local deletion is off: savepoints.allowedPrefixes names no local directory';
  let real: string;
  try {
    real = await realpath(path);
  } catch (error) {
    return `cannot resolve ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  }
  const realPrefixes = await Promise.all(localPrefixes.map((p) => realpath(p).catch(() => p)));
  if (!realPrefixes.some((prefix) => real.startsWith(prefix.endsWith(sep) ? prefix : `${prefix}${sep}`))) {
    return `${path} resolves to ${real}, outside the allowed prefixes: not deleted`;
  }
  const info = await lstat(real);
  if (!info.isDirectory()) return `${real} is not a directory: not deleted`;
  const metadata = await lstat(join(real, '_metadata')).catch(() => undefined);
  if (!metadata?.isFile()) return `${real} has no _metadata file, so it is not a savepoint: not deleted`;
  try {
    await rm(real, { recursive: true, force: true });
    return undefined;
  } catch (error) {
    return `deleting ${real} failed: ${(error as Error).message}`;
  }
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
