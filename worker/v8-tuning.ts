import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings for the worker process, set before the workflow thread starts (V8's flags are per process).
 *
 * The reusable workflow context gives every workflow its own module cache, so each workflow run evaluates the
 * bundle's modules again, zod's among them. After a few hundred runs V8 optimises those module functions, and
 * escape analysis on zod's largest one took 15 s of compile time and ~400 MiB of compiler memory at once (heaptrack
 * and --trace-opt on a 1,000-job fleet run; BENCHMARKS.md, scale). Without escape analysis the same compiles are
 * cheap; flinkops' code loses nothing measurable.
 */
export function tuneV8(): void {
  setFlagsFromString('--no-turbo-escape');
}
