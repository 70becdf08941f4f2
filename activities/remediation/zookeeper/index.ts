import type { V1Pod } from '@kubernetes/client-node';
import type { ZooKeeperHaSnapshot } from '../../../workflows/model/zookeeper';
import type { ActivityContext } from '../../context';
import type { ResolvedCluster } from '../../targets/resolve';
import { jobManagerAddresses, leaderPodOf } from './jobmanagers';
import { readZooKeeper } from './observe';
import { clustersSharingPath, configMapOf } from './peers';
import { zooKeeperHaSettings } from './settings';

/** Every ZooKeeper connection attempt and every read is bounded by these (per server, per request). */
export const ZOOKEEPER_CONNECT_TIMEOUT_MS = 5_000;
export const ZOOKEEPER_REQUEST_TIMEOUT_MS = 5_000;

export interface ObserveZooKeeperRequest {
  cluster: ResolvedCluster;
  pods: V1Pod[];
  /** The cluster's Flink configuration (REST when it answered, else Kubernetes). */
  config: Record<string, string>;
  light: boolean;
  flinkVersion?: string;
}

/**
 * The ZooKeeper HA picture of one cluster, read-only: the path from its configuration, what ZooKeeper holds there, the
 * addresses its JobManagers advertise (to name the leading pod) and other clusters configured for the same path.
 * Undefined when the configuration names no usable quorum (the reason is `problem`).
 */
export async function observeZooKeeperHa(ctx: ActivityContext, request: ObserveZooKeeperRequest): Promise<ZooKeeperHaSnapshot | { problem: string }> {
  const settings = zooKeeperHaSettings(request.config);
  if ('problem' in settings) return settings;
  const reading = await readZooKeeper(settings, {
    timeouts: { connectTimeoutMs: ZOOKEEPER_CONNECT_TIMEOUT_MS, requestTimeoutMs: ZOOKEEPER_REQUEST_TIMEOUT_MS },
    light: request.light,
    flinkVersion: request.flinkVersion,
  });
  const snapshot: ZooKeeperHaSnapshot = {
    quorum: settings.quorum,
    root: settings.root,
    clusterId: settings.clusterId,
    clusterIdDefaulted: settings.clusterIdDefaulted,
    path: settings.path,
    settings: settings.client,
    ...reading,
  };
  const configMap = configMapOf(request.cluster.jobManager);
  if (configMap) snapshot.configMap = configMap;
  if (request.light) return snapshot;
  if (snapshot.leaders && snapshot.leaders.length > 0) {
    snapshot.jobManagers = await jobManagerAddresses(ctx, request.cluster, request.pods);
    snapshot.leaderPod = leaderPodOf(snapshot.leaders, snapshot.jobManagers);
  }
  try {
    const peers = await clustersSharingPath(ctx, request.cluster.ref.namespace, request.cluster.jobManager.metadata!.name!, settings);
    // No JobManager of this cluster advertises the leader's address: with one other cluster on the path, it leads.
    const foreignLeader = snapshot.leaders?.some((l) => l.address) && snapshot.jobManagers?.every((jm) => !jm.error) && !snapshot.leaderPod;
    snapshot.sharedWith = peers.map((peer) => (foreignLeader && peers.length === 1 ? { ...peer, leads: true } : peer));
  } catch (error) {
    snapshot.peersUnknown = (error as Error).message;
  }
  return snapshot;
}
