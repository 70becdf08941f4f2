import type { V1Pod } from '@kubernetes/client-node';
import type { JobManagerAddresses, ZooKeeperLeaderEntry } from '../../../workflows/model/zookeeper';
import type { ActivityContext } from '../../context';
import type { ResolvedCluster } from '../../targets/resolve';
import { podRestClient } from '../jobmanager-pods';
import { leaderEndpoint } from './leader-info';

/**
 * The addresses each JobManager pod advertises, asked of the pod itself (GET /jobmanager/config through the configured
 * pod transport): jobmanager.rpc.address and its port (with HA the port is chosen at start-up) and rest.address. A
 * JobManager may advertise its pod IP, a host name or another address than Kubernetes shows, so the leader in
 * ZooKeeper is matched against what the JobManagers say, not against pod IPs alone.
 */
export async function jobManagerAddresses(ctx: ActivityContext, cluster: ResolvedCluster, pods: V1Pod[]): Promise<JobManagerAddresses[]> {
  const running = pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running');
  return Promise.all(
    running.map(async (pod): Promise<JobManagerAddresses> => {
      const name = pod.metadata?.name ?? '?';
      const podIp = pod.status?.podIP;
      const base = { pod: name, ...(podIp ? { podIp } : {}) };
      const client = podRestClient(ctx, cluster, pod);
      if (!client) return { ...base, error: 'no pod address or REST port' };
      try {
        const config = await client.jobManagerConfig();
        const rpcPort = Number(config['jobmanager.rpc.port']);
        return {
          ...base,
          ...(config['jobmanager.rpc.address'] ? { rpcAddress: config['jobmanager.rpc.address'] } : {}),
          ...(Number.isInteger(rpcPort) && rpcPort > 0 ? { rpcPort } : {}),
          ...(config['rest.address'] ? { restAddress: config['rest.address'] } : {}),
        };
      } catch (error) {
        return { ...base, error: (error as Error).message };
      }
    }),
  );
}

/**
 * The pod that leads: the one advertising the dispatcher's (or resource manager's) RPC host and port, else the REST
 * endpoint's host, else whose pod IP is the leader's host. Undefined when no pod matches.
 */
export function leaderPodOf(leaders: ZooKeeperLeaderEntry[], jobManagers: JobManagerAddresses[]): string | undefined {
  const rpc = leaders.filter((l) => l.component !== 'rest_server' && l.address).map((l) => leaderEndpoint(l.address!));
  const rest = leaders.filter((l) => l.component === 'rest_server' && l.address).map((l) => leaderEndpoint(l.address!));
  const lower = (value: string | undefined) => value?.toLowerCase();
  for (const endpoint of rpc) {
    const match = jobManagers.find((jm) => endpoint && lower(jm.rpcAddress) === endpoint.host && (endpoint.port === undefined || jm.rpcPort === endpoint.port));
    if (match) return match.pod;
  }
  for (const endpoint of rest) {
    const match = jobManagers.find((jm) => endpoint && lower(jm.restAddress) === endpoint.host);
    if (match) return match.pod;
  }
  const hosts = [...rpc, ...rest].map((e) => e?.host);
  return jobManagers.find((jm) => jm.podIp && hosts.includes(jm.podIp.toLowerCase()))?.pod;
}
