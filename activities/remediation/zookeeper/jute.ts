/**
 * The few records of ZooKeeper's wire format (jute: big-endian ints and longs, length-prefixed strings, buffers and
 * vectors) that a read-only client needs. Only reads exist here: there is no encoder for create, setData, delete or
 * any other write, so nothing built on this module can change ZooKeeper.
 */

/** Request types of the ZooKeeper protocol (ZooDefs.OpCode) this client sends. */
export const OP = { exists: 3, getData: 4, getChildren2: 12, ping: 11, closeSession: -11 } as const;
export type ReadOp = typeof OP.exists | typeof OP.getData | typeof OP.getChildren2;

/** Error codes (KeeperException.Code) a read can get back. */
export const ERR = { ok: 0, noNode: -101, noAuth: -102, sessionExpired: -112, connectionLoss: -4, marshalling: -5 } as const;

const ERROR_NAMES: Record<number, string> = {
  [-1]: 'SystemError',
  [-2]: 'RuntimeInconsistency',
  [-3]: 'DataInconsistency',
  [-4]: 'ConnectionLoss',
  [-5]: 'MarshallingError',
  [-6]: 'Unimplemented',
  [-7]: 'OperationTimeout',
  [-8]: 'BadArguments',
  [-13]: 'NewConfigNoQuorum',
  [-14]: 'ReconfigInProgress',
  [-100]: 'APIError',
  [-101]: 'NoNode',
  [-102]: 'NoAuth',
  [-103]: 'BadVersion',
  [-108]: 'NoChildrenForEphemerals',
  [-110]: 'NodeExists',
  [-111]: 'NotEmpty',
  [-112]: 'SessionExpired',
  [-113]: 'InvalidCallback',
  [-114]: 'InvalidACL',
  [-115]: 'AuthFailed',
  [-118]: 'SessionMoved',
  [-119]: 'NotReadOnly',
  [-125]: 'QuotaExceeded',
  [-127]: 'Throttled',
};

export function errorName(code: number): string {
  return ERROR_NAMES[code] ?? `error ${code}`;
}

/** A znode's metadata (org.apache.zookeeper.data.Stat); session ids and zxids as hex, times in ms. */
export interface ZnodeStat {
  czxid: string;
  mzxid: string;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  /** The session that owns an ephemeral node, `0x0` for a persistent one. */
  ephemeralOwner: string;
  dataLength: number;
  numChildren: number;
  pzxid: string;
}

export class JuteWriter {
  private readonly parts: Buffer[] = [];

  int(value: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(value);
    this.parts.push(b);
    return this;
  }

  long(value: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(value);
    this.parts.push(b);
    return this;
  }

  bool(value: boolean): this {
    this.parts.push(Buffer.from([value ? 1 : 0]));
    return this;
  }

  string(value: string): this {
    const bytes = Buffer.from(value, 'utf8');
    return this.int(bytes.length).raw(bytes);
  }

  buffer(value: Buffer): this {
    return this.int(value.length).raw(value);
  }

  raw(bytes: Buffer): this {
    this.parts.push(bytes);
    return this;
  }

  /** The record with its 4-byte length prefix, as it goes on the wire. */
  framed(): Buffer {
    const body = Buffer.concat(this.parts);
    const length = Buffer.alloc(4);
    length.writeInt32BE(body.length);
    return Buffer.concat([length, body]);
  }
}

export class JuteReader {
  private offset = 0;

  constructor(private readonly bytes: Buffer) {}

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  int(): number {
    this.need(4);
    const value = this.bytes.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  long(): bigint {
    this.need(8);
    const value = this.bytes.readBigInt64BE(this.offset);
    this.offset += 8;
    return value;
  }

  bool(): boolean {
    this.need(1);
    return this.bytes[this.offset++] !== 0;
  }

  /** A length-prefixed byte buffer; -1 means null, read as empty. */
  buffer(): Buffer {
    const length = this.int();
    if (length < 0) return Buffer.alloc(0);
    this.need(length);
    const value = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  string(): string {
    return this.buffer().toString('utf8');
  }

  strings(): string[] {
    const count = this.int();
    const values: string[] = [];
    for (let i = 0; i < count; i++) values.push(this.string());
    return values;
  }

  stat(): ZnodeStat {
    return {
      czxid: hex(this.long()),
      mzxid: hex(this.long()),
      ctime: Number(this.long()),
      mtime: Number(this.long()),
      version: this.int(),
      cversion: this.int(),
      aversion: this.int(),
      ephemeralOwner: hex(this.long()),
      dataLength: this.int(),
      numChildren: this.int(),
      pzxid: hex(this.long()),
    };
  }

  private need(count: number): void {
    if (this.offset + count > this.bytes.length) throw new RangeError(`ZooKeeper record ends after ${this.bytes.length} bytes, ${count} more expected at ${this.offset}`);
  }
}

/** Session ids and zxids the way ZooKeeper's own tools print them (0x...). */
export function hex(value: bigint): string {
  return `0x${BigInt.asUintN(64, value).toString(16)}`;
}

/**
 * Splits a byte stream into length-prefixed packets: TCP delivers them cut and glued anyhow. Returns the complete
 * packets and what is left over for the next chunk.
 */
export function splitPackets(pending: Buffer, maxPacketBytes: number): { packets: Buffer[]; rest: Buffer } {
  const packets: Buffer[] = [];
  let offset = 0;
  while (pending.length - offset >= 4) {
    const length = pending.readInt32BE(offset);
    if (length < 0 || length > maxPacketBytes) throw new RangeError(`ZooKeeper packet of ${length} bytes (at most ${maxPacketBytes})`);
    if (pending.length - offset - 4 < length) break;
    packets.push(pending.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return { packets, rest: pending.subarray(offset) };
}
