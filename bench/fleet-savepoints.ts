import type { FleetSavepointResult } from '../workflows/savepoint/fleet';
import { fleetScheduleId } from '../workflows/savepoint/ids';
import { newestScheduledRunResult } from '../test/stack/schedules';
import { runBenchmark } from './bench-stack';

/**
 * Savepoints of every job of a session cluster running N fixture jobs, fanned out by one run of a fleet schedule:
 * total wall time with bounded concurrency against one-after-another (concurrency 1), and the Temporal history
 * size of each savepoint run.
 *
 *   node dist/bench/fleet-savepoints.js [--jobs 10] [--concurrency 10] [--profile bench] [--keep-stack]
 */
async function main(): Promise<void> {
  const options = { jobs: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '10' } } as const;
  await runBenchmark('fleet', options, async (harness, values) => {
    const jobs = Number(values.jobs);
    const client = await harness.temporalClient();
    const flink = await harness.sessionCluster('flink', jobs + 2);
    console.log(`starting ${jobs} fixture jobs...`);
    for (let i = 0; i < jobs; i++) await harness.submitJob(flink, 'v1', `fleet-job-${i}`);

    const rows: { concurrency: number; wallMs: number; completed: number; events: number[] }[] = [];
    for (const concurrency of [1, Number(values.concurrency)]) {
      const fleet = `bench-${concurrency}`;
      const selector = `app.kubernetes.io/instance=flink`;
      const created = await harness.cli(['schedule', 'create', '--fleet', fleet, '--selector', selector, '-n', harness.namespace, '--concurrency', String(concurrency), '--keep', '3', '--paused']);
      if (created.code !== 0) throw new Error(created.stderr);
      const triggeredAt = new Date();
      const started = Date.now();
      await harness.cli(['schedule', 'trigger', '--fleet', fleet]);
      const run = await newestScheduledRunResult<FleetSavepointResult>(client, fleetScheduleId(fleet), triggeredAt);
      const wallMs = Date.now() - started;
      const events = await Promise.all(run.runs.map(async (r) => Number((await client.workflow.getHandle(r.workflowId).describe()).historyLength)));
      rows.push({ concurrency, wallMs, completed: run.completed, events });
      console.log(`concurrency ${concurrency}: ${run.completed}/${run.targets} savepoints in ${wallMs} ms`);
      await harness.cli(['schedule', 'delete', '--fleet', fleet]);
    }
    report(jobs, rows);
  });
}

function report(jobs: number, rows: { concurrency: number; wallMs: number; completed: number; events: number[] }[]): void {
  console.log(`\nfleet savepoints of ${jobs} jobs on one session cluster (one fleet schedule run each)`);
  console.log(`${'concurrency'.padEnd(12)} ${'wall ms'.padStart(8)} ${'per job ms'.padStart(10)} ${'events/run (min-max)'.padStart(22)}`);
  for (const row of rows) {
    console.log(`${String(row.concurrency).padEnd(12)} ${String(row.wallMs).padStart(8)} ${String(Math.round(row.wallMs / row.completed)).padStart(10)} ${`${Math.min(...row.events)}-${Math.max(...row.events)}`.padStart(22)}`);
  }
  console.log(`speed-up: ${(rows[0]!.wallMs / rows[1]!.wallMs).toFixed(2)}x`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
