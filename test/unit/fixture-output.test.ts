import { firstCountByKey, lastCountByKey, parseCounterOutput } from '../stack/fixtures';

test('parses the fixture output and finds first and last counts per key and version', () => {
  const records = parseCounterOutput('v1\t0\t1\t0\nv1\t1\t1\t1\nv1\t0\t2\t2\nv2\t0\t3\t4\nv2\t1\t2\t5\nv2\t0\t4\t6\n');
  expect(records).toHaveLength(6);
  expect(records[3]).toEqual({ version: 'v2', key: 0, count: 3, sequence: 4 });
  expect([...lastCountByKey(records, 'v1')]).toEqual([[0, 2], [1, 1]]);
  expect([...firstCountByKey(records, 'v2')]).toEqual([[0, 3], [1, 2]]);
  expect(lastCountByKey(records, 'v3').size).toBe(0);
});
