import type { FlinkRestClient } from '../../activities/flink/rest-client';
import type { UpgradeProgress } from '../../workflows/upgrade/workflow';
import { fixtureJar } from '../stack/fixtures';
import { startWorker, type WorkerHandle } from '../stack/processes';
import { waitFor } from '../stack/wait';
import { expectStateContinued, OperationHarness } from '../support/upgrade-harness';

// Deploying a new worker while an upgrade waits for approval, with Worker Versioning: the new build becomes the
// deployment's current version, the old worker goes away, and the waiting upgrade finishes on the new build.
const h = new OperationHarness('versioning');
let flink: FlinkRestClient;
const workers: WorkerHandle[] = [];

beforeAll(async () => {
  await h.setUp();
  await h.worker!.stop(); // this test runs its own, versioned workers
  flink = await h.sessionCluster('flink', 4);
});
afterAll(async () => {
  for (const worker of workers) await worker.stop();
  h.worker = undefined;
  await h.tearDown();
});

function versionedWorker(buildId: string): Promise<WorkerHandle> {
  return startWorker(h.workerEnv({ FLINKOPS_DEPLOYMENT_NAME: `flinkops-${h.taskQueue}`, FLINKOPS_BUILD_ID: buildId }), h.stack.config.logDir).then((w) => {
    workers.push(w);
    return w;
  });
}

test('an upgrade waiting for approval moves from build 1 to build 2 and completes there', async () => {
  const build1 = await versionedWorker('build-1');
  await waitFor(() => /build build-1 is the current version/.test(build1.output()), { timeoutMs: 60_000, description: 'build-1 to become current' });
  const job = await h.submitJob(flink, 'v1', 'counter');
  const started = await h.cli(['upgrade', `${h.namespace}/flink`, '--job', 'counter', '--jar', fixtureJar('v2'), ...h.fromArgs(job.args), '--require-approval', '--stability-window', '3s', '--no-wait']);
  expect(started.code).toBe(0);
  const workflowId = started.stdout.trim();
  const client = await h.temporalClient();
  const handle = client.workflow.getHandle(workflowId);
  await waitFor(async () => (await handle.query<UpgradeProgress>('getUpgradeProgress')).step === 'awaiting-approval', { timeoutMs: 60_000, description: 'the upgrade to wait for approval' });
  expect((await handle.describe()).raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId).toBe('build-1');

  // The rollout of a new worker image: build 2 starts and takes over, build 1 stops.
  const build2 = await versionedWorker('build-2');
  await waitFor(() => /build build-2 is the current version/.test(build2.output()), { timeoutMs: 60_000, description: 'build-2 to become current' });
  await build1.stop();

  const approved = await h.cli(['approve', `${h.namespace}/flink`, '--job', 'counter', '--by', 'alice']);
  expect(approved.code).toBe(0);
  const result = (await handle.result()) as { outcome: string };
  expect(result.outcome).toBe('succeeded');
  expect((await handle.describe()).raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId).toBe('build-2');
  await expectStateContinued(job.output, 'v1', 'v2');
}, 600_000);
