import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { FlinkRestClient } from '../../activities/flink/rest-client';
import { loadStackConfig, type StackConfig, type StackProfile } from './config';
import { readStackState, type StackState } from './stack';

export interface TestStack {
  config: StackConfig;
  state: StackState;
  flink: FlinkRestClient;
  /** Environment for the worker and CLI processes started by a test. */
  temporalEnv: (taskQueue: string) => NodeJS.ProcessEnv;
  /** A fresh directory for one test's files (fixture output, savepoints, ...). */
  tempDir: (prefix: string) => string;
}

/** A running stack (see scripts/stack.sh), as tests and benchmarks use it. */
export function openStack(profile: StackProfile): TestStack {
  const config = loadStackConfig(profile);
  const state = readStackState(config);
  return {
    config,
    state,
    flink: new FlinkRestClient({ baseUrl: state.flink.restUrl }),
    temporalEnv: (taskQueue) => ({
      TEMPORAL_ADDRESS: state.temporal.address,
      TEMPORAL_NAMESPACE: state.temporal.namespace,
      FLINKOPS_TASK_QUEUE: taskQueue,
    }),
    tempDir: (prefix) => {
      const root = join(config.stackDir, 'tests');
      mkdirSync(root, { recursive: true });
      return mkdtempSync(join(root, `${prefix}-`));
    },
  };
}
