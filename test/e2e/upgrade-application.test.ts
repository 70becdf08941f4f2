import { canonicalLocation } from '../../workflows/model/locations';
import { upgradeWorkflowId } from '../../workflows/upgrade/ids';
import { lastCountByKey } from '../stack/fixtures';
import { recordHistory } from '../support/histories';
import { readCounters, waitForJobState, waitForRecords } from '../stack/fixture-jobs';
import { expectRestoredAfter, expectStateContinued, lineCount, OperationHarness } from '../support/upgrade-harness';

// Upgrading an application-mode cluster: the image of its Deployments changes and Kubernetes rolls it out.
const h = new OperationHarness('upapp');

beforeAll(() => h.setUp());
afterAll(() => h.tearDown());

interface UpgradeJson {
  outcome: string;
  savepoint?: string;
  jobId?: string;
}

async function deploymentImages(name: string): Promise<string[]> {
  return Promise.all(
    [`${name}-jobmanager`, `${name}-taskmanager`].map(async (d) => (await h.kube.apps.readNamespacedDeployment({ name: d, namespace: h.namespace })).spec!.template.spec!.containers[0]!.image!),
  );
}

test('fixture-job:v1 -> v2 rolls out both Deployments and keeps the state', async () => {
  const app = await h.applicationCluster('app-v2', 'v1');
  const result = await h.cli(['upgrade', `${h.namespace}/app-v2-jobmanager`, '--image', 'fixture-job:v2', '--stability-window', '5s', '--json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const upgrade = JSON.parse(result.stdout) as UpgradeJson;
  expect(upgrade.outcome).toBe('succeeded');
  expect(await deploymentImages('app-v2')).toEqual(['fixture-job:v2', 'fixture-job:v2']);
  await expectStateContinued(app.output, 'v1', 'v2');

  const jobManager = await h.kube.apps.readNamespacedDeployment({ name: 'app-v2-jobmanager', namespace: h.namespace });
  const args = jobManager.spec!.template.spec!.containers[0]!.args!;
  // The savepoint goes to the Deployment in its normalised form (file:///...), the one the worker checked.
  expect(args).toEqual(expect.arrayContaining(['--fromSavepoint', canonicalLocation(upgrade.savepoint!), '--job-id', upgrade.jobId!]));
  expect(jobManager.metadata?.annotations?.['flinkops.dev/last-good-savepoint']).toBe(upgrade.savepoint);
  recordHistory(h.stack.state.temporal.address, upgradeWorkflowId({ namespace: h.namespace, name: 'app-v2-jobmanager' }), 'upgrade-application-succeeded');
});

test('fixture-job:v1 -> broken rolls back to v1 from the same savepoint', async () => {
  const app = await h.applicationCluster('app-broken', 'v1');
  const linesBefore = lineCount(app.output);
  const result = await h.cli(['upgrade', `${h.namespace}/app-broken-jobmanager`, '--image', 'fixture-job:broken', '--stability-window', '10s']);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/fixture-job:broken failed: .*rolled back to fixture-job:v1 from file:/);
  expect(await deploymentImages('app-broken')).toEqual(['fixture-job:v1', 'fixture-job:v1']);
  await expectRestoredAfter(app.output, linesBefore, 'v1');
  recordHistory(h.stack.state.temporal.address, upgradeWorkflowId({ namespace: h.namespace, name: 'app-broken-jobmanager' }), 'upgrade-application-rolled-back');
});

test('fixture-job:v1 -> incompatible rolls back, and goes through only with --allow-non-restored-state', async () => {
  const app = await h.applicationCluster('app-incompat', 'v1');
  const refused = await h.cli(['upgrade', `${h.namespace}/app-incompat-jobmanager`, '--image', 'fixture-job:incompatible', '--stability-window', '3s', '--verify-timeout', '90s']);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/rolled back to fixture-job:v1/);
  expect(await deploymentImages('app-incompat')).toEqual(['fixture-job:v1', 'fixture-job:v1']);
  const v1Count = lastCountByKey(readCounters(app.output), 'v1');

  const allowed = await h.cli(['upgrade', `${h.namespace}/app-incompat-jobmanager`, '--image', 'fixture-job:incompatible', '--allow-non-restored-state', '--stability-window', '3s', '--json']);
  expect(allowed.code).toBe(0);
  const upgrade = JSON.parse(allowed.stdout) as UpgradeJson;
  await waitForJobState(app.flink, upgrade.jobId!, 'RUNNING');
  const incompatible = (await waitForRecords(app.output, 'incompatible', 4)).filter((r) => r.version === 'incompatible');
  expect(Math.min(...incompatible.map((r) => r.count))).toBe(1);
  expect(v1Count.size).toBe(4);
});
