import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RestoreCandidate } from '../../workflows/model/cluster-health';
import { canonicalLocation, localPath } from '../../workflows/model/locations';

/**
 * Completed checkpoints a job left behind in `<checkpoint dir>/<job id>/chk-<n>/_metadata` (retained on
 * cancellation, or simply not cleaned up because the JobManager died), newest first. A checkpoint without
 * `_metadata` was never completed and is skipped. Only file systems the worker can read are looked at.
 */
export async function retainedCheckpoints(checkpointDir: string, jobId: string, limit = 3): Promise<{ candidates: RestoreCandidate[]; problem?: string }> {
  const base = localPath(checkpointDir);
  if (!base) return { candidates: [], problem: `checkpoints are in ${checkpointDir}, not on a file system the worker reads` };
  const jobDir = join(base, jobId);
  let entries: string[];
  try {
    entries = await readdir(jobDir);
  } catch {
    return { candidates: [], problem: `no checkpoints of job ${jobId} in ${checkpointDir}` };
  }
  const ids = entries
    .map((name) => /^chk-(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  const candidates: RestoreCandidate[] = [];
  for (const id of ids) {
    const dir = join(jobDir, `chk-${id}`);
    const metadata = await stat(join(dir, '_metadata')).catch(() => undefined);
    if (!metadata?.isFile()) continue;
    candidates.push({ path: canonicalLocation(dir), source: 'checkpoint', at: metadata.mtimeMs, checkpointId: id });
    if (candidates.length >= limit) break;
  }
  return candidates.length > 0 ? { candidates } : { candidates, problem: `no completed checkpoint of job ${jobId} in ${checkpointDir}` };
}
