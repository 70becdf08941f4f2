import { readFileSync } from 'node:fs';
import { openReadOnlySession } from '../../activities/remediation/zookeeper/client';

/** What the end-to-end tests read from the API server's and ZooKeeper's audit logs to prove a command wrote nothing. */
export interface KubeWrite {
  verb: string;
  resource: string;
  name?: string;
  namespace?: string;
}

/**
 * Writes (create/update/patch/delete) made as `username` (the worker: flinkops-admin) in a time window, in `namespace`:
 * test files run in parallel, each in a namespace of its own, with workers sharing that identity (flinkops writes no
 * cluster-scoped object; the tests' own namespaces and CRDs are).
 */
export function kubeWrites(auditLog: string, since: Date, until: Date, namespace: string, username = 'flinkops-admin'): KubeWrite[] {
  const lines = readFileSync(auditLog, 'utf8').split('\n').filter(Boolean);
  return lines
    .map((line) => JSON.parse(line) as { stage: string; verb: string; user?: { username?: string }; requestReceivedTimestamp: string; objectRef?: { resource?: string; name?: string; namespace?: string } })
    .filter((e) => e.stage === 'ResponseComplete' && e.user?.username === username && ['create', 'update', 'patch', 'delete', 'deletecollection'].includes(e.verb))
    .filter((e) => e.objectRef?.namespace === namespace)
    .filter((e) => {
      const at = Date.parse(e.requestReceivedTimestamp);
      return at >= since.getTime() && at <= until.getTime();
    })
    .map((e) => ({ verb: e.verb, resource: e.objectRef?.resource ?? '', name: e.objectRef?.name, namespace: e.objectRef?.namespace }));
}

export interface ZooKeeperWrite {
  at: number;
  session: string;
  operation: string;
  znode: string;
  result: string;
}

/**
 * ZooKeeper's audit log (audit.enable=true): one line per write (create, delete, setData, setAcl, multi, ...) with the
 * session that made it, `<local time> session=0x.. user=.. ip=.. operation=.. znode=.. znode_type=.. result=..`.
 * Reads do not appear in it.
 */
export function zooKeeperWrites(auditLog: string, since?: Date, until?: Date): ZooKeeperWrite[] {
  const writes: ZooKeeperWrite[] = [];
  for (const line of readFileSync(auditLog, 'utf8').split('\n')) {
    const match = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d),(\d{3}) (.*)$/.exec(line);
    if (!match) continue;
    const fields = Object.fromEntries(match[4]!.split('\t').map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)]));
    if (!fields.session) continue; // serverStart, serverStop
    const at = new Date(`${match[1]}T${match[2]}.${match[3]}`).getTime(); // logback writes local time
    if ((since && at < since.getTime()) || (until && at > until.getTime())) continue;
    writes.push({ at, session: fields.session, operation: fields.operation ?? '', znode: fields.znode ?? '', result: fields.result ?? '' });
  }
  return writes;
}

/** The ZooKeeper sessions of a cluster's JobManagers: the owners of its leader latch's ephemeral nodes. */
export async function jobManagerSessions(quorum: string, path: string): Promise<string[]> {
  const [host, port] = quorum.split(':');
  const session = await openReadOnlySession([{ host: host!, port: Number(port) }], { connectTimeoutMs: 5_000, requestTimeoutMs: 5_000, sessionTimeoutMs: 10_000 });
  try {
    const latch = await session.getChildren(`${path}/leader/latch`);
    const owners: string[] = [];
    for (const node of latch?.children ?? []) {
      const stat = await session.exists(`${path}/leader/latch/${node}`);
      if (stat) owners.push(stat.ephemeralOwner);
    }
    return owners;
  } finally {
    await session.close();
  }
}
