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
import { decodeRoomFrame, encodeRoomFrame, FRAME_HEADER_SIZE, isWholePackets, type RoomFrame } from '../../src/cluster/room-frame.js';
import { packet } from '../helpers/packets.js';
import { frameHeader as header, MALFORMED_FRAMES as MALFORMED } from '../helpers/room-frames.js';

const chat = Buffer.concat([packet(1003, 'hello'), packet(1003, 'world')]);
const valid: readonly RoomBusMessage[] = [
  { kind: 'bytes', origin: 7, bytes: chat },
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
        if (cut < FRAME_HEADER_SIZE || message.kind === 'bytes' && cut === FRAME_HEADER_SIZE) {
          assert.equal(typeof result, 'string', `${message.kind} cut at ${cut}`);
        } else if (typeof result === 'object' && result.message.kind === 'bytes') {
          // Cut at the boundary between the two packets, the first one alone is still a broadcast.
          assert.ok(isWholePackets(result.message.bytes), `${message.kind} cut at ${cut}`);
          assert.equal(cut, FRAME_HEADER_SIZE + packet(1003, 'hello').length);
        } else if (message.kind === 'bytes') {
          assert.equal(result, 'not_packets', `bytes cut at ${cut}`);
        }
      }
      for (let at = 0; at < FRAME_HEADER_SIZE; at++) {
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

  it('an adjacent newer release is read: version 2 readable from 1, with a longer header and unknown flags', () => {
    const newer = Buffer.concat([header({ version: PROTOCOL_VERSION + 1, minReader: 1, headerSize: 32, kind: 0 }), chat]);
    newer.writeUInt16LE(0xffff, 6); // flags this release does not know
    const frame = decodeRoomFrame(newer) as RoomFrame;
    assert.equal(typeof frame, 'object');
    assert.deepEqual(Buffer.from((frame.message as { bytes: Uint8Array }).bytes), chat, 'the payload starts after the longer header');
  });

  it('decodes a frame inside a larger buffer at an odd offset (IPC hands a Uint8Array view)', () => {
    const whole = encodeRoomFrame({ kind: 'enter', origin: 3, members: [11, 12] }, 0);
    const backing = new Uint8Array(whole.length + 3);
    backing.set(whole, 1);
    const frame = decodeRoomFrame(backing.subarray(1, 1 + whole.length)) as RoomFrame;
    assert.deepEqual(frame.message, { kind: 'enter', origin: 3, members: [11, 12] });
  });
});
