#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadStackConfig, type StackProfile } from './config';
import { isAlive } from './daemon';
import { REAPER_DAEMON, WORKER_DAEMON, readStackState, stackDown, stackEnvironment, stackStatus, stackUp, startReaper, startWorkerDaemon } from './stack';

/**
 * scripts/stack.sh: bring the local stack up or down.
 *
 *   up [--profile demo|test] [--owner-pid PID]   start what is not running; with --owner-pid, the stack is torn
 *                                                 down by a reaper as soon as that process exits
 *   down [--profile ...] [--purge]               stop everything; --purge also deletes data and logs
 *   status [--profile ...]                       list the stack's processes
 *   env [--profile ...]                          print shell exports for the CLI and worker (eval "$(...)")
 *   worker [--profile ...]                       start a flinkops worker as part of the stack
 */
async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      profile: { type: 'string' },
      'owner-pid': { type: 'string' },
      purge: { type: 'boolean', default: false },
    },
  });
  const command = positionals[0];
  const config = loadStackConfig(values.profile as StackProfile | undefined);
  switch (command) {
    case 'up': {
      const started = Date.now();
      if (values['owner-pid']) startReaper(config, Number(values['owner-pid']));
      const state = await stackUp(config);
      console.log(JSON.stringify({ ...state, startedInMs: Date.now() - started }, null, 2));
      return 0;
    }
    case 'down':
      await stackDown(config, { purge: values.purge });
      console.log(`stack "${config.profile}" is down`);
      return 0;
    case 'env':
      for (const [name, value] of Object.entries(stackEnvironment(readStackState(config)))) console.log(`export ${name}=${JSON.stringify(value)}`);
      return 0;
    case 'worker':
      console.log(`worker started (pid ${startWorkerDaemon(config)}); log: ${config.logDir}/${WORKER_DAEMON}.log`);
      return 0;
    case 'status':
      for (const { name, pid } of stackStatus(config)) console.log(`${name.padEnd(40)} ${pid ? `running (pid ${pid})` : 'stopped'}`);
      return 0;
    case 'reap':
      await reapWhenOwnerExits(Number(values['owner-pid']));
      await stackDown(config, { except: [REAPER_DAEMON] });
      return 0;
    default:
      console.error('usage: stack.sh up|down|status|env|worker [--profile demo|test] [--owner-pid PID] [--purge]');
      return 2;
  }
}

async function reapWhenOwnerExits(ownerPid: number): Promise<void> {
  while (isAlive(ownerPid)) await sleep(1_000);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);

