import { randomBytes } from 'node:crypto';
import type { FlinkRestClient } from '../activities/flink/rest-client';
import { fixtureJar } from '../test/stack/fixtures';
import { randomJobId, waitForJobState } from '../test/stack/fixture-jobs';
import type { OperationHarness } from '../test/stack/harness';
import { waitFor } from '../test/stack/wait';
import { median, runBenchmark } from './bench-stack';

/**
 * Downtime of a job (no RUNNING job with all tasks running) during a flinkops upgrade, against a plain script that
 * makes the same Flink REST calls directly (stop-with-savepoint, poll, upload, run from the savepoint), side by
 * side on the same local cluster, alternating the order per run.
 *
 *   node dist/bench/upgrade-downtime.js [--runs 5] [--profile bench] [--keep-stack]
 */
interface Sample {
  method: 'flinkops' | 'script';
  run: number;
  downtimeMs: number;
}

async function main(): Promise<void> {
  await runBenchmark('bench', { runs: { type: 'string', default: '5' } }, async (harness, values) => {
    const runs = Number(values.runs);
    const flink = await harness.sessionCluster('flink', 8);
    const samples: Sample[] = [];
    for (let run = 1; run <= runs; run++) {
      const order: Sample['method'][] = run % 2 === 1 ? ['flinkops', 'script'] : ['script', 'flinkops'];
      for (const method of order) {
        const downtimeMs = await measure(harness, flink, method, run);
        samples.push({ method, run, downtimeMs });
        console.log(`run ${run} ${method.padEnd(8)} downtime ${downtimeMs} ms`);
      }
    }
    report(samples);
  });
}

async function measure(harness: OperationHarness, flink: FlinkRestClient, method: Sample['method'], run: number): Promise<number> {
  const name = `bench-${method}-${run}`;
  const job = await harness.submitJob(flink, 'v1', name);
  const monitor = new DowntimeMonitor(flink, name, job.jobId);
  const monitoring = monitor.run();
  await waitFor(() => monitor.lastRunningAt > 0, { timeoutMs: 30_000, description: 'the monitor to see the job' });
  let newJobId: string;
  if (method === 'flinkops') {
    const result = await harness.cli(['upgrade', `${harness.namespace}/flink`, '--job', name, '--jar', fixtureJar('v2'), ...harness.fromArgs(job.args), '--stability-window', '1s', '--json']);
    if (result.code !== 0) throw new Error(`flinkops upgrade failed: ${result.stderr}`);
    newJobId = (JSON.parse(result.stdout) as { jobId: string }).jobId;
  } else {
    newJobId = await plainScriptUpgrade(flink, job.jobId, job.args);
  }
  await waitForJobState(flink, newJobId, 'RUNNING');
  const downtime = await monitor.stopWhenBack();
  await monitoring;
  await flink.cancelJob(newJobId);
  return downtime;
}

/** What a careful shell script would do with curl: the same calls, polling every 200 ms. */
async function plainScriptUpgrade(flink: FlinkRestClient, jobId: string, args: string[]): Promise<string> {
  const triggerId = randomBytes(16).toString('hex');
  await flink.stopWithSavepoint(jobId, { triggerId });
  let location: string | undefined;
  while (!location) {
    const status = await flink.savepointStatus(jobId, triggerId);
    if (status.status.id === 'COMPLETED') {
      location = status.operation?.location;
      if (!location) throw new Error('savepoint failed');
    } else {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  const jarId = await flink.uploadJar(fixtureJar('v2'));
  return flink.runJar(jarId, { jobId: randomJobId(), programArgs: args, savepointPath: location });
}

/**
 * Polls every 50 ms: when the old job was last seen with all tasks running, and when another job of the same name
 * was first seen with all tasks running. The difference is the downtime.
 */
class DowntimeMonitor {
  lastRunningAt = 0;
  private backAt = 0;
  private stopped = false;

  constructor(
    private readonly flink: FlinkRestClient,
    private readonly name: string,
    private readonly oldJobId: string,
  ) {}

  async run(): Promise<void> {
    while (!this.stopped) {
      const now = Date.now();
      const jobs = await this.flink.listJobs().catch(() => []);
      for (const job of jobs.filter((j) => j.name === this.name && j.state === 'RUNNING')) {
        if (!(await this.allTasksRunning(job.jid))) continue;
        if (job.jid === this.oldJobId) this.lastRunningAt = now;
        else if (this.backAt === 0) this.backAt = now;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private async allTasksRunning(jobId: string): Promise<boolean> {
    const details = await this.flink.jobDetails(jobId).catch(() => undefined);
    return details !== undefined && details.vertices.every((v) => (v.tasks.RUNNING ?? 0) === v.parallelism);
  }

  async stopWhenBack(): Promise<number> {
    await waitFor(() => this.backAt > 0, { timeoutMs: 120_000, intervalMs: 50, description: `a new ${this.name} job to run all its tasks` });
    this.stopped = true;
    return this.backAt - this.lastRunningAt;
  }
}

function report(samples: Sample[]): void {
  const of = (method: Sample['method']) => samples.filter((s) => s.method === method).map((s) => s.downtimeMs);
  const flinkops = of('flinkops');
  const script = of('script');
  const overhead = median(flinkops) - median(script);
  console.log('\njob downtime during an upgrade (ms; no job RUNNING with all tasks running)');
  console.log(`            ${'runs'.padStart(5)} ${'min'.padStart(7)} ${'median'.padStart(7)} ${'max'.padStart(7)}`);
  for (const [name, values] of [['flinkops', flinkops], ['script', script]] as const) {
    console.log(`${name.padEnd(11)} ${String(values.length).padStart(5)} ${String(Math.min(...values)).padStart(7)} ${String(median(values)).padStart(7)} ${String(Math.max(...values)).padStart(7)}`);
  }
  const percent = (overhead / median(script)) * 100;
  console.log(`\nflinkops adds ${overhead} ms (${percent.toFixed(1)}%) to the median downtime; target: at most 10% or 1000 ms -> ${overhead <= Math.max(1000, median(script) * 0.1) ? 'met' : 'NOT met'}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
