import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadStackConfig, type StackProfile } from '../test/stack/config';
import { OperationHarness } from '../test/stack/harness';
import { stackDown, stackUp, startReaper } from '../test/stack/stack';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The benchmark options every benchmark takes, besides its own. */
const COMMON_OPTIONS = {
  profile: { type: 'string', default: 'bench' },
  'keep-stack': { type: 'boolean', default: false },
} as const satisfies Options;

/**
 * Runs a benchmark on its own local stack (the `bench` profile, or `--profile`): brings the stack up, gives the
 * benchmark a harness (namespace, worker, CLI), and tears both down afterwards unless `--keep-stack`.
 */
export async function runBenchmark(
  name: string,
  options: Options,
  benchmark: (harness: OperationHarness, values: Record<string, string | boolean | undefined>) => Promise<void>,
): Promise<void> {
  const { values } = parseArgs({ options: { ...options, ...COMMON_OPTIONS } }) as { values: Record<string, string | boolean | undefined> };
  const profile = values.profile as StackProfile;
  const config = loadStackConfig(profile);
  startReaper(config, process.pid);
  console.log(`bringing up the ${profile} stack...`);
  await stackUp(config);
  const harness = new OperationHarness(name, profile);
  await harness.setUp();
  console.log(`machine: ${machine()}`);
  try {
    await benchmark(harness, values);
    console.log(`machine after the runs: ${machine()}`);
  } finally {
    await harness.tearDown();
    if (!values['keep-stack']) await stackDown(config);
  }
}

/** Cores, memory and the load averages (1, 5, 15 min): the machine is shared, and its load colours every figure. */
export function machine(): string {
  const load = loadavg().map((l) => l.toFixed(2)).join(' / ');
  return `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, load average ${load} (1/5/15 min), ${new Date().toISOString()}`;
}

export { median } from './stats';
