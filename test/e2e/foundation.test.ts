import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { runningPid } from '../stack/daemon';
import { flinkDistribution } from '../stack/flink/distribution';
import { classArchivePath, QUICK_JIT } from '../stack/flink/jvm-options';
import { jobManagerDaemon } from '../stack/flink/standalone-cluster';
import { firstCountByKey, lastCountByKey } from '../stack/fixtures';
import { waitFor } from '../stack/wait';
import { cancelAllJobs, randomJobId, readCounters, submitFixtureJob, waitForJobState, waitForRecords } from '../stack/fixture-jobs';
import { runCli, startWorker } from '../stack/processes';
import { SESSION_CLUSTER_NAME, testWorkerPolicy } from '../stack/stack';
import { testStack } from '../support/stack';

const stack = testStack();

afterAll(async () => {
  await cancelAllJobs(stack.flink);
});

test('a workflow runs on the real Temporal server, driven by the CLI and executed by the worker', async () => {
  const taskQueue = `foundation-${Date.now()}`;
  const worker = await startWorker({ ...stack.temporalEnv(taskQueue), ...testWorkerPolicy(stack.config.stackDir) }, stack.config.logDir);
  try {
    const result = await runCli(['cluster-info', '--rest-url', stack.state.flink.restUrl, '--json'], stack.temporalEnv(taskQueue));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const info = JSON.parse(result.stdout) as { overview: Record<string, unknown> };
    expect(info.overview['flink-version']).toBe(stack.state.flink.version);
    expect(info.overview['slots-total']).toBe(stack.config.flink.taskManagers * stack.config.flink.slotsPerTaskManager);

    const connection = await Connection.connect({ address: stack.state.temporal.address });
    try {
      const client = new Client({ connection });
      const runs = await waitFor(
        async () => (await client.workflow.count(`WorkflowType = "clusterInfoWorkflow" AND TaskQueue = "${taskQueue}" AND ExecutionStatus = "Completed"`)).count,
        { timeoutMs: 10_000, description: 'the completed workflow to be visible' },
      );
      expect(runs).toBe(1);
    } finally {
      await connection.close();
    }
  } finally {
    await worker.stop();
  }
});

test('the v1 fixture job, stopped with a savepoint and resubmitted as v2 from it, continues its counters', async () => {
  const dir = stack.tempDir('v1-to-v2');
  const output = join(dir, 'counters.tsv');

  const v1 = await submitFixtureJob(stack.flink, 'v1', { output, jobId: randomJobId() });
  await waitForJobState(stack.flink, v1, 'RUNNING');
  await waitForRecords(output, 'v1', 20);

  const triggerId = randomJobId();
  await stack.flink.stopWithSavepoint(v1, { triggerId, targetDirectory: `file://${join(dir, 'savepoints')}` });
  const savepoint = await waitFor(
    async () => {
      const status = await stack.flink.savepointStatus(v1, triggerId);
      return status.status.id === 'COMPLETED' ? status.operation : undefined;
    },
    { timeoutMs: 60_000, description: 'stop-with-savepoint to complete' },
  );
  expect(savepoint?.['failure-cause']).toBeUndefined();
  const location = savepoint!.location!;
  expect(location).toContain(join(dir, 'savepoints'));
  await waitForJobState(stack.flink, v1, 'FINISHED');

  const lastV1 = lastCountByKey(readCounters(output), 'v1');
  expect(lastV1.size).toBe(4);

  const v2 = await submitFixtureJob(stack.flink, 'v2', { output, savepointPath: location });
  const records = await waitForRecords(output, 'v2', 8);
  const firstV2 = firstCountByKey(records, 'v2');
  for (const [key, count] of lastV1) expect(firstV2.get(key)).toBe(count + 1);

  const checkpoints = await stack.flink.checkpoints(v2);
  expect(checkpoints.latest.restored?.external_path).toBe(location);
  await stack.flink.cancelJob(v2);

  // The same check on a job started without the savepoint fails: its counters start again at 1.
  const freshOutput = join(dir, 'fresh.tsv');
  const fresh = await submitFixtureJob(stack.flink, 'v2', { output: freshOutput });
  const freshRecords = await waitForRecords(freshOutput, 'v2', 4);
  expect([...firstCountByKey(freshRecords, 'v2').values()].every((count) => count === 1)).toBe(true);
  await stack.flink.cancelJob(fresh);
});

test("the stack's Flink JVMs start from the class archive setup wrote, with the quick JIT (the test suite's CPU budget)", () => {
  const pid = runningPid(stack.config, jobManagerDaemon(SESSION_CLUSTER_NAME));
  expect(pid).toBeDefined();
  const archive = classArchivePath(flinkDistribution(stack.config.cacheDir, stack.state.flink.version));
  // A JVM that could not use the archive (another JDK build, a different class path) starts without it, silently.
  expect(readFileSync(`/proc/${pid}/maps`, 'utf8')).toContain(archive);
  expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toContain(QUICK_JIT);
});
