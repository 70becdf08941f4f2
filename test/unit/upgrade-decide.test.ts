import type { JobSnapshot, TargetSnapshot } from '../../workflows/model/snapshot';
import { decidePreflight, decideRestorePoint, fillVersionDefaults } from '../../workflows/upgrade/decide';
import { parseUpgradeRequest, type UpgradeRequest } from '../../workflows/upgrade/request';
import { applicationUpgradeChecks } from '../../activities/targets/application/preflight';

// The upgrade's decisions without Temporal: one test per branch, each checking the reason a person would read.
const NOW = 1_800_000_000_000;

function job(overrides: Partial<JobSnapshot> = {}): JobSnapshot {
  return {
    id: 'a'.repeat(32),
    name: 'counter',
    state: 'RUNNING',
    startTime: NOW - 60_000,
    tasks: { total: 2, running: 2 },
    checkpointing: { intervalMs: 2_000, timeoutMs: 600_000, retainedOnCancellation: true },
    latestCheckpoint: { id: 7, path: 'file:/data/checkpoints/aaa/chk-7', completedAt: NOW - 5_000 },
    completedCheckpoints: 7,
    numRestarts: 0,
    ...overrides,
  };
}

function sessionSnapshot(overrides: Partial<TargetSnapshot> = {}): TargetSnapshot {
  return {
    cluster: { namespace: 'flink', name: 'flink-jobmanager' },
    observedAt: NOW,
    kind: 'session-job',
    restUrl: 'http://10.0.0.1:8081',
    flinkVersion: '1.20.5',
    clusterConfig: { savepointDir: 'file:///data/savepoints' },
    jobManager: { deployment: 'flink-jobmanager', container: 'jobmanager', image: 'flink:1.20', args: ['jobmanager'], replicas: 1, strategy: 'RollingUpdate' },
    taskManagers: [],
    job: job(),
    versionKind: 'jar',
    kindChecks: [],
    currentVersion: { kind: 'jar', jar: '/jars/v1.jar', entryClass: 'x.V1', args: ['--output', '/out'] },
    ...overrides,
  };
}

function appSnapshot(overrides: Partial<TargetSnapshot> = {}): TargetSnapshot {
  const jobManager = overrides.jobManager ?? { deployment: 'app-jobmanager', container: 'jobmanager', image: 'fixture-job:v1', args: ['standalone-job', '--job-id', 'a'.repeat(32)], replicas: 1, strategy: 'Recreate' };
  const config = overrides.clusterConfig ?? { savepointDir: 'file:///data/savepoints', shutdownOnApplicationFinish: false };
  const kind = applicationUpgradeChecks({ deployment: jobManager.deployment, args: jobManager.args, strategy: jobManager.strategy, shutdownOnApplicationFinish: config.shutdownOnApplicationFinish, mode: 'savepoint' });
  return sessionSnapshot({
    kind: 'application',
    versionKind: 'image',
    kindChecks: kind.checks,
    kindWarnings: kind.warnings,
    jobManager: { deployment: 'app-jobmanager', container: 'jobmanager', image: 'fixture-job:v1', args: ['standalone-job', '--job-id', 'a'.repeat(32)], replicas: 1, strategy: 'Recreate' },
    clusterConfig: { savepointDir: 'file:///data/savepoints', shutdownOnApplicationFinish: false },
    currentVersion: { kind: 'image', image: 'fixture-job:v1', args: [] },
    ...overrides,
  });
}

function request(input: Record<string, unknown> = {}): UpgradeRequest {
  const parsed = parseUpgradeRequest({
    cluster: { namespace: 'flink', name: 'flink-jobmanager' },
    job: 'counter',
    to: { kind: 'jar', jar: '/jars/v2.jar' },
    ...input,
  });
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.request;
}

const policy = { allowedSavepointPrefixes: ['file:///data'] };

describe('preflight', () => {
  test('proceeds with a plan that keeps the running entry class and arguments', () => {
    const decision = decidePreflight(sessionSnapshot(), request(), policy);
    expect(decision.kind).toBe('proceed');
    if (decision.kind !== 'proceed') return;
    expect(decision.plan.to).toEqual({ kind: 'jar', jar: '/jars/v2.jar', entryClass: 'x.V1', args: ['--output', '/out'] });
    expect(decision.plan.savepointDir).toBe('file:///data/savepoints');
    expect(decision.plan.steps.join('\n')).toMatch(/stop job a{32} with a savepoint into file:\/\/\/data\/savepoints/);
    expect(decision.plan.steps.join('\n')).toMatch(/roll back to v1\.jar/);
    expect(decision.plan.checks.every((c) => c.ok)).toBe(true);
  });

  test.each<[string, TargetSnapshot, UpgradeRequest, RegExp]>([
    ['unknown cluster', sessionSnapshot({ problem: 'no JobManager Deployment "nope" in namespace flink', kind: undefined, jobManager: undefined }), request(), /no JobManager Deployment "nope"/],
    ['unknown job', sessionSnapshot({ job: undefined, jobProblem: 'no running job named "counter" on the cluster' }), request(), /no running job named "counter"/],
    // A jar without --job is a valid request (a FlinkSessionJob is one job); a session cluster asks for the job.
    ['session cluster without --job', sessionSnapshot({ job: undefined, jobProblem: 'name the job with --job (a job id or name): a session cluster runs several' }), request({ job: undefined }), /name the job with --job/],
    ['job not running', sessionSnapshot({ job: job({ state: 'RESTARTING' }) }), request(), /is RESTARTING, not RUNNING/],
    ['another operation', sessionSnapshot({ lockHolder: { workflowId: 'flinkops-savepoint-x', operation: 'savepoint', since: '2026-11-21T10:00:00Z' } }), request(), /another flinkops operation holds .* savepoint flinkops-savepoint-x/],
    ['no rollback version', sessionSnapshot({ currentVersion: undefined }), request(), /has no record of how job counter was deployed.*--from-jar/],
    ['same version', sessionSnapshot(), request({ to: { kind: 'jar', jar: '/jars/v1.jar' } }), /already runs v1\.jar/],
    ['missing jar', sessionSnapshot({ refusals: [{ field: '--jar', problem: '/jars/v2.jar not found or not readable on the worker' }] }), request(), /--jar: \/jars\/v2\.jar not found or not readable on the worker/],
    ['image for a session cluster', sessionSnapshot(), request({ to: { kind: 'image', image: 'fixture-job:v2' }, job: undefined }), /runs jobs from jars \(session-job\): upgrade one of its jobs with --job and --jar, not an image/],
    ['no checkpointing', sessionSnapshot({ job: job({ checkpointing: undefined }) }), request(), /checkpointing is not enabled/],
    ['no savepoint directory', sessionSnapshot({ clusterConfig: {} }), request(), /no savepoint directory: pass --savepoint-dir/],
    ['directory outside the prefixes', sessionSnapshot(), request({ savepointDir: 's3://other-bucket/sp' }), /s3:\/\/other-bucket\/sp is outside the allowed prefixes \(file:\/\/\/data\)/],
    ['last-state without retained checkpoints', sessionSnapshot({ job: job({ checkpointing: { intervalMs: 2000, timeoutMs: 600000, retainedOnCancellation: false } }) }), request({ mode: 'last-state' }), /deletes its checkpoints on cancellation/],
  ])('refuses: %s', (_name, snapshot, req, reason) => {
    const decision = decidePreflight(snapshot, req, policy);
    expect(decision.kind).toBe('refuse');
    if (decision.kind === 'refuse') {
      expect(decision.reason).toMatch(reason);
      expect(decision.checks.at(-1)?.ok).toBe(false);
    }
  });

  test('an application cluster that shuts down when its job finishes is refused, with the setting to change', () => {
    const decision = decidePreflight(appSnapshot({ clusterConfig: { savepointDir: 'file:///data/sp' } }), request({ job: undefined, to: { kind: 'image', image: 'fixture-job:v2' } }), policy);
    expect(decision).toMatchObject({ kind: 'refuse', reason: expect.stringMatching(/execution\.shutdown-on-application-finish: false/) as unknown });
  });

  test('an application upgrade keeps the job arguments and warns about a rolling update strategy', () => {
    const decision = decidePreflight(
      appSnapshot({ jobManager: { deployment: 'app-jobmanager', container: 'jobmanager', image: 'fixture-job:v1', args: ['standalone-job', '--output', '/x'], replicas: 1, strategy: 'RollingUpdate' } }),
      request({ job: undefined, to: { kind: 'image', image: 'fixture-job:v2' } }),
      policy,
    );
    expect(decision.kind).toBe('proceed');
    if (decision.kind === 'proceed') expect(decision.plan.warnings.join()).toMatch(/RollingUpdate strategy/);
  });

  test('verification waits for at least two checkpoint intervals, and the plan says so', () => {
    const slow = sessionSnapshot({ job: job({ checkpointing: { intervalMs: 300_000, timeoutMs: 600_000, retainedOnCancellation: true } }) });
    const decision = decidePreflight(slow, request({ timeouts: { verify: '1m' } }), policy);
    expect(decision.kind === 'proceed' && decision.plan.verifyTimeoutMs).toBe(660_000);
    expect(decision.kind === 'proceed' && decision.plan.warnings.join()).toMatch(/verification waits up to 11m \(not 1m\)/);
  });

  test('stateless mode needs neither checkpointing nor a savepoint directory, and says it drops state', () => {
    const decision = decidePreflight(sessionSnapshot({ job: job({ checkpointing: undefined }), clusterConfig: {} }), request({ mode: 'stateless' }), policy);
    expect(decision.kind).toBe('proceed');
    if (decision.kind === 'proceed') {
      expect(decision.plan.savepointDir).toBeUndefined();
      expect(decision.plan.warnings.join()).toMatch(/starts without any state/);
    }
  });
});

describe('restore point after the stop', () => {
  const savepointPlan = { mode: 'savepoint' as const, allowedPrefixes: ['file:///data', 'file:///c', 'file:///sp'] };
  const lastStatePlan = { mode: 'last-state' as const, allowedPrefixes: ['file:///data', 'file:///c'] };

  test('a completed savepoint is the restore point', () => {
    expect(decideRestorePoint(savepointPlan, { status: 'completed', location: 'file:/sp/1' }, undefined, 600_000, NOW)).toMatchObject({ kind: 'savepoint', path: 'file:/sp/1' });
  });

  test('a failed savepoint in savepoint mode changes nothing', () => {
    const decision = decideRestorePoint(savepointPlan, { status: 'failed', reason: 'savepoint failed: disk full' }, job(), 600_000, NOW);
    expect(decision).toEqual({ kind: 'nothing-changed', reason: 'savepoint failed: disk full; the job keeps running unchanged' });
  });

  test('last-state falls back to a young retained checkpoint', () => {
    expect(decideRestorePoint(lastStatePlan, { status: 'timed-out', reason: 'savepoint not completed within 60s' }, job(), 600_000, NOW)).toMatchObject({
      kind: 'checkpoint',
      path: 'file:/data/checkpoints/aaa/chk-7',
      checkpointId: 7,
    });
  });

  test('last-state refuses a checkpoint older than the configured age', () => {
    const old = job({ latestCheckpoint: { id: 3, path: 'file:/c/chk-3', completedAt: NOW - 3_600_000 } });
    expect(decideRestorePoint(lastStatePlan, { status: 'failed', reason: 'x' }, old, 600_000, NOW)).toMatchObject({
      kind: 'nothing-changed',
      reason: expect.stringMatching(/newest checkpoint is 1h old, older than 10m/) as unknown,
    });
  });

  test('last-state without any checkpoint changes nothing', () => {
    expect(decideRestorePoint(lastStatePlan, { status: 'failed', reason: 'x' }, job({ latestCheckpoint: undefined }), 600_000, NOW)).toMatchObject({ kind: 'nothing-changed' });
  });

  test('stateless starts empty', () => {
    expect(decideRestorePoint({ mode: 'stateless', allowedPrefixes: [] }, undefined, undefined, 0, NOW).kind).toBe('empty-state');
  });
});

describe('request validation', () => {
  test.each([
    [{ cluster: { namespace: 'Flink', name: 'x' }, to: { kind: 'image', image: 'a:b' } }, /cluster\.namespace: must be a Kubernetes namespace name/],
    [{ cluster: { namespace: 'flink', name: 'x' }, to: { kind: 'image', image: 'Fixture Job:v2' } }, /to\.image: must be an image reference/],
    [{ cluster: { namespace: 'flink', name: 'x' }, to: { kind: 'jar', jar: 'relative.jar' } }, /to\.jar: must be an absolute path on the worker/],
    [{ cluster: { namespace: 'flink', name: 'x' }, to: { kind: 'image', image: 'a:b' }, stabilityWindow: '5 parsecs' }, /stabilityWindow: invalid duration "5 parsecs"/],
    [{ cluster: { namespace: 'flink', name: 'x' }, to: { kind: 'image', image: 'a:b' }, restUrl: 'ftp://x' }, /restUrl: must be an http\(s\) URL/],
  ])('%j is rejected', (input, problem) => {
    const parsed = parseUpgradeRequest(input);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(problem);
  });

  test('durations accept human units', () => {
    const parsed = parseUpgradeRequest({ cluster: { namespace: 'flink', name: 'x' }, to: { kind: 'image', image: 'registry.example.com:5000/team/job:1.2.3' }, stabilityWindow: '1m30s', timeouts: { savepoint: '2m' } });
    expect(parsed.ok && parsed.request.stabilityWindow).toBe(90_000);
    expect(parsed.ok && parsed.request.timeouts).toEqual({ savepoint: 120_000, deploy: 300_000, verify: 300_000 });
  });

  test('a new image keeps the running job arguments unless given', () => {
    expect(fillVersionDefaults({ kind: 'image', image: 'b:2' }, { kind: 'image', image: 'b:1', args: ['--x'] })).toEqual({ kind: 'image', image: 'b:2', args: ['--x'] });
  });
});
