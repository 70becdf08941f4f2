import type { Context } from '@temporalio/activity';
import type { ActivityInterceptors } from '@temporalio/worker';
import { toActivityFailure } from '../activities/failures';
import { keepAliveDetails } from '../activities/heartbeat';
import { temporalNamespaceLabels } from '../workflows/model/metric-labels';
import { METRICS } from '../workflows/model/metric-names';

/**
 * Per activity execution:
 * - keep-alive heartbeats while it runs (activities with a heartbeat timeout), so a dead worker is noticed within
 *   seconds; they repeat the activity's own latest heartbeat details (activities/heartbeat.ts);
 * - whatever it throws becomes one of flinkops' failure types, non-retryable when retrying cannot help, with a one-line
 *   message (activities/failures.ts);
 * - log lines carry the Flink cluster and job the activity works on (from its request), and a failed attempt is
 *   counted by activity type and error type (the SDK's own counter only says "ActivityError").
 */
export function activityInterceptors(ctx: Context): ActivityInterceptors {
  let target: Record<string, string> = {};
  return {
    inbound: {
      async execute(input, next) {
        target = targetOf(input.args[0]);
        const timeoutMs = ctx.info.heartbeatTimeoutMs;
        const keepAlive = timeoutMs ? setInterval(() => ctx.heartbeat(keepAliveDetails(ctx)), Math.max(200, Math.min(2_000, timeoutMs / 3))) : undefined;
        try {
          return await next(input);
        } catch (error) {
          const failure = toActivityFailure(error);
          ctx.metricMeter.createCounter(METRICS.activityFailures, undefined, 'failed activity attempts by error type').add(1, { error: errorType(failure), ...clusterLabels(target) });
          throw failure;
        } finally {
          clearInterval(keepAlive);
        }
      },
    },
    outbound: {
      getLogAttributes(attributes, next) {
        return next({ ...target, ...attributes });
      },
      // flinkops' activity metrics: the Temporal namespace as temporal_namespace (workflows/model/metric-labels.ts).
      getMetricTags(tags, next) {
        return next({ ...tags, ...temporalNamespaceLabels(ctx.info.activityNamespace) });
      },
    },
  };
}

/** The cluster an activity works on, as metric labels (model/metric-labels.ts), when its request names one. */
function clusterLabels(target: Record<string, string>): Record<string, string> {
  const cluster = target.cluster;
  return cluster ? { flink_cluster: cluster, k8s_namespace: cluster.split('/')[0]! } : {};
}

interface ClusterLike {
  namespace?: unknown;
  name?: unknown;
}

/** The cluster and job named by an activity's request, wherever flinkops' request shapes put them. */
export function targetOf(request: unknown): Record<string, string> {
  if (typeof request !== 'object' || request === null) return {};
  const r = request as { cluster?: ClusterLike; identity?: { cluster?: ClusterLike; jobName?: unknown }; scope?: { cluster?: ClusterLike; jobKey?: unknown }; job?: unknown; jobId?: unknown };
  const cluster = [r.cluster, r.identity?.cluster, r.scope?.cluster].find((c) => typeof c?.namespace === 'string' && typeof c.name === 'string');
  const job = [r.job, r.identity?.jobName, r.scope?.jobKey, r.jobId].find((j) => typeof j === 'string' && j.length > 0) as string | undefined;
  return { ...(cluster ? { cluster: `${String(cluster.namespace)}/${String(cluster.name)}` } : {}), ...(job ? { job } : {}) };
}

/** A bounded label for an error: an ApplicationFailure's type, an HTTP status from Kubernetes, or the error's name. */
export function errorType(error: unknown): string {
  const e = error as { name?: string; type?: string; code?: unknown; message?: string } | undefined;
  if (e?.name === 'CancelledFailure') return 'Cancelled';
  if (e?.name === 'ApplicationFailure' && e.type) return e.type;
  // @kubernetes/client-node's ApiException carries the HTTP status as `code`.
  if (typeof e?.code === 'number' && /HTTP-Code/i.test(e.message ?? '')) return `KubernetesApi${e.code}`;
  return e?.name && /^[A-Za-z][A-Za-z0-9]*$/.test(e.name) ? e.name : 'Error';
}
