/**
 * The packet layout on the wire, as in the C++ `PacketHeader { uint16 size; uint16 id; }`:
 *
 * ```text
 * offset 0  u16 LE  size  whole packet in bytes, header included (4..65535)
 * offset 2  u16 LE  id    packet id (0..65535)
 * offset 4  body    size - 4 bytes
 * ```
 */

/** Bytes of the packet header. */
export const PACKET_HEADER_SIZE = 4;

/** Largest packet the format can express, header included: 65535 bytes. */
export const MAX_PACKET_SIZE = 0xffff;

/** Largest packet id: 65535. */
export const MAX_PACKET_ID = 0xffff;

/** Largest id a message may have: 65519. Ids 65520..65535 are reserved for gamewire's own packets. */
export const MAX_MESSAGE_ID = 0xffef;

/** Heartbeat ping: the body (8 bytes, opaque to the receiver) must come back in a pong. */
export const HEARTBEAT_PING_ID = 0xfffe;

/** Heartbeat pong: carries the ping's body back unchanged. */
export const HEARTBEAT_PONG_ID = 0xffff;

/** Writes a header at `offset`: `size` is the whole packet including these 4 bytes. */
export function writePacketHeader(target: Uint8Array, offset: number, size: number, id: number): void {
  target[offset] = size & 0xff;
  target[offset + 1] = size >>> 8;
  target[offset + 2] = id & 0xff;
  target[offset + 3] = id >>> 8;
}

/** Reads the size field of the header at `offset` (the caller ensures 4 bytes are there). */
export function readPacketSize(source: Uint8Array, offset: number): number {
  return (source[offset] as number) | ((source[offset + 1] as number) << 8);
}

/** Reads the id field of the header at `offset` (the caller ensures 4 bytes are there). */
export function readPacketId(source: Uint8Array, offset: number): number {
  return (source[offset + 2] as number) | ((source[offset + 3] as number) << 8);
}
