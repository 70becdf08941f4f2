import { EventsV1Api } from '@kubernetes/client-node';
import type { FlinkRestClient } from '../../activities/flink/rest-client';
import type { JobRecord } from '../../workflows/model/record';
import { upgradeWorkflowId } from '../../workflows/upgrade/ids';
import { fixtureJar } from '../stack/fixtures';
import { recordHistory } from '../support/histories';
import { waitForJobState, waitForRecords } from '../stack/fixture-jobs';
import { expectRestoredAfter, expectStateContinued, lineCount, OperationHarness } from '../support/upgrade-harness';

// Upgrading a job on a Bitnami-shaped session cluster on the local Kubernetes, through the CLI, the real Temporal
// server and a worker process: stop-with-savepoint, redeploy, verify, roll back.
const h = new OperationHarness('upsession');
let flink: FlinkRestClient;

beforeAll(async () => {
  await h.setUp();
  flink = await h.sessionCluster('flink', 8);
});
afterAll(() => h.tearDown());

interface UpgradeJson {
  outcome: string;
  message: string;
  savepoint?: string;
  jobId?: string;
}

async function records(): Promise<JobRecord[]> {
  const configMaps = await h.kube.core.listNamespacedConfigMap({ namespace: h.namespace, labelSelector: 'app.kubernetes.io/managed-by=flinkops' });
  return configMaps.items.map((c) => JSON.parse(c.data!['record.json']!) as JobRecord);
}

async function eventReasons(): Promise<string[]> {
  const events = await h.kube.kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: h.namespace });
  return events.items.filter((e) => e.reportingController === 'flinkops.dev/worker').map((e) => e.reason ?? '');
}

test('v1 -> v2 keeps the state, leaves exactly one job, and records the outcome', async () => {
  const job = await h.submitJob(flink, 'v1', 'counter-upgrade');
  const result = await h.cli(['upgrade', `${h.namespace}/flink`, '--job', 'counter-upgrade', '--jar', fixtureJar('v2'), ...h.fromArgs(job.args), '--stability-window', '5s', '--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const upgrade = JSON.parse(result.stdout) as UpgradeJson;
  expect(upgrade.outcome).toBe('succeeded');

  await expectStateContinued(job.output, 'v1', 'v2');
  expect(await h.runningJobs(flink, 'counter-upgrade')).toEqual([upgrade.jobId]);
  expect((await flink.jobDetails(job.jobId)).state).toBe('FINISHED');
  const restored = (await flink.checkpoints(upgrade.jobId!)).latest.restored;
  expect(restored?.external_path).toBe(upgrade.savepoint);

  const [record] = (await records()).filter((r) => r.jobName === 'counter-upgrade');
  expect(record?.currentJobId).toBe(upgrade.jobId);
  expect(record?.currentVersion).toMatchObject({ kind: 'jar', jar: fixtureJar('v2') });
  expect(record?.lastGoodSavepoint?.path).toBe(upgrade.savepoint);
  expect(record?.restorePoints.map((p) => p.path)).toContain(upgrade.savepoint);
  expect(record?.history.at(-1)).toMatchObject({ operation: 'upgrade', outcome: 'succeeded' });
  expect(await eventReasons()).toEqual(expect.arrayContaining(['UpgradeStarted', 'UpgradeSucceeded']));
  recordHistory(h.stack.state.temporal.address, upgradeWorkflowId({ namespace: h.namespace, name: 'flink' }, 'counter-upgrade'), 'upgrade-session-succeeded');

  // The record now knows the running version: the next upgrade needs no --from-jar.
  const linesBefore = lineCount(job.output);
  const back = await h.cli(['upgrade', `${h.namespace}/flink`, '--job', 'counter-upgrade', '--jar', fixtureJar('v1'), '--stability-window', '3s', '--json']);
  expect(back.code).toBe(0);
  await expectStateContinued(job.output, 'v2', 'v1', linesBefore);
  await flink.cancelJob((JSON.parse(back.stdout) as UpgradeJson).jobId!);
});

test('v1 -> broken rolls back to v1 from the same savepoint, with its state', async () => {
  const job = await h.submitJob(flink, 'v1', 'counter-broken');
  const linesBefore = lineCount(job.output);
  const result = await h.cli(['upgrade', `${h.namespace}/flink`, '--job', 'counter-broken', '--jar', fixtureJar('broken'), ...h.fromArgs(job.args), '--stability-window', '10s']);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/verification of fixture-job-1\.0\.0-broken\.jar failed: .*; rolled back to fixture-job-1\.0\.0-v1\.jar from file:.*, which runs again/);
  expect(result.stdout).toMatch(/rolling-back/);

  const running = await h.runningJobs(flink, 'counter-broken');
  expect(running).toHaveLength(1);
  await expectRestoredAfter(job.output, linesBefore, 'v1');
  const [record] = (await records()).filter((r) => r.jobName === 'counter-broken');
  expect(record?.history.at(-1)).toMatchObject({ outcome: 'rolled-back' });
  recordHistory(h.stack.state.temporal.address, upgradeWorkflowId({ namespace: h.namespace, name: 'flink' }, 'counter-broken'), 'upgrade-session-rolled-back');
  expect(record?.currentJobId).toBe(running[0]);
  await flink.cancelJob(running[0]!);
});

test('v1 -> incompatible cannot restore and rolls back; with --allow-non-restored-state it goes through', async () => {
  const job = await h.submitJob(flink, 'v1', 'counter-incompatible');
  const refused = await h.cli(['upgrade', `${h.namespace}/flink`, '--job', 'counter-incompatible', '--jar', fixtureJar('incompatible'), ...h.fromArgs(job.args), '--stability-window', '3s']);
  expect(refused.code).toBe(1);
  // The cause must be the restore Flink refused, not any failure that happens to end in a rollback.
  expect(refused.stderr).toMatch(/deploying fixture-job-1\.0\.0-incompatible\.jar failed: [^;]*(Cannot map (checkpoint\/)?savepoint state|allowNonRestoredState)/);
  expect(refused.stderr).toMatch(/rolled back to fixture-job-1\.0\.0-v1\.jar/);
  const [rolledBack] = await h.runningJobs(flink, 'counter-incompatible');
  expect(rolledBack).toBeDefined();

  const allowed = await h.cli(['upgrade', `${h.namespace}/flink`, '--job', 'counter-incompatible', '--jar', fixtureJar('incompatible'), '--allow-non-restored-state', '--stability-window', '3s', '--json']);
  expect(allowed.code).toBe(0);
  const upgrade = JSON.parse(allowed.stdout) as UpgradeJson;
  // The incompatible version keeps its counters under a new operator id: they start over at 1.
  await waitForJobState(flink, upgrade.jobId!, 'RUNNING');
  const incompatible = (await waitForRecords(job.output, 'incompatible', 4)).filter((r) => r.version === 'incompatible');
  expect(Math.min(...incompatible.map((r) => r.count))).toBe(1);
  await flink.cancelJob(upgrade.jobId!);
});
