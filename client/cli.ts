#!/usr/bin/env node
import { Command, Option } from 'commander';
import { ConfigError, loadCliSettings } from '../config/load';
import type { TemporalSettings } from '../config/temporal';
import type { clusterInfoWorkflow } from '../workflows';
import { abortCommand, approveCommand, cancelCommand, statusCommand } from './commands/operate';
import { doctorCommand, registerCommand, remediateCommand, watchCommand } from './commands/remediate';
import { savepointCommand } from './commands/savepoint';
import { scheduleCommand } from './commands/schedule';
import { setupCommand } from './commands/setup';
import { upgradeCommand } from './commands/upgrade';
import { upgradeClusterCommand } from './commands/upgrade-cluster';
import { connectClient } from './connect';
import { requireWorker } from './worker-check';
import type { CliContext } from './context';
import { CliError, EXIT } from './exit-codes';
import { workflowFailure } from './follow';
import { flushMessages, formatData, isMachineOutput, printer, selectOutput, withOutputOptions } from './output';
import { completionScript } from './completion';
import { addExamples } from './help';
import { buildInfo } from '../config/build-info';

/** flinkops: operate Apache Flink jobs on Kubernetes through durable Temporal workflows. */
export function buildProgram(): { program: Command; close: () => Promise<void> } {
  const program = new Command('flinkops')
    .description('Operate Apache Flink jobs on Kubernetes with durable Temporal workflows')
    .addOption(new Option('--config <file>', 'flinkops configuration file (YAML or JSON)').env('FLINKOPS_CONFIG'))
    .addOption(new Option('--address <host:port>', 'Temporal frontend address').env('TEMPORAL_ADDRESS'))
    .addOption(new Option('--temporal-namespace <name>', 'Temporal namespace').env('TEMPORAL_NAMESPACE'))
    .addOption(new Option('--task-queue <name>', 'task queue of the flinkops worker').env('FLINKOPS_TASK_QUEUE'))
    .version(buildInfo().version, '-V, --version', 'print the flinkops version')
    .showHelpAfterError()
    .exitOverride();

  let connection: Awaited<ReturnType<typeof connectClient>> | undefined;
  const context: CliContext = {
    defaults: () => cliConfig(program).defaults,
    async connect(options = {}) {
      const settings = settingsFrom(program);
      connection ??= await connectClient(settings);
      if (options.worker) await requireWorker(connection.client, settings.namespace, settings.taskQueue, settings.address);
      return { client: connection.client, settings: { ...settings, webUi: process.env.FLINKOPS_WEB_UI }, print: printer((line) => console.log(line)) };
    },
  };

  program
    .command('cluster-info')
    .description('show a Flink cluster overview and its jobs, read by the worker')
    .requiredOption('--rest-url <url>', 'Flink REST endpoint, e.g. http://127.0.0.1:8081')
    .action(async (options: { restUrl: string; json?: boolean }) => {
      const { client, settings, print } = await context.connect({ worker: true });
      const info = await client.workflow
        .execute<typeof clusterInfoWorkflow>('clusterInfoWorkflow', {
          taskQueue: settings.taskQueue,
          workflowId: `cluster-info-${Date.now()}`,
          args: [{ restUrl: options.restUrl }],
          workflowExecutionTimeout: '2 minutes',
        })
        .catch((error: unknown) => {
          throw workflowFailure(error);
        });
      if (isMachineOutput()) {
        print(formatData(info));
        return;
      }
      const o = info.overview;
      print(`Flink ${o['flink-version']} at ${info.restUrl}: ${o.taskmanagers} TaskManager(s), ${o['slots-available']}/${o['slots-total']} slots free`);
      for (const job of info.jobs) print(`  ${job.jid}  ${job.state.padEnd(12)} ${job.name}`);
      if (info.jobs.length === 0) print('  (no jobs)');
    });
  program.addCommand(upgradeCommand(context));
  program.addCommand(upgradeClusterCommand(context));
  program.addCommand(statusCommand(context));
  program.addCommand(approveCommand(context));
  program.addCommand(abortCommand(context));
  program.addCommand(cancelCommand(context));
  program.addCommand(savepointCommand(context));
  program.addCommand(scheduleCommand(context));
  program.addCommand(doctorCommand(context));
  program.addCommand(remediateCommand(context));
  program.addCommand(watchCommand(context));
  program.addCommand(registerCommand(context));
  program.addCommand(setupCommand(context));
  program
    .command('version')
    .description('print the flinkops version (and the Node.js it runs on)')
    .action(() => {
      const print = printer((line) => console.log(line));
      const info = buildInfo();
      print(isMachineOutput() ? formatData(info) : `flinkops ${info.version} (Node.js ${info.node})`);
    });
  program
    .command('completion')
    .description('print a shell completion script (bash or zsh)')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') throw new CliError(`shell: must be bash or zsh, got "${shell}"`, EXIT.invalid);
      process.stdout.write(completionScript(program, shell));
    });
  // addCommand does not pass these settings on: usage errors must exit 2 from every subcommand, not exit the process.
  // Every command that prints takes -o json|yaml|wide (--json: -o json); help shows the global options and examples.
  forEachCommand(program, (command) => {
    command.exitOverride().showHelpAfterError().configureHelp({ showGlobalOptions: true });
    if (command !== program && command.commands.length === 0 && command.name() !== 'completion') withOutputOptions(command);
    addExamples(command);
  });
  program.hook('preAction', (_program, action) => selectOutput(action.opts<{ output?: string; json?: boolean }>()));

  return { program, close: async () => connection?.close() };
}

/** The configuration file and environment (the worker's own `temporal` section and `defaults`); flags override them. */
function cliConfig(program: Command): ReturnType<typeof loadCliSettings> {
  const globals = program.opts<{ config?: string; address?: string; temporalNamespace?: string; taskQueue?: string }>();
  // Flags go through the same validation as the file and the environment.
  const env = { ...process.env, TEMPORAL_ADDRESS: globals.address, TEMPORAL_NAMESPACE: globals.temporalNamespace, FLINKOPS_TASK_QUEUE: globals.taskQueue };
  try {
    return loadCliSettings({ file: globals.config, env });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, EXIT.invalid);
    throw error;
  }
}

function forEachCommand(command: Command, apply: (command: Command) => void): void {
  apply(command);
  for (const sub of command.commands) forEachCommand(sub, apply);
}

function settingsFrom(program: Command): TemporalSettings {
  return cliConfig(program).temporal;
}

export async function main(argv: string[]): Promise<number> {
  const { program, close } = buildProgram();
  try {
    await program.parseAsync(argv);
    flushMessages((line) => console.log(line));
    return EXIT.ok;
  } catch (error) {
    const commanderError = error as { code?: string; exitCode?: number };
    if (commanderError.code?.startsWith('commander.')) {
      return commanderError.code === 'commander.helpDisplayed' || commanderError.code === 'commander.version' ? EXIT.ok : EXIT.invalid;
    }
    if (error instanceof CliError) {
      console.error(`flinkops: ${error.message}`);
      if (error.hint) console.error(`hint: ${error.hint}`);
      return error.exitCode;
    }
    console.error(`flinkops: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.failed;
  } finally {
    await close();
  }
}

if (require.main === module) {
  void main(process.argv).then((code) => process.exit(code));
}
