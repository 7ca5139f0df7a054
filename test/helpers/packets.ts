/**
 * Builds packets in the wire format ([size u16 LE][id u16 LE][body]) independently of src/, and parses
 * a byte stream back into packets, so tests do not check the code under test with itself.
 */

/** A whole packet: header (size = 4 + body length) and body. */
export function packet(id: number, body: Uint8Array | string = new Uint8Array(0)): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const out = Buffer.alloc(4 + bytes.length);
  out.writeUInt16LE(4 + bytes.length, 0);
  out.writeUInt16LE(id, 2);
  out.set(bytes, 4);
  return out;
}

/** Just a header with any size field (also invalid ones), and no body. */
export function header(size: number, id = 0): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt16LE(size, 0);
  out.writeUInt16LE(id, 2);
  return out;
}

/** Packet number `seq` of a numbered stream: id = seq mod 65536, body = seq (u32 LE) then seq % 13 pattern bytes. */
export function seqPacket(seq: number): Buffer {
  const extra = seq % 13;
  const body = Buffer.alloc(4 + extra);
  body.writeUInt32LE(seq, 0);
  for (let i = 0; i < extra; i++) body[4 + i] = (seq + i * 31) & 0xff;
  return packet(seq % 0xfff0, body); // ids 65520..65535 are reserved (heartbeats)
}

/** One packet found in a stream. */
export interface ParsedPacket {
  readonly size: number;
  readonly id: number;
  /** The whole packet, header included (a copy). */
  readonly bytes: Buffer;
}

/** Parses a byte stream, fed in arbitrary chunks, into whole packets. */
export class PacketReader {
  private pending: Buffer = Buffer.alloc(0);

  /** Appends `chunk` and returns the packets completed by it. Throws on a size field below 4. */
  push(chunk: Buffer): ParsedPacket[] {
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: ParsedPacket[] = [];
    let offset = 0;
    while (data.length - offset >= 4) {
      const size = data.readUInt16LE(offset);
      if (size < 4) throw new Error(`bad packet size ${size} at stream offset ${offset}`);
      if (data.length - offset < size) break;
      out.push({ size, id: data.readUInt16LE(offset + 2), bytes: Buffer.from(data.subarray(offset, offset + size)) });
      offset += size;
    }
    this.pending = Buffer.from(data.subarray(offset));
    return out;
  }

  /** Bytes held back as an incomplete packet. */
  get pendingBytes(): number {
    return this.pending.length;
  }
}

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random integer in [min, max] from `random`. */
export function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}
