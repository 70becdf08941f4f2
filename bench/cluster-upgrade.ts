import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FlinkRestClient } from '../activities/flink/rest-client';
import { FIXTURE_MAIN_CLASSES, fixtureJar } from '../test/stack/fixtures';
import type { OperationHarness } from '../test/stack/harness';
import { applyManifest, perRequestConnectionClient, serviceUrl, sessionClusterVariables, waitForReadyPods } from '../test/stack/kube/helpers';
import { waitFor } from '../test/stack/wait';
import { median, runBenchmark } from './bench-stack';

/**
 * A session cluster upgraded from Flink 1.20 to 2.2.1 with `flinkops upgrade-cluster`, carrying 1, 3 and 6 fixture
 * jobs: each job's downtime (from the last moment its old instance ran all tasks to the first moment its new one did)
 * and the operation's wall time, with the jobs stopped and started together (--concurrency = jobs) and one job at a
 * time (--concurrency 1: the same steps, in sequence). Every run gets a fresh 1.20 cluster.
 *
 * Downtime is sampled every POLL_MS (its resolution); the stability window is 1 s, so the figures are the steps'
 * own cost, not the waiting a production window adds to each job.
 *
 *   node dist/bench/cluster-upgrade.js [--jobs 1,3,6] [--runs N] [--profile bench|scratch] [--keep-stack]
 */
const POLL_MS = 200;

interface Sample {
  jobs: number;
  mode: 'together' | 'one at a time';
  wallMs: number;
  downtimesMs: number[];
}

async function main(): Promise<void> {
  await runBenchmark('cluster-bench', { jobs: { type: 'string', default: '1,3,6' }, runs: { type: 'string', default: '1' } }, async (harness, values) => {
    const counts = String(values.jobs)
      .split(',')
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0);
    const runs = Number(values.runs);
    if (counts.length === 0 || !Number.isInteger(runs) || runs <= 0) throw new Error('--jobs: a list of positive counts (1,3,6); --runs: a positive integer');
    const samples: Sample[] = [];
    let run = 0;
    for (let r = 1; r <= runs; r++) {
      for (const jobs of counts) {
        // Alternating, so a machine that slows down over time does not favour one mode.
        const modes = (['together', 'one at a time'] as const).slice();
        if ((r + jobs) % 2 === 0) modes.reverse();
        for (const mode of modes) {
          const sample = await measure(harness, jobs, mode, ++run);
          samples.push(sample);
          console.log(`run ${r}: ${jobs} job(s), ${mode}: wall ${sample.wallMs} ms, downtime per job ${sample.downtimesMs.join(', ')} ms`);
        }
      }
    }
    report(samples, counts, runs);
  });
}

async function measure(harness: OperationHarness, jobs: number, mode: Sample['mode'], run: number): Promise<Sample> {
  const name = `cb${run}`;
  await applyManifest(harness.kube, 'session-cluster-flink1.yaml', sessionClusterVariables(harness.namespace, join(harness.dataDir, name), { NAME: name, TASK_SLOTS: jobs }));
  await waitForReadyPods(harness.kube, harness.namespace, `app.kubernetes.io/instance=${name},app.kubernetes.io/component=jobmanager`, 1);
  const flink = perRequestConnectionClient(await serviceUrl(harness.kube, harness.namespace, `${name}-jobmanager`));
  await waitFor(async () => (await flink.overview())['slots-total'] >= jobs, { timeoutMs: 90_000, description: 'task slots' });
  const started: { name: string; jobId: string; args: string[] }[] = [];
  for (let i = 1; i <= jobs; i++) started.push({ name: `${name}-job${i}`, ...(await harness.submitJob(flink, 'v1', `${name}-job${i}`)) });
  const mapping = join(harness.dataDir, `${name}-jobs.json`);
  writeFileSync(mapping, JSON.stringify({ jobs: Object.fromEntries(started.map((j) => [j.name, { jar: fixtureJar('v1'), entryClass: FIXTURE_MAIN_CLASSES.v1, args: j.args }])) }));

  const monitor = new DowntimeMonitor(flink, started);
  const monitoring = monitor.run();
  try {
    await waitFor(() => monitor.allSeen(), { timeoutMs: 30_000, description: 'the monitor to see every job' });
    const startedAt = Date.now();
    const concurrency = mode === 'together' ? jobs : 1;
    const result = await harness.cli(['upgrade-cluster', `${harness.namespace}/${name}-jobmanager`, '--image', 'flink:2.2.1', '--jobs', mapping, '--concurrency', String(concurrency), '--stability-window', '1s', '-o', 'json'], 900_000);
    const wallMs = Date.now() - startedAt;
    if (result.code !== 0) throw new Error(`flinkops upgrade-cluster failed (exit ${result.code}): ${result.stderr}`);
    const downtimesMs = await monitor.stopWhenBack();
    const running = (await flink.listJobs()).filter((j) => j.state === 'RUNNING');
    if (running.length !== jobs) throw new Error(`${running.length} job(s) run after the upgrade, expected ${jobs}: ${running.map((j) => `${j.name} ${j.jid}`).join(', ')}`);
    return { jobs, mode, wallMs, downtimesMs };
  } finally {
    monitor.stop();
    await monitoring;
    // The next run gets a fresh cluster: this one's jobs stop writing and its pods go.
    for (const job of await flink.listJobs().catch(() => [])) if (job.state === 'RUNNING') await flink.cancelJob(job.jid).catch(() => undefined);
    await harness.kube.apps.deleteCollectionNamespacedDeployment({ namespace: harness.namespace, labelSelector: `app.kubernetes.io/instance=${name}` });
  }
}

/** Polls every POLL_MS: for each job name, when its old instance last ran all tasks, and when a new one first did. */
class DowntimeMonitor {
  private readonly lastOld = new Map<string, number>();
  private readonly firstNew = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly flink: FlinkRestClient,
    private readonly jobs: { name: string; jobId: string }[],
  ) {}

  allSeen(): boolean {
    return this.jobs.every((j) => this.lastOld.has(j.name));
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      const now = Date.now();
      const listed = await this.flink.listJobs().catch(() => []);
      for (const job of listed.filter((j) => j.state === 'RUNNING')) {
        const known = this.jobs.find((j) => j.name === job.name);
        if (!known || !(await this.allTasksRunning(job.jid))) continue;
        if (job.jid === known.jobId) this.lastOld.set(known.name, now);
        else if (!this.firstNew.has(known.name)) this.firstNew.set(known.name, now);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  stop(): void {
    this.stopped = true;
  }

  private async allTasksRunning(jobId: string): Promise<boolean> {
    const details = await this.flink.jobDetails(jobId).catch(() => undefined);
    return details !== undefined && details.vertices.every((v) => (v.tasks.RUNNING ?? 0) === v.parallelism);
  }

  async stopWhenBack(): Promise<number[]> {
    await waitFor(() => this.jobs.every((j) => this.firstNew.has(j.name)), { timeoutMs: 120_000, intervalMs: POLL_MS, description: 'every job to run all its tasks again' });
    this.stop();
    return this.jobs.map((j) => this.firstNew.get(j.name)! - this.lastOld.get(j.name)!);
  }
}

function report(samples: Sample[], counts: number[], runs: number): void {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const spread = (values: number[]) => (values.length > 1 ? `${s(Math.min(...values))} / ${s(median(values))} / ${s(Math.max(...values))}` : s(values[0]!));
  console.log(`\nFlink 1.20 -> 2.2.1 with flinkops upgrade-cluster, ${runs} run(s) per row; figures are min / median / max where there are several`);
  console.log('per-job downtime: from the last moment the old instance ran all its tasks to the first moment the new one did');
  const header = `${'jobs'.padStart(4)}  ${'mode'.padEnd(14)}  ${'wall time'.padEnd(26)}  per-job downtime`;
  console.log(header);
  console.log('-'.repeat(header.length + 12));
  const medians = new Map<string, number>();
  for (const jobs of counts) {
    for (const mode of ['together', 'one at a time'] as const) {
      const rows = samples.filter((x) => x.jobs === jobs && x.mode === mode);
      if (rows.length === 0) continue;
      const walls = rows.map((x) => x.wallMs);
      medians.set(`${jobs} ${mode}`, median(walls));
      console.log(`${String(jobs).padStart(4)}  ${mode.padEnd(14)}  ${spread(walls).padEnd(26)}  ${spread(rows.flatMap((x) => x.downtimesMs))}`);
    }
  }
  if (counts.length > 1) {
    const [first, last] = [Math.min(...counts), Math.max(...counts)];
    console.log('');
    for (const mode of ['together', 'one at a time'] as const) {
      const a = medians.get(`${first} ${mode}`);
      const b = medians.get(`${last} ${mode}`);
      if (a !== undefined && b !== undefined) console.log(`${mode}: ${first} -> ${last} jobs adds ${s((b - a) / (last - first))} of wall time per job (medians)`);
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
