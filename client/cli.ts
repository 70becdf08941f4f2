#!/usr/bin/env node
import { Command, Option } from 'commander';
import { temporalSettingsFromEnv, type TemporalSettings } from '../config/temporal';
import type { clusterInfoWorkflow } from '../workflows';
import { connectClient } from './connect';

/** flinkops: operate Apache Flink jobs on Kubernetes through durable Temporal workflows. */
export function buildProgram(): Command {
  const program = new Command('flinkops')
    .description('Operate Apache Flink jobs on Kubernetes with durable Temporal workflows')
    .addOption(new Option('--address <host:port>', 'Temporal frontend address').env('TEMPORAL_ADDRESS'))
    .addOption(new Option('--namespace <name>', 'Temporal namespace').env('TEMPORAL_NAMESPACE'))
    .addOption(new Option('--task-queue <name>', 'task queue of the flinkops worker').env('FLINKOPS_TASK_QUEUE'))
    .showHelpAfterError();

  program
    .command('cluster-info')
    .description('show a Flink cluster overview and its jobs, read by the worker')
    .requiredOption('--rest-url <url>', 'Flink REST endpoint, e.g. http://127.0.0.1:8081')
    .option('--json', 'print JSON')
    .action(async (options: { restUrl: string; json?: boolean }) => {
      const settings = settingsFrom(program);
      const { client, close } = await connectClient(settings);
      try {
        const info = await client.workflow.execute<typeof clusterInfoWorkflow>('clusterInfoWorkflow', {
          taskQueue: settings.taskQueue,
          workflowId: `cluster-info-${Date.now()}`,
          args: [{ restUrl: options.restUrl }],
        });
        if (options.json) {
          console.log(JSON.stringify(info, null, 2));
          return;
        }
        const o = info.overview;
        console.log(`Flink ${o['flink-version']} at ${info.restUrl}: ${o.taskmanagers} TaskManager(s), ${o['slots-available']}/${o['slots-total']} slots free`);
        for (const job of info.jobs) console.log(`  ${job.jid}  ${job.state.padEnd(12)} ${job.name}`);
        if (info.jobs.length === 0) console.log('  (no jobs)');
      } finally {
        await close();
      }
    });

  return program;
}

function settingsFrom(program: Command): TemporalSettings {
  const globals = program.opts<{ address?: string; namespace?: string; taskQueue?: string }>();
  const fromEnv = temporalSettingsFromEnv();
  return {
    address: globals.address ?? fromEnv.address,
    namespace: globals.namespace ?? fromEnv.namespace,
    taskQueue: globals.taskQueue ?? fromEnv.taskQueue,
  };
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      console.error(`flinkops: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    });
}
