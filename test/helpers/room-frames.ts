/**
 * Room frames (src/cluster/room-frame.ts) written by hand, as an attacker or another release would:
 * headers with any field, and malformed frames of many shapes with the reason each must be dropped for.
 */
import { PROTOCOL_VERSION } from '../../src/cluster/cluster-protocol.js';
import { FRAME_HEADER_SIZE } from '../../src/cluster/room-frame.js';
import { packet } from './packets.js';

const chat = Buffer.concat([packet(1003, 'hello'), packet(1003, 'world')]);

/** A frame header written by hand: the fields an attacker (or an older/newer release) controls. */
export function frameHeader(fields: { version?: number; minReader?: number; headerSize?: number; kind?: number; sender?: number; origin?: number } = {}): Buffer {
  const size = fields.headerSize ?? FRAME_HEADER_SIZE;
  const out = Buffer.alloc(Math.max(size, FRAME_HEADER_SIZE));
  out.write('gw', 0, 'latin1');
  out[2] = fields.version ?? PROTOCOL_VERSION;
  out[3] = fields.minReader ?? 1;
  out[4] = size;
  out[5] = fields.kind ?? 0;
  out.writeDoubleLE(fields.sender ?? 5, 8);
  out.writeDoubleLE(fields.origin ?? 7, 16);
  return out;
}

/** Doubles, little-endian, back to back (member ids of an enter or leave). */
export function f64s(...values: number[]): Buffer {
  const out = Buffer.alloc(values.length * 8);
  values.forEach((value, i) => out.writeDoubleLE(value, i * 8));
  return out;
}

/** Malformed frames of many shapes, with the reason each must be refused for. */
export const MALFORMED_FRAMES: ReadonlyArray<readonly [string, Buffer, string]> = [
  ['empty', Buffer.alloc(0), 'malformed'],
  ['one byte', Buffer.from([1]), 'malformed'],
  ['the old format: kind 1 + 16 zero bytes + notjson', Buffer.concat([Buffer.from([1]), Buffer.alloc(16), Buffer.from('notjson')]), 'malformed'],
  ['the old format: kind 1 + a JSON object, not an array', Buffer.concat([Buffer.from([1]), Buffer.alloc(16), Buffer.from('{"a":1}')]), 'malformed'],
  ['the old format: kind 0 + raw bytes for every player', Buffer.concat([Buffer.from([0]), Buffer.alloc(16), Buffer.from('raw bytes to every player')]), 'malformed'],
  ['JSON text', Buffer.from('[1,2,3]'), 'malformed'],
  ['the magic alone', Buffer.from('gw'), 'malformed'],
  ['a header cut at 23 bytes', frameHeader().subarray(0, 23), 'malformed'],
  ['a header size below 24', frameHeader({ headerSize: 8 }).subarray(0, 24).fill(8, 4, 5), 'malformed'],
  ['a header size past the end', Buffer.from(frameHeader()).fill(200, 4, 5), 'malformed'],
  ['kind 7 from this version', frameHeader({ kind: 7 }), 'malformed'],
  ['sender NaN', Buffer.from(frameHeader()).fill(0xff, 8, 16), 'malformed'],
  ['origin NaN', Buffer.from(frameHeader()).fill(0xff, 16, 24), 'malformed'],
  ['origin 0', frameHeader({ origin: 0 }), 'malformed'],
  ['origin -1', frameHeader({ origin: -1 }), 'malformed'],
  ['origin 1.5', frameHeader({ origin: 1.5 }), 'malformed'],
  ['origin Infinity', frameHeader({ origin: Infinity }), 'malformed'],
  ['origin 2^53', frameHeader({ origin: 2 ** 53 }), 'malformed'],
  ['sender -5', frameHeader({ sender: -5 }), 'malformed'],
  ['enter with no members', frameHeader({ kind: 1 }), 'malformed'],
  ['enter with 7 payload bytes', Buffer.concat([frameHeader({ kind: 1 }), Buffer.alloc(7)]), 'malformed'],
  ['enter with member NaN', Buffer.concat([frameHeader({ kind: 1 }), Buffer.alloc(8, 0xff)]), 'malformed'],
  ['enter with member 0', Buffer.concat([frameHeader({ kind: 1 }), f64s(0)]), 'malformed'],
  ['leave with member -3', Buffer.concat([frameHeader({ kind: 2 }), f64s(-3)]), 'malformed'],
  ['leave with member 1e300', Buffer.concat([frameHeader({ kind: 2 }), f64s(1, 1e300)]), 'malformed'],
  ['bytes with no payload', frameHeader({ kind: 0 }), 'not_packets'],
  ['bytes that are not packets', Buffer.concat([frameHeader(), Buffer.from('notjson')]), 'not_packets'],
  ['bytes with a packet size below 4', Buffer.concat([frameHeader(), Buffer.from([2, 0, 1, 0])]), 'not_packets'],
  ['bytes with a packet size 0', Buffer.concat([frameHeader(), Buffer.alloc(8)]), 'not_packets'],
  ['bytes cut inside a packet', Buffer.concat([frameHeader(), chat.subarray(0, chat.length - 1)]), 'not_packets'],
  ['bytes with a packet and a tail', Buffer.concat([frameHeader(), chat, Buffer.from([9, 0])]), 'not_packets'],
  ['a future version only it can read', frameHeader({ version: 9, minReader: 9 }), 'version'],
  ['version 0', frameHeader({ version: 0, minReader: 0 }), 'version'],
  ['minReader above version', frameHeader({ version: 1, minReader: 2 }), 'version'],
  ['a kind from a newer, readable version', frameHeader({ version: PROTOCOL_VERSION + 1, minReader: 1, kind: 9 }), 'unknown'],
];

