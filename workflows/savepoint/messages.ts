import { formatDuration } from '../model/durations';
import type { SavepointEntry } from '../model/record';

export interface DisposalSummary {
  disposed: { path: string }[];
  failed: { path: string; error: string }[];
}

/** How a completed savepoint run reads in its result, the job's record and its Kubernetes event. */
export function completedRunMessage(entry: SavepointEntry, durationMs: number, disposals: DisposalSummary, kept: number): string {
  const size = entry.sizeBytes !== undefined ? `, ${(entry.sizeBytes / 1024).toFixed(1)} KiB` : '';
  const failures =
    disposals.failed.length > 0
      ? `; ${disposals.failed.length} disposal(s) failed and will be retried: ${disposals.failed.map((f) => `${f.path}: ${f.error}`).join('; ')}`
      : '';
  return `savepoint ${entry.path} (${formatDuration(durationMs)}${size}); disposed of ${disposals.disposed.length}, keeping ${kept}${failures}`;
}
