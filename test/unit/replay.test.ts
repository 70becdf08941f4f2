import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { HISTORY_DIR, historyFiles, readManifest, sha256 } from '../support/histories';
import { sourceWorkflowBundle } from '../support/workflow-bundle';

// Histories recorded from real runs of every release must replay against the current workflow code: otherwise a
// deploy would break the workflows running at that moment (Worker Versioning's AUTO_UPGRADE moves them to the new
// code). They are frozen: a history may be added, never re-recorded to agree with changed code.
const files = historyFiles();
const manifest = readManifest();

test('every history is frozen: listed in the manifest with the hash it was recorded with', () => {
  expect(files.filter((f) => manifest[f] === undefined)).toEqual([]);
  expect(Object.keys(manifest).filter((f) => !files.includes(f))).toEqual([]);
  expect(files.filter((f) => manifest[f] !== sha256(f))).toEqual([]);
});

test('0.1.0 histories exist for successful and rolled-back upgrades and for remediations', () => {
  expect(files).toEqual(expect.arrayContaining(['0.1.0/upgrade-session-succeeded.json', '0.1.0/upgrade-session-rolled-back.json', '0.1.0/remediation-resubmitted.json']));
});

test.each(files)('%s replays against the current workflow code', async (file) => {
  const history: unknown = JSON.parse(readFileSync(join(HISTORY_DIR, file), 'utf8'));
  await Worker.runReplayHistory({ workflowBundle: await sourceWorkflowBundle() }, history, file);
}, 120_000);
