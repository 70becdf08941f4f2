import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { FlinkRestClient } from '../activities/flink/rest-client';
import { watchScheduleId } from '../workflows/remediation/ids';
import type { RemediationResult } from '../workflows/remediation/workflow';
import { FIXTURE_MAIN_CLASSES, fixtureJar } from '../test/stack/fixtures';
import type { OperationHarness } from '../test/stack/harness';
import { applyManifest, perRequestConnectionClient, serviceUrl, sessionClusterVariables, waitForReadyPods } from '../test/stack/kube/helpers';
import { waitFor } from '../test/stack/wait';
import { zooKeeperSessionCluster } from '../test/stack/zookeeper-cluster';
import { median, runBenchmark } from './bench-stack';

/**
 * Time from the loss of a JobManager (its pod deleted) to the job RUNNING again with its state, with a flinkops
 * health-check schedule (`flinkops watch`) on the cluster: without HA (flinkops resubmits the job from its newest
 * checkpoint; `no-ha` restarts the TaskManagers still tied to the lost JobManager first, the default; `no-ha-wait` waits
 * for their heartbeat timeout instead, `--lost-job-recovery wait-for-taskmanagers`), with Kubernetes HA and with ZooKeeper HA (two JobManagers: the leader's pod is deleted and the standby
 * takes over; Flink recovers by itself, flinkops verifies). Split into detection (loss -> the first health check that
 * saw it) and recovery (that moment -> all tasks RUNNING, restored from a checkpoint), as a poller of the REST API
 * sees it every 200 ms.
 *
 * Each run is its own incident: the watch gets `--taskmanager-restart-window 1s`, so the once-per-window guard (30m by
 * default) does not turn the second run of `no-ha` into `no-ha-wait`.
 *
 *   node dist/bench/failover-recovery.js [--runs 3] [--every 5s] [--variants no-ha,no-ha-wait,ha,zookeeper] [--profile bench] [--keep-stack]
 */
type Variant = 'no-ha' | 'no-ha-wait' | 'ha' | 'zookeeper';
const VARIANTS: readonly Variant[] = ['no-ha', 'no-ha-wait', 'ha', 'zookeeper'];
const CLUSTER_NAMES: Record<Variant, string> = { 'no-ha': 'solo', 'no-ha-wait': 'patient', ha: 'ha', zookeeper: 'zk' };
/** Options of `flinkops watch enable` per variant, besides the common ones. */
const WATCH_OPTIONS: Record<Variant, string[]> = {
  'no-ha': ['--lost-job-recovery', 'restart-taskmanagers', '--taskmanager-restart-window', '1s'],
  'no-ha-wait': ['--lost-job-recovery', 'wait-for-taskmanagers'],
  ha: [],
  zookeeper: [],
};
const TITLES: Record<Variant, string> = {
  'no-ha': 'no HA: flinkops restarts the TaskManagers tied to the lost JobManager, resubmits from the newest checkpoint',
  'no-ha-wait': "no HA, --lost-job-recovery wait-for-taskmanagers: flinkops waits for the TaskManagers' heartbeat timeout, resubmits",
  ha: 'Kubernetes HA: Flink recovers, flinkops verifies',
  zookeeper: "ZooKeeper HA, leader's pod deleted: the standby takes over, flinkops verifies",
};

interface Sample {
  variant: Variant;
  run: number;
  detectionMs?: number;
  recoveryMs: number;
  totalMs: number;
  /** Loss -> the remediation run ended (verified, stability window included). */
  verifiedMs?: number;
  outcome: string;
}

async function main(): Promise<void> {
  const options = { runs: { type: 'string', default: '3' }, every: { type: 'string', default: '5s' }, variants: { type: 'string', default: VARIANTS.join(',') } } as const;
  await runBenchmark('failover', options, async (harness, values) => {
    const runs = Number(values.runs);
    const every = String(values.every);
    const variants = String(values.variants).split(',') as Variant[];
    const unknown = variants.filter((v) => !VARIANTS.includes(v));
    if (unknown.length > 0) throw new Error(`--variants: unknown ${unknown.join(', ')} (known: ${VARIANTS.join(', ')})`);
    const client = await harness.temporalClient();
    const samples: Sample[] = [];
    for (const variant of variants) {
      const name = CLUSTER_NAMES[variant];
      const flink = await cluster(harness, variant, name);
      const job = await harness.submitJob(flink, 'v1', `bench-${name}`);
      const registered = await harness.cli(['register', `${harness.namespace}/${name}`, '--job', `bench-${name}`, '--jar', fixtureJar('v1'), '--entry-class', FIXTURE_MAIN_CLASSES.v1, ...job.args.flatMap((a) => ['--arg', a])]);
      if (registered.code !== 0) throw new Error(registered.stderr);
      const watch = await harness.cli(['watch', 'enable', `${harness.namespace}/${name}`, '--every', every, '--max-per-hour', '60', '--stability-window', '3s', ...WATCH_OPTIONS[variant]]);
      if (watch.code !== 0) throw new Error(watch.stderr);
      for (let run = 1; run <= runs; run++) {
        const sample = await measure(harness, client, variant, name, `bench-${name}`, run);
        samples.push(sample);
        console.log(
          `${variant.padEnd(10)} run ${run}: detection ${sample.detectionMs ?? '-'} ms, recovery ${sample.recoveryMs} ms, loss -> RUNNING with state ${sample.totalMs} ms, verified after ${sample.verifiedMs ?? '-'} ms (${sample.outcome})`,
        );
      }
      await harness.cli(['watch', 'disable', `${harness.namespace}/${name}`]);
      for (const component of ['jobmanager', 'taskmanager']) await harness.kube.apps.deleteNamespacedDeployment({ name: `${name}-${component}`, namespace: harness.namespace });
    }
    report(samples, every);
  });
}

async function cluster(harness: OperationHarness, variant: Variant, name: string): Promise<FlinkRestClient> {
  if (variant === 'no-ha' || variant === 'no-ha-wait') return harness.sessionCluster(name, 2);
  if (variant === 'zookeeper') return zooKeeperSessionCluster(harness, name, { clusterId: `/${name}` });
  await applyManifest(harness.kube, 'session-cluster-ha.yaml', sessionClusterVariables(harness.namespace, join(harness.dataDir, name), { NAME: name, TASK_SLOTS: 2 }));
  await waitForReadyPods(harness.kube, harness.namespace, `app.kubernetes.io/instance=${name},app.kubernetes.io/component=jobmanager`, 1);
  const flink = perRequestConnectionClient(await serviceUrl(harness.kube, harness.namespace, `${name}-jobmanager`));
  await waitFor(async () => (await flink.overview())['slots-total'] >= 2, { timeoutMs: 120_000, description: 'slots' });
  return flink;
}

async function measure(harness: OperationHarness, client: Client, variant: Variant, name: string, jobName: string, run: number): Promise<Sample> {
  const flink = perRequestConnectionClient(await serviceUrl(harness.kube, harness.namespace, `${name}-jobmanager`));
  // A settled job: running, checkpointing, and no health check busy with the previous run.
  const jobId = await waitFor(async () => (await flink.listJobs()).find((j) => j.name === jobName && j.state === 'RUNNING')?.jid, { timeoutMs: 180_000, description: `${jobName} running` });
  const checkpointsBefore = (await flink.checkpoints(jobId)).counts.completed;
  await waitFor(async () => (await flink.checkpoints(jobId)).counts.completed >= checkpointsBefore + 2, { timeoutMs: 60_000, description: 'two more checkpoints' });
  await waitFor(async () => !(await watchRunBusy(client, harness.namespace, name)), { timeoutMs: 300_000, description: 'the health check to be idle' });

  const [jobManager] = await waitForReadyPods(harness.kube, harness.namespace, `app.kubernetes.io/instance=${name},app.kubernetes.io/component=jobmanager`, variant === 'zookeeper' ? 2 : 1);
  const victim = variant === 'zookeeper' ? await zooKeeperLeaderPod(harness, name) : jobManager!.metadata!.name!;
  const lostAt = Date.now();
  await harness.kube.core.deleteNamespacedPod({ name: victim, namespace: harness.namespace });
  const runningAt = await waitFor(() => runningWithState(flink, jobName, lostAt), {
    timeoutMs: 300_000,
    intervalMs: 200,
    description: `${jobName} RUNNING again with its state (${variant} run ${run})`,
  });
  const remediation = await remediationAfter(client, harness.namespace, name, lostAt);
  const detectedAt = remediation?.result?.detectedAt;
  return {
    variant,
    run,
    ...(detectedAt !== undefined ? { detectionMs: detectedAt - lostAt } : {}),
    recoveryMs: runningAt - (detectedAt ?? lostAt),
    totalMs: runningAt - lostAt,
    ...(remediation?.endedAt ? { verifiedMs: remediation.endedAt - lostAt } : {}),
    outcome: remediation?.result ? `${remediation.result.outcome}: ${[...new Set(remediation.result.actions.map((a) => a.kind))].join(' + ') || 'no action'}` : (remediation?.failure ?? 'no health check saw it'),
  };
}

/** The leading JobManager pod, as `flinkops doctor` names it from ZooKeeper. */
async function zooKeeperLeaderPod(harness: OperationHarness, name: string): Promise<string> {
  const doctor = await harness.cli(['doctor', `${harness.namespace}/${name}`]);
  const leader = /ZooKeeper HA leader (\S+) at /.exec(doctor.stdout)?.[1];
  if (!leader) throw new Error(`doctor named no ZooKeeper leader of ${name}:\n${doctor.stdout}${doctor.stderr}`);
  return leader;
}

/**
 * When a job of that name had all its tasks RUNNING again (a task runs only after restoring its state), once it reports
 * a restore from a checkpoint after the loss: the latest RUNNING timestamp over all its subtasks, as Flink recorded it.
 * The REST API's own views lag (execution graphs and checkpoint statistics are cached for up to 3 s,
 * web.refresh-interval and rest.cache.checkpoint-statistics.timeout): polling them would add that lag to the figure.
 */
async function runningWithState(flink: FlinkRestClient, jobName: string, lostAt: number): Promise<number | undefined> {
  for (const job of (await flink.listJobs()).filter((j) => j.name === jobName && j.state === 'RUNNING')) {
    const details = await flink.jobDetails(job.jid);
    // A resubmitted job keeps its id: when it (last) entered RUNNING tells it from the one that was lost.
    if ((details.timestamps.RUNNING ?? 0) < lostAt || !details.vertices.every((v) => (v.tasks.RUNNING ?? 0) === v.parallelism)) continue;
    const restored = (await flink.checkpoints(job.jid)).latest.restored;
    if (!restored?.restore_timestamp || restored.restore_timestamp < lostAt) continue;
    const times = await Promise.all(details.vertices.map((v) => subtaskRunningTimes(flink, job.jid, v.id)));
    return Math.max(...times.flat());
  }
  return undefined;
}

/** When each subtask of a vertex last switched to RUNNING (GET /jobs/:id/vertices/:vertex/subtasktimes). */
async function subtaskRunningTimes(flink: FlinkRestClient, jobId: string, vertexId: string): Promise<number[]> {
  const response = await fetch(`${flink.baseUrl}/jobs/${jobId}/vertices/${vertexId}/subtasktimes`);
  if (!response.ok) throw new Error(`subtasktimes of ${jobId}/${vertexId}: HTTP ${response.status}`);
  const body = (await response.json()) as { subtasks: { timestamps: Record<string, number> }[] };
  return body.subtasks.map((s) => s.timestamps.RUNNING ?? Number.POSITIVE_INFINITY);
}

async function watchRunBusy(client: Client, namespace: string, name: string): Promise<boolean> {
  const description = await client.schedule.getHandle(watchScheduleId({ namespace, name })).describe();
  return description.info.runningActions.length > 0;
}

/** The health-check run that handled the loss: the first one started after it whose run was not simply healthy. */
async function remediationAfter(client: Client, namespace: string, name: string, lostAt: number): Promise<{ result?: RemediationResult; failure?: string; endedAt?: number } | undefined> {
  return waitFor(
    async () => {
      const description = await client.schedule.getHandle(watchScheduleId({ namespace, name })).describe();
      for (const action of description.info.recentActions.filter((a) => a.takenAt.getTime() >= lostAt - 5_000)) {
        const handle = client.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId);
        const info = await handle.describe();
        if (info.status.name === 'RUNNING') return undefined;
        const endedAt = info.closeTime?.getTime();
        try {
          const result = (await handle.result()) as RemediationResult;
          if (result.outcome !== 'healthy' || result.detectedAt !== undefined) return { result, endedAt };
        } catch (error) {
          return { failure: `failed: ${(error as { cause?: { message?: string } }).cause?.message ?? String(error)}`, endedAt };
        }
      }
      return undefined;
    },
    { timeoutMs: 300_000, intervalMs: 1_000, description: 'the health check that handled the loss' },
  ).catch(() => undefined);
}

function report(samples: Sample[], every: string): void {
  const row = (label: string, values: number[]) =>
    `  ${label.padEnd(34)} ${String(values.length).padStart(4)} ${String(Math.min(...values)).padStart(8)} ${String(Math.round(median(values))).padStart(8)} ${String(Math.max(...values)).padStart(8)}`;
  console.log(`\nJobManager loss (pod deleted) -> job RUNNING again with its state, health check every ${every} (ms)`);
  for (const variant of VARIANTS) {
    const of = samples.filter((s) => s.variant === variant);
    if (of.length === 0) continue;
    console.log(TITLES[variant]);
    console.log(`  ${''.padEnd(34)} ${'runs'.padStart(4)} ${'min'.padStart(8)} ${'median'.padStart(8)} ${'max'.padStart(8)}`);
    const detected = of.filter((s) => s.detectionMs !== undefined);
    if (detected.length > 0) console.log(row('detection (loss -> health check)', detected.map((s) => s.detectionMs!)));
    console.log(row('recovery (detection -> RUNNING)', of.map((s) => s.recoveryMs)));
    console.log(row('total (loss -> RUNNING with state)', of.map((s) => s.totalMs)));
    const verified = of.filter((s) => s.verifiedMs !== undefined);
    if (verified.length > 0) console.log(row('loss -> remediation run verified', verified.map((s) => s.verifiedMs!)));
    console.log(`  outcomes: ${of.map((s) => s.outcome).join(', ')}`);
    if (of.some((s) => s.recoveryMs < 0)) console.log('  (a negative recovery: Flink had the job back with its state before the health check saw the loss)');
    if (variant === 'no-ha') console.log(`  target: loss -> RUNNING with state at most 15000 ms (median) -> ${median(of.map((s) => s.totalMs)) <= 15_000 ? 'met' : 'NOT met'}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
