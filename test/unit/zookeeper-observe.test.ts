import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { openReadOnlySession, parseQuorum, ZooKeeperRequestError, ZooKeeperUnavailable } from '../../activities/remediation/zookeeper/client';
import { leaderPodOf } from '../../activities/remediation/zookeeper/jobmanagers';
import { JuteReader, JuteWriter, OP, splitPackets } from '../../activities/remediation/zookeeper/jute';
import { decodeLeaderInformation, leaderEndpoint } from '../../activities/remediation/zookeeper/leader-info';
import { zooKeeperLeaderStatus } from '../../activities/remediation/zookeeper/recovery';
import { sameEnsemble, zooKeeperHaSettings } from '../../activities/remediation/zookeeper/settings';
import type { ClusterHealthSnapshot } from '../../workflows/model/cluster-health';
import type { ZooKeeperHaSnapshot } from '../../workflows/model/zookeeper';

// Bytes of real connection_info znodes, read from the local stack's ZooKeeper (Flink 1.20.5 and 2.2.1).
const REAL = (JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'zookeeper', 'connection-info.json'), 'utf8')) as { nodes: Record<string, string> }).nodes;

describe("Flink's leader information in ZooKeeper", () => {
  test('real connection_info of Flink 1.20 and 2.2: the address and the leader session id, the same for every component', () => {
    for (const version of ['1.20.5', '2.2.1']) {
      const decoded = ['dispatcher', 'resource_manager', 'rest_server'].map((c) => decodeLeaderInformation(Buffer.from(REAL[`${version} ${c}`]!, 'hex')));
      expect(decoded[0]).toEqual({ address: expect.stringMatching(/^pekko\.tcp:\/\/flink@127\.247\.0\.\d+:\d+\/user\/rpc\/dispatcher_1$/) as unknown, sessionId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/) as unknown });
      expect(decoded[1]).toMatchObject({ address: expect.stringMatching(/\/user\/rpc\/resourcemanager_0$/) as unknown });
      expect(decoded[2]).toMatchObject({ address: expect.stringMatching(/^http:\/\/127\.247\.0\.\d+:8081$/) as unknown });
      expect(new Set(decoded.map((d) => ('sessionId' in d ? d.sessionId : undefined))).size).toBe(1);
    }
    // The JobManager's own log of that run: "Resource manager service is granted leadership with session id 4677b36c-...".
    expect(decodeLeaderInformation(Buffer.from(REAL['1.20.5 dispatcher']!, 'hex'))).toMatchObject({ sessionId: '4677b36c-4da1-456e-9504-f8b76ea10298' });
  });

  test('a null session id, an empty node and bytes that are not what Flink writes are problems, never guesses', () => {
    const address = Buffer.from('http://10.0.0.5:8081');
    const header = Buffer.from([0xac, 0xed, 0x00, 0x05, 0x77, address.length + 2, 0x00, address.length]);
    expect(decodeLeaderInformation(Buffer.concat([header, address, Buffer.from([0x70])]))).toEqual({ address: 'http://10.0.0.5:8081' });
    expect(decodeLeaderInformation(Buffer.alloc(0))).toEqual({ problem: 'empty (no leader information written)' });
    expect(decodeLeaderInformation(Buffer.from('{"leader":"x"}'))).toEqual({ problem: 'not a Java serialization stream' });
    const real = Buffer.from(REAL['1.20.5 rest_server']!, 'hex');
    expect(decodeLeaderInformation(real.subarray(0, real.length - 4))).toMatchObject({ problem: expect.stringMatching(/^cannot be read: ends after/) as unknown });
  });

  test('the host and port of pekko, akka and http addresses', () => {
    expect(leaderEndpoint('pekko.tcp://flink@10.0.0.5:6123/user/rpc/dispatcher_1')).toEqual({ host: '10.0.0.5', port: 6123 });
    expect(leaderEndpoint('akka.tcp://flink@JM-0.flink:6123/user/rpc/dispatcher_1')).toEqual({ host: 'jm-0.flink', port: 6123 });
    expect(leaderEndpoint('http://[fd00::5]:8081')).toEqual({ host: 'fd00::5', port: 8081 });
    expect(leaderEndpoint('not an address')).toBeUndefined();
  });

  test('the leading pod is the one advertising the leader address, even when that is not its pod IP', () => {
    const leaders = [
      { component: 'dispatcher', address: 'pekko.tcp://flink@127.247.0.7:33181/user/rpc/dispatcher_1' },
      { component: 'rest_server', address: 'http://127.247.0.7:8081' },
    ];
    const pods = [
      { pod: 'a', podIp: '10.247.0.5', rpcAddress: '127.247.0.5', rpcPort: 40099, restAddress: '127.247.0.5' },
      { pod: 'b', podIp: '10.247.0.7', rpcAddress: '127.247.0.7', rpcPort: 33181, restAddress: '127.247.0.7' },
    ];
    expect(leaderPodOf(leaders, pods)).toBe('b');
    // Same host, another RPC port: a restarted process on the same address is not the leader.
    expect(leaderPodOf(leaders.slice(0, 1), [{ ...pods[1]!, rpcPort: 41000 }])).toBeUndefined();
    expect(leaderPodOf(leaders.slice(1), [{ pod: 'c', restAddress: '127.247.0.7' }])).toBe('c');
    expect(leaderPodOf([{ component: 'dispatcher', address: 'pekko.tcp://flink@10.0.0.9:6123/user/rpc/dispatcher_1' }], [{ pod: 'd', podIp: '10.0.0.9' }])).toBe('d');
    expect(leaderPodOf(leaders, [{ pod: 'e', error: 'HTTP 503' }])).toBeUndefined();
  });
});

describe('where a cluster keeps its ZooKeeper HA state', () => {
  test("Flink's defaults: /flink/default, a 60 s session, suspended connections not tolerated", () => {
    expect(zooKeeperHaSettings({ 'high-availability.zookeeper.quorum': 'zk:2181' })).toMatchObject({
      root: '/flink',
      clusterId: '/default',
      clusterIdDefaulted: true,
      path: '/flink/default',
      jobsPaths: { jobgraphs: '/jobgraphs', executionPlans: '/execution-plans' },
      client: { sessionTimeoutMs: 60_000, connectionTimeoutMs: 15_000, tolerateSuspendedConnections: false, configured: [] },
    });
  });

  test('paths are joined the way Flink joins them; deprecated keys count; durations in either syntax', () => {
    const settings = zooKeeperHaSettings({
      'high-availability.zookeeper.quorum': 'zk-0:2181, zk-1',
      'high-availability.zookeeper.path.root': 'flink/',
      'high-availability.zookeeper.path.namespace': 'team//orders/',
      'high-availability.zookeeper.client.session-timeout': '20 s',
      'recovery.zookeeper.client.connection-timeout': '5000',
      'high-availability.zookeeper.client.tolerate-suspended-connections': 'TRUE',
    });
    expect(settings).toMatchObject({
      servers: [{ host: 'zk-0', port: 2181 }, { host: 'zk-1', port: 2181 }],
      path: '/flink/team/orders',
      clusterIdDefaulted: false,
      client: { sessionTimeoutMs: 20_000, connectionTimeoutMs: 5_000, tolerateSuspendedConnections: true },
    });
  });

  test('no quorum, or one that is not host:port, is a problem', () => {
    expect(zooKeeperHaSettings({})).toEqual({ problem: 'ZooKeeper HA is on, but high-availability.zookeeper.quorum is not set' });
    expect(zooKeeperHaSettings({ 'high-availability.zookeeper.quorum': 'zk:2181/chroot' })).toEqual({ problem: 'high-availability.zookeeper.quorum "zk:2181/chroot": "zk:2181/chroot" is not host:port' });
    expect(() => parseQuorum('zk:99999')).toThrow(/port out of range/);
    expect(parseQuorum('[::1]:2182,zk')).toEqual([{ host: '::1', port: 2182 }, { host: 'zk', port: 2181 }]);
  });

  test('two quorums are one ensemble when they share a server', () => {
    expect(sameEnsemble(parseQuorum('ZK-0:2181,zk-1:2181'), parseQuorum('zk-1:2181,zk-2:2181'))).toBe(true);
    expect(sameEnsemble(parseQuorum('zk-0:2181'), parseQuorum('zk-0:2182'))).toBe(false);
  });
});

describe('the read-only ZooKeeper client', () => {
  const servers: Server[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  /** A TCP server speaking as much of ZooKeeper as a test needs: `reply` answers a request (undefined: never). */
  async function fakeZooKeeper(options: { handshake: boolean; reply?: (type: number, path: string) => { err: number; body?: Buffer } | undefined }): Promise<number> {
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      let pending = Buffer.alloc(0);
      let connected = false;
      socket.on('data', (chunk: Buffer) => {
        const { packets, rest } = splitPackets(Buffer.concat([pending, chunk]), 1 << 20);
        pending = Buffer.from(rest);
        for (const packet of packets) {
          if (!connected) {
            connected = true;
            if (options.handshake) socket.write(new JuteWriter().int(0).int(20_000).long(0x1000abcn).buffer(Buffer.alloc(16)).bool(false).framed());
            continue;
          }
          const request = new JuteReader(packet);
          const xid = request.int();
          const type = request.int();
          const path = type === OP.closeSession ? '' : request.string();
          const answer = type === OP.closeSession ? { err: 0 } : options.reply?.(type, path);
          if (!answer) continue;
          socket.write(new JuteWriter().int(xid).long(7n).int(answer.err).raw(answer.body ?? Buffer.alloc(0)).framed());
        }
      });
    });
    server.on('close', () => sockets.forEach((s) => s.destroy()));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as { port: number }).port;
  }

  const timeouts = { connectTimeoutMs: 300, requestTimeoutMs: 300, sessionTimeoutMs: 60_000 };

  test('a server that accepts but never gives a session: unavailable within the connect timeout', async () => {
    const port = await fakeZooKeeper({ handshake: false });
    const error = (await openReadOnlySession([{ host: '127.0.0.1', port }], timeouts).catch((e: unknown) => e)) as ZooKeeperUnavailable;
    expect(error).toBeInstanceOf(ZooKeeperUnavailable);
    expect(error.attempts).toEqual([{ server: `127.0.0.1:${port}`, error: 'no session within 300 ms' }]);
  });

  test('each server of the quorum is tried; a refused one is named', async () => {
    const refused = await fakeZooKeeper({ handshake: true });
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const port = await fakeZooKeeper({ handshake: true, reply: () => ({ err: -101 }) });
    const session = await openReadOnlySession([{ host: '127.0.0.1', port: refused }, { host: '127.0.0.1', port }], timeouts);
    expect(session.server).toBe(`127.0.0.1:${port}`);
    expect(session.sessionId).toBe('0x1000abc');
    expect(session.negotiatedTimeoutMs).toBe(20_000);
    expect(await session.getData('/flink/default/leader/dispatcher/connection_info')).toBeUndefined();
    await session.close();
    const none = (await openReadOnlySession([{ host: '127.0.0.1', port: refused }], timeouts).catch((e: unknown) => e)) as ZooKeeperUnavailable;
    expect(none.message).toBe(`no ZooKeeper server gave a session: 127.0.0.1:${refused}: connection refused`);
  });

  test('a read that is never answered times out; one that is refused says why', async () => {
    const port = await fakeZooKeeper({ handshake: true, reply: (_type, path) => (path === '/secret' ? { err: -102 } : undefined) });
    const session = await openReadOnlySession([{ host: '127.0.0.1', port }], timeouts);
    const silent = (await session.getChildren('/flink').catch((e: unknown) => e)) as ZooKeeperRequestError;
    expect(silent).toBeInstanceOf(ZooKeeperRequestError);
    expect(silent.message).toBe(`/flink: no answer from 127.0.0.1:${port} within 300 ms`);
    await expect(session.getData('/secret')).rejects.toThrow('/secret: NoAuth (ZooKeeper error -102)');
    await session.close();
  });

  test('answers cut and glued anyhow by TCP are put back together', () => {
    const a = new JuteWriter().int(1).string('x').framed();
    const b = new JuteWriter().int(2).framed();
    const both = Buffer.concat([a, b]);
    const first = splitPackets(both.subarray(0, a.length + 2), 1024);
    expect(first.packets).toHaveLength(1);
    const second = splitPackets(Buffer.concat([first.rest, both.subarray(a.length + 2)]), 1024);
    expect(second.packets.map((p) => new JuteReader(p).int())).toEqual([2]);
    expect(() => splitPackets(new JuteWriter().int(-5).framed().subarray(4), 1024)).toThrow(/ZooKeeper packet of -5 bytes/);
  });

  test('a quorum on a link-local or metadata address is never connected to', async () => {
    const error = (await openReadOnlySession([{ host: '169.254.169.254', port: 2181 }], timeouts).catch((e: unknown) => e)) as ZooKeeperUnavailable;
    expect(error.attempts[0]!.error).toBe('169.254.169.254 is or resolves to 169.254.169.254, a link-local or metadata address');
  });
});

describe('a recovery wait with ZooKeeper HA', () => {
  const base = { quorum: 'zk:2181', root: '/flink', clusterId: '/default', clusterIdDefaulted: true, path: '/flink/default', settings: { sessionTimeoutMs: 60_000, connectionTimeoutMs: 15_000, tolerateSuspendedConnections: false, configured: [] } };
  const status = (zk: Partial<ZooKeeperHaSnapshot>) => zooKeeperLeaderStatus({ ha: { mode: 'zookeeper', source: 'rest', zookeeper: { ...base, reachable: true, ...zk } } } as unknown as ClusterHealthSnapshot);

  test('waits for a leader published under the path; ZooKeeper not answering is "not yet"', () => {
    expect(status({ leaders: [], contenders: [{ node: 'n', session: '0x1' }] })).toEqual({ ok: false, detail: 'no leader under /flink/default/leader yet (1 contending)' });
    expect(status({ reachable: false, unreachable: { servers: [{ server: 'zk:2181', error: 'connection refused' }], waitedMs: 1 } })).toEqual({ ok: false, detail: 'ZooKeeper zk:2181 gives no session (zk:2181: connection refused)' });
    expect(status({ leaders: [{ component: 'dispatcher', address: 'pekko.tcp://flink@10.0.0.5:6123/user/rpc/dispatcher_1', owner: '0x5' }] })).toEqual({
      ok: true,
      leader: 'pekko.tcp://flink@10.0.0.5:6123/user/rpc/dispatcher_1 (ZooKeeper session 0x5)',
    });
  });
});
