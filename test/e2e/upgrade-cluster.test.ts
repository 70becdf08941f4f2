import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { EventsV1Api } from '@kubernetes/client-node';
import type { FlinkRestClient } from '../../activities/flink/rest-client';
import type { ClusterUpgradeProgress, ClusterUpgradeResult } from '../../workflows/cluster-upgrade/contract';
import { clusterUpgradeWorkflowId } from '../../workflows/cluster-upgrade/ids';
import type { JobRecord } from '../../workflows/model/record';
import { FIXTURE_MAIN_CLASSES, fixtureJar, type CounterRecord, type FixtureVersion } from '../stack/fixtures';
import { readCounters } from '../stack/fixture-jobs';
import { applyManifest, perRequestConnectionClient, serviceUrl, sessionClusterVariables, waitForReadyPods } from '../stack/kube/helpers';
import { waitFor } from '../stack/wait';
import { OperationHarness } from '../support/upgrade-harness';

// A whole session cluster upgraded from Flink 1.20 to 2.2.1 (and reconfigured) with flinkops upgrade-cluster on the
// local Kubernetes, through the CLI, the real Temporal server and a worker process that is killed on the way.
const h = new OperationHarness('upcluster');
let client: Client;

beforeAll(async () => {
  await h.setUp();
  client = await h.temporalClient();
}, 180_000);
afterAll(() => h.tearDown());

interface Job {
  name: string;
  jobId: string;
  output: string;
  args: string[];
}

/** A Flink 1.20 session cluster configured the 1.x way (flink-conf.yaml) and fixture jobs flinkops did not start. */
async function flink1Cluster(name: string, slots: number, jobs: { name: string; version: FixtureVersion; extra?: { snapshotDelayMs?: number; checkpointIntervalMs?: number } }[]) {
  await applyManifest(h.kube, 'session-cluster-flink1.yaml', sessionClusterVariables(h.namespace, join(h.dataDir, name), { NAME: name, TASK_SLOTS: slots }));
  await waitForReadyPods(h.kube, h.namespace, `app.kubernetes.io/instance=${name},app.kubernetes.io/component=jobmanager`, 1);
  const flink = perRequestConnectionClient(await serviceUrl(h.kube, h.namespace, `${name}-jobmanager`));
  await waitFor(async () => (await flink.overview())['slots-total'] >= slots, { timeoutMs: 90_000, description: 'task slots' });
  const started: Job[] = [];
  for (const job of jobs) started.push({ name: job.name, ...(await h.submitJob(flink, job.version, `${name}-${job.name}`, job.extra)) });
  return { flink, jobs: started, cluster: `${h.namespace}/${name}-jobmanager`, savepoints: join(h.dataDir, name, 'savepoints') };
}

/** --jobs FILE: how each job runs on the new cluster (flinkops has no record of them). */
function jobsFile(file: string, jobs: Job[], version: (job: Job) => FixtureVersion, args: (job: Job) => string[] = (job) => job.args): string {
  const path = join(h.dataDir, file);
  const entries = Object.fromEntries(jobs.map((job) => [`${job.output.split('/').pop()!.replace(/\.tsv$/, '')}`, { jar: fixtureJar(version(job)), entryClass: FIXTURE_MAIN_CLASSES[version(job)], args: args(job) }]));
  writeFileSync(path, JSON.stringify({ jobs: entries }, null, 2));
  return path;
}

/**
 * The job's counters in its output, key by key: every count follows the one before by exactly one (state continued
 * through every stop and restore, nothing counted twice, no second instance), and the last lines ran on `flink`.
 */
function expectCountedOnce(job: Job, flink: string, atLeast = 2): void {
  const records = readCounters(job.output);
  const byKey = new Map<number, CounterRecord[]>();
  for (const r of records) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
  expect(byKey.size).toBeGreaterThan(0);
  for (const [key, list] of byKey) {
    const counts = list.map((r) => r.count);
    expect({ key, counts: counts.filter((c, i) => i > 0 && c !== counts[i - 1]! + 1) }).toEqual({ key, counts: [] });
    expect(counts[0]).toBe(1);
    expect(list.at(-1)!.flink).toBe(flink);
    expect(new Set(list.map((r) => r.flink)).size).toBeGreaterThanOrEqual(atLeast > 1 ? 2 : 1);
  }
}

/**
 * After a rollback from the same savepoints: on each key, the counts the old version wrote after the rollback follow
 * the last count it wrote before the upgrade (the new version's counts in between are discarded with its state).
 */
function expectRestoredOnOld(job: Job, old: string): void {
  const records = readCounters(job.output);
  const firstNewLine = records.findIndex((r) => r.flink !== old);
  const lastNewLine = records.length - 1 - [...records].reverse().findIndex((r) => r.flink !== old);
  const before = firstNewLine === -1 ? records : records.slice(0, firstNewLine);
  const after = firstNewLine === -1 ? [] : records.slice(lastNewLine + 1);
  for (const key of new Set(records.map((r) => r.key))) {
    const last = Math.max(...before.filter((r) => r.key === key).map((r) => r.count));
    const counts = (firstNewLine === -1 ? records : after).filter((r) => r.key === key).map((r) => r.count);
    if (firstNewLine === -1) {
      expect(counts.filter((c, i) => i > 0 && c !== counts[i - 1]! + 1)).toEqual([]);
    } else {
      expect(counts[0]).toBe(last + 1);
    }
  }
}

async function waitForNewLines(job: Job, flink: string, lines = 8): Promise<void> {
  await waitFor(() => readCounters(job.output).filter((r) => r.flink === flink).length >= lines, { timeoutMs: 120_000, description: `${lines} lines on Flink ${flink} in ${job.output}` });
}

async function waitForStep(workflowId: string, done: (p: ClusterUpgradeProgress) => boolean, description: string): Promise<ClusterUpgradeProgress> {
  return waitFor(
    async () => {
      const progress = await client.workflow.getHandle(workflowId).query<ClusterUpgradeProgress>('getClusterUpgradeProgress').catch(() => undefined);
      return progress && done(progress) ? progress : undefined;
    },
    { timeoutMs: 240_000, intervalMs: 200, description },
  );
}

async function records(cluster: string): Promise<JobRecord[]> {
  const configMaps = await h.kube.core.listNamespacedConfigMap({ namespace: h.namespace, labelSelector: `flinkops.dev/cluster=${cluster.split('/')[1]}` });
  return configMaps.items.filter((c) => c.data?.['record.json']).map((c) => JSON.parse(c.data!['record.json']!) as JobRecord);
}

async function images(name: string): Promise<string[]> {
  const deployments = await h.kube.apps.listNamespacedDeployment({ namespace: h.namespace, labelSelector: `app.kubernetes.io/instance=${name}` });
  return deployments.items.map((d) => d.spec!.template.spec!.containers[0]!.image!).sort();
}

async function eventReasons(): Promise<string[]> {
  const events = await h.kube.kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: h.namespace });
  return events.items.filter((e) => e.reportingController === 'flinkops.dev/worker').map((e) => e.reason ?? '');
}

function attemptsOf(history: Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>, activity: string): number[] {
  const scheduled = history.events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity).map((e) => Number(e.eventId));
  return history.events!.filter((e) => scheduled.includes(Number(e.activityTaskStartedEventAttributes?.scheduledEventId))).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0);
}

const runningOf = async (flink: FlinkRestClient, name: string) => (await flink.listJobs()).filter((j) => j.state === 'RUNNING' && j.name === name).map((j) => j.jid);

describe('three compatible jobs', () => {
  let env: Awaited<ReturnType<typeof flink1Cluster>>;

  test('a job flinkops cannot restart is refused in the plan, naming it, and nothing changes; --dry-run shows the translated configuration', async () => {
    // Slow snapshots and no periodic checkpoint on 1.20, so the stops are still in flight when the worker dies below.
    const slow = { snapshotDelayMs: 5_000, checkpointIntervalMs: 600_000 };
    env = await flink1Cluster('fc', 4, [
      { name: 'a', version: 'v1', extra: slow },
      { name: 'b', version: 'v1', extra: slow },
      { name: 'c', version: 'v1', extra: slow },
    ]);
    const refused = await h.cli(['upgrade-cluster', env.cluster, '--image', 'flink:2.2.1']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/job fc-a \([0-9a-f]{32}\): flinkops does not know how to start it again \(no record of its jar\): map it in --jobs FILE, or let it go with --allow-drop fc-a/);
    expect(await images('fc')).toEqual(['flink:1.20', 'flink:1.20']);
    for (const job of env.jobs) expect(await runningOf(env.flink, `fc-${job.name}`)).toEqual([job.jobId]);

    // c moves to the v2 jar on the new cluster; a and b keep v1. The new cluster checkpoints every 2 s.
    const mapping = jobsFile('fc-jobs.json', env.jobs, (job) => (job.name === 'c' ? 'v2' : 'v1'), (job) => job.args.slice(0, 4));
    const dry = await h.cli(['upgrade-cluster', env.cluster, '--image', 'flink:2.2.1', '--jobs', mapping, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/config file +flink-conf\.yaml: Flink 2\.2\.1 reads config\.yaml only/);
    expect(dry.stdout).toMatch(/config renamed +state\.savepoints\.dir: deprecated: now execution\.checkpointing\.savepoint-dir/);
    expect(dry.stdout).toMatch(/config removed +cluster\.evenly-spread-out-slots: removed in Flink 2/);
    expect(dry.stdout).toMatch(/start fc-c from its savepoint .*fixture-job-1\.0\.0-v2\.jar/);
    expect(await images('fc')).toEqual(['flink:1.20', 'flink:1.20']);
  }, 240_000);

  test('1.20 -> 2.2.1, the worker killed during the stops and again during the resubmissions: every job on 2.2.1 with its state, one savepoint and one instance each', async () => {
    const mapping = jobsFile('fc-jobs.json', env.jobs, (job) => (job.name === 'c' ? 'v2' : 'v1'), (job) => job.args.slice(0, 4));
    await h.restartWorker({ FLINKOPS_TEST_FAILPOINTS: 'redeploy.afterSubmit=60000' });
    const started = await h.cli(['upgrade-cluster', env.cluster, '--image', 'flink:2.2.1', '--jobs', mapping, '--stability-window', '3s', '--no-wait']);
    expect(started.code).toBe(0);
    const workflowId = started.stdout.trim();
    expect(workflowId).toBe(clusterUpgradeWorkflowId({ namespace: h.namespace, name: 'fc-jobmanager' }));

    await waitForStep(workflowId, (p) => p.step === 'stopping' && p.jobs.some((j) => j.step === 'stopping'), 'the stops');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await h.worker!.kill();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await h.restartWorker({ FLINKOPS_TEST_FAILPOINTS: 'redeploy.afterSubmit=60000' });

    // Each job is submitted, but the worker dies before its deploy activity reports it.
    const resubmitting = await waitForStep(workflowId, (p) => p.step === 'resubmitting' && p.jobs.every((j) => j.step === 'deploying'), 'the resubmissions');
    await waitFor(async () => (await env.flink.listJobs()).filter((j) => j.state === 'RUNNING').length === 3, { timeoutMs: 120_000, description: 'three jobs running on 2.2.1' });
    // While it runs, `flinkops status` shows each job's step.
    const status = await h.cli(['status', env.cluster]);
    expect(status.stdout).toMatch(/running: upgradeClusterWorkflow .*\n {2}fc-a: deploying: /);
    await h.worker!.kill();
    await h.restartWorker();

    const result = (await client.workflow.getHandle(workflowId).result()) as ClusterUpgradeResult;
    expect(result.outcome).toBe('succeeded');
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    expect(Math.max(...attemptsOf(history, 'stopJobWithSavepoint'))).toBeGreaterThanOrEqual(2);
    expect(Math.max(...attemptsOf(history, 'deployVersion'))).toBeGreaterThanOrEqual(2);

    expect(await images('fc')).toEqual(['flink:2.2.1', 'flink:2.2.1']);
    expect((await env.flink.overview())['flink-version']).toBe('2.2.1');
    const dirs = readdirSync(env.savepoints).filter((d) => d.startsWith('savepoint-'));
    for (const job of env.jobs) {
      // Exactly one savepoint per job, and exactly one instance, restored from it.
      expect(dirs.filter((d) => d.startsWith(`savepoint-${job.jobId.slice(0, 6)}`))).toHaveLength(1);
      const progress = resubmitting.jobs.find((j) => j.jobName === `fc-${job.name}`)!;
      expect(await runningOf(env.flink, `fc-${job.name}`)).toEqual([progress.jobId]);
      expect((await env.flink.checkpoints(progress.jobId!)).latest.restored?.external_path).toBe(result.jobs.find((j) => j.jobName === `fc-${job.name}`)!.savepoint);
      await waitForNewLines(job, '2.2.1');
      expectCountedOnce(job, '2.2.1');
    }
    expect(readCounters(env.jobs[2]!.output).at(-1)!.version).toBe('v2');
    const recorded = await records(env.cluster);
    for (const job of env.jobs) {
      const record = recorded.find((r) => r.jobName === `fc-${job.name}`)!;
      expect(record.history.at(-1)).toMatchObject({ operation: 'upgrade-cluster', outcome: 'upgraded' });
      expect(record.currentJobId).toBe(result.jobs.find((j) => j.jobName === `fc-${job.name}`)!.jobId);
    }
    expect(await eventReasons()).toEqual(expect.arrayContaining(['ClusterUpgradeStarted', 'ClusterUpgradeJobCarried', 'ClusterUpgradeSucceeded']));
    // The new configuration: config.yaml with the renamed keys, the log4j file carried along, the old ConfigMap kept.
    const configMaps = (await h.kube.core.listNamespacedConfigMap({ namespace: h.namespace })).items;
    const written = configMaps.find((c) => c.metadata!.name!.startsWith('fc-jobmanager-config-'))!;
    expect(Object.keys(written.data!).sort()).toEqual(['config.yaml', 'log4j-console.properties']);
    expect(written.data!['config.yaml']).toMatch(/execution\.checkpointing\.savepoint-dir: "file:\/\//);
    expect(written.data!['config.yaml']).not.toMatch(/cluster\.evenly-spread-out-slots|state\.savepoints\.dir/);
    expect(configMaps.some((c) => c.metadata!.name === 'fc-config')).toBe(true);
  }, 480_000);

  test('a configuration-only change (task slots) carries every job with its state, from flinkops\' records', async () => {
    const linesBefore = env.jobs.map((job) => readCounters(job.output).length);
    const result = await h.cli(['upgrade-cluster', env.cluster, '--set', 'taskmanager.numberOfTaskSlots=6', '--stability-window', '3s', '-o', 'json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const upgrade = JSON.parse(result.stdout) as ClusterUpgradeResult;
    expect(upgrade.plan.jobs.map((j) => j.source)).toEqual(['record', 'record', 'record']);
    expect((await env.flink.overview())['slots-total']).toBe(6);
    for (const [i, job] of env.jobs.entries()) {
      await waitFor(() => readCounters(job.output).length >= linesBefore[i]! + 8, { timeoutMs: 120_000, description: 'new lines' });
      expectCountedOnce(job, '2.2.1');
      expect(await runningOf(env.flink, `fc-${job.name}`)).toHaveLength(1);
    }
    for (const job of await env.flink.listJobs()) if (job.state === 'RUNNING') await env.flink.cancelJob(job.jid);
  }, 300_000);
});

describe('a job whose state Flink 2 cannot restore', () => {
  let env: Awaited<ReturnType<typeof flink1Cluster>>;

  test('default policy: the whole cluster goes back to 1.20 and every job runs there with its state; the failure names the job and the restore error', async () => {
    env = await flink1Cluster('fp', 4, [
      { name: 'a', version: 'v1' },
      { name: 'b', version: 'v1' },
      { name: 'pojo', version: 'pojo' },
    ]);
    const mapping = jobsFile('fp-jobs.json', env.jobs, (job) => (job.name === 'pojo' ? 'pojo' : 'v1'));
    // Stops, roll, three resubmissions, the cluster rolled back and three more: minutes when other files share the cores.
    const result = await h.cli(['upgrade-cluster', env.cluster, '--image', 'flink:2.2.1', '--jobs', mapping, '--stability-window', '3s', '--verify-timeout', '40s'], 480_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/1 of 3 job\(s\) failed on flink:2\.2\.1: fp-pojo: verification of fixture-job-1\.0\.0-pojo\.jar \(dev\.flinkops\.fixture\.CounterJobPojo\) failed: .*StateMigrationException/);
    expect(result.stderr).toMatch(/rolled the cluster back to flink:1\.20: every job runs again with its previous version from its savepoint/);
    expect(await images('fp')).toEqual(['flink:1.20', 'flink:1.20']);
    expect((await env.flink.overview())['flink-version']).toBe('1.20.5');
    for (const job of env.jobs) {
      expect(await runningOf(env.flink, `fp-${job.name}`)).toHaveLength(1);
      await waitFor(() => readCounters(job.output).slice(-1)[0]?.flink === '1.20.5' && readCounters(job.output).filter((r) => r.flink === '1.20.5').length > 16, { timeoutMs: 120_000, description: 'lines on 1.20 again' });
      expectRestoredOnOld(job, '1.20.5');
    }
    expect(await eventReasons()).toEqual(expect.arrayContaining(['ClusterUpgradeFailed', 'ClusterUpgradeJobRolledBack', 'ClusterUpgradeRolledBack']));
  }, 720_000);

  test('keep-going: the compatible jobs stay on 2.2.1, the incompatible one is reported with its savepoint', async () => {
    const result = await h.cli(['upgrade-cluster', env.cluster, '--image', 'flink:2.2.1', '--on-failure', 'keep-going', '--stability-window', '3s', '--verify-timeout', '40s', '-o', 'json'], 360_000);
    expect(result.code).toBe(1);
    const upgrade = JSON.parse(result.stdout) as ClusterUpgradeResult;
    expect(upgrade.outcome).toBe('partially-upgraded');
    const pojo = upgrade.jobs.find((j) => j.jobName === 'fp-pojo')!;
    expect(pojo.step).toBe('failed');
    expect(pojo.message).toMatch(/StateMigrationException/);
    expect(upgrade.message).toContain(`fp-pojo: its state is in ${pojo.savepoint}`);
    expect(await images('fp')).toEqual(['flink:2.2.1', 'flink:2.2.1']);
    expect(await runningOf(env.flink, 'fp-pojo')).toEqual([]);
    for (const job of env.jobs.filter((j) => j.name !== 'pojo')) {
      expect(await runningOf(env.flink, `fp-${job.name}`)).toHaveLength(1);
      await waitForNewLines(job, '2.2.1');
    }
    const record = (await records(env.cluster)).find((r) => r.jobName === 'fp-pojo')!;
    expect(record.history.at(-1)).toMatchObject({ operation: 'upgrade-cluster', outcome: 'failed', savepoint: pojo.savepoint });
  }, 480_000);
});
