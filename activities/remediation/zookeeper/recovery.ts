import type { ClusterHealthSnapshot } from '../../../workflows/model/cluster-health';

/**
 * ZooKeeper HA's part of "the cluster is back" while polling: a leader published under the cluster's path. Undefined
 * when it is there (with what to say about it), otherwise why not yet. ZooKeeper not answering is "not yet" too: the
 * wait goes on, and the diagnosis after it says what that means.
 */
export function zooKeeperLeaderStatus(snapshot: ClusterHealthSnapshot): { ok: true; leader: string } | { ok: false; detail: string } {
  const zk = snapshot.ha.zookeeper;
  if (!zk) return { ok: false, detail: 'ZooKeeper not observed' };
  if ('problem' in zk) return { ok: false, detail: zk.problem };
  if (!zk.reachable) return { ok: false, detail: `ZooKeeper ${zk.quorum} gives no session (${(zk.unreachable?.servers ?? []).map((s) => `${s.server}: ${s.error}`).join('; ')})` };
  if (zk.readError) return { ok: false, detail: `ZooKeeper ${zk.path} could not be read (${zk.readError})` };
  const leader = zk.leaders?.find((l) => l.component === 'dispatcher' && l.address) ?? zk.leaders?.find((l) => l.address);
  if (!leader) return { ok: false, detail: `no leader under ${zk.path}/leader yet (${zk.contenders?.length ?? 0} contending)` };
  return { ok: true, leader: `${leader.address} (ZooKeeper session ${leader.owner ?? '?'})` };
}
