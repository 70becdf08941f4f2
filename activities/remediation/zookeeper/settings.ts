import type { ZooKeeperClientSettings } from '../../../workflows/model/zookeeper';
import { parseFlinkDuration } from '../flink-config';
import { parseQuorum, type ZooKeeperServerAddress } from './client';

/**
 * Where a cluster keeps its ZooKeeper HA state and how its client behaves, from its Flink configuration, with Flink's
 * defaults and deprecated key names (Flink 1.20 and 2.x):
 *   <path.root>/<cluster-id>/leader/latch/...                 the JobManagers' leader election
 *   <path.root>/<cluster-id>/leader/<component>/connection_info   the leader's address (ephemeral)
 *   <path.root>/<cluster-id>/jobgraphs/<job id>               job graphs (1.x), execution-plans/<job id> in 2.x
 *   <path.root>/<cluster-id>/jobs/<job id>/checkpoints/<id>   completed checkpoints
 */
export interface ZooKeeperHaSettings {
  quorum: string;
  servers: ZooKeeperServerAddress[];
  root: string;
  clusterId: string;
  clusterIdDefaulted: boolean;
  path: string;
  /** Configured job graph / execution plan paths (relative to `path`), when set. */
  jobsPaths: { jobgraphs: string; executionPlans: string };
  client: ZooKeeperClientSettings;
}

export const DEFAULT_ROOT = '/flink';
export const DEFAULT_CLUSTER_ID = '/default';
/** Flink's defaults (HighAvailabilityOptions). */
const DEFAULT_SESSION_TIMEOUT_MS = 60_000;
const DEFAULT_CONNECTION_TIMEOUT_MS = 15_000;

const KEYS = {
  quorum: ['high-availability.zookeeper.quorum', 'recovery.zookeeper.quorum'],
  root: ['high-availability.zookeeper.path.root', 'recovery.zookeeper.path.root'],
  clusterId: ['high-availability.cluster-id', 'high-availability.zookeeper.path.namespace', 'recovery.zookeeper.path.namespace'],
  jobgraphs: ['high-availability.zookeeper.path.jobgraphs', 'recovery.zookeeper.path.jobgraphs'],
  executionPlans: ['high-availability.zookeeper.path.execution-plans'],
  sessionTimeout: ['high-availability.zookeeper.client.session-timeout', 'recovery.zookeeper.client.session-timeout'],
  connectionTimeout: ['high-availability.zookeeper.client.connection-timeout', 'recovery.zookeeper.client.connection-timeout'],
  tolerateSuspended: ['high-availability.zookeeper.client.tolerate-suspended-connections'],
} as const;

/** The settings, or why the configuration does not name a usable ZooKeeper. */
export function zooKeeperHaSettings(config: Record<string, string>): ZooKeeperHaSettings | { problem: string } {
  const pick = (keys: readonly string[]) => keys.map((k) => ({ key: k, value: config[k]?.trim() })).find((e) => e.value);
  const quorum = pick(KEYS.quorum)?.value;
  if (!quorum) return { problem: 'ZooKeeper HA is on, but high-availability.zookeeper.quorum is not set' };
  let servers: ZooKeeperServerAddress[];
  try {
    servers = parseQuorum(quorum);
  } catch (error) {
    return { problem: `high-availability.zookeeper.quorum "${quorum}": ${(error as Error).message}` };
  }
  const root = normalizePath(pick(KEYS.root)?.value ?? DEFAULT_ROOT);
  const clusterIdValue = pick(KEYS.clusterId)?.value;
  const clusterId = normalizePath(clusterIdValue ?? DEFAULT_CLUSTER_ID);
  const session = pick(KEYS.sessionTimeout);
  const connection = pick(KEYS.connectionTimeout);
  const tolerate = pick(KEYS.tolerateSuspended);
  return {
    quorum,
    servers,
    root,
    clusterId,
    clusterIdDefaulted: clusterIdValue === undefined,
    path: joinPath(root, clusterId),
    jobsPaths: { jobgraphs: normalizePath(pick(KEYS.jobgraphs)?.value ?? '/jobgraphs'), executionPlans: normalizePath(pick(KEYS.executionPlans)?.value ?? '/execution-plans') },
    client: {
      sessionTimeoutMs: parseFlinkDuration(session?.value) ?? DEFAULT_SESSION_TIMEOUT_MS,
      connectionTimeoutMs: parseFlinkDuration(connection?.value) ?? DEFAULT_CONNECTION_TIMEOUT_MS,
      tolerateSuspendedConnections: tolerate?.value?.toLowerCase() === 'true',
      configured: [session, connection, tolerate].filter((e) => e !== undefined).map((e) => e.key),
    },
  };
}

/** `flink/` -> `/flink`, `//a//b/` -> `/a/b`; the root itself is `/`. The way Flink joins root and cluster id. */
export function normalizePath(path: string): string {
  const parts = path.split('/').filter(Boolean);
  return `/${parts.join('/')}`;
}

export function joinPath(...parts: string[]): string {
  return normalizePath(parts.join('/'));
}

/** Two quorums are one ensemble when they share a server (host names compared case-insensitively). */
export function sameEnsemble(a: ZooKeeperServerAddress[], b: ZooKeeperServerAddress[]): boolean {
  const key = (s: ZooKeeperServerAddress) => `${s.host.toLowerCase()}:${s.port}`;
  const keys = new Set(a.map(key));
  return b.some((s) => keys.has(key(s)));
}
