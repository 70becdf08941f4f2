import { parseArgs } from 'node:util';
import type { FleetSavepointInput, FleetSavepointResult } from '../workflows/savepoint/fleet';
import { median, minMedianMax } from './stats';
import { breakdown, chainBreakdown, fetchEvents, type HistoryBreakdown } from './history';
import { cpuSeconds } from './process-cpu';
import { peakRssMiB, printTable, startSimulatedWorker, startTemporal } from './sim/environment';

const USAGE = `Fleet savepoints at scale against a simulated Flink REST API and Kubernetes API (loopback, constant-time answers):
flinkops' own overhead only (worker, Temporal), never a proof of correctness. Starts its own Temporal dev server and worker.

  node dist/bench/fleet-simulated.js [--scale 100x10,100x100,1000x10,1000x100] [--runs 3] [--concurrency 32] [--port 17433] [--address HOST:PORT]
    [--worker-node-options=--max-old-space-size=256]

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
      address: { type: 'string' },
      'worker-node-options': { type: 'string' },
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
  const temporal = await startTemporal({ port: Number(values.port), address: values.address });
  const client = temporal.client;
  const table: { jobs: number; clusters: number; figures: RunFigures[] }[] = [];
  try {
    for (const [jobs, clusters] of scales) {
      const figures: RunFigures[] = [];
      const taskQueue = `sim-${jobs}x${clusters}-${Date.now()}`;
      const worker = await startSimulatedWorker(temporal, { clusters, jobsPerCluster: Math.ceil(jobs / clusters) }, taskQueue, values['worker-node-options'] ? { NODE_OPTIONS: values['worker-node-options'] } : {});
      try {
        for (let run = 0; run < runs; run++) {
          const before = { worker: cpuSeconds(worker.pid), temporal: temporal.pid ? cpuSeconds(temporal.pid) : 0, sim: process.cpuUsage() };
          const workflowId = `sim-fleet-${jobs}x${clusters}-${run}-${Date.now()}`;
          const input: FleetSavepointInput = { selector: 'flinkops.sim/fleet=sim', namespace: 'sim', concurrency, savepoint: { trigger: 'schedule', retention: { keepLast: 3 } } };
          const started = Date.now();
          const handle = await client.workflow.start('fleetSavepointWorkflow', { taskQueue, workflowId, args: [input] });
          const result = (await handle.result()) as FleetSavepointResult;
          const wallMs = Date.now() - started;
          const simCpu = process.cpuUsage(before.sim);
          const after = { worker: cpuSeconds(worker.pid), temporal: temporal.pid ? cpuSeconds(temporal.pid) : 0 };
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
            workerPeakMiB: peakRssMiB(worker.pid),
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
        await worker.stop();
      }
      table.push({ jobs, clusters, figures });
    }
  } finally {
    await temporal.stop();
  }
  report(table, concurrency, runs);
}

function report(table: { jobs: number; clusters: number; figures: RunFigures[] }[], concurrency: number, runs: number): void {
  console.log(`\nfleet savepoints, simulated Flink + Kubernetes (constant-time answers), concurrency ${concurrency}, ${runs} run(s) each; min/median/max`);
  const head = ['jobs', 'clusters', 'wall s', 'ms/job', 'fleet events (all runs)', 'largest run', 'CAN runs', 'events/savepoint', 'worker peak MiB', 'CPU s worker', 'CPU s temporal', 'CPU s sim'];
  const rows = table.map(({ jobs, clusters, figures: f }) => [
    String(jobs),
    String(clusters),
    minMedianMax(f.map((x) => x.wallMs / 1000), 1),
    minMedianMax(f.map((x) => x.wallMs / x.targets)),
    minMedianMax(f.map((x) => x.fleetEvents)),
    minMedianMax(f.map((x) => x.maxRunEvents)),
    minMedianMax(f.map((x) => x.fleetRuns)),
    `${Math.min(...f.flatMap((x) => x.childEvents))}-${Math.max(...f.flatMap((x) => x.childEvents))}`,
    minMedianMax(f.map((x) => x.workerPeakMiB)),
    minMedianMax(f.map((x) => x.workerCpuS), 1),
    minMedianMax(f.map((x) => x.temporalCpuS), 1),
    minMedianMax(f.map((x) => x.simCpuS), 1),
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

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
