/** The resume packets against docs/protocol.md's table: ids, sizes and field offsets, read back independently. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import * as wire from '../../../src/core/resume/resume-wire.js';

it('every resume packet has the id, size and layout docs/protocol.md gives', () => {
  const token = Buffer.alloc(24, 7);
  const hello = Buffer.from(wire.encodeHello());
  assert.deepEqual([...hello], [5, 0, 0xf0, 0xff, 1]);
  const welcome = Buffer.from(wire.encodeWelcome(token, 30000, 1048576));
  assert.equal(welcome.readUInt16LE(0), 36);
  assert.equal(welcome.readUInt16LE(2), 65521);
  assert.deepEqual(welcome.subarray(4, 28), token);
  assert.equal(welcome.readUInt32LE(28), 30000);
  assert.equal(welcome.readUInt32LE(32), 1048576);
  const resume = Buffer.from(wire.encodeTokenAndCount(wire.RESUME_REQUEST_ID, token, 2 ** 40 + 5));
  assert.equal(resume.readUInt16LE(2), 65522);
  assert.equal(resume.readBigUInt64LE(28), 2n ** 40n + 5n);
  const ack = Buffer.from(wire.encodeAck(123456789));
  assert.deepEqual([ack.readUInt16LE(0), ack.readUInt16LE(2), Number(ack.readBigUInt64LE(4))], [12, 65525, 123456789]);
  const refused = Buffer.from(wire.encodeRefused('RETRY_LATER', 250, 'busy'));
  assert.deepEqual([refused.readUInt16LE(2), refused[4], refused.readUInt32LE(5), refused.subarray(9).toString()], [65524, 3, 250, 'busy']);
  const bye = Buffer.from(wire.encodeBye('x'.repeat(300)));
  assert.equal(bye.readUInt16LE(2), 65526);
  assert.equal(bye.length, 4 + 123, 'a BYE text is cut to 123 bytes');
});

it('decoders refuse wrong sizes and counts no side can have', () => {
  assert.equal(wire.decodeAck(Buffer.alloc(7)), undefined);
  const huge = Buffer.alloc(8);
  huge.writeBigUInt64LE(2n ** 53n);
  assert.equal(wire.decodeAck(huge), undefined);
  assert.equal(wire.decodeTokenAndCount(Buffer.alloc(31)), undefined);
  assert.equal(wire.decodeRefused(Buffer.alloc(4)), undefined);
  assert.equal(wire.refusalName(99), 'UNKNOWN_SESSION');
});

it('the route hint: added to a reconnect URL as docs/protocol.md says, read back only when it is a route', () => {
  const token = Buffer.alloc(24);
  token.writeUInt16LE(513, 0);
  token.writeUInt16LE(40000, 2);
  assert.equal(wire.tokenRoute(token), 513);
  assert.equal(wire.tokenServer(token), 40000);
  assert.equal(wire.withRouteHint('ws://h:1/ws', token), 'ws://h:1/ws?route=513');
  assert.equal(wire.withRouteHint('wss://h/game/ws?room=a#x', token), 'wss://h/game/ws?room=a&route=513#x');
  assert.equal(wire.routeHintOf('/ws?route=513'), 513);
  assert.equal(wire.routeHintOf('/ws?a=1&route=0&b'), 0);
  for (const url of ['/ws', '/ws?', '/ws?route=', '/ws?route=-1', '/ws?route=65536', '/ws?route=1e3', '/ws?route=0x10', '/ws?route=123456', '/ws?router=1', '/ws?route=1%00']) {
    assert.equal(wire.routeHintOf(url), undefined, url);
  }
});

it('MOVE is id 65527 with the 24-byte token as its whole body; any other body size is refused', () => {
  const token = Buffer.alloc(24, 9);
  const move = Buffer.from(wire.encodeMove(token));
  assert.equal(move.length, 28);
  assert.equal(move.readUInt16LE(0), 28);
  assert.equal(move.readUInt16LE(2), 65527);
  assert.deepEqual(move.subarray(4), token);
  assert.deepEqual(Buffer.from(wire.decodeMove(move.subarray(4)) as Uint8Array), token);
  assert.equal(wire.decodeMove(move.subarray(4, 27)), undefined);
  assert.equal(wire.decodeMove(Buffer.alloc(25)), undefined);
  assert.equal(wire.isResumeId(65527), true);
});
