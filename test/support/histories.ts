import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultCacheDir, findRepoRoot } from '../stack/config';
import { temporalCliPath } from '../stack/temporal';

export const HISTORY_DIR = join(findRepoRoot(), 'test', 'fixtures', 'histories');

/**
 * With FLINKOPS_RECORD_HISTORIES=1, end-to-end tests save the histories of chosen workflows under
 * test/fixtures/histories; test/unit/replay.test.ts replays them against the current workflow code, so a change
 * that would break running workflows (without patched()) fails the build.
 */
export function recordHistory(address: string, workflowId: string, name: string): void {
  if (!process.env.FLINKOPS_RECORD_HISTORIES) return;
  // The Temporal CLI writes the standard JSON form of a history, the one replayers read.
  const json = execFileSync(temporalCliPath(defaultCacheDir()), ['workflow', 'show', '--address', address, '--workflow-id', workflowId, '--output', 'json'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  writeFileSync(join(HISTORY_DIR, `${name}.json`), json);
}
