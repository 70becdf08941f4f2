import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FlinkRestClient } from '../../activities/flink/rest-client';
import type { JobRecord } from '../../workflows/model/record';
import { fixtureArgs, randomJobId, waitForJobState, waitForRecords } from './fixture-jobs';
import { FIXTURE_MAIN_CLASSES, fixtureJar, type FixtureVersion } from './fixtures';
import { openStack, type TestStack } from './handle';
import { applyManifest, createNamespace, deleteNamespace, kubeClients, perRequestConnectionClient, serviceUrl, sessionClusterVariables, waitForReadyPods, type KubeTestClients } from './kube/helpers';
import { runCli, startWorker, type CliResult, type WorkerHandle } from './processes';
import { testProfile, type StackProfile } from './config';
import { waitFor } from './wait';
import { testWorkerPolicy } from './stack';

/**
 * What operation tests and benchmarks share: a namespace on the local Kubernetes, a worker process pointed at it, the CLI,
 * and fixture-job helpers. Each test file gets its own namespace and task queue.
 */
export class OperationHarness {
  readonly stack: TestStack;
  readonly kube: KubeTestClients;
  readonly taskQueue: string;
  namespace = '';
  dataDir = '';
  worker?: WorkerHandle;
  private connection?: Connection;

  constructor(
    private readonly name: string,
    profile: StackProfile = testProfile(),
  ) {
    this.stack = openStack(profile);
    this.kube = kubeClients(this.stack.state);
    this.taskQueue = `${name}-${Date.now()}`;
  }

  /** `workerEnv`: extra worker settings (e.g. FLINKOPS_ESCALATION_WEBHOOK_URL). */
  async setUp(workerEnv: NodeJS.ProcessEnv = {}): Promise<void> {
    this.namespace = await createNamespace(this.kube, this.name);
    this.dataDir = this.stack.tempDir(this.name);
    this.worker = await this.startWorker(workerEnv);
  }

  /** A Temporal client for the test itself (queries, results, schedules); tearDown closes its connection. */
  async temporalClient(): Promise<Client> {
    this.connection ??= await Connection.connect({ address: this.stack.state.temporal.address });
    return new Client({ connection: this.connection, namespace: this.stack.state.temporal.namespace });
  }

  async tearDown(): Promise<void> {
    await this.connection?.close();
    await this.worker?.stop();
    await deleteNamespace(this.kube, this.namespace);
  }

  workerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
      ...this.stack.temporalEnv(this.taskQueue),
      KUBECONFIG: this.stack.state.kube.kubeconfig,
      FLINKOPS_SERVICE_ADDRESSING: 'cluster-ip',
      FLINKOPS_ALLOWED_SAVEPOINT_PREFIXES: `file://${this.stack.config.stackDir}`,
      ...testWorkerPolicy(this.stack.config.stackDir),
      ...extra,
    };
  }

  startWorker(extra: NodeJS.ProcessEnv = {}): Promise<WorkerHandle> {
    return startWorker(this.workerEnv(extra), this.stack.config.logDir);
  }

  async restartWorker(extra: NodeJS.ProcessEnv = {}): Promise<void> {
    await this.worker?.stop();
    this.worker = await this.startWorker(extra);
  }

  cli(args: string[], timeoutMs?: number): Promise<CliResult> {
    return runCli(args, this.stack.temporalEnv(this.taskQueue), timeoutMs);
  }

  /** A session cluster from the Bitnami-shaped fixture; returns a REST client through its Service. */
  async sessionCluster(name = 'flink', slots = 8): Promise<FlinkRestClient> {
    await applyManifest(this.kube, 'session-cluster.yaml', sessionClusterVariables(this.namespace, join(this.dataDir, name), { NAME: name, TASK_SLOTS: slots }));
    await waitForReadyPods(this.kube, this.namespace, `app.kubernetes.io/instance=${name},app.kubernetes.io/component=jobmanager`, 1);
    const flink = perRequestConnectionClient(await serviceUrl(this.kube, this.namespace, `${name}-jobmanager`));
    await waitFor(async () => (await flink.overview())['slots-total'] >= slots, { timeoutMs: 90_000, description: 'task slots' });
    return flink;
  }

  /** An application cluster running a fixture version; the job writes to the returned output file. */
  async applicationCluster(name: string, version: FixtureVersion): Promise<{ flink: FlinkRestClient; output: string; jobId: string }> {
    const output = join(this.dataDir, `${name}.tsv`);
    const jobId = randomJobId();
    await applyManifest(this.kube, 'application-cluster.yaml', {
      NAME: name,
      NAMESPACE: this.namespace,
      IMAGE: `fixture-job:${version}`,
      DATA_DIR: join(this.dataDir, name),
      OUTPUT: output,
      JOB_ID: jobId,
    });
    await waitForReadyPods(this.kube, this.namespace, `app.kubernetes.io/instance=${name},app.kubernetes.io/component=jobmanager`, 1);
    const flink = perRequestConnectionClient(await serviceUrl(this.kube, this.namespace, `${name}-jobmanager`));
    await waitForJobState(flink, jobId, 'RUNNING', 120_000);
    await waitForRecords(output, version, 8, 120_000);
    return { flink, output, jobId };
  }

  /** Runs a fixture version as a named job on a session cluster and waits for its first output. */
  async submitJob(flink: FlinkRestClient, version: FixtureVersion, jobName: string, extra: { snapshotDelayMs?: number; checkpointIntervalMs?: number } = {}): Promise<{ jobId: string; output: string; args: string[] }> {
    const output = join(this.dataDir, `${jobName}.tsv`);
    const args = [...fixtureArgs({ output, jobName, checkpointIntervalMs: extra.checkpointIntervalMs }), ...(extra.snapshotDelayMs ? ['--snapshot-delay', String(extra.snapshotDelayMs)] : [])];
    const jarId = await flink.uploadJar(fixtureJar(version));
    const jobId = await flink.runJar(jarId, { jobId: randomJobId(), entryClass: FIXTURE_MAIN_CLASSES[version], programArgs: args });
    await waitForJobState(flink, jobId, 'RUNNING');
    await waitForRecords(output, version, 8);
    return { jobId, output, args };
  }

  /** CLI arguments that tell flinkops how the running v1 job was deployed (it has no record of it yet). */
  fromArgs(args: string[]): string[] {
    return ['--from-jar', fixtureJar('v1'), ...args.flatMap((a) => ['--from-arg', a])];
  }

  /** flinkops' record of a job in the test's namespace, read from its ConfigMap. */
  async record(jobName: string): Promise<JobRecord | undefined> {
    const configMaps = await this.kube.core.listNamespacedConfigMap({ namespace: this.namespace, labelSelector: 'app.kubernetes.io/managed-by=flinkops' });
    // Job records only: the same label marks other flinkops objects (recreation intents).
    return configMaps.items.flatMap((c) => (c.data?.['record.json'] ? [JSON.parse(c.data['record.json']) as JobRecord] : [])).find((r) => r.jobName === jobName);
  }

  async runningJobs(flink: FlinkRestClient, name?: string): Promise<string[]> {
    return (await flink.listJobs()).filter((j) => j.state === 'RUNNING' && (!name || j.name === name)).map((j) => j.jid);
  }
}

/** The savepoint directories Flink wrote under `dir`, by name; none when it does not exist yet. */
export function savepointDirs(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((d) => d.startsWith('savepoint-')).sort() : [];
}
