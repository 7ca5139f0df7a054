/**
 * The resume packets of docs/protocol.md ("Resume"): ids, body layouts, encoders and decoders. Pure
 * and browser-safe (Uint8Array and DataView only), so the server, the Node client and the browser
 * GameClient share one definition. Packets are `[size u16 LE][id u16 LE][body]`, the layout of
 * packet/packet-header.ts, written here too because core sits below the packet layer.
 */

/** First id reserved for the transport (65520); game messages use 1..65519. */
export const FIRST_RESERVED_ID = 0xfff0;
/** Client → server, first packet of a first connection: "make this session resumable". */
export const RESUME_HELLO_ID = 0xfff0;
/** Server → client, answer to HELLO: the token, the grace period and the replay cap. */
export const RESUME_WELCOME_ID = 0xfff1;
/** Client → server, only packet of a reconnection until the answer: token and packets received. */
export const RESUME_REQUEST_ID = 0xfff2;
/** Server → client: resumed; a new token and the client packets the server has. */
export const RESUME_RESUMED_ID = 0xfff3;
/** Server → client: the resume is refused (reason, retry delay, text); the connection closes. */
export const RESUME_REFUSED_ID = 0xfff4;
/** Both ways: cumulative acknowledgement, packets received on the session. */
export const RESUME_ACK_ID = 0xfff5;
/** Both ways: the session ends for good (from the server: its cause). */
export const RESUME_BYE_ID = 0xfff6;
/**
 * Server → client: the session moved to another process of this server (docs/protocol.md, "MOVE"):
 * the body is the session's new token; the client drops this connection and resumes at once with it.
 */
export const RESUME_MOVE_ID = 0xfff7;
/** Last id used by resume; 65528..65533 are unused and reserved. */
export const LAST_RESUME_ID = 0xfff7;
/** Heartbeat ping (65534): the last two reserved ids are the heartbeats. */
export const FIRST_HEARTBEAT_ID = 0xfffe;

/** Version a HELLO carries. */
export const RESUME_VERSION = 1;
/** Bytes of a token: `u16 route`, `u16 server`, `u32 key`, 16 random bytes. */
export const TOKEN_BYTES = 24;
/** Bytes of the random part of a token (128 bits). */
export const TOKEN_SECRET_BYTES = 16;
/** Bytes of a packet header. */
export const HEADER_BYTES = 4;
/** A client acknowledges at once after this many unacknowledged packets (else within the ack interval). */
export const ACK_EVERY_PACKETS = 32;
/** Longest BYE text, bytes (as a WebSocket close reason). */
export const MAX_BYE_BYTES = 123;

/**
 * The query parameter a client adds to its WebSocket upgrade URL when it reconnects to resume:
 * `?route=N`, N the token's route (its first two bytes, u16 LE). A server of several worker processes
 * reads it before the upgrade, while the connection can still move to the worker that holds the
 * session (docs/protocol.md, "Workers and machines").
 */
export const ROUTE_QUERY = 'route';

/** The route of `token` (its first two bytes, u16 LE): the server process that holds the session. */
export function tokenRoute(token: Uint8Array): number {
  return (token[0] ?? 0) | ((token[1] ?? 0) << 8);
}

/** The server of `token` (bytes 2..3, u16 LE): which server (machine) issued it. */
export function tokenServer(token: Uint8Array): number {
  return (token[2] ?? 0) | ((token[3] ?? 0) << 8);
}

/** `url` with the route hint of `token` added to its query (`?route=N` or `&route=N`), for a reconnect over WebSocket. */
export function withRouteHint(url: string, token: Uint8Array): string {
  const hash = url.indexOf('#');
  const base = hash < 0 ? url : url.slice(0, hash);
  return `${base}${base.includes('?') ? '&' : '?'}${ROUTE_QUERY}=${tokenRoute(token)}${hash < 0 ? '' : url.slice(hash)}`;
}

/** The route hint of an upgrade request's URL (`/ws?route=N`), or undefined without a valid one (0..65535). */
export function routeHintOf(url: string): number | undefined {
  const query = url.indexOf('?');
  if (query < 0) return undefined;
  for (const pair of url.slice(query + 1).split('&')) {
    if (!pair.startsWith(`${ROUTE_QUERY}=`)) continue;
    const text = pair.slice(ROUTE_QUERY.length + 1);
    if (!/^\d{1,5}$/.test(text)) return undefined;
    const route = Number(text);
    return route <= 0xffff ? route : undefined;
  }
  return undefined;
}

/** Why a server refused a resume (docs/protocol.md, "After a drop"). */
export type ResumeRefusal = 'UNKNOWN_SESSION' | 'BAD_POSITION' | 'RETRY_LATER' | 'NOT_HERE' | 'UNSUPPORTED';

/** The `reason` byte of REFUSED, by name. */
export const RefusalCode: Readonly<Record<ResumeRefusal, number>> = {
  UNKNOWN_SESSION: 1,
  BAD_POSITION: 2,
  RETRY_LATER: 3,
  NOT_HERE: 4,
  UNSUPPORTED: 5,
};

/** The name of refusal `code` (`UNKNOWN_SESSION` for a code this version does not know). */
export function refusalName(code: number): ResumeRefusal {
  for (const [name, value] of Object.entries(RefusalCode)) if (value === code) return name as ResumeRefusal;
  return 'UNKNOWN_SESSION';
}

/** True for the ids resume uses (65520..65527) and the unused reserved ones up to 65533. */
export function isResumeId(id: number): boolean {
  return id >= FIRST_RESERVED_ID && id < FIRST_HEARTBEAT_ID;
}

/** Reads the size field of the header at `offset`. */
export function packetSizeAt(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] as number) | ((bytes[offset + 1] as number) << 8);
}

/** Reads the id field of the header at `offset`. */
export function packetIdAt(bytes: Uint8Array, offset: number): number {
  return (bytes[offset + 2] as number) | ((bytes[offset + 3] as number) << 8);
}

function packet(id: number, bodySize: number): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(HEADER_BYTES + bodySize);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, bytes.length, true);
  view.setUint16(2, id, true);
  return { bytes, view };
}

/** Writes `value` (a whole number below 2^53) as u64 LE. */
function setU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value % 0x1_0000_0000, true);
  view.setUint32(offset + 4, Math.floor(value / 0x1_0000_0000), true);
}

/** Reads a u32 LE at `offset` (the caller checked the length). */
function u32At(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset] as number) | ((bytes[offset + 1] as number) << 8) | ((bytes[offset + 2] as number) << 16)) +
    (bytes[offset + 3] as number) * 0x100_0000
  );
}

/**
 * Reads a u64 LE; undefined when it is 2^53 or more (not a count either side can have). Byte by
 * byte, not through a DataView: it runs for every ACK, and a DataView is an object per call.
 */
export function readU64(bytes: Uint8Array, offset: number): number | undefined {
  const high = u32At(bytes, offset + 4);
  if (high >= 0x20_0000) return undefined;
  return high * 0x1_0000_0000 + u32At(bytes, offset);
}

/** HELLO v1. */
export function encodeHello(): Uint8Array {
  const { bytes } = packet(RESUME_HELLO_ID, 1);
  bytes[HEADER_BYTES] = RESUME_VERSION;
  return bytes;
}

/** WELCOME: the token, the grace period (ms) and the replay cap (bytes). */
export function encodeWelcome(token: Uint8Array, graceMs: number, maxReplayBytes: number): Uint8Array {
  const { bytes, view } = packet(RESUME_WELCOME_ID, TOKEN_BYTES + 8);
  bytes.set(token, HEADER_BYTES);
  view.setUint32(HEADER_BYTES + TOKEN_BYTES, graceMs, true);
  view.setUint32(HEADER_BYTES + TOKEN_BYTES + 4, maxReplayBytes, true);
  return bytes;
}

/** RESUME (client) or RESUMED (server): a token and a count of packets received. */
export function encodeTokenAndCount(id: typeof RESUME_REQUEST_ID | typeof RESUME_RESUMED_ID, token: Uint8Array, received: number): Uint8Array {
  const { bytes, view } = packet(id, TOKEN_BYTES + 8);
  bytes.set(token, HEADER_BYTES);
  setU64(view, HEADER_BYTES + TOKEN_BYTES, received);
  return bytes;
}

/** ACK: packets received on the session. */
export function encodeAck(received: number): Uint8Array {
  // An ACK goes out every 32 packets each way: cut from a shared slab (no ArrayBuffer and no
  // DataView per ACK). A slice is never written again once handed out.
  if (ackSlabUsed + ACK_BYTES > ACK_SLAB_BYTES) {
    ackSlab = new Uint8Array(ACK_SLAB_BYTES);
    ackSlabUsed = 0;
  }
  const at = ackSlabUsed;
  ackSlabUsed += ACK_BYTES;
  const slab = ackSlab;
  writeAck(slab, at, received);
  return slab.subarray(at, at + ACK_BYTES);
}

/** Bytes of a whole ACK packet: header and u64. */
export const ACK_BYTES = HEADER_BYTES + 8;
const ACK_SLAB_BYTES = ACK_BYTES * 512;
let ackSlab = new Uint8Array(ACK_SLAB_BYTES);
let ackSlabUsed = 0;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `text` as UTF-8, cut to at most `max` bytes on a character boundary. */
function utf8Within(text: string, max: number): Uint8Array {
  let bytes = encoder.encode(text);
  if (bytes.length <= max) return bytes;
  let cut = text;
  while (bytes.length > max) {
    cut = cut.slice(0, -1);
    bytes = encoder.encode(cut);
  }
  return bytes;
}

/** REFUSED: the reason, a retry delay (ms; 0 = do not retry) and a text for humans. */
export function encodeRefused(reason: ResumeRefusal, retryAfterMs: number, text: string): Uint8Array {
  const textBytes = utf8Within(text, MAX_BYE_BYTES);
  const { bytes, view } = packet(RESUME_REFUSED_ID, 5 + textBytes.length);
  bytes[HEADER_BYTES] = RefusalCode[reason];
  view.setUint32(HEADER_BYTES + 1, retryAfterMs, true);
  bytes.set(textBytes, HEADER_BYTES + 5);
  return bytes;
}

/** BYE with a text (from a server: `CODE` or `CODE: reason`), at most 123 bytes of UTF-8. */
export function encodeBye(text: string): Uint8Array {
  const textBytes = utf8Within(text, MAX_BYE_BYTES);
  const { bytes } = packet(RESUME_BYE_ID, textBytes.length);
  bytes.set(textBytes, HEADER_BYTES);
  return bytes;
}

/** MOVE: the session's token on the process it moved to. */
export function encodeMove(token: Uint8Array): Uint8Array {
  const { bytes } = packet(RESUME_MOVE_ID, TOKEN_BYTES);
  bytes.set(token, HEADER_BYTES);
  return bytes;
}

/** A MOVE body's token (a copy), or undefined when the body is not 24 bytes. */
export function decodeMove(body: Uint8Array): Uint8Array | undefined {
  return body.length === TOKEN_BYTES ? body.slice(0, TOKEN_BYTES) : undefined;
}

/** A WELCOME body, or undefined when it has the wrong size. */
export function decodeWelcome(body: Uint8Array): { token: Uint8Array; graceMs: number; maxReplayBytes: number } | undefined {
  if (body.length !== TOKEN_BYTES + 8) return undefined;
  const view = new DataView(body.buffer, body.byteOffset, body.length);
  return { token: body.slice(0, TOKEN_BYTES), graceMs: view.getUint32(TOKEN_BYTES, true), maxReplayBytes: view.getUint32(TOKEN_BYTES + 4, true) };
}

/** A RESUME or RESUMED body, or undefined when it has the wrong size or an impossible count. */
export function decodeTokenAndCount(body: Uint8Array): { token: Uint8Array; received: number } | undefined {
  if (body.length !== TOKEN_BYTES + 8) return undefined;
  const received = readU64(body, TOKEN_BYTES);
  return received === undefined ? undefined : { token: body.slice(0, TOKEN_BYTES), received };
}

/** An ACK body's count, or undefined when the body is malformed. */
export function decodeAck(body: Uint8Array): number | undefined {
  return body.length === 8 ? readU64(body, 0) : undefined;
}

/** Writes a whole ACK packet (`ACK_BYTES`) for `received` at `offset` of `target`, byte by byte. */
export function writeAck(target: Uint8Array, offset: number, received: number): void {
  target[offset] = ACK_BYTES;
  target[offset + 1] = 0;
  target[offset + 2] = RESUME_ACK_ID & 0xff;
  target[offset + 3] = RESUME_ACK_ID >>> 8;
  const low = received % 0x1_0000_0000;
  const high = Math.floor(received / 0x1_0000_0000);
  for (let i = 0; i < 4; i++) {
    target[offset + 4 + i] = (low >>> (8 * i)) & 0xff;
    target[offset + 8 + i] = (high >>> (8 * i)) & 0xff;
  }
}

/** A REFUSED body, or undefined when it is too short. */
export function decodeRefused(body: Uint8Array): { reason: ResumeRefusal; retryAfterMs: number; text: string } | undefined {
  if (body.length < 5) return undefined;
  const view = new DataView(body.buffer, body.byteOffset, body.length);
  return { reason: refusalName(body[0] as number), retryAfterMs: view.getUint32(1, true), text: decoder.decode(body.subarray(5)) };
}

/** A BYE body's text. */
export function decodeBye(body: Uint8Array): string {
  return decoder.decode(body);
}
