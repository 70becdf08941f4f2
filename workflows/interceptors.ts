import { workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { temporalNamespaceLabels } from './model/metric-labels';
import { FLINK_CLUSTER, FLINK_JOB } from './search-attributes';

/**
 * Workflow interceptors, bundled with the workflow code (worker/bundle-workflows.ts): every workflow log line
 * carries the Flink cluster and job it operates on, from the search attributes the CLI sets at start; flinkops'
 * workflow metrics carry the Temporal namespace as temporal_namespace (model/metric-labels.ts).
 */
export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      getLogAttributes(input, next) {
        return next({ ...targetAttributes(), ...input });
      },
      getMetricTags(input, next) {
        return next({ ...input, ...temporalNamespaceLabels(workflowInfo().namespace) });
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
