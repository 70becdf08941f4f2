import type { V1Pod } from '@kubernetes/client-node';
import type { ActivityContext } from '../context';
import { FlinkRestClient } from '../flink/rest-client';
import type { JobOverview } from '../flink/schemas';
import { TERMINAL_JOB_STATES } from '../flink/schemas';
import { apiErrorMessage, apiStatus } from '../kube/clients';
import type { ResolvedCluster } from '../targets/resolve';

/**
 * One JobManager pod's own REST API, not the Service in front of several: with two JobManagers and no high
 * availability, each runs its own jobs, and only asking each one says which jobs a scale-down would take away.
 *
 * `flink.podAddressing`:
 * - `pod-ip`: http(s)://<pod IP>:<REST port>, with the configured Flink transport (TLS, headers): a worker inside
 *   the cluster network;
 * - `api-server-proxy`: through the API server's pod proxy (pods/proxy get, with the worker's Kubernetes
 *   credentials): a worker that reaches the API server but not the pods. Flink headers are not sent this way.
 */
export function podRestClient(ctx: ActivityContext, cluster: ResolvedCluster, pod: V1Pod): FlinkRestClient | undefined {
  const port = restContainerPort(cluster, pod);
  const name = pod.metadata?.name;
  if (!port || !name) return undefined;
  const scheme = ctx.settings.flink.scheme;
  if (ctx.settings.flink.podAddressing === 'api-server-proxy') {
    const proxyName = `${scheme === 'https' ? 'https:' : ''}${name}:${port}`;
    return new FlinkRestClient({
      baseUrl: `http://pod-proxy.invalid/${name}`,
      timeoutMs: ctx.settings.flink.requestTimeoutMs,
      retries: 1,
      fetch: podProxyFetch(ctx, cluster.ref.namespace, proxyName),
    });
  }
  const ip = pod.status?.podIP;
  if (!ip) return undefined;
  const host = ip.includes(':') ? `[${ip}]` : ip;
  const client = ctx.flinkClient(`${scheme}://${host}:${port}`, 'service');
  return client;
}

/** A fetch that sends GET requests through the API server's pod proxy (client-node's own call, so RBAC sees it). */
function podProxyFetch(ctx: ActivityContext, namespace: string, proxyName: string): typeof fetch {
  return async (input, init) => {
    const method = init?.method ?? 'GET';
    if (method !== 'GET') return new Response(JSON.stringify({ errors: [`${method} is not sent through the pod proxy`] }), { status: 405 });
    const path = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url).pathname.split('/').slice(2).join('/');
    try {
      const body = await ctx.kube.core.connectGetNamespacedPodProxyWithPath({ name: proxyName, namespace, path });
      return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
    } catch (error) {
      const status = apiStatus(error);
      // Not an HTTP answer: the way FlinkRestClient recognises an unreachable endpoint (a network error).
      if (status === undefined) throw new TypeError(`fetch failed: ${apiErrorMessage(error)}`, { cause: error });
      return new Response(JSON.stringify({ errors: [apiErrorMessage(error)] }), { status });
    }
  };
}

/** The JobManager container's REST port: the Service's target port (by number or name), else 8081. */
function restContainerPort(cluster: ResolvedCluster, pod: V1Pod): number | undefined {
  const servicePort = (cluster.restService.spec?.ports ?? []).find((p) => p.port === cluster.restPort);
  const target = servicePort?.targetPort ?? cluster.restPort;
  if (typeof target === 'number') return target;
  const containers = pod.spec?.containers ?? [];
  for (const container of containers) {
    const named = (container.ports ?? []).find((p) => p.name === target);
    if (named) return named.containerPort;
  }
  return /^\d+$/.test(String(target)) ? Number(target) : undefined;
}

export interface JobManagerInventory {
  pod: string;
  /** Jobs this JobManager runs (not finished, failed or cancelled); undefined when it could not be asked. */
  jobs?: { id: string; name: string; state: string }[];
  error?: string;
}

/** Asks each ready JobManager pod which jobs it runs (read-only; the configured transport). */
export async function inventoryJobManagers(ctx: ActivityContext, cluster: ResolvedCluster, pods: V1Pod[]): Promise<JobManagerInventory[]> {
  return Promise.all(
    pods.map(async (pod): Promise<JobManagerInventory> => {
      const name = pod.metadata?.name ?? '?';
      const client = podRestClient(ctx, cluster, pod);
      if (!client) return { pod: name, error: 'no pod address or REST port' };
      try {
        const jobs: JobOverview[] = await client.listJobs();
        return { pod: name, jobs: jobs.filter((j) => !TERMINAL_JOB_STATES.includes(j.state)).map((j) => ({ id: j.jid, name: j.name, state: j.state })) };
      } catch (error) {
        return { pod: name, error: (error as Error).message };
      }
    }),
  );
}
