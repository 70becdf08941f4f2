import { workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { FLINK_CLUSTER, FLINK_JOB } from './search-attributes';

/**
 * Workflow interceptors, bundled with the workflow code (worker/bundle-workflows.ts): every workflow log line
 * carries the Flink cluster and job it operates on, from the search attributes the CLI sets at start.
 */
export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      getLogAttributes(input, next) {
        return next({ ...targetAttributes(), ...input });
      },
    },
  ],
});

function targetAttributes(): Record<string, string> {
  const attributes = workflowInfo().typedSearchAttributes;
  const cluster = attributes.get(FLINK_CLUSTER);
  const job = attributes.get(FLINK_JOB);
  return { ...(cluster ? { cluster } : {}), ...(job ? { job } : {}) };
}
