import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultCacheDir, findRepoRoot } from './config';
import { temporalCliPath } from './temporal';

/**
 * Workflow histories recorded from real runs, frozen per release: test/fixtures/histories/<release>/<name>.json, each
 * listed with its SHA-256 in MANIFEST.json. test/unit/replay.test.ts replays every one of them against the current
 * workflow code (a behaviour change of a running workflow must go behind patched()) and fails when a frozen history
 * changed or one is not in the manifest.
 *
 * With FLINKOPS_RECORD_HISTORIES=1, end-to-end tests add histories of the current release (package.json's version);
 * a history that exists already is never overwritten. `node dist/test/stack/histories.js manifest` then lists the
 * new ones in the manifest.
 */
export const HISTORY_DIR = join(findRepoRoot(), 'test', 'fixtures', 'histories');
export const MANIFEST = join(HISTORY_DIR, 'MANIFEST.json');

export function currentRelease(): string {
  return (JSON.parse(readFileSync(join(findRepoRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

export function recordHistory(address: string, workflowId: string, name: string): void {
  if (!process.env.FLINKOPS_RECORD_HISTORIES) return;
  const dir = join(HISTORY_DIR, currentRelease());
  const file = join(dir, `${name}.json`);
  if (existsSync(file)) return; // frozen
  mkdirSync(dir, { recursive: true });
  // The Temporal CLI writes the standard JSON form of a history, the one replayers read.
  const json = execFileSync(temporalCliPath(defaultCacheDir()), ['workflow', 'show', '--address', address, '--workflow-id', workflowId, '--output', 'json'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  writeFileSync(file, json);
}

/** Every history file, as <release>/<name>.json. */
export function historyFiles(): string[] {
  return readdirSync(HISTORY_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(HISTORY_DIR, d.name)).filter((f) => f.endsWith('.json')).map((f) => `${d.name}/${f}`))
    .sort();
}

export function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(join(HISTORY_DIR, file))).digest('hex');
}

export function readManifest(): Record<string, string> {
  return existsSync(MANIFEST) ? (JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string>) : {};
}

/** Adds the histories not in the manifest yet; never changes an entry that is there. */
export function addNewToManifest(): string[] {
  const manifest = readManifest();
  const added = historyFiles().filter((f) => manifest[f] === undefined);
  for (const file of added) manifest[file] = sha256(file);
  writeFileSync(MANIFEST, `${JSON.stringify(Object.fromEntries(Object.entries(manifest).sort()), null, 2)}\n`);
  return added;
}

if (require.main === module && process.argv[2] === 'manifest') {
  const added = addNewToManifest();
  console.log(added.length > 0 ? `added to the manifest:\n${added.join('\n')}` : 'the manifest lists every history');
}
