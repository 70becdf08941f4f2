import type { JobRecord, SavepointEntry } from '../../workflows/model/record';
import type { TargetSnapshot } from '../../workflows/model/snapshot';
import { activeBlackout, parseBlackoutWindow } from '../../workflows/savepoint/blackout';
import { validateCron } from '../../workflows/savepoint/cron';
import { decideRetention, decideSavepointPreflight } from '../../workflows/savepoint/decide';
import { parseSavepointRequest, type SavepointRequest } from '../../workflows/savepoint/request';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-11-23T12:00:00Z'); // a Monday

function entry(path: string, hoursAgo: number): SavepointEntry {
  return { path, at: new Date(NOW - hoursAgo * HOUR).toISOString(), jobId: 'j', trigger: 'schedule', workflowId: 'w' };
}

function record(savepoints: SavepointEntry[], restorePoints: string[] = []): JobRecord {
  return {
    schemaVersion: 1,
    cluster: 'flink/flink',
    kind: 'session-job',
    jobKey: 'counter-000000',
    jobName: 'counter',
    currentJobId: 'j',
    restorePoints: restorePoints.map((path) => ({ path, at: '', workflowId: 'upgrade-1', operation: 'upgrade' as const })),
    savepoints,
    pendingDisposals: [],
    history: [],
  };
}

describe('retention', () => {
  const four = [entry('file:/sp/1', 40), entry('file:/sp/2', 30), entry('file:/sp/3', 20), entry('file:/sp/4', 10)];

  test('keep=2 keeps the two newest and disposes of the rest, saying why', () => {
    const decision = decideRetention(record(four), { keepLast: 2 }, NOW);
    expect(decision.keep.map((k) => k.path)).toEqual(['file:/sp/4', 'file:/sp/3']);
    expect(decision.dispose.map((d) => [d.entry.path, d.reason])).toEqual([
      ['file:/sp/2', 'not among the newest 2'],
      ['file:/sp/1', 'not among the newest 2'],
    ]);
  });

  test('a max age keeps young savepoints; with a count, either rule keeps one', () => {
    expect(decideRetention(record(four), { maxAge: 25 * HOUR }, NOW).dispose.map((d) => d.entry.path)).toEqual(['file:/sp/2', 'file:/sp/1']);
    expect(decideRetention(record(four), { maxAge: 25 * HOUR, keepLast: 3 }, NOW).dispose.map((d) => d.entry.path)).toEqual(['file:/sp/1']);
  });

  test('the newest savepoint survives even when every rule would dispose of it', () => {
    const decision = decideRetention(record(four), { maxAge: HOUR }, NOW);
    expect(decision.keep.map((k) => k.path)).toEqual(['file:/sp/4']);
    expect(decision.protectedReasons).toEqual(['file:/sp/4 is the newest savepoint']);
  });

  test('a restore point of an upgrade survives retention', () => {
    const decision = decideRetention(record(four, ['file:///sp/1']), { keepLast: 1 }, NOW);
    expect(decision.dispose.map((d) => d.entry.path)).toEqual(['file:/sp/3', 'file:/sp/2']);
    expect(decision.protectedReasons).toEqual(['file:/sp/1 is the restore point of upgrade upgrade-1']);
  });

  test('without rules nothing is disposed of', () => {
    expect(decideRetention(record(four), {}, NOW).dispose).toEqual([]);
  });
});

describe('blackout windows', () => {
  test('parse days, ranges and windows that cross midnight', () => {
    expect(parseBlackoutWindow('Mon-Fri 09:00-18:00')).toMatchObject({ days: [1, 2, 3, 4, 5], startMinute: 540, endMinute: 1080 });
    expect(parseBlackoutWindow('Sat-Mon 22:30-02:00').days).toEqual([6, 7, 1]);
    expect(() => parseBlackoutWindow('weekdays 9-5')).toThrow(/expected DAY\[-DAY\] HH:MM-HH:MM/);
    expect(() => parseBlackoutWindow('Mon 25:00-26:00')).toThrow(/25:00 is not a time of day/);
    expect(() => parseBlackoutWindow('Mon 10:00-10:00')).toThrow(/empty/);
  });

  test('are evaluated in the schedule time zone', () => {
    const business = [parseBlackoutWindow('Mon-Fri 09:00-18:00')];
    expect(activeBlackout(new Date(NOW), business, 'UTC')?.text).toBe('Mon-Fri 09:00-18:00'); // Monday 12:00 UTC
    expect(activeBlackout(new Date(NOW), business, 'America/Los_Angeles')).toBeUndefined(); // Monday 04:00 there
    expect(activeBlackout(new Date('2026-11-22T12:00:00Z'), business, 'UTC')).toBeUndefined(); // Sunday
  });

  test('a window crossing midnight covers the morning of the next day', () => {
    const night = [parseBlackoutWindow('Sun 22:00-02:00')];
    expect(activeBlackout(new Date('2026-11-23T01:30:00Z'), night, 'UTC')).toBeDefined(); // Monday 01:30
    expect(activeBlackout(new Date('2026-11-23T02:30:00Z'), night, 'UTC')).toBeUndefined();
  });
});

describe('cron expressions', () => {
  test.each(['0 2 * * *', '*/15 * * * *', '30 1 1,15 * mon-fri', '0 0 * jan sun'])('%s is accepted', (expr) => {
    expect(() => validateCron(expr)).not.toThrow();
  });
  test.each([
    ['0 2 * *', /expected 5 fields/],
    ['61 2 * * *', /minute "61" is out of range 0-59/],
    ['0 24 * * *', /hour "24" is out of range 0-23/],
    ['0 2 * foo *', /month "foo" is out of range/],
    ['0 2 * * */x', /day of week step "x" is not a number/],
  ])('%s is refused', (expr, message) => {
    expect(() => validateCron(expr)).toThrow(message);
  });
});

describe('savepoint preflight', () => {
  const snapshot = (overrides: Partial<TargetSnapshot> = {}): TargetSnapshot => ({
    cluster: { namespace: 'flink', name: 'flink' },
    observedAt: NOW,
    kind: 'session-job',
    clusterConfig: { savepointDir: 'file:///data/sp' },
    taskManagers: [],
    job: { id: 'a'.repeat(32), name: 'counter', state: 'RUNNING', startTime: 0, tasks: { total: 2, running: 2 }, completedCheckpoints: 3 },
    ...overrides,
  });
  const request = (input: Record<string, unknown> = {}): SavepointRequest => {
    const parsed = parseSavepointRequest({ cluster: { namespace: 'flink', name: 'flink' }, job: 'counter', ...input });
    if (!parsed.ok) throw new Error(parsed.problem);
    return parsed.request;
  };

  test('takes one into the cluster savepoint directory', () => {
    expect(decideSavepointPreflight(snapshot(), request(), [], new Date(NOW))).toMatchObject({ kind: 'take', plan: { savepointDir: 'file:///data/sp', jobName: 'counter' } });
  });
  test('skips a job that is not running, with the reason', () => {
    const job = { ...snapshot().job!, state: 'RESTARTING' as const };
    expect(decideSavepointPreflight(snapshot({ job }), request(), [], new Date(NOW))).toEqual({ kind: 'skip', reason: expect.stringMatching(/is RESTARTING, not RUNNING/) as unknown });
  });
  test('skips while an upgrade holds the job', () => {
    const lockHolder = { workflowId: 'flinkops-upgrade-x', operation: 'upgrade', since: '' };
    expect(decideSavepointPreflight(snapshot({ lockHolder }), request(), [], new Date(NOW))).toMatchObject({ kind: 'skip', reason: expect.stringMatching(/upgrade flinkops-upgrade-x/) as unknown });
  });
  test('skips inside a blackout window', () => {
    expect(decideSavepointPreflight(snapshot(), request({ blackouts: ['Mon 11:00-13:00'] }), [], new Date(NOW))).toMatchObject({ kind: 'skip', reason: expect.stringMatching(/blackout window "Mon 11:00-13:00" \(UTC\)/) as unknown });
  });
  test('fails for an unknown target and for a directory outside the allowed prefixes', () => {
    expect(decideSavepointPreflight(snapshot({ problem: 'no JobManager Deployment "x"', kind: undefined }), request(), [], new Date(NOW))).toEqual({ kind: 'fail', reason: 'no JobManager Deployment "x"' });
    expect(decideSavepointPreflight(snapshot(), request(), ['s3://bucket'], new Date(NOW))).toMatchObject({ kind: 'fail', reason: expect.stringMatching(/outside the allowed prefixes/) as unknown });
  });
  test('requests with a negative retention or an unknown time zone are refused', () => {
    expect(parseSavepointRequest({ cluster: { namespace: 'flink', name: 'x' }, retention: { keepLast: -1 } })).toMatchObject({ ok: false, problem: expect.stringMatching(/retention\.keepLast: must keep at least 1/) as unknown });
    expect(parseSavepointRequest({ cluster: { namespace: 'flink', name: 'x' }, timeZone: 'Mars/Olympus' })).toMatchObject({ ok: false, problem: expect.stringMatching(/timeZone: time zone "Mars\/Olympus" is unknown/) as unknown });
  });
});
