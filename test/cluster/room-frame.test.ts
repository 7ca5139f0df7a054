/**
 * Room frames, the wire format of room messages between processes, decoded from the attacker's side:
 * every malformed shape is refused with a reason and never throws, every cut of a valid frame is
 * refused, random bytes never pass as anything that could reach a player, and the version rule lets an
 * adjacent newer release through while a future incompatible one is refused.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { PROTOCOL_VERSION } from '../../src/cluster/cluster-protocol.js';
import type { RoomBusMessage } from '../../src/room/room-bus.js';
import {
  decodeRoomFrame,
  encodeRoomFrame,
  FLAG_SOURCE,
  FRAME_HEADER_SIZE,
  FRAME_HEADER_SIZE_WITH_SOURCE,
  isWholePackets,
  type RoomFrame,
} from '../../src/cluster/room-frame.js';
import { packet } from '../helpers/packets.js';
import { frameHeader as header, MALFORMED_FRAMES as MALFORMED } from '../helpers/room-frames.js';

const chat = Buffer.concat([packet(1003, 'hello'), packet(1003, 'world')]);
const valid: readonly RoomBusMessage[] = [
  { kind: 'bytes', origin: 7, bytes: chat },
  { kind: 'bytes', origin: 7, bytes: chat, source: 2 ** 40 + 3 },
  { kind: 'enter', origin: 7, members: [1, 2 ** 32 + 5] },
  { kind: 'leave', origin: 7, members: [3] },
  { kind: 'hello', origin: 7 },
  { kind: 'gone', origin: 9 },
];

describe('room frames', () => {
  it('every kind round-trips', () => {
    for (const message of valid) {
      const frame = decodeRoomFrame(encodeRoomFrame(message, 42)) as RoomFrame;
      assert.equal(typeof frame, 'object', message.kind);
      assert.equal(frame.sender, 42);
      assert.deepEqual({ ...frame.message, ...('bytes' in frame.message ? { bytes: Buffer.from(frame.message.bytes) } : {}) }, message);
    }
  });

  it('refuses every malformed shape with its reason, without throwing', () => {
    for (const [name, bytes, reason] of MALFORMED) assert.equal(decodeRoomFrame(bytes), reason, name);
  });

  it('a valid frame cut at every length: refused inside the header or a packet; what passes is whole packets, and no byte changed in its header makes it throw', () => {
    for (const message of valid) {
      const whole = encodeRoomFrame(message, 3);
      for (let cut = 0; cut < whole.length; cut++) {
        const result = decodeRoomFrame(whole.subarray(0, cut));
        const headerSize = whole[4] as number;
        if (cut < headerSize || message.kind === 'bytes' && cut === headerSize) {
          assert.equal(typeof result, 'string', `${message.kind} cut at ${cut}`);
        } else if (typeof result === 'object' && result.message.kind === 'bytes') {
          // Cut at the boundary between the two packets, the first one alone is still a broadcast.
          assert.ok(isWholePackets(result.message.bytes), `${message.kind} cut at ${cut}`);
          assert.equal(cut, headerSize + packet(1003, 'hello').length);
        } else if (message.kind === 'bytes') {
          assert.equal(result, 'not_packets', `bytes cut at ${cut}`);
        }
      }
      for (let at = 0; at < (whole[4] as number); at++) {
        for (const value of [0, 1, 0x7f, 0x80, 0xff]) {
          const changed = Buffer.from(whole);
          changed[at] = value;
          const result = decodeRoomFrame(changed);
          if (typeof result === 'object' && result.message.kind === 'bytes') assert.ok(isWholePackets(result.message.bytes));
        }
      }
    }
  });

  it('20,000 random payloads (raw and behind a valid header): none throws, none yields bytes that are not whole packets', () => {
    let passed = 0;
    for (let i = 0; i < 20_000; i++) {
      const noise = randomBytes(i % 97);
      const data = i % 2 === 0 ? noise : Buffer.concat([header({ kind: i % 5 }), noise]);
      const result = decodeRoomFrame(data);
      if (typeof result === 'string') continue;
      passed++;
      if (result.message.kind === 'bytes') assert.ok(isWholePackets(result.message.bytes), 'a passed payload is whole packets');
      if (result.message.kind === 'enter' || result.message.kind === 'leave') {
        for (const id of result.message.members) assert.ok(Number.isSafeInteger(id) && id >= 1);
      }
    }
    // Behind a valid header, hello and gone pass whatever follows (a newer release may add a payload).
    assert.ok(passed > 0 && passed < 20_000, `${passed} passed`);
  });

  it('an adjacent newer release is read: readable from 1, with a longer header and unknown flags', () => {
    const newer = Buffer.concat([header({ version: PROTOCOL_VERSION + 1, minReader: 1, headerSize: 40, kind: 0 }), chat]);
    newer.writeUInt16LE(0xffff & ~FLAG_SOURCE, 6); // flags this release does not know
    let frame = decodeRoomFrame(newer) as RoomFrame;
    assert.equal(typeof frame, 'object');
    assert.deepEqual(Buffer.from((frame.message as { bytes: Uint8Array }).bytes), chat, 'the payload starts after the longer header');
    assert.equal('source' in frame.message, false, 'no source without its flag');
    newer.writeUInt16LE(0xffff, 6);
    newer.writeDoubleLE(77, FRAME_HEADER_SIZE);
    frame = decodeRoomFrame(newer) as RoomFrame;
    assert.equal((frame.message as { source?: number }).source, 77, 'the source, read with its flag, and the fields after it skipped');
  });

  it('the source is a header extension: a frame with it is 32 bytes of header and flag SOURCE; a frame without it is the version-1 frame', () => {
    const withSource = encodeRoomFrame({ kind: 'bytes', origin: 7, bytes: chat, source: 9 }, 0);
    assert.equal(withSource[4], FRAME_HEADER_SIZE_WITH_SOURCE);
    assert.equal(withSource.readUInt16LE(6), FLAG_SOURCE);
    assert.equal(withSource.readDoubleLE(FRAME_HEADER_SIZE), 9);
    assert.equal(withSource[3], 1, 'still readable by version 1');
    for (const message of [{ kind: 'bytes', origin: 7, bytes: chat }, { kind: 'bytes', origin: 7, bytes: chat, source: 0 }, { kind: 'hello', origin: 7 }] as const) {
      const frame = encodeRoomFrame(message, 0);
      assert.equal(frame[4], FRAME_HEADER_SIZE, message.kind);
      assert.equal(frame.readUInt16LE(6), 0, message.kind);
    }
  });

  it('a version-1 reader (the rules of docs/cluster.md "Room frames", version 1) reads a frame with a source as the same broadcast', () => {
    const frame = encodeRoomFrame({ kind: 'bytes', origin: 7, bytes: chat, source: 12345 }, 3);
    const read = readAsVersion1(frame);
    assert.ok(read !== undefined, 'readable');
    assert.equal(read.kind, 0);
    assert.equal(read.sender, 3);
    assert.equal(read.origin, 7);
    assert.deepEqual(Buffer.from(read.payload), chat, 'the payload starts at headerSize: the source is skipped');
  });

  it('this release reads a version-1 frame (no source, 24-byte header) as a broadcast with no source', () => {
    const old = Buffer.concat([header({ version: 1, minReader: 1, kind: 0 }), chat]);
    const frame = decodeRoomFrame(old) as RoomFrame;
    assert.deepEqual({ ...frame.message, bytes: Buffer.from((frame.message as { bytes: Uint8Array }).bytes) }, { kind: 'bytes', origin: 7, bytes: chat });
    // A version-1 writer left header bytes past 24 (there were none) and its flags at 0: a 32-byte header with no flag has no source either.
    const padded = Buffer.concat([header({ version: 1, minReader: 1, headerSize: 32, kind: 0 }).fill(0xff, 24, 32), chat]);
    assert.equal('source' in (decodeRoomFrame(padded) as RoomFrame).message, false);
  });

  it('a source that is flagged but missing or not a session id is refused as malformed', () => {
    const flagged = (headerSize: number, source: number): Buffer => {
      const out = Buffer.concat([header({ headerSize, kind: 0 }), chat]);
      out.writeUInt16LE(FLAG_SOURCE, 6);
      if (headerSize >= 32) out.writeDoubleLE(source, FRAME_HEADER_SIZE);
      return out;
    };
    assert.equal(decodeRoomFrame(flagged(24, 5)), 'malformed', 'the flag with a 24-byte header');
    assert.equal(decodeRoomFrame(flagged(31, 5)), 'malformed', 'the flag with a 31-byte header');
    for (const source of [0, -1, 1.5, NaN, Infinity, 2 ** 53]) assert.equal(decodeRoomFrame(flagged(32, source)), 'malformed', `source ${source}`);
    assert.equal(typeof decodeRoomFrame(flagged(32, 2 ** 53 - 1)), 'object');
  });

  it('decodes a frame inside a larger buffer at an odd offset (IPC hands a Uint8Array view)', () => {
    const whole = encodeRoomFrame({ kind: 'enter', origin: 3, members: [11, 12] }, 0);
    const backing = new Uint8Array(whole.length + 3);
    backing.set(whole, 1);
    const frame = decodeRoomFrame(backing.subarray(1, 1 + whole.length)) as RoomFrame;
    assert.deepEqual(frame.message, { kind: 'enter', origin: 3, members: [11, 12] });
  });
});

/**
 * How a version-1 release reads a frame: magic, version ≥ 1 with minReader ≤ 1, headerSize from 24
 * to the length, the payload from headerSize on; flags and header bytes past 24 are not looked at.
 */
function readAsVersion1(data: Buffer): { kind: number; sender: number; origin: number; payload: Buffer } | undefined {
  if (data.length < 6 || data[0] !== 0x67 || data[1] !== 0x77) return undefined;
  const version = data[2] as number;
  const minReader = data[3] as number;
  if (version < 1 || minReader > 1 || minReader > version) return undefined;
  const headerSize = data[4] as number;
  if (headerSize < 24 || headerSize > data.length) return undefined;
  return { kind: data[5] as number, sender: data.readDoubleLE(8), origin: data.readDoubleLE(16), payload: data.subarray(headerSize) };
}
