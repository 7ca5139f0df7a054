import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandlerError, InvalidOptionError, MalformedHeaderError, MessageTooLargeError, PacketTooLargeError } from '../../src/core/errors.js';
import { ServerService } from '../../src/net/server-service.js';
import { S_CHAT } from '../../src/samples/protocol/packets.js';
import { PacketRecorder, type PacketBehavior } from '../helpers/packet-recorder.js';
import { header, packet, PacketReader } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer } from '../helpers/services.js';
import { cleanupAfter, type Cleanup } from '../helpers/wait.js';

/** A server of PacketRecorders (each with `behavior` and `maxPacketSize`) and one connected raw client. */
async function serverAndClient(
  cleanup: Cleanup,
  behavior?: PacketBehavior<PacketRecorder>,
  maxPacketSize?: number,
): Promise<{ port: number; client: RawClient; session: PacketRecorder; nth: (i: number) => Promise<PacketRecorder> }> {
  const options = maxPacketSize === undefined ? {} : { packet: { maxPacketSize } };
  const { service, collector } = await startServer(cleanup, () => new PacketRecorder(behavior), options);
  const client = await RawClient.connect(service.port, { cleanup });
  const session = await collector.nth(0);
  return { port: service.port, client, session, nth: (i) => collector.nth(i) };
}

/** Asserts the recorded packets are exactly `expected` (built with the helpers' `packet()`), in order. */
function assertPackets(session: PacketRecorder, expected: readonly Buffer[]): void {
  assert.deepEqual(
    session.packets.map((p) => [p.id, p.body.toString('hex')]),
    expected.map((p) => [p.readUInt16LE(2), p.subarray(4).toString('hex')]),
  );
}

/** Parses everything a raw client received into packets. */
function packetsOf(client: RawClient): Buffer[] {
  return new PacketReader().push(client.received).map((p) => p.bytes);
}

const echo: PacketBehavior<PacketRecorder> = (session, id, body) => {
  session.sendPacket((id + 1) & 0xffff, body);
};

const LIST: readonly Buffer[] = [
  packet(1, 'hello'),
  packet(0),
  packet(0xffef, 'max message id'),
  packet(42, Buffer.alloc(3000, 0x5a)),
  packet(7, Buffer.from([0, 1, 2, 3, 4, 5, 255])),
];
const STREAM = Buffer.concat(LIST);

describe('PacketSession receiving', () => {
  it('delivers every packet of one write to onRecvPacket with its id and whole body, in order', async (t) => {
    const { client, session } = await serverAndClient(cleanupAfter(t));
    await client.write(STREAM);
    await session.untilPackets(LIST.length);
    assertPackets(session, LIST);
    assert.equal(session.connected, true);
  });

  it('delivers packets written one byte per write (however TCP groups them)', async (t) => {
    const { client, session } = await serverAndClient(cleanupAfter(t));
    await Promise.all([...STREAM].map((byte) => client.write(Buffer.of(byte))));
    await session.untilPackets(LIST.length);
    assertPackets(session, LIST);
  });

  it('frames a stream presented to onRecv one byte at a time, keeping the unconsumed tail (in-process)', async (t) => {
    const { session } = await serverAndClient(cleanupAfter(t));
    const ends = LIST.map((_, i) => LIST.slice(0, i + 1).reduce((n, p) => n + p.length, 0));
    let pending = Buffer.alloc(0);
    for (let i = 0; i < STREAM.length; i++) {
      pending = Buffer.concat([pending, STREAM.subarray(i, i + 1)]);
      pending = pending.subarray(session.feed(pending));
      assert.equal(session.packets.length, ends.filter((end) => end <= i + 1).length, `after byte ${i}`);
    }
    assert.equal(pending.length, 0);
    assertPackets(session, LIST);
    assert.equal(session.connected, true);
  });

  it('handles ids 0 and 65519 (the largest message id) and an empty body', async (t) => {
    const { client, session } = await serverAndClient(cleanupAfter(t));
    await client.write(Buffer.concat([packet(0), packet(0xffef), packet(0, 'x'), packet(0xffef, 'y')]));
    await session.untilPackets(4);
    assert.deepEqual(
      session.packets.map((p) => [p.id, p.body.length, p.body.toString()]),
      [
        [0, 0, ''],
        [0xffef, 0, ''],
        [0, 1, 'x'],
        [0xffef, 1, 'y'],
      ],
    );
  });

  it('receives a 65535-byte packet split around other packets with the default limit', async (t) => {
    const { client, session } = await serverAndClient(cleanupAfter(t));
    const big = packet(3, Buffer.alloc(65531, 0x77));
    const stream = Buffer.concat([packet(1, 'a'), big, packet(2, 'b')]);
    await client.write(stream.subarray(0, 1000));
    await session.untilPackets(1);
    await client.write(stream.subarray(1000));
    await session.untilPackets(3);
    assertPackets(session, [packet(1, 'a'), big, packet(2, 'b')]);
    assert.equal(session.maxPacketSize, 65535);
  });

  for (const size of [0, 1, 2, 3]) {
    it(`closes with MALFORMED_HEADER for header size ${size}, after delivering the packets before it`, async (t) => {
      const { client, session } = await serverAndClient(cleanupAfter(t));
      const before = [packet(9, 'first'), packet(10, 'second')];
      await client.write(Buffer.concat([...before, header(size, 5), packet(1, 'never delivered')]));
      await client.waitForEnd();
      const cause = await session.untilDisconnected();
      assert.equal(cause.code, 'MALFORMED_HEADER');
      assert.ok(cause.error instanceof MalformedHeaderError);
      assert.equal(cause.error.code, 'GW_ERR_MALFORMED_HEADER');
      assert.equal(cause.error.size, size);
      assertPackets(session, before);
    });
  }

  it('accepts a packet of exactly maxPacketSize', async (t) => {
    const { client, session } = await serverAndClient(cleanupAfter(t), undefined, 100);
    assert.equal(session.maxPacketSize, 100);
    const atLimit = packet(5, Buffer.alloc(96, 1));
    assert.equal(atLimit.length, 100);
    await client.write(Buffer.concat([atLimit, packet(6, 'after')]));
    await session.untilPackets(2);
    assertPackets(session, [atLimit, packet(6, 'after')]);
    assert.equal(session.connected, true);
  });

  it('closes with PACKET_TOO_LARGE for maxPacketSize + 1 when only the 4-byte header was sent', async (t) => {
    const { client, session } = await serverAndClient(cleanupAfter(t), undefined, 100);
    const before = packet(5, 'ok');
    await client.write(Buffer.concat([before, header(101, 8)])); // no body byte is ever sent
    await client.waitForEnd();
    const cause = await session.untilDisconnected();
    assert.equal(cause.code, 'PACKET_TOO_LARGE');
    assert.ok(cause.error instanceof PacketTooLargeError);
    assert.equal(cause.error.code, 'GW_ERR_PACKET_TOO_LARGE');
    assert.equal(cause.error.size, 101);
    assert.equal(cause.error.maxPacketSize, 100);
    assertPackets(session, [before]);
  });

  for (const bad of [3, 0, 65536, 100.5]) {
    it(`rejects packet.maxPacketSize ${bad} with InvalidOptionError`, () => {
      assert.throws(
        () => new ServerService({ port: 0, sessionFactory: () => new PacketRecorder(), packet: { maxPacketSize: bad } }),
        (error: unknown) => error instanceof InvalidOptionError && error.code === 'GW_ERR_INVALID_OPTION',
      );
    });
  }

  it('closes with HANDLER_ERROR (hook onRecvPacket) when onRecvPacket throws; another session goes on', async (t) => {
    const cleanup = cleanupAfter(t);
    const boom = new Error('boom');
    const { port, client, session, nth } = await serverAndClient(cleanup, (s, id, body) => {
      if (id === 666) throw boom;
      echo(s, id, body);
    });
    const other = await RawClient.connect(port, { cleanup });
    const otherSession = await nth(1);
    await client.write(Buffer.concat([packet(1, 'fine'), packet(666, 'throws'), packet(2, 'never')]));
    await client.waitForEnd();
    const cause = await session.untilDisconnected();
    assert.equal(cause.code, 'HANDLER_ERROR');
    assert.ok(cause.error instanceof HandlerError);
    assert.equal(cause.error.code, 'GW_ERR_HANDLER');
    assert.equal(cause.error.hook, 'onRecvPacket');
    assert.equal(cause.error.cause, boom);
    assert.deepEqual(
      session.packets.map((p) => p.id),
      [1, 666],
    );
    // The other session is untouched: it still receives and replies.
    assert.equal(otherSession.connected, true);
    const reply = await other.roundTrip(packet(30, 'still here'));
    assert.deepEqual(reply, packet(31, 'still here'));
  });

  it('stops delivering the rest of a read once onRecvPacket disconnects', async (t) => {
    const { client, session } = await serverAndClient(cleanupAfter(t), (s, id) => {
      if (id === 2) s.disconnect('enough');
    });
    await client.write(Buffer.concat([packet(1), packet(2), packet(3), packet(4)]));
    const cause = await session.untilDisconnected();
    assert.equal(cause.code, 'LOCAL_DISCONNECT');
    assert.equal(cause.reason, 'enough');
    assert.deepEqual(
      session.packets.map((p) => p.id),
      [1, 2],
    );
  });
});

describe('PacketSession sending', () => {
  it('sendPacket round trip: the reply carries the id and the body, copied out of receive memory', async (t) => {
    const { client, session } = await serverAndClient(cleanupAfter(t), echo);
    const request = Buffer.concat([packet(100, 'ping'), packet(0xffef, ''), packet(7, Buffer.alloc(2000, 3))]);
    await client.write(request);
    await client.waitForBytes(request.length);
    assert.deepEqual(packetsOf(client), [packet(101, 'ping'), packet(0xfff0), packet(8, Buffer.alloc(2000, 3))]);
    assert.equal(session.connected, true);
  });

  it('sendPacket sends a packet of 65535 bytes whole, and rejects a larger one or a bad id', async (t) => {
    const { client, session } = await serverAndClient(cleanupAfter(t));
    const isInvalid = (error: unknown): boolean => error instanceof InvalidOptionError;
    assert.throws(() => session.sendPacket(1, Buffer.alloc(65532)), (error: unknown) => error instanceof MessageTooLargeError && error.size === 65536);
    for (const id of [-1, 65536, 1.5, Number.NaN]) assert.throws(() => session.sendPacket(id, Buffer.alloc(1)), isInvalid);
    assert.equal(session.sendPacket(0xffff, Buffer.alloc(65531, 0x42)), true);
    const bytes = await client.waitForBytes(65535);
    assert.equal(bytes.length, 65535, 'nothing was sent by the rejected calls');
    assert.deepEqual(bytes, packet(0xffff, Buffer.alloc(65531, 0x42)));
  });

  it('sendPacket returns false once the session is closing or closed', async (t) => {
    const { client, session } = await serverAndClient(cleanupAfter(t));
    session.disconnect('bye');
    assert.equal(session.sendPacket(1, Buffer.from('late')), false);
    await client.waitForEnd();
    await session.untilDisconnected();
    assert.equal(session.sendPacket(1, Buffer.from('later')), false);
    assert.equal(client.byteCount, 0);
  });

  it('one SendBuffer sent to 50 sessions arrives intact at every client, whatever is encoded after it', async (t) => {
    const cleanup = cleanupAfter(t);
    const { port, client: first, nth } = await serverAndClient(cleanup);
    const others = await Promise.all(Array.from({ length: 49 }, () => RawClient.connect(port, { cleanup })));
    const clients = [first, ...others];
    const sessions = await Promise.all(clients.map((_, i) => nth(i)));
    const shared = S_CHAT.makeSendBuffer({ playerId: 42, msg: 'hello everyone '.repeat(30), sentAtMs: 1234.5 });
    const expected = Buffer.from(shared);
    for (const s of sessions) assert.equal(s.send(shared), true);
    // More packets in the same turn, from the same pooled chunk, before anything was flushed.
    const noise = Array.from({ length: 200 }, (_, i) => S_CHAT.makeSendBuffer({ playerId: i, msg: `noise ${i}` }));
    const noiseCopies = noise.map((b) => Buffer.from(b));
    for (const b of noise) assert.equal((sessions[0] as PacketRecorder).send(b), true);
    const firstTotal = expected.length + noiseCopies.reduce((n, b) => n + b.length, 0);
    await Promise.all(clients.map((c, i) => c.waitForBytes(i === 0 ? firstTotal : expected.length)));
    for (const [i, c] of clients.entries()) {
      const got = packetsOf(c);
      assert.deepEqual(got[0], expected, `client ${i}`);
      assert.equal(got.length, i === 0 ? 1 + noise.length : 1, `client ${i} packet count`);
    }
    assert.deepEqual(packetsOf(first).slice(1), noiseCopies);
    assert.deepEqual(Buffer.from(shared), expected, 'the SendBuffer itself was not changed');
    const decoded = S_CHAT.decode(expected.subarray(4));
    assert.equal(decoded.playerId, 42);
    assert.equal(decoded.sentAtMs, 1234.5);
  });
});

