import { CoordinationV1Api } from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import type { FlinkRestClient } from '../../activities/flink/rest-client';
import type { UpgradeProgress } from '../../workflows/upgrade/workflow';
import { fixtureJar } from '../stack/fixtures';
import { waitFor } from '../stack/wait';
import { expectStateContinued, OperationHarness } from '../support/upgrade-harness';

// Bad input, dry runs and the approval gate: clear errors (naming the field and the problem) and no side effect.
const h = new OperationHarness('upinput');
let flink: FlinkRestClient;
let job: { jobId: string; output: string; args: string[] };
let client: Client;

beforeAll(async () => {
  await h.setUp();
  flink = await h.sessionCluster('flink', 8);
  job = await h.submitJob(flink, 'v1', 'counter');
  client = await h.temporalClient();
});
afterAll(() => h.tearDown());

/** Nothing changed: the same job runs, and flinkops left no lock, no record and no event behind. */
async function expectUntouched(): Promise<void> {
  expect(await h.runningJobs(flink, 'counter')).toEqual([job.jobId]);
  const leases = await h.kube.kc.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: h.namespace });
  expect(leases.items.map((l) => l.metadata?.name)).toEqual([]);
  const records = await h.kube.core.listNamespacedConfigMap({ namespace: h.namespace, labelSelector: 'app.kubernetes.io/managed-by=flinkops' });
  expect(records.items).toEqual([]);
}

const upgradeV2 = (...extra: string[]) => ['upgrade', `${h.namespace}/flink`, '--job', 'counter', '--jar', fixtureJar('v2'), ...h.fromArgs(job.args), ...extra];

test.each([
  ['an unknown cluster', () => ['upgrade', `${h.namespace}/nope`, '--job', 'counter', '--jar', fixtureJar('v2')], /preflight refused: no JobManager Deployment "nope"/],
  ['an unknown job', () => ['upgrade', `${h.namespace}/flink`, '--job', 'no-such-job', '--jar', fixtureJar('v2')], /preflight refused: no running job named "no-such-job"/],
  ['a missing jar', () => upgradeV2().map((a) => (a === fixtureJar('v2') ? '/nonexistent/v2.jar' : a)), /preflight refused: --jar: \/nonexistent\/v2\.jar not found or not readable on the worker/],
  ['a malformed image', () => ['upgrade', `${h.namespace}/flink`, '--image', 'Fixture Job:v2'], /invalid upgrade: to\.image: must be an image reference/],
  ['a malformed cluster name', () => ['upgrade', `${h.namespace}/Flink_JM`, '--job', 'counter', '--jar', fixtureJar('v2')], /cluster: name "Flink_JM" must be a Kubernetes object name/],
  ['a savepoint directory outside the allowed prefixes', () => upgradeV2('--savepoint-dir', 's3://elsewhere/savepoints'), /preflight refused: --savepoint-dir: s3:\/\/elsewhere\/savepoints is outside the allowed prefixes/],
  ['a relative jar path', () => upgradeV2().map((a) => (a === fixtureJar('v2') ? 'v2.jar' : a)), /invalid upgrade: to\.jar: must be an absolute path on the worker/],
])('%s: a clear error and no side effect', async (_name, args, message) => {
  const result = await h.cli(args());
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(message);
  await expectUntouched();
});

test('last-state without checkpoints: refused before anything changes', async () => {
  const unchecked = await h.submitJob(flink, 'v1', 'counter-nocheckpoints', { checkpointIntervalMs: 0 });
  const result = await h.cli(['upgrade', `${h.namespace}/flink`, '--job', 'counter-nocheckpoints', '--jar', fixtureJar('v2'), ...h.fromArgs(unchecked.args), '--mode', 'last-state']);
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/preflight refused: checkpointing is not enabled for job/);
  expect(await h.runningJobs(flink, 'counter-nocheckpoints')).toEqual([unchecked.jobId]);
  await flink.cancelJob(unchecked.jobId);
});

test('--dry-run prints the plan and changes nothing', async () => {
  const result = await h.cli(upgradeV2('--dry-run'));
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/plan \(dry run, nothing changed\)/);
  expect(result.stdout).toMatch(/1\. stop job [0-9a-f]{32} with a savepoint into file:\/\//);
  expect(result.stdout).toMatch(/on failure: make sure the new job is gone, then roll back to fixture-job-1\.0\.0-v1\.jar, arguments \["--output"/);
  await expectUntouched();
});

test('a second upgrade while one waits for approval is refused; abort ends the first without a change', async () => {
  const first = await h.cli(upgradeV2('--require-approval', '--no-wait'));
  expect(first.code).toBe(0);
  const workflowId = first.stdout.trim();
  await waitFor(async () => (await client.workflow.getHandle(workflowId).query<UpgradeProgress>('getUpgradeProgress')).step === 'awaiting-approval', {
    timeoutMs: 60_000,
    description: 'the approval gate',
  });

  const sameTarget = await h.cli(upgradeV2());
  expect(sameTarget.code).toBe(4);
  expect(sameTarget.stderr).toMatch(/an upgrade of .*\/flink job counter is already running: workflow flinkops-upgrade-/);
  // Named by id, it is another workflow, but the job's lock refuses it.
  const byId = await h.cli(upgradeV2().map((a) => (a === 'counter' ? job.jobId : a)));
  expect(byId.code).toBe(2);
  expect(byId.stderr).toMatch(/preflight refused: another flinkops operation holds .* upgrade flinkops-upgrade-/);

  const approveWithoutName = await h.cli(['approve', `${h.namespace}/flink`, '--job', 'counter', '--by', ' ']);
  expect(approveWithoutName.code).toBe(2);
  expect(approveWithoutName.stderr).toMatch(/refused: by: say who approves/);

  const aborted = await h.cli(['abort', `${h.namespace}/flink`, '--job', 'counter', '--by', 'bob', '--reason', 'not today']);
  expect(aborted.code).toBe(0);
  await expect(client.workflow.getHandle(workflowId).result()).rejects.toMatchObject({ cause: { type: 'UpgradeAborted' } });
  expect(await h.runningJobs(flink, 'counter')).toEqual([job.jobId]);
});

test('an approval that never comes aborts safely at its timeout', async () => {
  const result = await h.cli(upgradeV2('--require-approval', '--approval-timeout', '3s'));
  expect(result.code).toBe(3);
  expect(result.stderr).toMatch(/aborted by flinkops before anything changed: no approval within 3\.0s/);
  expect(await h.runningJobs(flink, 'counter')).toEqual([job.jobId]);
});

test('an approved upgrade proceeds', async () => {
  const started = await h.cli(upgradeV2('--require-approval', '--stability-window', '3s', '--no-wait'));
  const workflowId = started.stdout.trim();
  await waitFor(async () => (await client.workflow.getHandle(workflowId).query<UpgradeProgress>('getUpgradeProgress')).step === 'awaiting-approval', {
    timeoutMs: 60_000,
    description: 'the approval gate',
  });
  const approved = await h.cli(['approve', `${h.namespace}/flink`, '--job', 'counter', '--by', 'alice']);
  expect(approved.code).toBe(0);
  expect(approved.stdout).toMatch(/approved by alice/);
  await client.workflow.getHandle(workflowId).result();
  await expectStateContinued(job.output, 'v1', 'v2');
});
