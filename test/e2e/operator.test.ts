import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { FlinkRestClient } from '../../activities/flink/rest-client';
import { canonicalLocation, sameLocation } from '../../workflows/model/locations';
import type { UpgradeProgress } from '../../workflows/upgrade/workflow';
import { FIXTURE_MAIN_CLASSES, fixtureJar, type FixtureVersion } from '../stack/fixtures';
import { waitForRecords } from '../stack/fixture-jobs';
import { applyManifest, perRequestConnectionClient, serviceUrl } from '../stack/kube/helpers';
import { startFlinkOperator, stopFlinkOperator } from '../stack/operator/operator';
import { OperatorResources } from '../stack/operator/resources';
import { waitFor } from '../stack/wait';
import { expectRestoredAfter, expectStateContinued, lineCount, OperationHarness } from '../support/upgrade-harness';

// FlinkSessionJobs and an application FlinkDeployment run by the real Flink Kubernetes Operator (1.7.0 from Maven
// Central) on the local Kubernetes: flinkops changes the resources, the operator acts, flinkops proves the result.
const h = new OperationHarness('operator');
const SESSION = 'session';
let operator: OperatorResources;
let flink: FlinkRestClient;
let client: Client;

const jarUri = (version: FixtureVersion) => `file://${fixtureJar(version)}`;

beforeAll(async () => {
  await h.setUp();
  await startFlinkOperator(h.stack.config, [h.namespace]);
  operator = new OperatorResources(h.kube, h.namespace);
  client = await h.temporalClient();
  await sessionJob('counter');
  flink = perRequestConnectionClient(await serviceUrl(h.kube, h.namespace, `${SESSION}-rest`, 'rest'));
}, 600_000);

afterAll(async () => {
  // The operator's finalizers hold its resources until it has cancelled their jobs: remove them while it runs.
  await operator?.deleteAll().catch((error: unknown) => console.warn(`operator resources left behind: ${String(error)}`));
  await stopFlinkOperator(h.stack.config);
  await h.tearDown();
}, 600_000);

/** A FlinkSessionJob running fixture v1 on the shared session FlinkDeployment (created with the first job). */
async function sessionJob(job: string): Promise<{ output: string; jobId: string }> {
  const output = join(h.dataDir, `${job}.tsv`);
  await applyManifest(h.kube, 'operator-session.yaml', {
    NAME: SESSION,
    NAMESPACE: h.namespace,
    TEAM: 'payments',
    DATA_DIR: join(h.dataDir, SESSION),
    JOB: job,
    JAR_URI: jarUri('v1'),
    ENTRY_CLASS: FIXTURE_MAIN_CLASSES.v1,
    OUTPUT: output,
  });
  const resource = await operator.waitForRunningJob('flinksessionjobs', job, 300_000);
  await waitForRecords(output, 'v1', 8, 120_000);
  return { output, jobId: resource.status!.jobStatus!.jobId! };
}

async function applicationDeployment(name: string): Promise<{ output: string; jobId: string }> {
  const output = join(h.dataDir, `${name}.tsv`);
  await applyManifest(h.kube, 'operator-application.yaml', { NAME: name, NAMESPACE: h.namespace, IMAGE: 'fixture-job:v1', DATA_DIR: join(h.dataDir, name), ENTRY_CLASS: FIXTURE_MAIN_CLASSES.v1, OUTPUT: output });
  const resource = await operator.waitForRunningJob('flinkdeployments', name, 300_000);
  await waitForRecords(output, 'v1', 8, 120_000);
  return { output, jobId: resource.status!.jobStatus!.jobId! };
}

interface UpgradeJson {
  outcome: string;
  message: string;
  savepoint?: string;
  jobId?: string;
}

/** The FlinkStateSnapshots flinkops recorded for a resource: path -> reason. */
async function stateSnapshots(resourceName: string): Promise<Map<string, string>> {
  const items = (await operator.list('flinkstatesnapshots')) as Array<{ metadata: { labels?: Record<string, string> }; spec: { jobReference?: { name?: string }; savepoint?: { path?: string; alreadyExists?: boolean } } }>;
  return new Map(
    items
      .filter((s) => s.spec.jobReference?.name === resourceName && s.spec.savepoint?.alreadyExists === true && s.metadata.labels?.['app.kubernetes.io/managed-by'] === 'flinkops')
      .map((s) => [canonicalLocation(s.spec.savepoint!.path!), s.metadata.labels!['flinkops.dev/snapshot-reason']!]),
  );
}

/** An application cluster's REST API now: the operator deletes its Service on a suspend and creates a new one (a new address) on resume. */
async function applicationRest(name: string): Promise<FlinkRestClient> {
  return perRequestConnectionClient(await serviceUrl(h.kube, h.namespace, `${name}-rest`, 'rest'));
}

async function restoredFrom(rest: FlinkRestClient, jobId: string): Promise<string | undefined> {
  return (await rest.checkpoints(jobId)).latest.restored?.external_path;
}

async function runningJobs(rest: FlinkRestClient, name: string): Promise<string[]> {
  return (await rest.listJobs()).filter((j) => j.state === 'RUNNING' && j.name === name).map((j) => j.jid);
}

describe('FlinkSessionJob', () => {
  test('v1 -> v2 by a spec change the operator carries out: state kept, restored from the savepoint it took, recorded as FlinkStateSnapshots', async () => {
    const before = await operator.read('flinksessionjobs', 'counter');
    const result = await h.cli(['upgrade', `${h.namespace}/counter`, '--jar', jarUri('v2'), '--entry-class', FIXTURE_MAIN_CLASSES.v2, '--stability-window', '5s', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const upgrade = JSON.parse(result.stdout) as UpgradeJson;
    expect(upgrade.outcome).toBe('succeeded');

    const output = join(h.dataDir, 'counter.tsv');
    await expectStateContinued(output, 'v1', 'v2');
    const after = await operator.read('flinksessionjobs', 'counter');
    expect(after.spec.job).toMatchObject({ jarURI: jarUri('v2'), entryClass: FIXTURE_MAIN_CLASSES.v2, state: 'running', upgradeMode: 'savepoint' });
    // The arguments were carried over from the running version.
    expect(after.spec.job?.args).toEqual(before.spec.job?.args);
    expect(after.status?.jobStatus?.jobId).toBe(upgrade.jobId);
    expect(upgrade.jobId).not.toBe(before.status?.jobStatus?.jobId);
    // The savepoint is the one the operator took when it suspended v1, and v2 restored from exactly it.
    expect(sameLocation(after.status!.jobStatus!.savepointInfo!.lastSavepoint!.location!, upgrade.savepoint!)).toBe(true);
    expect(sameLocation((await restoredFrom(flink, upgrade.jobId!))!, upgrade.savepoint!)).toBe(true);
    expect(await runningJobs(flink, 'counter')).toEqual([upgrade.jobId]);

    const snapshots = await stateSnapshots('counter');
    expect(snapshots.get(canonicalLocation(upgrade.savepoint!))).toMatch(/^(stop|restore)$/);
    const saved = await h.record('counter');
    expect(saved?.currentVersion).toMatchObject({ kind: 'jar', jar: jarUri('v2'), entryClass: FIXTURE_MAIN_CLASSES.v2 });
    expect(saved?.lastGoodSavepoint?.path).toBe(upgrade.savepoint);
    expect(saved?.history.at(-1)).toMatchObject({ operation: 'upgrade', outcome: 'succeeded' });
  });

  test('v1 -> broken, named through the session FlinkDeployment: rolled back to v1 from the same savepoint, with its state, one job', async () => {
    const job = await sessionJob('counter-broken');
    const linesBefore = lineCount(job.output);
    const result = await h.cli(['upgrade', `${h.namespace}/${SESSION}`, '--job', 'counter-broken', '--jar', jarUri('broken'), '--entry-class', FIXTURE_MAIN_CLASSES.broken, '--stability-window', '10s']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/verification of .*fixture-job-1\.0\.0-broken\.jar \(dev\.flinkops\.fixture\.CounterJobBroken\) failed: .*; rolled back to .*fixture-job-1\.0\.0-v1\.jar \(dev\.flinkops\.fixture\.CounterJobV1\) from file:.*, which runs again/);

    const resource = await operator.read('flinksessionjobs', 'counter-broken');
    expect(resource.spec.job).toMatchObject({ jarURI: jarUri('v1'), entryClass: FIXTURE_MAIN_CLASSES.v1, state: 'running' });
    await expectRestoredAfter(job.output, linesBefore, 'v1');
    const running = await runningJobs(flink, 'counter-broken');
    expect(running).toEqual([resource.status?.jobStatus?.jobId]);
    // v1 came back from the savepoint of the stop, not from a savepoint of the broken version.
    const saved = await h.record('counter-broken');
    expect(saved?.history.at(-1)).toMatchObject({ outcome: 'rolled-back' });
    const stopSavepoint = saved!.history.at(-1)!.savepoint!;
    expect(sameLocation((await restoredFrom(flink, running[0]!))!, stopSavepoint)).toBe(true);
  });

  test('v1 -> incompatible: the restore fails and v1 comes back with its state', async () => {
    const job = await sessionJob('counter-incompatible');
    const linesBefore = lineCount(job.output);
    const result = await h.cli(['upgrade', `${h.namespace}/counter-incompatible`, '--jar', jarUri('incompatible'), '--entry-class', FIXTURE_MAIN_CLASSES.incompatible, '--stability-window', '5s', '--deploy-timeout', '3m']);
    expect(result.code).toBe(1);
    // The cause is the state Flink could not map, not any failure that happens to end in a rollback.
    expect(result.stderr).toMatch(/(Cannot map (checkpoint\/)?savepoint state|allowNonRestoredState)/);
    expect(result.stderr).toMatch(/rolled back to .*fixture-job-1\.0\.0-v1\.jar/);
    expect((await operator.read('flinksessionjobs', 'counter-incompatible')).spec.job).toMatchObject({ jarURI: jarUri('v1'), state: 'running' });
    await expectRestoredAfter(job.output, linesBefore, 'v1');
    expect(await runningJobs(flink, 'counter-incompatible')).toHaveLength(1);
  });

  test('savepoint and a schedule go through the operator, are recorded, and retention leaves the operator\'s savepoints alone', async () => {
    const job = await sessionJob('counter-savepoints');
    const first = await h.cli(['savepoint', `${h.namespace}/counter-savepoints`, '--keep', '1', '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const firstPath = (JSON.parse(first.stdout) as { savepoint?: { path?: string } }).savepoint?.path;
    expect(firstPath).toBeDefined();

    // The operator took it: its status lists it under the nonce flinkops set, and the job kept running.
    const resource = await operator.read('flinksessionjobs', 'counter-savepoints');
    const nonce = resource.spec.job?.savepointTriggerNonce;
    expect(nonce).toEqual(expect.any(Number));
    const history = [resource.status?.jobStatus?.savepointInfo?.lastSavepoint, ...(resource.status?.jobStatus?.savepointInfo?.savepointHistory ?? [])];
    expect(history.some((s) => s?.triggerNonce === nonce && !!s?.location && sameLocation(s.location, firstPath!))).toBe(true);
    expect(await runningJobs(flink, 'counter-savepoints')).toEqual([job.jobId]);

    // A schedule's run: another operator savepoint. --keep 1 would dispose of the first, but it is the operator's.
    const created = await h.cli(['schedule', 'create', `${h.namespace}/counter-savepoints`, '--every', '24h', '--keep', '1']);
    expect(created.code).toBe(0);
    const triggered = await h.cli(['schedule', 'trigger', `${h.namespace}/counter-savepoints`]);
    expect(triggered.code).toBe(0);
    const saved = await waitFor(
      async () => {
        const r = await h.record('counter-savepoints');
        return (r?.savepoints.length ?? 0) >= 2 ? r : undefined;
      },
      { timeoutMs: 180_000, description: 'the scheduled savepoint in the record' },
    );
    const secondPath = saved.savepoints.find((p) => !sameLocation(p.path, firstPath!))!.path;
    expect(existsSync(new URL(canonicalLocation(firstPath!)).pathname)).toBe(true);
    expect(existsSync(new URL(canonicalLocation(secondPath)).pathname)).toBe(true);
    expect(saved.savepoints.map((p) => p.path)).toEqual(expect.arrayContaining([firstPath, secondPath]));
    const snapshots = await stateSnapshots('counter-savepoints');
    expect(snapshots.get(canonicalLocation(firstPath!))).toBe('savepoint');
    expect(snapshots.get(canonicalLocation(secondPath))).toBe('savepoint');

    // Told to, retention disposes of the older one.
    const third = await h.cli(['savepoint', `${h.namespace}/counter-savepoints`, '--keep', '1', '--dispose-operator-savepoints', '--json']);
    expect(third.code).toBe(0);
    await waitFor(() => !existsSync(new URL(canonicalLocation(firstPath!)).pathname), { timeoutMs: 60_000, description: `${firstPath} to be disposed of` });
    expect(await runningJobs(flink, 'counter-savepoints')).toEqual([job.jobId]);
    await h.cli(['schedule', 'delete', `${h.namespace}/counter-savepoints`]);
  });

  test('the worker is killed while the operator suspends the job and again while it redeploys: the upgrade completes, one savepoint, one job', async () => {
    const job = await sessionJob('counter-crash');
    const started = await h.cli(['upgrade', `${h.namespace}/counter-crash`, '--jar', jarUri('v2'), '--entry-class', FIXTURE_MAIN_CLASSES.v2, '--stability-window', '3s', '--no-wait']);
    expect(started.code).toBe(0);
    const workflowId = started.stdout.trim();
    const step = (want: UpgradeProgress['step']) =>
      waitFor(async () => ((await client.workflow.getHandle(workflowId).query<UpgradeProgress>('getUpgradeProgress')).step === want ? true : undefined), {
        timeoutMs: 180_000,
        intervalMs: 100,
        description: `upgrade to reach ${want}`,
      });

    await step('stopping');
    await h.worker!.kill();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await h.restartWorker();
    await step('redeploying');
    await h.worker!.kill();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await h.restartWorker();

    const result = (await client.workflow.getHandle(workflowId).result()) as { outcome: string };
    expect(result).toMatchObject({ outcome: 'succeeded' });
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const attempts = (activity: string) => {
      const scheduled = history.events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity).map((e) => Number(e.eventId));
      return history.events!.filter((e) => scheduled.includes(Number(e.activityTaskStartedEventAttributes?.scheduledEventId))).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0);
    };
    expect(Math.max(...attempts('stopJobWithSavepoint'))).toBeGreaterThanOrEqual(2);
    expect(Math.max(...attempts('deployVersion'))).toBeGreaterThanOrEqual(2);

    // One savepoint of the v1 job (Flink names them savepoint-<first 6 characters of the job id>-...).
    const savepoints = readdirSync(join(h.dataDir, SESSION, 'savepoints')).filter((d) => d.startsWith(`savepoint-${job.jobId.slice(0, 6)}`));
    expect(savepoints).toHaveLength(1);
    const resource = await operator.read('flinksessionjobs', 'counter-crash');
    expect(await runningJobs(flink, 'counter-crash')).toEqual([resource.status?.jobStatus?.jobId]);
    await expectStateContinued(job.output, 'v1', 'v2');
  });

  test('refused before anything changes: an unknown resource, last-state mode, a jar URI outside the allowed prefixes', async () => {
    const missing = await h.cli(['upgrade', `${h.namespace}/no-such-job`, '--jar', jarUri('v2')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no-such-job/);
    const lastState = await h.cli(['upgrade', `${h.namespace}/counter`, '--jar', jarUri('v1'), '--mode', 'last-state']);
    expect(lastState.code).toBe(2);
    expect(lastState.stderr).toMatch(/last-state is not offered for operator resources/);
    const outside = await h.cli(['upgrade', `${h.namespace}/counter`, '--jar', 'https://example.com/evil.jar']);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/--jar.*(allowed|jars\.allowedUris)/);
    const resource = await operator.read('flinksessionjobs', 'counter');
    expect(resource.spec.job).toMatchObject({ jarURI: jarUri('v2'), state: 'running' });
    expect(await runningJobs(flink, 'counter')).toEqual([resource.status?.jobStatus?.jobId]);
  });

  test('the operator is not running: the stop waits a bounded time, then flinkops sets the job back to running and says why', async () => {
    const before = await operator.read('flinksessionjobs', 'counter');
    await stopFlinkOperator(h.stack.config);
    try {
      const result = await h.cli(['upgrade', `${h.namespace}/counter`, '--jar', jarUri('v1'), '--entry-class', FIXTURE_MAIN_CLASSES.v1, '--savepoint-timeout', '20s']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/the operator did not suspend the job with a savepoint within 20s; flinkops set it back to running/);
      const after = await operator.read('flinksessionjobs', 'counter');
      expect(after.spec.job).toMatchObject({ jarURI: jarUri('v2'), state: 'running' });
      expect(await runningJobs(flink, 'counter')).toEqual([before.status?.jobStatus?.jobId]);
    } finally {
      await startFlinkOperator(h.stack.config, [h.namespace]);
    }
  });
});

describe('application FlinkDeployment', () => {
  const images = async (name: string) => (await operator.read('flinkdeployments', name)).spec.image;

  test('fixture-job:v1 -> v2 (image and entry class): state kept, restored from the operator\'s savepoint', async () => {
    const app = await applicationDeployment('app-v2');
    const result = await h.cli(['upgrade', `${h.namespace}/app-v2`, '--image', 'fixture-job:v2', '--entry-class', FIXTURE_MAIN_CLASSES.v2, '--stability-window', '5s', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const upgrade = JSON.parse(result.stdout) as UpgradeJson;
    expect(upgrade.outcome).toBe('succeeded');
    expect(await images('app-v2')).toBe('fixture-job:v2');
    await expectStateContinued(app.output, 'v1', 'v2');
    expect(sameLocation((await restoredFrom(await applicationRest('app-v2'), upgrade.jobId!))!, upgrade.savepoint!)).toBe(true);
    expect((await stateSnapshots('app-v2')).has(canonicalLocation(upgrade.savepoint!))).toBe(true);
    // Addressed through the JobManager Deployment the operator created, the same resource is found.
    const status = await h.cli(['status', `${h.namespace}/app-v2`, '--json']);
    expect(status.code).toBe(0);
  });

  test('fixture-job:v1 -> broken: rolled back to v1 with its state', async () => {
    const app = await applicationDeployment('app-broken');
    const linesBefore = lineCount(app.output);
    const result = await h.cli(['upgrade', `${h.namespace}/app-broken`, '--image', 'fixture-job:broken', '--entry-class', FIXTURE_MAIN_CLASSES.broken, '--stability-window', '10s']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/fixture-job:broken.* failed: .*rolled back to fixture-job:v1/);
    const resource = await operator.read('flinkdeployments', 'app-broken');
    expect(resource.spec.image).toBe('fixture-job:v1');
    expect(resource.spec.job?.entryClass).toBe(FIXTURE_MAIN_CLASSES.v1);
    await expectRestoredAfter(app.output, linesBefore, 'v1');
  });
});
