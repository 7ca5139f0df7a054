import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServiceStateError } from '../../src/core/errors.js';
import { RawClient } from '../helpers/raw-client.js';
import { echoBehavior, RecordingSession } from '../helpers/recording-session.js';
import { startServer } from '../helpers/services.js';
import { mulberry32, randomInt } from '../helpers/packets.js';
import { cleanupAfter } from '../helpers/wait.js';

describe('Session lifecycle over loopback', () => {
  it('is inert before it is attached', () => {
    const session = new RecordingSession();
    assert.equal(session.state, 'connecting');
    assert.equal(session.connected, false);
    assert.equal(session.remoteAddress, '');
    assert.equal(session.remotePort, 0);
    assert.equal(session.send(Buffer.from('x')), false);
    assert.throws(() => session.service, ServiceStateError);
    assert.deepEqual(session.hooks, []);
  });

  it('runs onConnected first, then onRecv/onSend, then onDisconnected exactly once and last', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new RecordingSession(echoBehavior));
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);

    assert.equal(session.connected, true);
    assert.equal(session.state, 'open');
    assert.equal(session.remoteAddress, '127.0.0.1');
    assert.equal(session.remotePort, client.socket.localPort);
    assert.equal(session.service, service);
    assert.equal(session.service.type, 'server');
    assert.equal(session.service.port, service.port);

    assert.deepEqual(await client.roundTrip(Buffer.from('ping')), Buffer.from('ping'));
    assert.deepEqual(await client.roundTrip(Buffer.from('pong!')), Buffer.from('pong!'));
    await session.until(() => session.bytesSent >= 9, 'onSend to report 9 bytes');
    client.end();
    const cause = await session.untilDisconnected();
    assert.equal(cause.code, 'PEER_CLOSED');

    const hooks = session.hooks;
    assert.equal(hooks[0], 'onConnected');
    assert.equal(hooks.at(-1), 'onDisconnected');
    assert.equal(hooks.filter((h) => h === 'onConnected').length, 1);
    assert.equal(hooks.filter((h) => h === 'onDisconnected').length, 1);
    for (const hook of hooks.slice(1, -1)) assert.ok(hook === 'onRecv' || hook === 'onSend', `unexpected ${hook}`);
    assert.ok(hooks.includes('onRecv') && hooks.includes('onSend'));
    assert.equal(session.records[0]?.connected, true, 'connected during onConnected');
    assert.equal(session.records.at(-1)?.connected, false, 'not connected during onDisconnected');

    assert.equal(session.connected, false);
    assert.equal(session.state, 'closed');
    assert.equal(session.sendResultAfterDisconnect, false, 'send() inside onDisconnected');
    assert.equal(session.send(Buffer.from('late')), false, 'send() after onDisconnected');
    session.disconnect('after the end'); // harmless
    assert.equal(session.remoteAddress, '127.0.0.1', 'kept after close');
    assert.equal(session.remotePort, client.socket.localPort);
    assert.equal(service.sessionCount, 0);

    await service.close();
    assert.equal(session.callsOf('onDisconnected').length, 1);
    assert.equal(session.disconnectCause?.code, 'PEER_CLOSED');
  });

  it('gives each session a distinct, increasing id', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new RecordingSession());
    await RawClient.connect(service.port, { cleanup });
    const first = await collector.nth(0);
    await RawClient.connect(service.port, { cleanup });
    const second = await collector.nth(1);
    assert.ok(Number.isInteger(first.id) && first.id > 0);
    assert.ok(second.id > first.id);
    assert.equal(service.sessionCount, 2);
  });
});

describe('Session onRecv consumed count', () => {
  it('presents the unconsumed tail again in front of the next bytes', async (t) => {
    const cleanup = cleanupAfter(t);
    // Consumes whole 4-byte records only.
    const make = (): RecordingSession => new RecordingSession({ recv: (_s, buffer) => buffer.length - (buffer.length % 4) });
    const { service, collector } = await startServer(cleanup, make);
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);

    await client.write('abcde');
    await session.untilSeen(5);
    const firstPhase = session.callsOf('onRecv').length;
    await client.write('fgh');
    await session.untilSeen(8);
    const secondPhase = session.callsOf('onRecv').slice(firstPhase);
    assert.ok(secondPhase.length >= 1);
    assert.ok(secondPhase[0]?.bytes?.toString().startsWith('e'), 'the tail "e" comes first');
    assert.equal(secondPhase.at(-1)?.bytes?.toString(), 'efgh');
    assert.equal(secondPhase.at(-1)?.consumed, 4);
    assert.equal(session.connected, true);
  });

  it('holds everything while onRecv consumes nothing, until the whole message is there', async (t) => {
    const cleanup = cleanupAfter(t);
    const messages: string[] = [];
    // Messages are [length u8][bytes]; one message per call, nothing consumed before it is whole.
    const make = (): RecordingSession =>
      new RecordingSession({
        recv(_s, buffer) {
          const length = buffer[0] as number;
          if (buffer.length < 1 + length) return 0;
          messages.push(buffer.subarray(1, 1 + length).toString());
          return 1 + length;
        },
      });
    const { service, collector } = await startServer(cleanup, make);
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);

    await client.write(Buffer.concat([Buffer.from([10]), Buffer.from('abc')]));
    await session.untilSeen(4);
    await client.write('defg');
    await session.untilSeen(8);
    assert.deepEqual(messages, [], 'nothing delivered before the message is whole');
    await client.write('hij');
    await session.until(() => messages.length === 1, 'the message');
    assert.deepEqual(messages, ['abcdefghij']);

    const calls = session.callsOf('onRecv');
    const whole = Buffer.concat([Buffer.from([10]), Buffer.from('abcdefghij')]);
    calls.forEach((call, i) => {
      const bytes = call.bytes as Buffer;
      assert.deepEqual(bytes, whole.subarray(0, bytes.length), `call ${i} sees a prefix of the message`);
      assert.equal(call.consumed, i === calls.length - 1 ? 11 : 0);
      if (i > 0) assert.ok(bytes.length > (calls[i - 1]?.bytes?.length ?? 0), 'held bytes come again');
    });
  });

  it('keeps the stream intact whatever onRecv consumes (seeded random consumption)', async (t) => {
    const cleanup = cleanupAfter(t);
    const random = mulberry32(42);
    const consumedParts: Buffer[] = [];
    const make = (): RecordingSession =>
      new RecordingSession({
        recv(_s, buffer) {
          const n = random() < 0.2 ? 0 : randomInt(random, 0, buffer.length);
          consumedParts.push(Buffer.from(buffer.subarray(0, n)));
          return n;
        },
      });
    const { service, collector } = await startServer(cleanup, make);
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);

    const stream = Buffer.alloc(30_000);
    for (let i = 0; i < stream.length; i++) stream[i] = (i * 7 + (i >>> 8)) & 0xff;
    for (let at = 0; at < stream.length; ) {
      const n = randomInt(random, 1, 3000);
      client.socket.write(stream.subarray(at, at + n));
      at += n;
    }
    await session.untilSeen(stream.length, 10_000);

    const calls = session.callsOf('onRecv');
    for (let i = 1; i < calls.length; i++) {
      const previous = calls[i - 1] as { bytes: Buffer; consumed: number };
      const tail = previous.bytes.subarray(previous.consumed);
      assert.deepEqual((calls[i]?.bytes as Buffer).subarray(0, tail.length), tail, `call ${i} starts with the tail`);
    }
    const last = calls.at(-1) as { bytes: Buffer; consumed: number };
    const rebuilt = Buffer.concat([...consumedParts, last.bytes.subarray(last.consumed)]);
    assert.equal(rebuilt.length, stream.length);
    assert.ok(rebuilt.equals(stream), 'consumed bytes plus the final tail are the stream');
    assert.equal(session.connected, true);
  });
});

describe('Session send', () => {
  it('sends everything passed to send() in one turn as one write, and onSend reports it', async (t) => {
    const cleanup = cleanupAfter(t);
    const pieces = Array.from({ length: 50 }, (_, i) => Buffer.alloc(40, i + 1));
    const total = 50 * 40;
    const make = (): RecordingSession =>
      new RecordingSession({
        recv(session, buffer) {
          for (const piece of pieces) assert.equal(session.send(piece), true);
          assert.equal(session.queuedSendBytes, total);
          return buffer.length;
        },
      });
    const { service, collector } = await startServer(cleanup, make);
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);

    await client.write('go');
    await client.waitForBytes(total);
    await session.until(() => session.bytesSent >= total, `onSend to report ${total} bytes`);
    assert.equal(client.chunks.length, 1, `arrived in ${client.chunks.length} chunks`);
    assert.ok(client.received.equals(Buffer.concat(pieces)), 'bytes in send order');
    assert.deepEqual(
      session.callsOf('onSend').map((c) => c.byteCount),
      [total],
      'one write, reported once with its byte count',
    );
    assert.equal(session.queuedSendBytes, 0);
  });

  it('keeps order and reports every byte for a turn larger than 64 KiB', async (t) => {
    const cleanup = cleanupAfter(t);
    const pieces = Array.from({ length: 100 }, (_, i) => Buffer.alloc(1000, i));
    const total = 100 * 1000;
    const make = (): RecordingSession =>
      new RecordingSession({
        recv(session, buffer) {
          for (const piece of pieces) session.send(piece);
          return buffer.length;
        },
      });
    const { service, collector } = await startServer(cleanup, make);
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);

    await client.write('go');
    await client.waitForBytes(total);
    await session.until(() => session.bytesSent >= total, 'onSend');
    assert.ok(client.received.equals(Buffer.concat(pieces)));
    assert.equal(session.bytesSent, total);
  });

  it('accepts an empty send without writing anything', async (t) => {
    const cleanup = cleanupAfter(t);
    const make = (): RecordingSession =>
      new RecordingSession({
        recv(session, buffer) {
          assert.equal(session.send(Buffer.alloc(0)), true);
          session.send(Buffer.from('ok'));
          return buffer.length;
        },
      });
    const { service, collector } = await startServer(cleanup, make);
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    await client.write('x');
    assert.equal((await client.waitForBytes(2)).toString(), 'ok');
    await session.until(() => session.bytesSent >= 2, 'onSend');
    assert.deepEqual(session.callsOf('onSend').map((c) => c.byteCount), [2]);
  });
});

describe('Session disconnect(reason)', () => {
  it('flushes what was sent, sends FIN, ends with LOCAL_DISCONNECT and the reason; twice is harmless', async (t) => {
    const cleanup = cleanupAfter(t);
    const seen: Array<{ state: string; sendAfter: boolean }> = [];
    const make = (): RecordingSession =>
      new RecordingSession({
        recv(session, buffer) {
          session.send(Buffer.from('farewell'));
          session.disconnect('done here');
          session.disconnect('second call');
          seen.push({ state: session.state, sendAfter: session.send(Buffer.from('more')) });
          return buffer.length;
        },
      });
    const { service, collector } = await startServer(cleanup, make);
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);

    await client.write('bye');
    await client.waitForEnd();
    assert.equal(client.received.toString(), 'farewell');
    const cause = await session.untilDisconnected();
    assert.equal(cause.code, 'LOCAL_DISCONNECT');
    assert.equal(cause.reason, 'done here');
    assert.deepEqual(seen, [{ state: 'closing', sendAfter: false }]);
    session.disconnect('after close');
    assert.equal(session.callsOf('onDisconnected').length, 1);
    assert.equal(service.sessionCount, 0);
  });

  it('destroys the socket after disconnectTimeoutMs when the peer never closes its side', async (t) => {
    const cleanup = cleanupAfter(t);
    const make = (): RecordingSession => new RecordingSession({ connected: (s) => s.disconnect('go away') });
    const { service, collector } = await startServer(cleanup, make, { disconnectTimeoutMs: 100 });
    const client = await RawClient.connect(service.port, { cleanup, allowHalfOpen: true });
    const session = await collector.nth(0);
    await client.waitForEnd();
    // The client keeps its side open; only the linger timer can end the session (default would be 5 s).
    const cause = await session.untilDisconnected(3_000);
    assert.equal(cause.code, 'LOCAL_DISCONNECT');
    assert.equal(cause.reason, 'go away');
    assert.equal(service.sessionCount, 0);
  });
});
