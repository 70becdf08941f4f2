import { lookup, type LookupAddress } from 'node:dns';
import { connect, isIP, type Socket } from 'node:net';
import { isForbiddenAddress } from '../../policy';
import { ERR, errorName, JuteReader, JuteWriter, OP, splitPackets, hex, type ReadOp, type ZnodeStat } from './jute';

/**
 * A ZooKeeper session that can only read: getData, getChildren and exists, each bounded by a timeout, then
 * closeSession. It speaks the protocol itself (jute over TCP) and has no way to create, change or delete a znode, so
 * observing a cluster's ZooKeeper can never write to it.
 */
export interface ZooKeeperServerAddress {
  host: string;
  port: number;
}

export interface ReadOnlyZooKeeperOptions {
  /** Per server: the TCP connection and the session handshake together. */
  connectTimeoutMs: number;
  /** Per request (and for closing the session). */
  requestTimeoutMs: number;
  /** The session timeout asked for; the server bounds it (2 to 20 ticks by default) and says what it grants. */
  sessionTimeoutMs: number;
}

export interface ZnodeData {
  data: Buffer;
  stat: ZnodeStat;
}

export interface ZnodeChildren {
  children: string[];
  stat: ZnodeStat;
}

const DEFAULT_PORT = 2181;
const MAX_PACKET_BYTES = 16 * 1024 * 1024;
const PING_XID = -2;
const WATCH_XID = -1;

/** Not one server of the quorum gave a session: down, unreachable, or without a quorum of its own (it refuses clients then). */
export class ZooKeeperUnavailable extends Error {
  override readonly name = 'ZooKeeperUnavailable';

  constructor(readonly attempts: { server: string; error: string }[]) {
    super(`no ZooKeeper server gave a session: ${attempts.map((a) => `${a.server}: ${a.error}`).join('; ')}`);
  }
}

/** A read that ZooKeeper refused (NoAuth, ...) or that did not complete (timeout, connection lost). */
export class ZooKeeperRequestError extends Error {
  override readonly name = 'ZooKeeperRequestError';

  constructor(
    readonly path: string,
    readonly code: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

/**
 * `host1:2181,host2:2181` (Flink's high-availability.zookeeper.quorum; IPv6 as `[::1]:2181`) as addresses; a port may
 * be left out (2181). A chroot suffix (`/path`) is not part of Flink's quorum (it has path.root) and is refused.
 */
export function parseQuorum(quorum: string): ZooKeeperServerAddress[] {
  const servers: ZooKeeperServerAddress[] = [];
  for (const raw of quorum.split(',').map((s) => s.trim()).filter(Boolean)) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^:/\s[\]]+)(?::(\d{1,5}))?$/.exec(raw);
    if (!match) throw new Error(`"${raw}" is not host:port`);
    const port = match[2] === undefined ? DEFAULT_PORT : Number(match[2]);
    if (port < 1 || port > 65_535) throw new Error(`"${raw}": port out of range`);
    servers.push({ host: match[1]!.replace(/^\[|\]$/g, ''), port });
  }
  if (servers.length === 0) throw new Error('no server in the quorum');
  return servers;
}

export function serverName(server: ZooKeeperServerAddress): string {
  return server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

/** Opens a session on the first server of the quorum that gives one, trying each in turn. */
export async function openReadOnlySession(servers: ZooKeeperServerAddress[], options: ReadOnlyZooKeeperOptions): Promise<ReadOnlyZooKeeperSession> {
  const attempts: { server: string; error: string }[] = [];
  for (const server of servers) {
    try {
      return await ReadOnlyZooKeeperSession.open(server, options);
    } catch (error) {
      attempts.push({ server: serverName(server), error: (error as Error).message });
    }
  }
  throw new ZooKeeperUnavailable(attempts);
}

interface Pending {
  resolve: (reply: { err: number; body: JuteReader }) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class ReadOnlyZooKeeperSession {
  private nextXid = 1;
  private pending = new Map<number, Pending>();
  private buffered: Buffer = Buffer.alloc(0);
  private closedBecause?: string;

  private constructor(
    private readonly socket: Socket,
    readonly server: string,
    /** The session id ZooKeeper gave this client (0x...). */
    readonly sessionId: string,
    /** The session timeout the server granted for the timeout asked for. */
    readonly negotiatedTimeoutMs: number,
    private readonly options: ReadOnlyZooKeeperOptions,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.fail(`connection error: ${error.message}`));
    socket.on('close', () => this.fail('connection closed by the server'));
  }

  static async open(server: ZooKeeperServerAddress, options: ReadOnlyZooKeeperOptions): Promise<ReadOnlyZooKeeperSession> {
    const name = serverName(server);
    if (isIP(server.host) && isForbiddenAddress(server.host)) throw forbidden(server.host, server.host);
    const socket = connect({ host: server.host, port: server.port, lookup: guardedLookup });
    socket.setNoDelay(true);
    try {
      const reply = await new Promise<Buffer>((resolve, reject) => {
        let pending: Buffer = Buffer.alloc(0);
        const timer = setTimeout(() => reject(new Error(`no session within ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);
        const done = (error?: Error, packet?: Buffer) => {
          clearTimeout(timer);
          socket.removeAllListeners('data').removeAllListeners('error').removeAllListeners('close').removeAllListeners('connect');
          if (error) reject(error);
          else resolve(packet!);
        };
        socket.once('connect', () => {
          // ConnectRequest: protocol version, last zxid seen, session timeout, session id (0: new), password, read-only.
          socket.write(new JuteWriter().int(0).long(0n).int(options.sessionTimeoutMs).long(0n).buffer(Buffer.alloc(16)).bool(false).framed());
        });
        socket.on('data', (chunk: Buffer) => {
          try {
            const { packets } = splitPackets(Buffer.concat([pending, chunk]), MAX_PACKET_BYTES);
            if (packets.length > 0) return done(undefined, packets[0]);
            pending = Buffer.concat([pending, chunk]);
          } catch (error) {
            done(error as Error);
          }
        });
        socket.on('error', (error) => done(new Error(describeSocketError(error))));
        socket.on('close', () => done(new Error('the server closed the connection before giving a session (it may have no quorum)')));
      });
      const response = new JuteReader(reply);
      response.int(); // protocol version
      const timeout = response.int();
      const sessionId = response.long();
      if (timeout <= 0) throw new Error('the server refused the session');
      return new ReadOnlyZooKeeperSession(socket, name, hex(sessionId), timeout, options);
    } catch (error) {
      socket.destroy();
      throw error;
    }
  }

  /** A znode's data and stat; undefined when it does not exist. */
  async getData(path: string): Promise<ZnodeData | undefined> {
    const reply = await this.request(OP.getData, path);
    if (!reply) return undefined;
    return { data: Buffer.from(reply.buffer()), stat: reply.stat() };
  }

  /** A znode's children (names, not paths) and its stat; undefined when it does not exist. */
  async getChildren(path: string): Promise<ZnodeChildren | undefined> {
    const reply = await this.request(OP.getChildren2, path);
    if (!reply) return undefined;
    return { children: reply.strings().sort(), stat: reply.stat() };
  }

  async exists(path: string): Promise<ZnodeStat | undefined> {
    const reply = await this.request(OP.exists, path);
    return reply?.stat();
  }

  /** Ends the session at once (its ephemeral nodes, of which a reader has none, would go with it). Never throws. */
  async close(): Promise<void> {
    if (this.closedBecause === undefined) {
      try {
        await this.send(OP.closeSession, undefined);
      } catch {
        // the server lets an unclosed session expire by itself
      }
    }
    this.closedBecause ??= 'closed';
    this.socket.destroy();
  }

  private async request(type: ReadOp, path: string): Promise<JuteReader | undefined> {
    const { err, body } = await this.send(type, path);
    if (err === ERR.ok) return body;
    if (err === ERR.noNode) return undefined;
    throw new ZooKeeperRequestError(path, errorName(err), `${errorName(err)} (ZooKeeper error ${err})`);
  }

  private send(type: number, path: string | undefined): Promise<{ err: number; body: JuteReader }> {
    const what = path ?? 'closeSession';
    if (this.closedBecause !== undefined) return Promise.reject(new ZooKeeperRequestError(what, 'ConnectionLoss', this.closedBecause));
    const xid = this.nextXid++;
    const record = new JuteWriter().int(xid).int(type);
    if (path !== undefined) record.string(path).bool(false); // no watch: a reader leaves nothing behind
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(xid);
        reject(new ZooKeeperRequestError(what, 'Timeout', `no answer from ${this.server} within ${this.options.requestTimeoutMs} ms`));
      }, this.options.requestTimeoutMs);
      this.pending.set(xid, { resolve, reject, timer });
      this.socket.write(record.framed());
    });
  }

  private receive(chunk: Buffer): void {
    let packets: Buffer[];
    try {
      const split = splitPackets(Buffer.concat([this.buffered, chunk]), MAX_PACKET_BYTES);
      packets = split.packets;
      this.buffered = Buffer.from(split.rest);
    } catch (error) {
      this.fail((error as Error).message);
      this.socket.destroy();
      return;
    }
    for (const packet of packets) {
      const reader = new JuteReader(packet);
      const xid = reader.int();
      reader.long(); // zxid
      const err = reader.int();
      if (xid === PING_XID || xid === WATCH_XID) continue;
      const waiting = this.pending.get(xid);
      if (!waiting) continue;
      this.pending.delete(xid);
      clearTimeout(waiting.timer);
      waiting.resolve({ err, body: reader });
    }
  }

  private fail(reason: string): void {
    this.closedBecause ??= reason;
    for (const [xid, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.reject(new ZooKeeperRequestError(`request ${xid}`, 'ConnectionLoss', reason));
    }
    this.pending.clear();
  }
}

function describeSocketError(error: NodeJS.ErrnoException): string {
  if (error.code === 'ECONNREFUSED') return 'connection refused';
  if (error.code === 'ENOTFOUND') return 'host not found';
  return error.message;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** The quorum comes from the cluster's configuration: never a link-local or metadata address, by name or by what it resolves to. */
function guardedLookup(hostname: string, options: object, callback: LookupCallback): void {
  lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const refused = addresses.find((a) => isForbiddenAddress(a.address));
    if (refused) return callback(forbidden(hostname, refused.address), []);
    if ((options as { all?: boolean }).all) return callback(null, addresses);
    return callback(null, addresses[0]!.address, addresses[0]!.family);
  });
}

function forbidden(hostname: string, address: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${hostname} is or resolves to ${address}, a link-local or metadata address`), { code: 'EFORBIDDENADDRESS' });
}
