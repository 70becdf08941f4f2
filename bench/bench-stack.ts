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
  try {
    await benchmark(harness, values);
  } finally {
    await harness.tearDown();
    if (!values['keep-stack']) await stackDown(config);
  }
}

export { median } from './stats';
