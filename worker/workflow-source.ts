import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger, type WorkerOptions, type WorkflowBundle } from '@temporalio/worker';

/** The pre-built bundle written by `npm run build` (worker/bundle-workflows.ts). */
export const WORKFLOW_BUNDLE_PATH = join(__dirname, '..', 'workflow-bundle.js');

/** Workflow interceptor modules; a pre-built bundle has them inside, so they are given to the bundler too. */
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../workflows/interceptors')];

/**
 * Workflow code for the worker: the pre-built bundle when there is one (production image, tests), otherwise
 * the workflow sources bundled at start-up (development).
 */
export function workflowSource(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> & { workflowInterceptorModules: string[] } {
  if (existsSync(WORKFLOW_BUNDLE_PATH)) return { workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH }, workflowInterceptorModules: [] };
  return { workflowsPath: require.resolve('../workflows'), workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES };
}

/** Bundles flinkops' workflow sources with their interceptors: the build's bundle, and the tests' (seconds of CPU). */
export function bundleWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: new DefaultLogger('WARN'),
  });
}
