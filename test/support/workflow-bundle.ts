import { bundleWorkflowCode, DefaultLogger, type WorkflowBundle } from '@temporalio/worker';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../../worker/workflow-source';

let bundle: Promise<WorkflowBundle> | undefined;

/**
 * flinkops' workflow sources, bundled the way the build bundles them (interceptors included), once per test process:
 * bundling takes seconds of CPU, and a worker given `workflowsPath` would bundle again every time it is created.
 */
export function sourceWorkflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: new DefaultLogger('WARN'),
  });
  return bundle;
}
