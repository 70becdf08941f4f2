import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { defaultCacheDir } from '../stack/config';

/**
 * The wrapper scripts/setup.sh writes around Temporal's time-skipping test server (a Java program from Maven Central):
 * the SDK would download the server from a host that is unreachable here.
 */
export function timeSkippingServerPath(cacheDir: string = defaultCacheDir()): string {
  return join(cacheDir, 'bin', 'temporal-test-server');
}

/**
 * A time-skipping test environment (one per test file; always `await env.teardown()`): while the test awaits a workflow
 * result through `env.client` and nothing else is in flight, the server jumps to the next timer, so a `sleep('1 day')`
 * takes milliseconds. Activities are whatever the test's worker registers, typically stubs.
 */
export async function timeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  const path = timeSkippingServerPath();
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`Temporal's time-skipping test server is not installed (no executable ${path}): run scripts/setup.sh`);
  }
  quietRuntime();
  return TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
}

/** Keeps the SDK's INFO lines (worker state changes) out of test output; a Runtime the test file installed first stays. */
function quietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch (error) {
    if ((error as Error).name !== 'IllegalStateError') throw error;
  }
}
