/**
 * Flink's leader information in ZooKeeper (leader/<component>/connection_info, Flink 1.15+ and 2.x): a Java
 * serialization stream written by ObjectOutputStream as `writeUTF(leaderAddress)` then `writeObject(leaderSessionId)`,
 * the session id a java.util.UUID (or null). On the wire:
 *   AC ED 00 05                               stream magic and version
 *   77 <len:u8> | 7A <len:u32>                block data holding the writeUTF: <utf length:u16> <modified UTF-8>
 *   73 72 <"java.util.UUID"> <serialVersionUID:8> <flags:1> <2 fields: J leastSigBits, J mostSigBits> 78 70
 *   <leastSigBits:8> <mostSigBits:8>          the UUID's fields, in the order the class descriptor lists them
 * or 70 (null) in place of the UUID. Only what the reader needs is parsed; anything else is a problem, not a guess.
 */
export interface LeaderInformation {
  address: string;
  /** The UUID as Java prints it, or undefined when Flink wrote null. */
  sessionId?: string;
}

const STREAM_MAGIC = 0xaced;
const TC_NULL = 0x70;
const TC_OBJECT = 0x73;
const TC_CLASSDESC = 0x72;
const TC_ENDBLOCKDATA = 0x78;
const TC_BLOCKDATA = 0x77;
const TC_BLOCKDATALONG = 0x7a;

export function decodeLeaderInformation(bytes: Buffer): LeaderInformation | { problem: string } {
  try {
    if (bytes.length === 0) return { problem: 'empty (no leader information written)' };
    let offset = 0;
    const need = (count: number) => {
      if (offset + count > bytes.length) throw new Error(`ends after ${bytes.length} bytes`);
    };
    const u8 = () => (need(1), bytes[offset++]!);
    const u16 = () => (need(2), (offset += 2), bytes.readUInt16BE(offset - 2));
    const u32 = () => (need(4), (offset += 4), bytes.readUInt32BE(offset - 4));
    const i64 = () => (need(8), (offset += 8), bytes.readBigInt64BE(offset - 8));
    const utf = () => {
      const length = u16();
      need(length);
      offset += length;
      return bytes.subarray(offset - length, offset).toString('utf8');
    };

    if (u16() !== STREAM_MAGIC || u16() !== 5) return { problem: 'not a Java serialization stream' };
    const block = u8();
    if (block !== TC_BLOCKDATA && block !== TC_BLOCKDATALONG) return { problem: `no address block (tag 0x${block.toString(16)})` };
    const blockLength = block === TC_BLOCKDATA ? u8() : u32();
    const blockEnd = offset + blockLength;
    const address = utf();
    if (offset !== blockEnd) return { problem: 'the address block holds more than the address' };

    const tag = u8();
    if (tag === TC_NULL) return { address };
    if (tag !== TC_OBJECT || u8() !== TC_CLASSDESC) return { problem: `the session id is not a serialized object (tag 0x${tag.toString(16)})` };
    const className = utf();
    if (className !== 'java.util.UUID') return { problem: `the session id is a ${className}, not a java.util.UUID` };
    i64(); // serialVersionUID
    u8(); // flags
    const fields: string[] = [];
    for (let count = u16(), i = 0; i < count; i++) {
      const type = String.fromCharCode(u8());
      const name = utf();
      if (type !== 'J') return { problem: `unexpected UUID field ${name} of type ${type}` };
      fields.push(name);
    }
    if (u8() !== TC_ENDBLOCKDATA || u8() !== TC_NULL) return { problem: 'unexpected UUID class descriptor' };
    const values: Record<string, bigint> = {};
    for (const name of fields) values[name] = i64();
    const most = values.mostSigBits;
    const least = values.leastSigBits;
    if (most === undefined || least === undefined) return { problem: 'the UUID lacks mostSigBits or leastSigBits' };
    return { address, sessionId: formatUuid(most, least) };
  } catch (error) {
    return { problem: `cannot be read: ${(error as Error).message}` };
  }
}

function formatUuid(most: bigint, least: bigint): string {
  const hex = BigInt.asUintN(64, most).toString(16).padStart(16, '0') + BigInt.asUintN(64, least).toString(16).padStart(16, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The host and port of a leader address: `pekko.tcp://flink@10.0.0.5:6123/user/rpc/dispatcher_1` (akka in older
 * versions), `http://10.0.0.5:8081`, IPv6 in brackets.
 */
export function leaderEndpoint(address: string): { host: string; port?: number } | undefined {
  const match = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?(\[[0-9a-fA-F:.]+\]|[^:/]+)(?::(\d+))?/i.exec(address);
  if (!match) return undefined;
  return { host: match[1]!.replace(/^\[|\]$/g, '').toLowerCase(), ...(match[2] ? { port: Number(match[2]) } : {}) };
}
