import type { WorkflowFailedError } from '@temporalio/client';
import type { ClusterUpgradeRequestInput } from '../../workflows/cluster-upgrade/request';
import type { ClusterUpgradeResult } from '../../workflows/cluster-upgrade/contract';
import type { ClusterSnapshot, ClusterSpec } from '../../workflows/model/cluster-snapshot';
import type { JobRecord } from '../../workflows/model/record';
import { names, runningJob, WorkflowHarness, type Call, type StubActivities } from './support/workflow-harness';

// The cluster upgrade's branches with stub activities on the time-skipping server: a stop that fails (nothing changed),
// a job that does not verify (the whole cluster rolls back), keep-going, and a cancellation mid-way.
const h = new WorkflowHarness();
beforeAll(() => h.start(), 60_000);
afterAll(() => h.stop());

const CLUSTER = { namespace: 'flink', name: 'flink-jobmanager' };
const JOBS = ['alpha', 'beta', 'gamma'];
const jobId = (name: string) => name.charAt(0).repeat(32);
const jar = (name: string) => `/jars/${name}.jar`;

function record(name: string): JobRecord {
  return {
    schemaVersion: 1,
    cluster: 'flink/flink-jobmanager',
    kind: 'session-job',
    jobKey: `${name}-1`,
    jobName: name,
    currentJobId: jobId(name),
    currentVersion: { kind: 'jar', jar: jar(name), args: ['--output', `/out/${name}`] },
    restorePoints: [],
    savepoints: [],
    pendingDisposals: [],
    history: [],
  };
}

function clusterSnapshot(): ClusterSnapshot {
  return {
    cluster: CLUSTER,
    kind: 'session-job',
    restUrl: 'http://10.0.0.1:8081',
    flinkVersion: '1.20.5',
    image: 'flink:1.20',
    jobManager: { deployment: 'flink-jobmanager', replicas: 1, flinkContainers: ['jobmanager'] },
    taskManagers: [{ deployment: 'flink-taskmanager', replicas: 1, flinkContainers: ['taskmanager'] }],
    config: { configMap: 'flink-config', volume: 'flink-config', file: 'flink-conf.yaml', options: { 'state.savepoints.dir': 'file:///data/savepoints', 'taskmanager.numberOfTaskSlots': '4' } },
    clusterConfig: { savepointDir: 'file:///data/savepoints', checkpointDir: 'file:///data/checkpoints' },
    allowedSavepointPrefixes: ['file:///data'],
    jobs: JOBS.map((name) => ({ job: runningJob({ id: jobId(name), name }), record: record(name) })),
  };
}

const savepointOf = (id: string) => `file:/data/savepoints/savepoint-${id.slice(0, 6)}`;

/** A healthy cluster whose jobs stop, whose roll succeeds and whose jobs verify. Tests override steps. */
function stubs(overrides: StubActivities = {}): StubActivities {
  return {
    getOperationPolicy: () => ({ allowedSavepointPrefixes: ['file:///data'] }),
    observeSessionCluster: () => clusterSnapshot(),
    acquireOperationLock: () => ({ acquired: true }),
    releaseOperationLock: () => undefined,
    emitClusterEvent: () => undefined,
    prepareClusterSpec: () => undefined,
    discardClusterSpec: () => undefined,
    stopJobWithSavepoint: ({ jobId: id }) => ({ status: 'completed', location: savepointOf(id) }),
    recordRestorePoint: () => undefined,
    rollSessionCluster: ({ spec }) => ({ flinkVersion: spec.flinkVersion ?? '?', taskManagers: 1, slots: 4, activeJobs: [] }),
    deployVersion: () => undefined,
    verifyDeployment: ({ jobId: id }) => ({ verified: true, summary: `job ${id} verified`, job: runningJob({ id }), runningSince: Date.now() }),
    retireDeployment: ({ jobId: id }) => ({ gone: true, detail: `job ${id} cancelled` }),
    recordOutcome: () => undefined as never,
    observeJob: ({ jobId: id }) => runningJob({ id }),
    ...overrides,
  };
}

const request: ClusterUpgradeRequestInput = { cluster: CLUSTER, image: 'flink:2.2.1', stabilityWindow: '1s', concurrency: 2 };

type Outcome = { ok: true; value: ClusterUpgradeResult } | { ok: false; type?: string; message: string };

async function upgradeCluster(overrides: StubActivities, input: Partial<ClusterUpgradeRequestInput> = {}, during?: (workflowId: string) => Promise<void>) {
  return h.withWorker(stubs(overrides), async (taskQueue): Promise<Outcome> => {
    const workflowId = `upgrade-cluster-${Math.random().toString(16).slice(2)}`;
    const handle = await h.env!.client.workflow.start('upgradeClusterWorkflow', { taskQueue, workflowId, args: [{ ...request, ...input }] });
    if (during) await during(workflowId);
    try {
      return { ok: true, value: (await handle.result()) as ClusterUpgradeResult };
    } catch (error) {
      const cause = (error as WorkflowFailedError).cause as { type?: string; message: string; cause?: { type?: string } } | undefined;
      return { ok: false, type: cause?.type ?? cause?.cause?.type, message: cause?.message ?? String(error) };
    }
  });
}

const argsOf = <T>(calls: Call[], name: string) => calls.filter((c) => c.name === name).map((c) => c.args[0] as T);
const rolledTo = (calls: Call[]) => argsOf<{ spec: ClusterSpec }>(calls, 'rollSessionCluster').map((a) => a.spec.image);
const deployed = (calls: Call[]) => argsOf<{ version: { jar: string }; restore: { path?: string }; jobId: string }>(calls, 'deployVersion');

test('1.20 -> 2.2.1: every job stops before the roll, each comes back from its own savepoint with a fixed id, the config moves to config.yaml', async () => {
  const { result, calls } = await upgradeCluster({});
  expect(result).toMatchObject({ ok: true, value: { outcome: 'succeeded' } });
  const order = names(calls).filter((n) => ['stopJobWithSavepoint', 'rollSessionCluster', 'deployVersion'].includes(n));
  expect(order).toEqual(['stopJobWithSavepoint', 'stopJobWithSavepoint', 'stopJobWithSavepoint', 'rollSessionCluster', 'deployVersion', 'deployVersion', 'deployVersion']);
  const [spec] = argsOf<{ spec: ClusterSpec }>(calls, 'rollSessionCluster');
  expect(spec!.spec).toMatchObject({ image: 'flink:2.2.1', flinkVersion: '2.2.1', config: { volume: 'flink-config', write: { file: 'config.yaml', copyFrom: 'flink-config' } } });
  expect(spec!.spec.config!.write!.options).toEqual({ 'execution.checkpointing.savepoint-dir': 'file:///data/savepoints', 'taskmanager.numberOfTaskSlots': '4' });
  for (const d of deployed(calls)) expect(d.restore.path).toBe(savepointOf(JOBS.map(jobId).find((id) => d.version.jar === jar(JOBS.find((n) => jobId(n) === id)!))!));
  expect(new Set(deployed(calls).map((d) => d.jobId)).size).toBe(3);
  // Locks: the cluster's and each job's, all released.
  expect(argsOf<{ scope: { jobKey?: string } }>(calls, 'acquireOperationLock').map((a) => a.scope.jobKey ?? 'cluster')).toEqual(['cluster', 'alpha-1', 'beta-1', 'gamma-1']);
  expect(argsOf(calls, 'releaseOperationLock')).toHaveLength(4);
  expect(argsOf<{ entry: { outcome: string } }>(calls, 'recordOutcome').map((a) => a.entry.outcome)).toEqual(['upgraded', 'upgraded', 'upgraded']);
}, 60_000);

test('a stop that fails: the jobs already stopped come back on the unchanged cluster, no roll, "nothing changed"', async () => {
  const { result, calls } = await upgradeCluster({
    stopJobWithSavepoint: ({ jobId: id }) => (id === jobId('beta') ? { status: 'failed', reason: 'savepoint failed: disk full' } : { status: 'completed', location: savepointOf(id) }),
  }, { concurrency: 1 });
  expect(result).toMatchObject({ ok: false, type: 'SavepointFailed' });
  expect((result as { message: string }).message).toMatch(/^nothing changed: stopping beta failed: savepoint failed: disk full; it is RUNNING and keeps running; alpha run again from their savepoints/);
  expect(rolledTo(calls)).toEqual([]);
  // One at a time: gamma's stop never started once beta's failed.
  expect(argsOf<{ jobId: string }>(calls, 'stopJobWithSavepoint').map((a) => a.jobId)).toEqual([jobId('alpha'), jobId('beta')]);
  expect(deployed(calls).map((d) => [d.version.jar, d.restore.path])).toEqual([[jar('alpha'), savepointOf(jobId('alpha'))]]);
  expect(argsOf(calls, 'discardClusterSpec')).toHaveLength(1);
}, 60_000);

test('one job does not verify on the new cluster: the new jobs are retired, the cluster rolls back, every job restores from the same savepoint', async () => {
  const verified = new Map<string, number>();
  let rolls = 0;
  const { result, calls } = await upgradeCluster({
    rollSessionCluster: ({ spec }) => ({ flinkVersion: spec.flinkVersion ?? '?', taskManagers: 1, slots: 4, activeJobs: [], rolls: ++rolls }),
    deployVersion: ({ jobId: id, version }) => {
      verified.set(id, version.kind === 'jar' && version.jar === jar('gamma') ? -1 : 0);
      return undefined;
    },
    verifyDeployment: ({ jobId: id }) =>
      verified.get(id) === -1 && rolls === 1
        ? { verified: false, reason: 'job restarted 1 time(s) during the stability window (StateMigrationException: the new PojoSerializer is incompatible)', job: runningJob({ id }) }
        : { verified: true, summary: 'ok', job: runningJob({ id }), runningSince: Date.now() },
  });
  expect(result).toMatchObject({ ok: false, type: 'UpgradeRolledBack' });
  expect((result as { message: string }).message).toMatch(/1 of 3 job\(s\) failed on flink:2\.2\.1: gamma: verification of gamma\.jar failed: .*StateMigrationException.*; rolled the cluster back to flink:1\.20/);
  expect(rolledTo(calls)).toEqual(['flink:2.2.1', 'flink:1.20']);
  const order = names(calls).filter((n) => ['rollSessionCluster', 'retireDeployment'].includes(n));
  expect(order).toEqual(['rollSessionCluster', 'retireDeployment', 'retireDeployment', 'retireDeployment', 'rollSessionCluster']);
  const [onNew, onOld] = [deployed(calls).slice(0, 3), deployed(calls).slice(3)];
  expect(onOld).toHaveLength(3);
  for (const d of onOld) expect(onNew.find((n) => n.version.jar === d.version.jar)!.restore.path).toBe(d.restore.path);
  expect(onOld.every((d) => !onNew.some((n) => n.jobId === d.jobId))).toBe(true);
}, 60_000);

test('keep-going: the jobs that verified stay on 2.2.1, the failed one is made sure gone and reported with its savepoint', async () => {
  const { result, calls } = await upgradeCluster(
    {
      verifyDeployment: ({ jobId: id }) => (deployedJars.get(id) === jar('gamma') ? { verified: false, reason: 'not verified within 1m', job: runningJob({ id }) } : { verified: true, summary: 'ok', job: runningJob({ id }), runningSince: Date.now() }),
      deployVersion: ({ jobId: id, version }) => {
        deployedJars.set(id, version.kind === 'jar' ? version.jar : '');
        return undefined;
      },
    },
    { onFailure: 'keep-going' },
  );
  expect(result).toMatchObject({ ok: true, value: { outcome: 'partially-upgraded' } });
  const value = (result as { value: ClusterUpgradeResult }).value;
  expect(value.message).toContain(`gamma: its state is in ${savepointOf(jobId('gamma'))}`);
  expect(value.jobs.find((j) => j.jobName === 'gamma')).toMatchObject({ step: 'failed', savepoint: savepointOf(jobId('gamma')) });
  expect(rolledTo(calls)).toEqual(['flink:2.2.1']);
  expect(argsOf<{ jobId: string }>(calls, 'retireDeployment').map((a) => deployedJars.get(a.jobId))).toEqual([jar('gamma')]);
  expect(argsOf<{ entry: { outcome: string } }>(calls, 'recordOutcome').map((a) => a.entry.outcome).sort()).toEqual(['failed', 'upgraded', 'upgraded']);
}, 60_000);
const deployedJars = new Map<string, string>();

test('cancelled while the jobs are being resubmitted: the new jobs are retired, the cluster goes back and every job runs again on it', async () => {
  let release!: () => void;
  const verifying = new Promise<void>((resolve) => (release = resolve));
  let rolls = 0;
  const { result, calls } = await upgradeCluster(
    {
      rollSessionCluster: ({ spec }) => ({ flinkVersion: spec.flinkVersion ?? '?', taskManagers: 1, slots: 4, activeJobs: [], rolls: ++rolls }),
      verifyDeployment: async ({ jobId: id }) => {
        if (rolls === 1) {
          release();
          await new Promise((resolve) => setTimeout(resolve, 3_000));
        }
        return { verified: true, summary: 'ok', job: runningJob({ id }), runningSince: Date.now() };
      },
    },
    {},
    async (workflowId) => {
      await verifying;
      await h.env!.client.workflow.getHandle(workflowId).cancel();
    },
  );
  expect(result).toMatchObject({ ok: false });
  expect(rolledTo(calls)).toEqual(['flink:2.2.1', 'flink:1.20']);
  expect(names(calls).indexOf('retireDeployment')).toBeLessThan(names(calls).lastIndexOf('rollSessionCluster'));
  // Every job, whether it had been started on the new cluster or not, runs again on the old one, from its savepoint.
  const onOld = deployed(calls.slice(names(calls).lastIndexOf('rollSessionCluster')));
  expect(onOld.map((d) => [d.version.jar, d.restore.path]).sort()).toEqual(JOBS.map((name) => [jar(name), savepointOf(jobId(name))]));
  expect(argsOf(calls, 'releaseOperationLock')).toHaveLength(4);
}, 120_000);

test('a job flinkops cannot restart is refused in the plan, naming it: no lock, no stop', async () => {
  const snapshot = clusterSnapshot();
  snapshot.jobs.push({ job: runningJob({ id: 'd'.repeat(32), name: 'stranger' }) });
  const { result, calls } = await upgradeCluster({ observeSessionCluster: () => snapshot });
  expect(result).toMatchObject({ ok: false, type: 'PreflightRefused' });
  expect((result as { message: string }).message).toMatch(/job stranger \(d{32}\): flinkops does not know how to start it again .*--jobs FILE.*--allow-drop stranger/);
  expect(names(calls)).not.toContain('acquireOperationLock');
  expect(names(calls)).not.toContain('stopJobWithSavepoint');
}, 60_000);
