import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { defaultCacheDir } from '../test/stack/config';
import { searchAttributeArgs, temporalCliPath, waitUntilServing } from '../test/stack/temporal';
import type { FleetSavepointInput, FleetSavepointResult } from '../workflows/savepoint/fleet';
import { median } from './stats';
import { breakdown, chainBreakdown, fetchEvents, type HistoryBreakdown } from './history';
import { simulatedKubeconfig, startSimulation } from './sim/server';

const USAGE = `Fleet savepoints at scale against a simulated Flink REST API and Kubernetes API (loopback, constant-time answers):
flinkops' own overhead only (worker, Temporal), never a proof of correctness. Starts its own Temporal dev server and worker.

  node dist/bench/fleet-simulated.js [--scale 100x10,100x100,1000x10,1000x100] [--runs 3] [--concurrency 32] [--port 17433]

--scale JOBSxCLUSTERS,...: the jobs (spread evenly) and clusters of each configuration.`;

interface RunFigures {
  wallMs: number;
  fleetEvents: number;
  fleetRuns: number;
  maxRunEvents: number;
  completed: number;
  targets: number;
  childEvents: number[];
  workerPeakMiB: number;
  workerCpuS: number;
  temporalCpuS: number;
  simCpuS: number;
  child: { wallMs: number; activityRunMs: number; activityQueueMs: number; workflowTaskQueueMs: number; workflowTaskRunMs: number };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string', default: '100x10,100x100,1000x10,1000x100' },
      runs: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '32' },
      port: { type: 'string', default: '17433' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const scales = values.scale.split(',').map((s) => s.split('x').map(Number) as [number, number]);
  const runs = Number(values.runs);
  const concurrency = Number(values.concurrency);
  const port = Number(values.port);
  const dir = mkdtempSync(join(tmpdir(), 'flinkops-sim-'));
  const children: ChildProcess[] = [];
  const stopAll = () => children.forEach((c) => c.exitCode === null && c.kill('SIGTERM'));
  process.once('exit', stopAll);

  const temporalServer = spawn(temporalCliPath(defaultCacheDir()), ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--log-level', 'error', ...searchAttributeArgs()], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(temporalServer);
  const address = `127.0.0.1:${port}`;
  await waitUntilServing(address, 60_000);
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const table: { jobs: number; clusters: number; figures: RunFigures[] }[] = [];
  try {
    for (const [jobs, clusters] of scales) {
      const figures: RunFigures[] = [];
      const sim = await startSimulation({ clusters, jobsPerCluster: Math.ceil(jobs / clusters) });
      const kubeconfig = join(dir, `kubeconfig-${jobs}x${clusters}`);
      writeFileSync(kubeconfig, simulatedKubeconfig(sim.kubeUrl));
      const taskQueue = `sim-${jobs}x${clusters}`;
      const worker = spawn(process.execPath, [resolve(__dirname, '../worker/main.js')], {
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: address,
          FLINKOPS_TASK_QUEUE: taskQueue,
          KUBECONFIG: kubeconfig,
          FLINKOPS_SERVICE_ADDRESSING: 'cluster-ip',
          FLINKOPS_LOG_LEVEL: 'warn',
          FLINKOPS_METRICS_BIND_ADDRESS: 'off',
          FLINKOPS_HEALTH_BIND_ADDRESS: 'off',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(worker);
      try {
        await waitForPoller(client, taskQueue);
        for (let run = 0; run < runs; run++) {
          const before = { worker: cpuSeconds(worker.pid!), temporal: cpuSeconds(temporalServer.pid!), sim: process.cpuUsage() };
          const workflowId = `sim-fleet-${jobs}x${clusters}-${run}-${Date.now()}`;
          const input: FleetSavepointInput = { selector: 'flinkops.sim/fleet=sim', namespace: 'sim', concurrency, savepoint: { trigger: 'schedule', retention: { keepLast: 3 } } };
          const started = Date.now();
          const handle = await client.workflow.start('fleetSavepointWorkflow', { taskQueue, workflowId, args: [input] });
          const result = (await handle.result()) as FleetSavepointResult;
          const wallMs = Date.now() - started;
          const simCpu = process.cpuUsage(before.sim);
          const after = { worker: cpuSeconds(worker.pid!), temporal: cpuSeconds(temporalServer.pid!) };
          const chain = await chainBreakdown(client, workflowId, handle.firstExecutionRunId);
          const sample = result.runs.filter((_, i) => i % Math.max(1, Math.floor(result.runs.length / 20)) === 0).slice(0, 20);
          const childHistories: HistoryBreakdown[] = [];
          for (const r of sample) childHistories.push(breakdown(await fetchEvents(client, r.workflowId)));
          const f: RunFigures = {
            wallMs,
            fleetEvents: chain.reduce((sum, b) => sum + b.events, 0),
            fleetRuns: chain.length,
            maxRunEvents: Math.max(...chain.map((b) => b.events)),
            completed: result.completed,
            targets: result.targets,
            childEvents: childHistories.map((b) => b.events),
            workerPeakMiB: peakRssMiB(worker.pid!),
            workerCpuS: after.worker - before.worker,
            temporalCpuS: after.temporal - before.temporal,
            simCpuS: (simCpu.user + simCpu.system) / 1e6,
            child: {
              wallMs: median(childHistories.map((b) => b.wallMs)),
              activityRunMs: median(childHistories.map((b) => b.activityRunMs)),
              activityQueueMs: median(childHistories.map((b) => b.activityQueueMs)),
              workflowTaskQueueMs: median(childHistories.map((b) => b.workflowTaskQueueMs)),
              workflowTaskRunMs: median(childHistories.map((b) => b.workflowTaskRunMs)),
            },
          };
          figures.push(f);
          console.log(
            `${jobs} jobs / ${clusters} clusters, run ${run + 1}: ${f.completed}/${f.targets} completed in ${wallMs} ms; fleet history ${f.fleetEvents} events in ${f.fleetRuns} run(s) (largest ${f.maxRunEvents}); ` +
              `savepoint run ${Math.min(...f.childEvents)}-${Math.max(...f.childEvents)} events; worker peak RSS ${f.workerPeakMiB} MiB; CPU s worker ${f.workerCpuS.toFixed(1)} temporal ${f.temporalCpuS.toFixed(1)} sim+client ${f.simCpuS.toFixed(1)}`,
          );
          if (run === 0 && jobs === scales[0]![0] && clusters === scales[0]![1]) {
            const one = childHistories[0];
            if (one) console.log(`  one savepoint run's history: ${Object.entries(one.byType).map(([t, n]) => `${t} ${n}`).join(', ')}`);
          }
        }
      } finally {
        worker.kill('SIGTERM');
        await new Promise((r) => worker.once('exit', r));
        await sim.close();
      }
      table.push({ jobs, clusters, figures });
    }
  } finally {
    await connection.close();
    stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
  report(table, concurrency, runs);
}

function report(table: { jobs: number; clusters: number; figures: RunFigures[] }[], concurrency: number, runs: number): void {
  const mmm = (xs: number[], digits = 0) => `${Math.min(...xs).toFixed(digits)}/${median(xs).toFixed(digits)}/${Math.max(...xs).toFixed(digits)}`;
  console.log(`\nfleet savepoints, simulated Flink + Kubernetes (constant-time answers), concurrency ${concurrency}, ${runs} run(s) each; min/median/max`);
  const head = ['jobs', 'clusters', 'wall s', 'ms/job', 'fleet events (all runs)', 'largest run', 'CAN runs', 'events/savepoint', 'worker peak MiB', 'CPU s worker', 'CPU s temporal', 'CPU s sim'];
  const rows = table.map(({ jobs, clusters, figures: f }) => [
    String(jobs),
    String(clusters),
    mmm(f.map((x) => x.wallMs / 1000), 1),
    mmm(f.map((x) => x.wallMs / x.targets)),
    mmm(f.map((x) => x.fleetEvents)),
    mmm(f.map((x) => x.maxRunEvents)),
    mmm(f.map((x) => x.fleetRuns)),
    `${Math.min(...f.flatMap((x) => x.childEvents))}-${Math.max(...f.flatMap((x) => x.childEvents))}`,
    mmm(f.map((x) => x.workerPeakMiB)),
    mmm(f.map((x) => x.workerCpuS), 1),
    mmm(f.map((x) => x.temporalCpuS), 1),
    mmm(f.map((x) => x.simCpuS), 1),
  ]);
  printTable(head, rows);
  console.log('\none savepoint run (median of up to 20 sampled per fleet run, ms): wall, activities running, activities queued, workflow tasks queued, workflow tasks running');
  printTable(
    ['jobs', 'clusters', 'wall', 'act run', 'act queue', 'wft queue', 'wft run'],
    table.map(({ jobs, clusters, figures: f }) => [
      String(jobs),
      String(clusters),
      ...(['wallMs', 'activityRunMs', 'activityQueueMs', 'workflowTaskQueueMs', 'workflowTaskRunMs'] as const).map((k) => String(Math.round(median(f.map((x) => x.child[k]))))),
    ]),
  );
  const incomplete = table.flatMap(({ jobs, clusters, figures }) => figures.filter((x) => x.completed !== x.targets).map(() => `${jobs}x${clusters}`));
  if (incomplete.length > 0) console.log(`\nWARNING: runs with savepoints not completed: ${incomplete.join(', ')}`);
}

export function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  console.log(head.map((h, i) => h.padStart(widths[i]!)).join('  '));
  for (const row of rows) console.log(row.map((c, i) => c.padStart(widths[i]!)).join('  '));
}

/** Until the worker polls its task queue (its start-up, the workflow bundle's loading, is not measured as fleet time). */
async function waitForPoller(client: Client, taskQueue: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const answer = await client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType: 1 });
    if ((answer.pollers ?? []).length > 0) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no worker polls ${taskQueue} after 60 s`);
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (100 Hz)
}

function peakRssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return Math.round(Number(/\d+/.exec(line ?? '')?.[0] ?? 0) / 1024);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
