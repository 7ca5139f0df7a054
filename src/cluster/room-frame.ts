import { PACKET_HEADER_SIZE, readPacketSize } from '../packet/packet-header.js';
import { MIN_READER_VERSION, PROTOCOL_VERSION, readableVersion } from './cluster-protocol.js';
import type { DropReason } from './dropped-messages.js';
import type { RoomBusMessage } from '../room/room-bus.js';

/**
 * One room message between processes, as bytes: the body of a Redis PUBLISH on a room channel, and
 * the `frame` of a `publish`/`room` IPC message. Version 2 (docs/cluster.md, "Room frames"):
 *
 * ```text
 * offset 0   u8[2]   magic "gw" (0x67 0x77)
 * offset 2   u8      version     protocol version of the writer
 * offset 3   u8      minReader   oldest protocol version that can read this frame
 * offset 4   u8      headerSize  bytes before the payload (24, or 32 with a source); a reader skips header bytes it does not know
 * offset 5   u8      kind        0 bytes, 1 enter, 2 leave, 3 hello, 4 gone
 * offset 6   u16 LE  flags       bit 0 SOURCE: the source field is set; a reader ignores bits it does not know
 * offset 8   f64 LE  sender      the publishing server's id on Redis (its id block), 0 over IPC
 * offset 16  f64 LE  origin      the process whose broadcast or members this is (its bus origin)
 * offset 24  f64 LE  source      (headerSize >= 32, read only with flag SOURCE) the session whose input made this broadcast
 * headerSize payload bytes: whole packets; enter/leave: member ids, f64 LE each; hello/gone: none
 * ```
 *
 * The source is a header extension: a version-1 reader skips it (it reads the payload from
 * `headerSize`), and a frame without it (a version-1 writer, a broadcast no session's input made) is
 * read as having no source. Session ids are unique across the processes of a deployment (id blocks),
 * so the receiving process can charge the bytes to that sender, as for a local one (room/relay-flow.ts).
 */

const MAGIC_0 = 0x67;
const MAGIC_1 = 0x77;
/** Header bytes of version 1, and of every frame without a source. */
export const FRAME_HEADER_SIZE = 24;
/** Header bytes of a frame that carries its source (version 2 on). */
export const FRAME_HEADER_SIZE_WITH_SOURCE = 32;
/** Flag bit: the header's `source` field (offset 24) is set. */
export const FLAG_SOURCE = 0x0001;
const KINDS = ['bytes', 'enter', 'leave', 'hello', 'gone'] as const;
const EMPTY = new Uint8Array(0);

/** A frame read back: the message, and who published it (0 over IPC). */
export interface RoomFrame {
  readonly sender: number;
  readonly message: RoomBusMessage;
}

/** True when `bytes` are one or more whole packets, back to back (each header's size at least 4). */
export function isWholePackets(bytes: Uint8Array): boolean {
  const length = bytes.length;
  let offset = 0;
  while (offset + PACKET_HEADER_SIZE <= length) {
    const size = readPacketSize(bytes, offset);
    if (size < PACKET_HEADER_SIZE) return false;
    offset += size;
  }
  return length > 0 && offset === length;
}

/** Encodes `message` as a frame from `sender` (a server id on Redis, 0 over IPC). */
export function encodeRoomFrame(message: RoomBusMessage, sender: number): Buffer {
  const payloadLength =
    message.kind === 'bytes' ? message.bytes.length : message.kind === 'enter' || message.kind === 'leave' ? message.members.length * 8 : 0;
  const source = message.kind === 'bytes' ? (message.source ?? 0) : 0;
  const headerSize = source > 0 ? FRAME_HEADER_SIZE_WITH_SOURCE : FRAME_HEADER_SIZE;
  const out = Buffer.allocUnsafe(headerSize + payloadLength);
  out[0] = MAGIC_0;
  out[1] = MAGIC_1;
  out[2] = PROTOCOL_VERSION;
  out[3] = MIN_READER_VERSION;
  out[4] = headerSize;
  out[5] = KINDS.indexOf(message.kind);
  out.writeUInt16LE(source > 0 ? FLAG_SOURCE : 0, 6);
  out.writeDoubleLE(sender, 8);
  out.writeDoubleLE(message.origin, 16);
  if (source > 0) out.writeDoubleLE(source, FRAME_HEADER_SIZE);
  if (message.kind === 'bytes') out.set(message.bytes, headerSize);
  else if (message.kind === 'enter' || message.kind === 'leave') {
    let offset = headerSize;
    for (const id of message.members) offset = out.writeDoubleLE(id, offset);
  }
  return out;
}

/**
 * Reads a frame, checking every field: never throws, whatever `data` holds. A `bytes` payload is
 * checked to be whole packets, so nothing else can reach a player. Returns why it was refused
 * otherwise.
 */
export function decodeRoomFrame(data: Uint8Array): RoomFrame | DropReason {
  if (data.length < 6 || data[0] !== MAGIC_0 || data[1] !== MAGIC_1) return 'malformed';
  const version = data[2] as number;
  if (!readableVersion(version, data[3])) return 'version';
  const headerSize = data[4] as number;
  if (headerSize < FRAME_HEADER_SIZE || headerSize > data.length) return 'malformed';
  const kind = KINDS[data[5] as number];
  if (kind === undefined) return version > PROTOCOL_VERSION ? 'unknown' : 'malformed';
  const view = Buffer.from(data.buffer, data.byteOffset, data.length);
  const sender = view.readDoubleLE(8);
  const origin = view.readDoubleLE(16);
  if (!isId(sender, 0) || !isId(origin, 1)) return 'malformed';
  let source = 0;
  if ((view.readUInt16LE(6) & FLAG_SOURCE) !== 0) {
    if (headerSize < FRAME_HEADER_SIZE_WITH_SOURCE) return 'malformed';
    source = view.readDoubleLE(FRAME_HEADER_SIZE);
    if (!isId(source, 1)) return 'malformed';
  }
  const payload = data.length === headerSize ? EMPTY : data.subarray(headerSize);
  switch (kind) {
    case 'bytes':
      if (!isWholePackets(payload)) return 'not_packets';
      return { sender, message: source > 0 ? { kind, origin, bytes: payload, source } : { kind, origin, bytes: payload } };
    case 'enter':
    case 'leave': {
      if (payload.length === 0 || payload.length % 8 !== 0) return 'malformed';
      const members: number[] = [];
      for (let offset = headerSize; offset < data.length; offset += 8) {
        const id = view.readDoubleLE(offset);
        if (!isId(id, 1)) return 'malformed';
        members.push(id);
      }
      return { sender, message: { kind, origin, members } };
    }
    case 'hello':
    case 'gone':
      return { sender, message: { kind, origin } };
  }
}

function isId(value: number, min: number): boolean {
  return Number.isSafeInteger(value) && value >= min;
}
