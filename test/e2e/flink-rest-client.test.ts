import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FlinkRestClient, FlinkRestError } from '../../activities/flink/rest-client';
import { FLINK2_VERSION } from '../stack/flink/distribution';
import { startStandaloneCluster, stopStandaloneCluster, type StandaloneClusterSpec } from '../stack/flink/standalone-cluster';
import { freeLoopbackPort } from '../stack/ports';
import { waitFor } from '../stack/wait';
import { cancelAllJobs, randomJobId, submitFixtureJob, waitForJobState, waitForRecords } from '../stack/fixture-jobs';
import { testStack } from '../support/stack';

// The REST client against both Flink lines flinkops supports: the shared 1.20 session cluster and a 2.x
// cluster started for this file.
const stack = testStack();
const dirs = { runDir: stack.config.runDir, logDir: stack.config.logDir };
const flink2Spec: StandaloneClusterSpec = {
  name: 'flink2',
  cacheDir: stack.config.cacheDir,
  workDir: join(stack.config.stackDir, 'flink', 'flink2'),
  dataDir: join(stack.config.stackDir, 'data', 'flink2'),
  flinkVersion: FLINK2_VERSION,
  address: '127.0.11.1',
  restPort: 8081,
  taskManagers: 1,
  slotsPerTaskManager: 4,
};

const clusters: Record<string, FlinkRestClient> = {};

beforeAll(async () => {
  const flink2 = await startStandaloneCluster(dirs, flink2Spec);
  clusters[stack.state.flink.version] = stack.flink;
  clusters[FLINK2_VERSION] = new FlinkRestClient({ baseUrl: flink2.restUrl });
});

afterAll(async () => {
  await Promise.all(Object.values(clusters).map((client) => cancelAllJobs(client)));
  await stopStandaloneCluster(dirs, flink2Spec);
});

describe.each([['1.20.5'], [FLINK2_VERSION]])('Flink %s', (version) => {
  const client = () => clusters[version]!;

  test('reports its version and slots', async () => {
    const overview = await client().overview();
    expect(overview['flink-version']).toBe(version);
    expect(overview['slots-total']).toBeGreaterThan(0);
    const config = await client().jobManagerConfig();
    expect(config['rest.port']).toBe('8081');
  });

  test('runs a jar with a fixed job id, refuses a second submission with it, and reports job details', async () => {
    const dir = stack.tempDir(`rest-${version}`);
    const jobId = randomJobId();
    await submitFixtureJob(client(), 'v1', { output: join(dir, 'out.tsv'), jobId });
    await waitForJobState(client(), jobId, 'RUNNING');

    const details = await client().jobDetails(jobId);
    expect(details.jid).toBe(jobId);
    expect(details.vertices.length).toBeGreaterThan(0);
    expect((await client().listJobs()).map((j) => j.jid)).toContain(jobId);

    const duplicate = await submitFixtureJob(client(), 'v1', { output: join(dir, 'dup.tsv'), jobId }).catch((e: unknown) => e);
    expect(duplicate).toBeInstanceOf(FlinkRestError);
    expect((duplicate as FlinkRestError).isDuplicateJobSubmission).toBe(true);

    const config = await client().checkpointConfig(jobId);
    expect(config?.interval).toBe(2000);
    // The JobManager's REST API serves metrics its fetcher collected (every 10 s): none yet right after the start.
    const numRestarts = await waitFor(async () => (await client().jobMetrics(jobId, ['numRestarts'])).numRestarts, { timeoutMs: 30_000, description: 'the numRestarts metric' });
    expect(numRestarts).toBe('0');
    await client().cancelJob(jobId);
    await waitForJobState(client(), jobId, 'CANCELED');
  });

  test('reports no checkpoint configuration for a job without checkpointing', async () => {
    const dir = stack.tempDir(`rest-nocp-${version}`);
    const jobId = await submitFixtureJob(client(), 'v1', { output: join(dir, 'out.tsv'), checkpointIntervalMs: 0 });
    await waitForJobState(client(), jobId, 'RUNNING');
    expect(await client().checkpointConfig(jobId)).toBeUndefined();
    await client().cancelJob(jobId);
  });

  test('a savepoint trigger retried with the same trigger id is the same operation; disposal removes it', async () => {
    const dir = stack.tempDir(`rest-sp-${version}`);
    const output = join(dir, 'out.tsv');
    const jobId = await submitFixtureJob(client(), 'v1', { output });
    await waitForRecords(output, 'v1', 8);

    const triggerId = randomJobId();
    const target = `file://${join(dir, 'savepoints')}`;
    const first = await client().triggerSavepoint(jobId, { triggerId, targetDirectory: target });
    const retried = await client().triggerSavepoint(jobId, { triggerId, targetDirectory: target });
    expect(first).toBe(triggerId);
    expect(retried).toBe(triggerId);
    const location = await waitFor(
      async () => {
        const status = await client().savepointStatus(jobId, triggerId);
        return status.status.id === 'COMPLETED' ? status.operation?.location : undefined;
      },
      { timeoutMs: 60_000, description: 'the savepoint' },
    );
    const savepointDirs = readdirSync(join(dir, 'savepoints'));
    expect(savepointDirs).toHaveLength(1);
    expect((await client().jobDetails(jobId)).state).toBe('RUNNING');

    const disposal = await client().disposeSavepoint(location);
    await waitFor(async () => (await client().disposalStatus(disposal)).status.id === 'COMPLETED', {
      timeoutMs: 30_000,
      description: 'the disposal',
    });
    expect(existsSync(location.replace(/^file:/, ''))).toBe(false);

    const unknownTrigger = await client().savepointStatus(jobId, randomJobId()).catch((e: unknown) => e);
    expect((unknownTrigger as FlinkRestError).isNotFound).toBe(true);

    const stopTrigger = randomJobId();
    await client().stopWithSavepoint(jobId, { triggerId: stopTrigger, targetDirectory: target });
    await waitForJobState(client(), jobId, 'FINISHED');
    const stopped = await client().savepointStatus(jobId, stopTrigger);
    expect(stopped.status.id).toBe('COMPLETED');
    expect(stopped.operation?.location).toContain(join(dir, 'savepoints'));
  });

  test('a savepoint into an unwritable directory fails with a cause and leaves the job running', async () => {
    const dir = stack.tempDir(`rest-spfail-${version}`);
    const output = join(dir, 'out.tsv');
    const jobId = await submitFixtureJob(client(), 'v1', { output });
    await waitForRecords(output, 'v1', 4);
    const triggerId = randomJobId();
    await client().triggerSavepoint(jobId, { triggerId, targetDirectory: 'file:///proc/flinkops-cannot-write-here' });
    const failed = await waitFor(
      async () => {
        const status = await client().savepointStatus(jobId, triggerId);
        return status.status.id === 'COMPLETED' ? status : undefined;
      },
      { timeoutMs: 60_000, description: 'the failing savepoint to complete' },
    );
    expect(failed.operation?.location).toBeUndefined();
    expect(failed.operation?.['failure-cause']).toBeDefined();
    expect((await client().jobDetails(jobId)).state).toBe('RUNNING');
    await client().cancelJob(jobId);
  });

  test('unknown jobs are NotFound', async () => {
    const missing = await client().jobDetails(randomJobId()).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(FlinkRestError);
    expect((missing as FlinkRestError).isNotFound).toBe(true);
    expect((missing as FlinkRestError).message).toMatch(/HTTP 404/);
  });
});

test('an unreachable JobManager is reported as unreachable, not as a Flink error', async () => {
  const client = new FlinkRestClient({ baseUrl: `http://127.0.0.1:${await freeLoopbackPort()}`, timeoutMs: 2_000 });
  const error = (await client.overview().catch((e: unknown) => e)) as FlinkRestError;
  expect(error.isUnreachable).toBe(true);
  expect(error.message).toMatch(/ECONNREFUSED/);
});
