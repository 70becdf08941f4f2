import { firstCountByKey, lastCountByKey } from '../stack/fixtures';
import { readCounters } from '../stack/fixture-jobs';
import { waitFor } from '../stack/wait';

export { OperationHarness } from '../stack/harness';

/**
 * State continued from `from` to `to`: each key's first count in `to` (among the lines after `sinceLine`) follows
 * the last count of `from` (a job started from scratch would count from 1 again).
 */
export async function expectStateContinued(output: string, from: string, to: string, sinceLine = 0): Promise<{ before: Map<number, number>; after: Map<number, number> }> {
  const records = await waitFor(
    () => {
      const all = readCounters(output);
      return all.slice(sinceLine).filter((r) => r.version === to).length >= 8 ? all : undefined;
    },
    { timeoutMs: 120_000, description: `${to} records in ${output}` },
  );
  const before = lastCountByKey(records, from);
  const after = firstCountByKey(records.slice(sinceLine), to);
  expect(before.size).toBeGreaterThan(0);
  for (const [key, count] of before) expect(after.get(key)).toBe(count + 1);
  return { before, after };
}

/**
 * After a rollback: the records `version` wrote after the first `linesBefore` lines start again from the state
 * the savepoint held, i.e. right after the last count written before the upgrade.
 */
export async function expectRestoredAfter(output: string, linesBefore: number, version: string): Promise<void> {
  const before = lastCountByKey(readCounters(output).slice(0, linesBefore), version);
  const after = await waitFor(
    () => {
      const later = readCounters(output).slice(linesBefore).filter((r) => r.version === version);
      return later.length >= 8 ? later : undefined;
    },
    { timeoutMs: 120_000, description: `${version} records after the rollback` },
  );
  const first = firstCountByKey(after, version);
  expect(before.size).toBeGreaterThan(0);
  for (const [key, count] of before) expect(first.get(key)).toBe(count + 1);
}

export function lineCount(output: string): number {
  return readCounters(output).length;
}

