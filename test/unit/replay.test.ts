import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { HISTORY_DIR } from '../support/histories';

// Histories recorded from real runs (FLINKOPS_RECORD_HISTORIES=1 on the end-to-end tests) must replay against the
// current workflow code: otherwise a deploy would break workflows that are running at that moment.
const files = readdirSync(HISTORY_DIR).filter((f) => f.endsWith('.json'));

test('recorded histories exist for a successful and a rolled-back upgrade', () => {
  expect(files).toEqual(expect.arrayContaining(['upgrade-session-succeeded.json', 'upgrade-session-rolled-back.json']));
});

test.each(files)('%s replays against the current workflow code', async (file) => {
  const history: unknown = JSON.parse(readFileSync(join(HISTORY_DIR, file), 'utf8'));
  await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, history, file);
}, 120_000);
