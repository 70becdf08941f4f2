import { flinkVersionOfImage, newClusterId, translateConfig } from '../../workflows/cluster-upgrade/config';
import { decideClusterPlan, newConfigMapName } from '../../workflows/cluster-upgrade/plan';
import { parseClusterUpgradeRequest, type ClusterUpgradeRequestInput } from '../../workflows/cluster-upgrade/request';
import type { ClusterSnapshot } from '../../workflows/model/cluster-snapshot';
import type { JobSnapshot } from '../../workflows/model/snapshot';

// The cluster upgrade's pure decisions: the configuration carried to Flink 2, and the plan (or the refusal naming
// what stands in the way) from a read-only inventory.

describe('configuration carried to the new version', () => {
  const legacy = {
    'taskmanager.numberOfTaskSlots': '4',
    'state.savepoints.dir': 'file:///data/savepoints',
    'state.checkpoints.dir': 'file:///data/checkpoints',
    'cluster.evenly-spread-out-slots': 'true',
    'jobmanager.memory.process.size': '1024m',
  };

  test('1.20 -> 2.2.1: flink-conf.yaml becomes config.yaml, renamed keys move, removed keys are dropped and reported', () => {
    const t = translateConfig({ file: 'flink-conf.yaml', options: legacy, fromVersion: '1.20.5', toVersion: '2.2.1', set: {}, unset: [] });
    expect(t.file).toBe('config.yaml');
    expect(t.options).toEqual({
      'taskmanager.numberOfTaskSlots': '4',
      'execution.checkpointing.savepoint-dir': 'file:///data/savepoints',
      'execution.checkpointing.dir': 'file:///data/checkpoints',
      'jobmanager.memory.process.size': '1024m',
    });
    expect(t.changes.map((c) => `${c.change} ${c.key}`)).toEqual([
      'file flink-conf.yaml',
      'renamed state.checkpoints.dir',
      'renamed state.savepoints.dir',
      'removed cluster.evenly-spread-out-slots',
    ]);
    expect(t.changes.find((c) => c.key === 'cluster.evenly-spread-out-slots')!.detail).toMatch(/taskmanager\.load-balance\.mode: slots/);
  });

  test('a deprecated key whose new name is set too: the new one wins, and the old one is reported', () => {
    const t = translateConfig({ file: 'config.yaml', options: { 'state.backend': 'rocksdb', 'state.backend.type': 'hashmap' }, fromVersion: '1.20.5', toVersion: '2.0.0', set: {}, unset: [] });
    expect(t.options).toEqual({ 'state.backend.type': 'hashmap' });
    expect(t.changes).toEqual([{ key: 'state.backend', change: 'removed', detail: 'deprecated; state.backend.type is set too (to hashmap), which wins over rocksdb' }]);
  });

  test('within one major version: the file and the keys stay, --set and --unset apply', () => {
    const t = translateConfig({ file: 'flink-conf.yaml', options: legacy, fromVersion: '1.20.5', toVersion: '1.20.5', set: { 'taskmanager.numberOfTaskSlots': '6' }, unset: ['cluster.evenly-spread-out-slots'] });
    expect(t.file).toBe('flink-conf.yaml');
    expect(t.options['state.savepoints.dir']).toBe('file:///data/savepoints');
    expect(t.options['taskmanager.numberOfTaskSlots']).toBe('6');
    expect(t.changes.map((c) => `${c.change} ${c.key}: ${c.detail}`)).toEqual(['unset cluster.evenly-spread-out-slots: removed (was true)', 'set taskmanager.numberOfTaskSlots: 4 -> 6']);
  });

  test('with high availability the new configuration gets a new cluster id, so the new JobManager recovers no old job', () => {
    const k8s = { 'high-availability.type': 'kubernetes', 'kubernetes.cluster-id': 'orders' };
    expect(newClusterId(k8s, 'abc123')).toBe('orders-uabc123');
    // A second upgrade replaces the suffix of the first instead of growing the id.
    expect(newClusterId({ ...k8s, 'kubernetes.cluster-id': 'orders-uabc123' }, 'def456')).toBe('orders-udef456');
    expect(newClusterId({ 'high-availability': 'zookeeper' }, 'abc123')).toBe('/default-uabc123');
    expect(newClusterId({ 'taskmanager.numberOfTaskSlots': '4' }, 'abc123')).toBeUndefined();
    const t = translateConfig({ file: 'config.yaml', options: k8s, fromVersion: '1.20.5', toVersion: '1.20.5', set: {}, unset: [], newClusterId: 'orders-uabc123' });
    expect(t.options['kubernetes.cluster-id']).toBe('orders-uabc123');
    expect(t.changes[0]).toMatchObject({ key: 'kubernetes.cluster-id', change: 'cluster-id' });
  });

  test('the Flink version of an image from its tag', () => {
    expect(flinkVersionOfImage('flink:2.2.1')).toBe('2.2.1');
    expect(flinkVersionOfImage('registry.example.com:5000/team/flink:2.2-java17')).toBe('2.2');
    expect(flinkVersionOfImage('apache/flink:1.20.5-scala_2.12-java17')).toBe('1.20.5');
    expect(flinkVersionOfImage('registry.example.com/team/stream-platform:latest')).toBeUndefined();
  });
});

describe('the plan', () => {
  const CLUSTER = { namespace: 'flink', name: 'flink-jobmanager' };
  const job = (name: string, overrides: Partial<JobSnapshot> = {}): JobSnapshot => ({
    id: name.charAt(0).repeat(32),
    name,
    state: 'RUNNING',
    startTime: 0,
    tasks: { total: 2, running: 2 },
    checkpointing: { intervalMs: 2_000, timeoutMs: 60_000, retainedOnCancellation: true },
    completedCheckpoints: 3,
    ...overrides,
  });
  const recordOf = (name: string) => ({
    schemaVersion: 1 as const,
    cluster: 'flink/flink-jobmanager',
    kind: 'session-job' as const,
    jobKey: `${name}-1`,
    jobName: name,
    currentJobId: name.charAt(0).repeat(32),
    currentVersion: { kind: 'jar' as const, jar: `/jars/${name}.jar`, args: ['--output', `/out/${name}`] },
    restorePoints: [],
    savepoints: [],
    pendingDisposals: [],
    history: [],
  });
  const snapshot = (overrides: Partial<ClusterSnapshot> = {}): ClusterSnapshot => ({
    cluster: CLUSTER,
    kind: 'session-job',
    flinkVersion: '1.20.5',
    image: 'flink:1.20',
    jobManager: { deployment: 'flink-jobmanager', replicas: 1, flinkContainers: ['jobmanager'] },
    taskManagers: [{ deployment: 'flink-taskmanager', replicas: 1, flinkContainers: ['taskmanager'] }],
    config: { configMap: 'flink-config', volume: 'flink-config', file: 'flink-conf.yaml', options: { 'state.savepoints.dir': 'file:///data/savepoints' } },
    clusterConfig: { savepointDir: 'file:///data/savepoints' },
    allowedSavepointPrefixes: [],
    jobs: [{ job: job('alpha'), record: recordOf('alpha') }, { job: job('beta'), record: recordOf('beta') }],
    ...overrides,
  });
  const plan = (s: ClusterSnapshot, input: Partial<ClusterUpgradeRequestInput> = {}) => {
    const parsed = parseClusterUpgradeRequest({ cluster: CLUSTER, image: 'flink:2.2.1', ...input });
    if (!parsed.ok) throw new Error(parsed.problem);
    return decideClusterPlan(s, parsed.request, { allowedSavepointPrefixes: [] }, { clusterIdSuffix: 'abc123' });
  };

  const refusal = (decision: ReturnType<typeof plan>) => (decision.kind === 'refuse' ? decision.reason : 'proceeds');

  test('every job from its record, a new ConfigMap with the translated configuration, the old one kept for a rollback', () => {
    const decision = plan(snapshot());
    if (decision.kind !== 'proceed') throw new Error(decision.reason);
    const p = decision.plan;
    expect(p.jobs.map((j) => [j.jobName, j.source, j.to.jar])).toEqual([['alpha', 'record', '/jars/alpha.jar'], ['beta', 'record', '/jars/beta.jar']]);
    expect(p.from).toEqual({ image: 'flink:1.20', flinkVersion: '1.20.5', config: { configMap: 'flink-config', volume: 'flink-config' } });
    const options = { 'execution.checkpointing.savepoint-dir': 'file:///data/savepoints' };
    expect(p.to).toEqual({
      image: 'flink:2.2.1',
      flinkVersion: '2.2.1',
      config: { configMap: newConfigMapName('flink-jobmanager', 'config.yaml', options), volume: 'flink-config', write: { file: 'config.yaml', options, copyFrom: 'flink-config' } },
    });
    expect(p.steps.join('\n')).toMatch(/stop 2 job\(s\) with a savepoint .*alpha, beta/);
    expect(p.steps.join('\n')).toMatch(/roll the JobManager and TaskManager Deployments back to flink:1\.20 with ConfigMap flink-config/);
  });

  test('a job flinkops has no record of is refused by name, unless --jobs maps it or --allow-drop lets it go', () => {
    const s = snapshot({ jobs: [...snapshot().jobs, { job: job('stranger') }] });
    expect(refusal(plan(s))).toMatch(/^job stranger \(s{32}\): flinkops does not know how to start it again .*--allow-drop stranger$/);
    const mapped = plan(s, { jobs: { stranger: { jar: '/jars/stranger-2.jar', args: ['--x'] } } });
    expect(mapped.kind === 'proceed' && mapped.plan.jobs.find((j) => j.jobName === 'stranger')).toMatchObject({ source: '--jobs', to: { jar: '/jars/stranger-2.jar' }, from: { jar: '/jars/stranger-2.jar' } });
    expect(mapped.kind === 'proceed' && mapped.plan.warnings.join('\n')).toMatch(/no record of the jar it runs now, so a rollback starts it with stranger-2\.jar/);
    const dropped = plan(s, { allowDrop: ['stranger'] });
    expect(dropped.kind === 'proceed' && dropped.plan.dropped).toMatchObject([{ jobName: 'stranger', running: true }]);
  });

  test('every job in the way is named in one refusal, in name order, whatever order Flink lists them in', () => {
    const s = snapshot({ jobs: [{ job: job('zulu') }, ...snapshot().jobs, { job: job('kilo', { state: 'RESTARTING' }), record: recordOf('kilo') }, { job: job('bravo') }] });
    const decision = plan(s);
    expect(refusal(decision)).toMatch(/^job bravo \(b{32}\): flinkops does not know how to start it again .*--allow-drop bravo; job kilo \(k{32}\) is RESTARTING, not RUNNING.*; job zulu \(z{32}\): flinkops does not know/);
    expect(decision.kind === 'refuse' && decision.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['job bravo', 'job kilo', 'job zulu']);
  });

  test('refusals that name what stands in the way', () => {
    expect(refusal(plan(snapshot({ jobs: [{ job: job('alpha', { state: 'RESTARTING' }), record: recordOf('alpha') }] })))).toMatch(/job alpha .* is RESTARTING, not RUNNING/);
    expect(refusal(plan(snapshot({ jobs: [{ job: job('alpha', { checkpointing: undefined }), record: recordOf('alpha') }] })))).toMatch(/checkpointing off/);
    expect(refusal(plan(snapshot({ taskManagers: [] })))).toMatch(/no TaskManager Deployment/);
    expect(refusal(plan(snapshot(), { image: 'flink:1.20' }))).toMatch(/nothing to change/);
    expect(refusal(plan(snapshot({ flinkVersion: '2.2.1', image: 'flink:2.2.1' }), { image: 'flink:1.20' }))).toMatch(/older major version/);
    expect(refusal(plan(snapshot(), { image: 'registry.example.com/flink:latest' }))).toMatch(/--flink-version/);
    expect(plan(snapshot({ config: undefined, configProblem: 'the JobManager container mounts nothing at /opt/flink/conf' }))).toMatchObject({
      reason: 'the JobManager container mounts nothing at /opt/flink/conf: flinkops cannot translate it for Flink 2.2.1',
    });
    expect(refusal(plan(snapshot({ lockHolder: { workflowId: 'w', operation: 'upgrade', since: 'x' } })))).toMatch(/another flinkops operation holds/);
    expect(plan(snapshot({ jarProblems: { alpha: 'not inside an allowed directory' } }))).toMatchObject({ reason: '--jobs: the jar of alpha: not inside an allowed directory' });
  });

  test('a configuration-only change keeps the image and the legacy file', () => {
    const decision = plan(snapshot(), { image: undefined, set: { 'taskmanager.numberOfTaskSlots': '6' } });
    if (decision.kind !== 'proceed') throw new Error(decision.reason);
    expect(decision.plan.to).toMatchObject({ image: 'flink:1.20', config: { write: { file: 'flink-conf.yaml', options: { 'state.savepoints.dir': 'file:///data/savepoints', 'taskmanager.numberOfTaskSlots': '6' } } } });
  });

  test('the request: nothing to change, a key both set and unset', () => {
    const empty = parseClusterUpgradeRequest({ cluster: CLUSTER });
    expect(!empty.ok && empty.problem).toMatch(/^image: nothing to change/);
    expect(parseClusterUpgradeRequest({ cluster: CLUSTER, set: { a: '1' }, unset: ['a'] })).toMatchObject({ ok: false, problem: 'unset: a is both set and unset' });
  });
});
