import type { ZooKeeperHaSnapshot, ZooKeeperLeaderEntry } from '../../../workflows/model/zookeeper';
import { openReadOnlySession, ZooKeeperUnavailable, type ReadOnlyZooKeeperOptions, type ReadOnlyZooKeeperSession } from './client';
import { decodeLeaderInformation } from './leader-info';
import { joinPath, type ZooKeeperHaSettings } from './settings';

/** The components whose leader Flink publishes (leader/<component>/connection_info), in the order they are shown. */
export const LEADER_COMPONENTS = ['dispatcher', 'resource_manager', 'rest_server'] as const;
/** Jobs looked at in detail, at most (three reads each). */
const MAX_JOB_READS = 50;

export interface ZooKeeperReadOptions {
  /** Per server and per request; the observation as a whole is bounded by the number of reads. */
  timeouts: Pick<ReadOnlyZooKeeperOptions, 'connectTimeoutMs' | 'requestTimeoutMs'>;
  /** Leader and contenders only (polling while waiting for a recovery). */
  light: boolean;
  /** The cluster's Flink version, when known: names the layout of a cluster that has no job entry yet. */
  flinkVersion?: string;
}

export type ZooKeeperReading = Pick<
  ZooKeeperHaSnapshot,
  'reachable' | 'unreachable' | 'server' | 'grantedSessionTimeoutMs' | 'readError' | 'leaders' | 'contenders' | 'jobEntries' | 'jobs'
>;

/**
 * Reads the cluster's part of ZooKeeper through a read-only session (getData/getChildren only), asking for the
 * cluster's own session timeout so the server says what it grants Flink. Never throws for ZooKeeper's sake: a quorum
 * that gives no session is `reachable: false`, a read that fails is `readError` and the rest stays unknown.
 */
export async function readZooKeeper(settings: ZooKeeperHaSettings, options: ZooKeeperReadOptions): Promise<ZooKeeperReading> {
  const started = Date.now();
  let session: ReadOnlyZooKeeperSession;
  try {
    session = await openReadOnlySession(settings.servers, { ...options.timeouts, sessionTimeoutMs: settings.client.sessionTimeoutMs });
  } catch (error) {
    if (!(error instanceof ZooKeeperUnavailable)) throw error;
    return { reachable: false, unreachable: { servers: error.attempts, waitedMs: Date.now() - started } };
  }
  const reading: ZooKeeperReading = { reachable: true, server: session.server, grantedSessionTimeoutMs: session.negotiatedTimeoutMs };
  try {
    const base = settings.path;
    reading.leaders = await readLeaders(session, base);
    const latch = await session.getChildren(joinPath(base, 'leader', 'latch'));
    reading.contenders = [];
    for (const node of latchOrder(latch?.children ?? [])) {
      const stat = await session.exists(joinPath(base, 'leader', 'latch', node));
      if (stat) reading.contenders.push({ node, session: stat.ephemeralOwner });
    }
    if (options.light) return reading;

    // Flink 2.x keeps execution plans where 1.x kept job graphs; whichever the cluster's version wrote is there.
    const plans = await session.getChildren(joinPath(base, settings.jobsPaths.executionPlans));
    const graphs = plans ? undefined : await session.getChildren(joinPath(base, settings.jobsPaths.jobgraphs));
    const layout = plans || (!graphs && Number(options.flinkVersion?.split('.')[0]) >= 2) ? 'execution-plans' : 'jobgraphs';
    const jobIds = (plans ?? graphs)?.children ?? [];
    reading.jobEntries = { layout, jobIds };
    const entries = layout === 'execution-plans' ? settings.jobsPaths.executionPlans : settings.jobsPaths.jobgraphs;
    reading.jobs = {};
    for (const jobId of jobIds.slice(0, MAX_JOB_READS)) {
      const stored = await session.exists(joinPath(base, entries, jobId));
      const jobMaster = await session.exists(joinPath(base, 'leader', `job-${jobId}`, 'connection_info'));
      const checkpoints = await session.getChildren(joinPath(base, 'jobs', jobId, 'checkpoints'));
      const ids = (checkpoints?.children ?? []).map(Number).filter(Number.isFinite);
      reading.jobs[jobId] = {
        ...(stored ? { storedAt: stored.ctime } : {}),
        ...(jobMaster ? { jobMasterSince: jobMaster.mtime } : {}),
        ...(ids.length > 0 ? { checkpoint: Math.max(...ids) } : {}),
      };
    }
    return reading;
  } catch (error) {
    reading.readError = (error as Error).message;
    return reading;
  } finally {
    await session.close();
  }
}

async function readLeaders(session: ReadOnlyZooKeeperSession, base: string): Promise<ZooKeeperLeaderEntry[]> {
  const entries: ZooKeeperLeaderEntry[] = [];
  for (const component of LEADER_COMPONENTS) {
    const node = await session.getData(joinPath(base, 'leader', component, 'connection_info'));
    if (!node) continue;
    const decoded = decodeLeaderInformation(node.data);
    const common = { component, owner: node.stat.ephemeralOwner, since: node.stat.mtime };
    entries.push('problem' in decoded ? { ...common, problem: decoded.problem } : { ...common, address: decoded.address, ...(decoded.sessionId ? { leaderSessionId: decoded.sessionId } : {}) });
  }
  return entries;
}

/** Curator's latch nodes end in a sequence number (`_c_<uuid>-latch-0000000003`): the lowest leads. */
function latchOrder(nodes: string[]): string[] {
  const sequence = (node: string) => Number(/(\d+)$/.exec(node)?.[1] ?? Number.MAX_SAFE_INTEGER);
  return [...nodes].sort((a, b) => sequence(a) - sequence(b));
}
