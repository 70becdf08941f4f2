import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { FlinkRestClient } from '../activities/flink/rest-client';
import { upgradeWorkflowId } from '../workflows/upgrade/ids';
import { FIXTURE_MAIN_CLASSES, fixtureJar } from '../test/stack/fixtures';
import { randomJobId, waitForJobState } from '../test/stack/fixture-jobs';
import type { OperationHarness } from '../test/stack/harness';
import { median, runBenchmark } from './bench-stack';

/**
 * Downtime of a job during an upgrade on a session cluster: flinkops against two hand-written scripts making the same
 * Flink REST calls, in turn on the same cluster (the order rotates per run):
 *
 * - naive: stop-with-savepoint, poll its status every 200 ms, upload the new jar, run it from the savepoint;
 * - careful: every advantage flinkops has, the jar uploaded while the old job still runs, the status polled every 50 ms,
 *   the run request sent the moment the savepoint is there;
 * - flinkops: `flinkops upgrade` (preflight, lock, upload before the stop, stop, redeploy, verify, records).
 *
 * Downtime is read from Flink's own timestamps, not from polling (the REST API caches execution graphs for up to
 * 3 s): from the first subtask of the old job leaving RUNNING to the last subtask of the new job entering it. It splits
 * into stop (old job left RUNNING -> old job FINISHED), hand-over (FINISHED -> the new job submitted) and start
 * (submitted -> all subtasks RUNNING). Also prints the Temporal history length of each flinkops upgrade.
 *
 *   node dist/bench/upgrade-downtime.js [--runs 5] [--profile bench] [--keep-stack]
 */
type Method = 'flinkops' | 'careful' | 'naive';
const METHODS: readonly Method[] = ['flinkops', 'careful', 'naive'];

interface Sample {
  method: Method;
  run: number;
  downtimeMs: number;
  stopMs: number;
  handOverMs: number;
  startMs: number;
}

async function main(): Promise<void> {
  await runBenchmark('bench', { runs: { type: 'string', default: '5' } }, async (harness, values) => {
    const runs = Number(values.runs);
    const flink = await harness.sessionCluster('flink', 8);
    const client = await harness.temporalClient();
    const samples: Sample[] = [];
    const histories: number[] = [];
    for (let run = 1; run <= runs; run++) {
      const order = METHODS.map((_, i) => METHODS[(i + run - 1) % METHODS.length]!);
      for (const method of order) {
        const sample = await measure(harness, flink, client, method, run, histories);
        samples.push(sample);
        console.log(`run ${run} ${method.padEnd(8)} downtime ${sample.downtimeMs} ms (stop ${sample.stopMs}, hand-over ${sample.handOverMs}, start ${sample.startMs})`);
      }
    }
    report(samples);
    console.log(`\nTemporal history events per flinkops upgrade: ${histories.join(', ')} (median ${median(histories)})`);
  });
}

async function measure(harness: OperationHarness, flink: FlinkRestClient, client: Client, method: Method, run: number, histories: number[]): Promise<Sample> {
  const name = `bench-${method}-${run}`;
  const job = await harness.submitJob(flink, 'v1', name);
  let newJobId: string;
  if (method === 'flinkops') {
    const result = await harness.cli(['upgrade', `${harness.namespace}/flink`, '--job', name, '--jar', fixtureJar('v2'), ...harness.fromArgs(job.args), '--stability-window', '1s', '--json']);
    if (result.code !== 0) throw new Error(`flinkops upgrade failed: ${result.stderr}`);
    newJobId = (JSON.parse(result.stdout) as { jobId: string }).jobId;
    const description = await client.workflow.getHandle(upgradeWorkflowId({ namespace: harness.namespace, name: 'flink' }, name)).describe();
    histories.push(Number(description.historyLength));
  } else {
    newJobId = await scriptUpgrade(flink, job.jobId, job.args, method);
  }
  await waitForJobState(flink, newJobId, 'RUNNING');
  const sample = await downtime(flink, job.jobId, newJobId);
  await flink.cancelJob(newJobId);
  return { method, run, ...sample };
}

/** What a shell script would do with curl, naively or with every advantage flinkops has. */
async function scriptUpgrade(flink: FlinkRestClient, jobId: string, args: string[], method: 'careful' | 'naive'): Promise<string> {
  const pollMs = method === 'careful' ? 50 : 200;
  const preUploaded = method === 'careful' ? await flink.uploadJar(fixtureJar('v2')) : undefined;
  const triggerId = randomBytes(16).toString('hex');
  await flink.stopWithSavepoint(jobId, { triggerId });
  let location: string | undefined;
  while (!location) {
    const status = await flink.savepointStatus(jobId, triggerId);
    if (status.status.id === 'COMPLETED') {
      location = status.operation?.location;
      if (!location) throw new Error('savepoint failed');
    } else {
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
  const jarId = preUploaded ?? (await flink.uploadJar(fixtureJar('v2')));
  return flink.runJar(jarId, { jobId: randomJobId(), entryClass: FIXTURE_MAIN_CLASSES.v2, programArgs: args, savepointPath: location });
}

/**
 * From Flink's timestamps: the old job's first subtask leaving RUNNING to the new job's last subtask entering it.
 * Flink reports 0 for a state not reached (yet), and the REST API serves execution graphs cached for up to 3 s: the
 * timestamps are read again until every one of them is there.
 */
async function downtime(flink: FlinkRestClient, oldJobId: string, newJobId: string): Promise<Omit<Sample, 'method' | 'run'>> {
  for (let i = 0; i < 150; i++) {
    const [oldJob, newJob] = await Promise.all([flink.jobDetails(oldJobId), flink.jobDetails(newJobId)]);
    const oldTimes = (await Promise.all(oldJob.vertices.map((v) => subtaskTimes(flink, oldJobId, v.id)))).flat();
    const newTimes = (await Promise.all(newJob.vertices.map((v) => subtaskTimes(flink, newJobId, v.id)))).flat();
    const left = Math.min(...oldTimes.map((t) => reached(t, 'FINISHED') ?? reached(t, 'CANCELED') ?? reached(t, 'FAILED') ?? Number.POSITIVE_INFINITY));
    const finished = reached(oldJob.timestamps, 'FINISHED');
    const submitted = reached(newJob.timestamps, 'INITIALIZING') ?? reached(newJob.timestamps, 'CREATED');
    const running = Math.max(...newTimes.map((t) => reached(t, 'RUNNING') ?? Number.POSITIVE_INFINITY));
    if (Number.isFinite(left) && Number.isFinite(running) && finished !== undefined && submitted !== undefined && newTimes.length > 0) {
      return { downtimeMs: running - left, stopMs: finished - left, handOverMs: submitted - finished, startMs: running - submitted };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`incomplete timestamps of ${oldJobId} or ${newJobId} after 30 s`);
}

/** A state's timestamp, undefined when Flink reports 0 (not reached). */
function reached(timestamps: Record<string, number | undefined>, state: string): number | undefined {
  const at = timestamps[state];
  return at !== undefined && at > 0 ? at : undefined;
}

/** GET /jobs/:id/vertices/:vertex/subtasktimes: when each subtask entered each state. */
async function subtaskTimes(flink: FlinkRestClient, jobId: string, vertexId: string): Promise<Record<string, number>[]> {
  const response = await fetch(`${flink.baseUrl}/jobs/${jobId}/vertices/${vertexId}/subtasktimes`);
  if (!response.ok) throw new Error(`subtasktimes of ${jobId}/${vertexId}: HTTP ${response.status}`);
  return ((await response.json()) as { subtasks: { timestamps: Record<string, number> }[] }).subtasks.map((s) => s.timestamps);
}

function report(samples: Sample[]): void {
  const of = (method: Method) => samples.filter((s) => s.method === method);
  const stats = (values: number[]) => [Math.min(...values), median(values), Math.max(...values)].map((v) => String(Math.round(v)).padStart(7)).join(' ');
  console.log('\njob downtime during an upgrade (ms; first subtask of the old job leaving RUNNING -> last subtask of the new one entering it)');
  console.log(`${''.padEnd(10)} ${'runs'.padStart(4)} ${'min'.padStart(7)} ${'median'.padStart(7)} ${'max'.padStart(7)}   median of: stop / hand-over / start`);
  for (const method of METHODS) {
    const rows = of(method);
    if (rows.length === 0) continue;
    const parts = [median(rows.map((r) => r.stopMs)), median(rows.map((r) => r.handOverMs)), median(rows.map((r) => r.startMs))].map((v) => Math.round(v)).join(' / ');
    console.log(`${method.padEnd(10)} ${String(rows.length).padStart(4)} ${stats(rows.map((r) => r.downtimeMs))}   ${parts}`);
  }
  const flinkops = median(of('flinkops').map((s) => s.downtimeMs));
  const careful = median(of('careful').map((s) => s.downtimeMs));
  const naive = median(of('naive').map((s) => s.downtimeMs));
  const met = flinkops <= careful * 1.1 || flinkops - careful <= 1000;
  console.log(`\nflinkops / careful script: ${(flinkops / careful).toFixed(2)}x (${Math.round(flinkops - careful)} ms); flinkops / naive script: ${(flinkops / naive).toFixed(2)}x`);
  console.log(`target: at most 1.10x the careful script or +1000 ms -> ${met ? 'met' : 'NOT met'}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
