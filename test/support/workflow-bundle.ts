import type { WorkflowBundle } from '@temporalio/worker';
import { bundleWorkflows } from '../../worker/workflow-source';

let bundle: Promise<WorkflowBundle> | undefined;

/**
 * flinkops' workflow sources, bundled the way the build bundles them, once per test process: bundling takes seconds
 * of CPU, and a worker given `workflowsPath` would bundle again every time it is created.
 */
export function sourceWorkflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflows();
  return bundle;
}
