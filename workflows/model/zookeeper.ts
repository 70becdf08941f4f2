/**
 * What flinkops observed of a cluster's ZooKeeper high availability (read-only, every ZooKeeper call with a timeout):
 * the path the cluster uses, its leader and the contenders for leadership, the job entries Flink keeps there, the
 * JobManager pods and the addresses they advertise, and other clusters configured for the same path. A part that
 * could not be read is absent with the reason, never guessed: unknown is not a verdict.
 */
export interface ZooKeeperHaSnapshot {
  /** high-availability.zookeeper.quorum, as configured. */
  quorum: string;
  /** high-availability.zookeeper.path.root (default /flink), normalised. */
  root: string;
  /** high-availability.cluster-id (default /default), normalised. */
  clusterId: string;
  /** The cluster id was not set: the default /default, which every cluster left on it shares. */
  clusterIdDefaulted: boolean;
  /** <root><cluster-id>: everything of this cluster lives below it. */
  path: string;
  settings: ZooKeeperClientSettings;
  /** Whether ZooKeeper gave a session: false with `unreachable` when no server did. */
  reachable: boolean;
  unreachable?: { servers: { server: string; error: string }[]; waitedMs: number };
  /** The server that answered, and the session timeout it grants for the one the cluster asks for. */
  server?: string;
  grantedSessionTimeoutMs?: number;
  /** A session was given but a read failed (NoAuth, a timeout): what it would have said is unknown. */
  readError?: string;
  /** leader/<component>/connection_info of the dispatcher, resource manager and REST endpoint. */
  leaders?: ZooKeeperLeaderEntry[];
  /** The JobManagers contending for leadership: the ephemeral nodes under leader/latch, in election order. */
  contenders?: { node: string; session: string }[];
  /** Job graphs (Flink 1.x: jobgraphs/<job id>) or execution plans (2.x: execution-plans/<job id>). */
  jobEntries?: { layout: ZooKeeperJobLayout; jobIds: string[] };
  /** Per stored job: when it was stored, when its current JobMaster took over, its newest checkpoint in ZooKeeper. */
  jobs?: Record<string, ZooKeeperJob>;
  /** Each JobManager pod and the addresses it advertises (asked of the pod itself). */
  jobManagers?: JobManagerAddresses[];
  /** The JobManager pod whose advertised address is the leader's; undefined when none is (or it is unknown). */
  leaderPod?: string;
  /** Where this cluster's configuration lives (the ConfigMap mounted at /opt/flink/conf), for a fix to name. */
  configMap?: string;
  /** Other clusters (JobManager Deployments in the namespace) configured for this quorum and path. */
  sharedWith?: ZooKeeperPeer[];
  /** Why other clusters could not be checked. */
  peersUnknown?: string;
}

export type ZooKeeperJobLayout = 'jobgraphs' | 'execution-plans';

export interface ZooKeeperJob {
  /** When its job graph or execution plan was stored (ms): when the job was submitted. */
  storedAt?: number;
  /** When its current JobMaster took the leadership (leader/job-<job id>/connection_info): its latest (re)start. */
  jobMasterSince?: number;
  /** The newest completed checkpoint ZooKeeper points to (jobs/<job id>/checkpoints). */
  checkpoint?: number;
}

export interface ZooKeeperClientSettings {
  sessionTimeoutMs: number;
  connectionTimeoutMs: number;
  /** high-availability.zookeeper.client.tolerate-suspended-connections */
  tolerateSuspendedConnections: boolean;
  /** Settings given explicitly (the others are Flink's defaults). */
  configured: string[];
}

export interface ZooKeeperLeaderEntry {
  /** dispatcher, resource_manager, rest_server */
  component: string;
  /** The leader's address as Flink wrote it (pekko.tcp://flink@host:port/..., http://host:port). */
  address?: string;
  /** Flink's leader session id (a UUID), the same for every component of one leader. */
  leaderSessionId?: string;
  /** The ZooKeeper session owning the ephemeral node: the leading JobManager's. */
  owner?: string;
  /** When the node was written (ms): since when this leader leads. */
  since?: number;
  /** The node could not be decoded. */
  problem?: string;
}

export interface JobManagerAddresses {
  pod: string;
  podIp?: string;
  /** jobmanager.rpc.address and .port, rest.address, as the JobManager itself reports them. */
  rpcAddress?: string;
  rpcPort?: number;
  restAddress?: string;
  error?: string;
}

export interface ZooKeeperPeer {
  /** The peer's JobManager Deployment. */
  deployment: string;
  /** Where its configuration lives (the ConfigMap mounted at /opt/flink/conf), for the fix. */
  configMap?: string;
  clusterIdDefaulted: boolean;
  /** The peer's pods advertise the leader's address: the peer leads the shared path. */
  leads?: boolean;
}
