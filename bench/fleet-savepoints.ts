import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Client } from '@temporalio/client';
import type { FlinkRestClient } from '../activities/flink/rest-client';
import type { FleetSavepointResult } from '../workflows/savepoint/fleet';
import { fleetScheduleId } from '../workflows/savepoint/ids';
import { newestScheduledRunResult } from '../test/stack/schedules';
import { stackStatus } from '../test/stack/stack';
import { TEMPORAL_DAEMON } from '../test/stack/temporal';
import { waitFor } from '../test/stack/wait';
import type { OperationHarness } from '../test/stack/harness';
import { runBenchmark } from './bench-stack';
import { breakdown, fetchEvents } from './history';
import { cpuByGroup, cpuSnapshot, defaultGroup } from './process-cpu';
import { printTable } from './sim/environment';
import { median, minMedianMax } from './stats';

/**
 * Savepoints of every job of a session cluster running N fixture jobs, fanned out by one run of a fleet schedule:
 * wall time one after another (concurrency 1) against in parallel, several runs each, and where the time goes:
 * Flink's own savepoint time (trigger to last acknowledgement, from Flink's checkpoint statistics), the savepoint
 * runs' Temporal histories, and the CPU seconds of every process on the machine by group (worker, Temporal, Flink,
 * Kubernetes, ...) against what the cores could give.
 *
 *   node dist/bench/fleet-savepoints.js [--jobs 10] [--concurrency 10] [--runs 3] [--profile bench] [--keep-stack]
 */

interface FleetRunFigures {
  concurrency: number;
  wallMs: number;
  completed: number;
  targets: number;
  events: number[];
  /** Per savepoint run, median: wall, activities running, task queue waits (activities + workflow tasks). */
  runWallMs: number;
  activityRunMs: number;
  queuedMs: number;
  /** Flink's time per savepoint (median), and the sum over the jobs. */
  flinkMs: number;
  flinkSumMs: number;
  /** CPU seconds by group (worker, Temporal, Flink, Kubernetes, ...) and the machine's idle seconds. */
  cpu: Map<string, number>;
  idle: number;
}

const WORKER = 'flinkops worker';
const TEMPORAL = 'Temporal';
const CPU_COLUMNS = [WORKER, TEMPORAL, 'Flink JobManagers', 'Flink TaskManagers', 'Kubernetes control plane', 'local node (pods, services)'];

async function main(): Promise<void> {
  const options = {
    jobs: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
  } as const;
  await runBenchmark('fleet', options, async (harness, values) => {
    const jobs = Number(values.jobs);
    const runs = Number(values.runs);
    const client = await harness.temporalClient();
    const flink = await harness.sessionCluster('flink', jobs + 2);
    console.log(`starting ${jobs} fixture jobs...`);
    const jobIds: string[] = [];
    for (let i = 0; i < jobs; i++) jobIds.push((await harness.submitJob(flink, 'v1', `fleet-job-${i}`)).jobId);

    const figures: FleetRunFigures[] = [];
    for (const concurrency of [1, Number(values.concurrency)]) {
      const fleet = `bench-${concurrency}`;
      const created = await harness.cli(['schedule', 'create', '--fleet', fleet, '--selector', 'app.kubernetes.io/instance=flink', '-n', harness.namespace, '--concurrency', String(concurrency), '--keep', '3', '--paused']);
      if (created.code !== 0) throw new Error(created.stderr);
      for (let run = 0; run < runs; run++) {
        const row = await oneFleetRun(harness, client, flink, jobIds, fleet, concurrency);
        figures.push(row);
        console.log(`concurrency ${concurrency}, run ${run + 1}: ${row.completed}/${row.targets} savepoints in ${row.wallMs} ms; Flink ${row.flinkMs} ms per savepoint`);
      }
      await harness.cli(['schedule', 'delete', '--fleet', fleet]);
    }
    report(jobs, runs, figures);
  });
}

async function oneFleetRun(harness: OperationHarness, client: Client, flink: FlinkRestClient, jobIds: string[], fleet: string, concurrency: number): Promise<FleetRunFigures> {
  const temporalPid = stackStatus(harness.stack.config).find((d) => d.name === TEMPORAL_DAEMON)?.pid;
  const workerPid = harness.worker!.process.pid!;
  const groupOf = (pid: number, commandLine: string) => (pid === workerPid ? WORKER : pid === temporalPid ? TEMPORAL : pid === process.pid ? 'benchmark' : defaultGroup(pid, commandLine));
  const before = { idle: machineIdleSeconds(), cpu: cpuSnapshot(groupOf) };
  const triggeredAt = new Date();
  const triggered = await harness.cli(['schedule', 'trigger', '--fleet', fleet]);
  if (triggered.code !== 0) throw new Error(triggered.stderr);
  const result = await newestScheduledRunResult<FleetSavepointResult>(client, fleetScheduleId(fleet), triggeredAt);
  const wallMs = Date.now() - triggeredAt.getTime();
  const after = { idle: machineIdleSeconds(), cpu: cpuSnapshot(groupOf) };
  if (result.completed !== jobIds.length) throw new Error(`only ${result.completed} of ${jobIds.length} savepoints completed: ${JSON.stringify(result.failed)}`);

  const histories = await Promise.all(result.runs.map(async (r) => breakdown(await fetchEvents(client, r.workflowId))));
  const flinkMs = await Promise.all(jobIds.map((jobId) => flinkSavepointMs(flink, jobId, triggeredAt.getTime())));
  return {
    concurrency,
    wallMs,
    completed: result.completed,
    targets: result.targets,
    events: histories.map((h) => h.events),
    runWallMs: median(histories.map((h) => h.wallMs)),
    activityRunMs: median(histories.map((h) => h.activityRunMs)),
    queuedMs: median(histories.map((h) => h.activityQueueMs + h.workflowTaskQueueMs)),
    flinkMs: median(flinkMs),
    flinkSumMs: flinkMs.reduce((a, b) => a + b, 0),
    cpu: cpuByGroup(before.cpu, after.cpu),
    idle: after.idle - before.idle,
  };
}

/**
 * Flink's own time for the job's newest savepoint, which must have been triggered after `since`. Flink caches the
 * checkpoint statistics it serves for a few seconds (rest.cache.checkpoint-statistics.timeout), so they are read
 * until the savepoint shows.
 */
async function flinkSavepointMs(flink: FlinkRestClient, jobId: string, since: number): Promise<number> {
  return waitFor(
    async () => {
      const savepoint = (await flink.checkpoints(jobId)).latest.savepoint;
      const ofThisRun = savepoint?.trigger_timestamp && savepoint.latest_ack_timestamp && savepoint.trigger_timestamp >= since;
      return ofThisRun ? savepoint.latest_ack_timestamp! - savepoint.trigger_timestamp! : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 1_000, description: `job ${jobId}'s savepoint in Flink's checkpoint statistics` },
  );
}

/** The whole machine's idle CPU seconds since boot, from /proc/stat (clock ticks at 100 Hz). */
function machineIdleSeconds(): number {
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return ((ticks[3] ?? 0) + (ticks[4] ?? 0)) / 100; // idle + iowait
}

function report(jobs: number, runs: number, figures: FleetRunFigures[]): void {
  const sequential = figures.filter((f) => f.concurrency === 1);
  const parallel = figures.filter((f) => f.concurrency !== 1);
  const sets = [sequential, parallel];
  console.log(`\nfleet savepoints of ${jobs} real Flink jobs on one session cluster, one fleet schedule run each, ${runs} runs; min/median/max`);
  printTable(
    ['concurrency', 'wall s', 'ms/job', 'Flink ms/savepoint', 'run wall ms', 'activities ms', 'queued ms', 'events/run'],
    sets.map((set) => [
      String(set[0]!.concurrency),
      minMedianMax(set.map((f) => f.wallMs / 1000), 1),
      minMedianMax(set.map((f) => f.wallMs / f.completed)),
      minMedianMax(set.map((f) => f.flinkMs)),
      minMedianMax(set.map((f) => f.runWallMs)),
      minMedianMax(set.map((f) => f.activityRunMs)),
      minMedianMax(set.map((f) => f.queuedMs)),
      `${Math.min(...set.flatMap((f) => f.events))}-${Math.max(...set.flatMap((f) => f.events))}`,
    ]),
  );
  const ratio = median(parallel.map((f) => f.wallMs)) / median(sequential.map((f) => f.wallMs));
  console.log(`parallel / sequential (medians): ${ratio.toFixed(2)}`);
  const flinkShare = median(sequential.map((f) => f.flinkSumMs / f.wallMs));
  console.log(`sequentially, Flink's own savepoint time (trigger to last acknowledgement) is ${(100 * flinkShare).toFixed(0)}% of the wall time`);

  const busySeconds = (f: FleetRunFigures) => [...f.cpu.values()].reduce((a, b) => a + b, 0);
  console.log('\nwhere the CPU went, seconds per fleet run (medians); busy % = all processes against what the cores could give');
  const busyPercent = (f: FleetRunFigures) => (100 * busySeconds(f)) / (busySeconds(f) + f.idle);
  const other = (f: FleetRunFigures) => [...f.cpu].filter(([group]) => !CPU_COLUMNS.includes(group)).reduce((a, [, s]) => a + s, 0);
  printTable(
    ['concurrency', ...CPU_COLUMNS, 'other', 'machine busy %'],
    sets.map((set) => [
      String(set[0]!.concurrency),
      ...CPU_COLUMNS.map((group) => median(set.map((f) => f.cpu.get(group) ?? 0)).toFixed(1)),
      median(set.map(other)).toFixed(1),
      median(set.map(busyPercent)).toFixed(0),
    ]),
  );
  const cores = cpus().length;
  const floor = median(parallel.map(busySeconds)) / cores;
  console.log(
    `parallel: ${(median(parallel.map(busySeconds)) / jobs).toFixed(2)} CPU s per savepoint, all processes; on ${cores} cores a run cannot take less than ${floor.toFixed(1)} s (measured ${(median(parallel.map((f) => f.wallMs)) / 1000).toFixed(1)} s), a ratio of at least ${(floor / (median(sequential.map((f) => f.wallMs)) / 1000)).toFixed(2)}`,
  );
  const others = new Map<string, number>();
  for (const f of parallel) for (const [group, s] of f.cpu) if (!CPU_COLUMNS.includes(group)) others.set(group, (others.get(group) ?? 0) + s / parallel.length);
  console.log(`other, parallel: ${[...others].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([g, s]) => `${g} ${s.toFixed(1)}`).join(', ')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
