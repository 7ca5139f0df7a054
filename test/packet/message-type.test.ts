import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidOptionError, MessageTooLargeError } from '../../src/core/errors.js';
import { Session } from '../../src/net/session.js';
import { defineMessage, loadProtocolSchema, type MessageInit, type MessageType } from '../../src/packet/message-type.js';
import {
  C_CHAT,
  C_ENTER_GAME,
  C_LOGIN,
  C_MOVE,
  PlayerType,
  S_CHAT,
  S_ENTER_GAME,
  S_LOGIN,
  S_MOVE,
  type Player,
} from '../../src/samples/protocol/packets.js';

/** A Buffer over the same memory (no copy), for reading and comparing a SendBuffer. */
const asBuffer = (view: Uint8Array): Buffer => Buffer.from(view.buffer, view.byteOffset, view.byteLength);

/**
 * Asserts every field given in `expected` is in `actual` with that value; nested objects and arrays
 * are compared the same way (decoded messages are protobufjs objects, not plain ones).
 */
function assertMatches(actual: unknown, expected: unknown, path = 'message'): void {
  if (expected instanceof Uint8Array) {
    assert.ok(actual instanceof Uint8Array, `${path}: bytes`);
    assert.deepEqual(Buffer.from(actual), Buffer.from(expected), path);
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: array`);
    assert.equal(actual.length, expected.length, `${path}.length`);
    expected.forEach((e, i) => assertMatches(actual[i], e, `${path}[${i}]`));
  } else if (typeof expected === 'object' && expected !== null) {
    assert.ok(typeof actual === 'object' && actual !== null, `${path}: object`);
    for (const [key, value] of Object.entries(expected)) {
      assertMatches((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
    }
  } else {
    assert.equal(actual, expected, path);
  }
}

/** One sample value per message (floats exactly representable in 32 bits). */
const player: MessageInit<Player> = { id: 9, name: '기사 Knight', playerType: PlayerType.PLAYER_TYPE_KNIGHT, position: { x: 1.5, y: -2.25, z: 0.125 } };
const SAMPLES: ReadonlyArray<readonly [MessageType<unknown>, object]> = [
  [C_LOGIN, { account: 'acc', token: 't'.repeat(300) }],
  [S_LOGIN, { success: true, players: [player, { id: 10, name: 'mage', playerType: PlayerType.PLAYER_TYPE_MAGE }], error: '' }],
  [C_ENTER_GAME, { playerIndex: 4_000_000_000 }],
  [S_ENTER_GAME, { success: true, player, roomId: 77 }],
  [C_CHAT, { msg: 'hello 🌍' }],
  [S_CHAT, { playerId: 1, msg: '', sentAtMs: 1_700_000_000_123.25 }],
  [C_MOVE, { position: { x: -0.5, y: 0, z: 1024 }, yaw: 359.5, seq: 123456 }],
  [S_MOVE, { playerId: 2, position: { x: 3, y: 4, z: 5 }, yaw: -90, seq: 1 }],
];

describe('MessageType (generated sample)', () => {
  it('makeSendBuffer writes [size u16 LE = total][id u16 LE][protobuf body] (known bytes)', () => {
    assert.deepEqual(asBuffer(C_CHAT.makeSendBuffer({ msg: 'hi' })), Buffer.from([0x08, 0x00, 0xec, 0x03, 0x0a, 0x02, 0x68, 0x69]));
    const sChat = asBuffer(S_CHAT.makeSendBuffer({ playerId: 7, msg: 'a', sentAtMs: 1.5 }));
    const double = Buffer.alloc(8);
    double.writeDoubleLE(1.5);
    assert.deepEqual(sChat, Buffer.concat([Buffer.from([18, 0, 0xed, 0x03, 0x08, 0x07, 0x12, 0x01, 0x61, 0x19]), double]));
    // An all-default message has an empty body: a bare 4-byte header.
    assert.deepEqual(asBuffer(C_MOVE.makeSendBuffer({})), Buffer.from([4, 0, 0xee, 0x03]));
  });

  for (const [type, value] of SAMPLES) {
    it(`${type.name}: makeSendBuffer = header + encodeBody, and decode(encodeBody(x)) round trips`, () => {
      const bodyBytes = type.encodeBody(value);
      const whole = asBuffer(type.makeSendBuffer(value));
      assert.equal(whole.readUInt16LE(0), whole.length, 'size is the whole packet');
      assert.equal(whole.readUInt16LE(2), type.id);
      assert.deepEqual(whole.subarray(4), Buffer.from(bodyBytes));
      assertMatches(type.decode(bodyBytes), value, type.name);
      assertMatches(type.decode(whole.subarray(4)), value, type.name);
    });
  }

  it('decodes unset fields as defaults: scalars 0/""/false, messages null, repeated []', () => {
    const enter = S_ENTER_GAME.decode(new Uint8Array(0));
    assert.deepEqual([enter.success, enter.player, enter.roomId], [false, null, 0]);
    const login = S_LOGIN.decode(S_LOGIN.encodeBody({ success: true }));
    assert.deepEqual([login.success, [...login.players], login.error], [true, [], '']);
    assert.equal(C_MOVE.decode(C_MOVE.encodeBody({ seq: 1 })).position, null);
  });

  it('ids and names come from the .proto', () => {
    assert.deepEqual(
      SAMPLES.map(([type]) => [type.name, type.id]),
      [
        ['C_LOGIN', 1000],
        ['S_LOGIN', 1001],
        ['C_ENTER_GAME', 1002],
        ['S_ENTER_GAME', 1003],
        ['C_CHAT', 1004],
        ['S_CHAT', 1005],
        ['C_MOVE', 1006],
        ['S_MOVE', 1007],
      ],
    );
    assert.ok(Object.isFrozen(C_CHAT));
  });

  it('messages of every size up to the chunk, interleaved with small ones, round-trip (encoded in place or moved)', () => {
    // Sizes around MIN_ENCODE_SPACE (1 KiB) and past the room left in a 64 KiB chunk exercise both
    // the in-place path and the path where the writer outgrows the chunk.
    const made: Array<{ packet: Uint8Array; msg: string }> = [];
    for (const length of [10, 900, 1023, 1024, 1500, 5000, 20_000, 40_000, 60_000, 10, 30_000, 64_000]) {
      for (let i = 0; i < 3; i++) {
        const msg = String.fromCharCode(97 + ((length + i) % 26)).repeat(length);
        made.push({ packet: C_CHAT.makeSendBuffer({ msg, sentAtMs: i }), msg });
      }
    }
    for (const { packet, msg } of made) {
      const bytes = asBuffer(packet);
      assert.equal(bytes.readUInt16LE(0), bytes.length);
      assert.equal(bytes.readUInt16LE(2), C_CHAT.id);
      assert.equal(C_CHAT.decode(bytes.subarray(4)).msg, msg);
    }
  });

  it('a SendBuffer is not changed by the packets made after it', () => {
    const first = asBuffer(C_CHAT.makeSendBuffer({ msg: 'first' }));
    const copy = Buffer.from(first);
    const later = Array.from({ length: 100 }, (_, i) => asBuffer(S_CHAT.makeSendBuffer({ playerId: i, msg: `later ${i}` })));
    assert.deepEqual(first, copy);
    assert.deepEqual(S_CHAT.decode((later[99] as Buffer).subarray(4)).msg, 'later 99');
  });

  it('a packet of exactly 65535 bytes is made; one byte more throws MessageTooLargeError', () => {
    // body = tag (1) + length varint (3) + text: 4 + 1 + 3 + 65527 = 65535.
    const atLimit = asBuffer(C_CHAT.makeSendBuffer({ msg: 'a'.repeat(65527) }));
    assert.equal(atLimit.length, 65535);
    assert.equal(atLimit.readUInt16LE(0), 65535);
    assert.equal(C_CHAT.decode(atLimit.subarray(4)).msg.length, 65527);
    assert.throws(
      () => C_CHAT.makeSendBuffer({ msg: 'a'.repeat(65528) }),
      (error: unknown) =>
        error instanceof MessageTooLargeError &&
        error.code === 'GW_ERR_MESSAGE_TOO_LARGE' &&
        error.messageName === 'C_CHAT' &&
        error.size === 65536 &&
        error.maxPacketSize === 65535,
    );
  });

  it('a message over 65535 bytes throws MessageTooLargeError, and the next makeSendBuffer still works', () => {
    assert.throws(
      () => C_CHAT.makeSendBuffer({ msg: 'x'.repeat(70_000) }),
      (error: unknown) => error instanceof MessageTooLargeError && /65535/.test(error.message),
    );
    assert.deepEqual(asBuffer(C_CHAT.makeSendBuffer({ msg: 'hi' })), Buffer.from([0x08, 0x00, 0xec, 0x03, 0x0a, 0x02, 0x68, 0x69]));
    const move = asBuffer(C_MOVE.makeSendBuffer({ seq: 5 }));
    assert.deepEqual(move, Buffer.from([6, 0, 0xee, 0x03, 0x18, 0x05]));
  });

  it('an encode that throws half-way (a null nested message) leaves the next makeSendBuffer correct', () => {
    assert.throws(() => S_LOGIN.makeSendBuffer({ success: true, players: [player, null as unknown as Player] }), TypeError);
    assert.deepEqual(asBuffer(C_CHAT.makeSendBuffer({ msg: 'hi' })), Buffer.from([0x08, 0x00, 0xec, 0x03, 0x0a, 0x02, 0x68, 0x69]));
    const again = asBuffer(S_LOGIN.makeSendBuffer({ success: true, players: [player] }));
    assert.equal(again.readUInt16LE(0), again.length);
    assertMatches(S_LOGIN.decode(again.subarray(4)), { success: true, players: [player] });
  });

  it('send() returns false for a session that is not open, without encoding', () => {
    assert.equal(C_CHAT.send(new Session(), { msg: 'nobody listens' }), false);
    // Not encoded at all: even a message too large to encode just gives false.
    assert.equal(C_CHAT.send(new Session(), { msg: 'x'.repeat(70_000) }), false);
  });

  it('defineMessage accepts ids 1..65519 only (65520..65535 are reserved for heartbeats and the like)', () => {
    const schema = loadProtocolSchema({ nested: { t: { nested: { M: { fields: { a: { type: 'string', id: 1 } } } } } } });
    for (const bad of [0, -1, 65520, 65535, 65536, 1.5]) {
      assert.throws(() => defineMessage(schema, 't.M', bad, 'M'), InvalidOptionError, `id ${bad}`);
    }
    const m = defineMessage<{ a: string }, 'M'>(schema, 't.M', 65519, 'M');
    assert.deepEqual(asBuffer(m.makeSendBuffer({ a: 'z' })), Buffer.from([7, 0, 0xef, 0xff, 0x0a, 0x01, 0x7a]));
  });
});
