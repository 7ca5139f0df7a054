import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DisconnectCause } from '../../src/core/disconnect-cause.js';
import { BadConsumedCountError, HandlerError, RecvBufferOverflowError } from '../../src/core/errors.js';
import { EchoSession } from '../../src/samples/echo-session.js';
import { packet } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { echoBehavior, RecordingSession, type Behavior } from '../helpers/recording-session.js';
import { startServer } from '../helpers/services.js';
import { cleanupAfter, Deferred, withTimeout } from '../helpers/wait.js';

const consumeNothing: Behavior = { recv: () => 0 };

function assertOverflow(cause: DisconnectCause): void {
  assert.equal(cause.code, 'RECV_BUFFER_OVERFLOW');
  assert.ok(cause.error instanceof RecvBufferOverflowError);
  assert.equal(cause.error.code, 'GW_ERR_RECV_BUFFER_OVERFLOW');
}

describe('Session RecvBuffer overflow', () => {
  it('closes with RECV_BUFFER_OVERFLOW when one write exceeds recvBufferSize and nothing is consumed', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new RecordingSession(consumeNothing), {
      recvBufferSize: 64,
    });
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    await client.write(Buffer.alloc(100, 1));
    assertOverflow(await session.untilDisconnected());
    await client.waitForEnd();
  });

  it('holds unconsumed bytes below recvBufferSize, and overflows once they fill it', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new RecordingSession(consumeNothing), {
      recvBufferSize: 64,
    });
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    for (let i = 0; i < 3; i++) {
      await client.write(Buffer.alloc(16, i));
      await session.untilSeen(16 * (i + 1));
    }
    assert.equal(session.connected, true, '48 held bytes fit a 64-byte buffer');
    const held = session.callsOf('onRecv').at(-1)?.bytes as Buffer;
    assert.deepEqual(held, Buffer.concat([Buffer.alloc(16, 0), Buffer.alloc(16, 1), Buffer.alloc(16, 2)]));
    await client.write(Buffer.alloc(16, 3));
    assertOverflow(await session.untilDisconnected());
    await client.waitForEnd();
  });

  it('does not overflow when onRecv keeps consuming from a write larger than recvBufferSize', async (t) => {
    // Contract (errors.ts RecvBufferOverflowError, disconnect-cause.ts RECV_BUFFER_OVERFLOW): overflow is
    // "buffer full while onRecv consumed nothing". Here onRecv consumes one 16-byte record per call.
    const cleanup = cleanupAfter(t);
    const oneRecord: Behavior = { recv: (_s, buffer) => (buffer.length >= 16 ? 16 : 0) };
    const { service, collector } = await startServer(cleanup, () => new RecordingSession(oneRecord), {
      recvBufferSize: 64,
    });
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    await client.write(Buffer.alloc(160, 7));
    client.end();
    const cause = await session.untilDisconnected();
    assert.equal(
      cause.code,
      'PEER_CLOSED',
      `onRecv consumed ${session.callsOf('onRecv').map((c) => c.consumed).join(',')} yet: ${cause.code} (${cause.reason})`,
    );
  });

  it('does not overflow when the same bytes come as 10 held bytes then a write larger than recvBufferSize', async (t) => {
    // Same stream as the test above, but the big write lands on a non-empty RecvBuffer: that path
    // re-presents the bytes while onRecv consumes, so nothing overflows.
    const cleanup = cleanupAfter(t);
    const oneRecord: Behavior = { recv: (_s, buffer) => (buffer.length >= 16 ? 16 : 0) };
    const { service, collector } = await startServer(cleanup, () => new RecordingSession(oneRecord), {
      recvBufferSize: 64,
    });
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    await client.write(Buffer.alloc(10, 7));
    await session.untilSeen(10);
    await client.write(Buffer.alloc(160, 7));
    await session.untilSeen(170);
    client.end();
    const cause = await session.untilDisconnected();
    assert.equal(cause.code, 'PEER_CLOSED', `${cause.code} (${cause.reason})`);
  });

  for (const bad of [-1, 1.5, Number.NaN, 'tooMany', '3']) {
    it(`closes with HANDLER_ERROR / GW_ERR_BAD_CONSUMED_COUNT when onRecv returns ${String(bad)}`, async (t) => {
      const cleanup = cleanupAfter(t);
      const recv = (_s: RecordingSession, buffer: Buffer): number =>
        (bad === 'tooMany' ? buffer.length + 1 : bad) as number;
      const { service, collector } = await startServer(cleanup, () => new RecordingSession({ recv }));
      const client = await RawClient.connect(service.port, { cleanup });
      const session = await collector.nth(0);
      await client.write('abcd');
      const cause = await session.untilDisconnected();
      assert.equal(cause.code, 'HANDLER_ERROR');
      assert.ok(cause.error instanceof BadConsumedCountError);
      assert.equal(cause.error.code, 'GW_ERR_BAD_CONSUMED_COUNT');
      assert.equal(session.callsOf('onRecv').length, 1, 'no further onRecv after a bad count');
      await client.waitForEnd();
    });
  }
});

describe('Session hooks that throw', () => {
  function assertHandlerError(cause: DisconnectCause, hook: string, thrown: Error): void {
    assert.equal(cause.code, 'HANDLER_ERROR');
    assert.ok(cause.error instanceof HandlerError);
    assert.equal(cause.error.code, 'GW_ERR_HANDLER');
    assert.equal(cause.error.hook, hook);
    assert.equal(cause.error.cause, thrown);
  }

  it('onRecv throwing ends only that session; another session keeps echoing', async (t) => {
    const cleanup = cleanupAfter(t);
    const boom = new Error('boom in onRecv');
    const make = (): RecordingSession =>
      new RecordingSession({
        recv(session, buffer) {
          if (buffer[0] === 0x58 /* X */) throw boom;
          return echoBehavior.recv?.(session, buffer) as number;
        },
      });
    const { service, collector } = await startServer(cleanup, make);
    const healthyClient = await RawClient.connect(service.port, { cleanup });
    const healthy = await collector.nth(0);
    const failingClient = await RawClient.connect(service.port, { cleanup });
    const failing = await collector.nth(1);

    await failingClient.write('X marks the spot');
    assertHandlerError(await failing.untilDisconnected(), 'onRecv', boom);
    await failingClient.waitForEnd();

    assert.deepEqual(await healthyClient.roundTrip(Buffer.from('still here')), Buffer.from('still here'));
    assert.equal(healthy.connected, true);
    assert.equal(service.sessionCount, 1);
    assert.equal(failing.callsOf('onDisconnected').length, 1);
  });

  it('onConnected throwing ends only that session; another session keeps echoing', async (t) => {
    const cleanup = cleanupAfter(t);
    const boom = new Error('boom in onConnected');
    let made = 0;
    const make = (): RecordingSession =>
      new RecordingSession({
        ...echoBehavior,
        connected() {
          if (++made === 2) throw boom;
        },
      });
    const { service, collector } = await startServer(cleanup, make);
    const healthyClient = await RawClient.connect(service.port, { cleanup });
    const healthy = await collector.nth(0);
    const failingClient = await RawClient.connect(service.port, { cleanup });
    const failing = await collector.nth(1);

    assertHandlerError(await failing.untilDisconnected(), 'onConnected', boom);
    await failingClient.waitForEnd();
    assert.deepEqual(failing.hooks, ['onConnected', 'onDisconnected']);
    assert.deepEqual(await healthyClient.roundTrip(Buffer.from('fine')), Buffer.from('fine'));
    assert.equal(healthy.connected, true);
  });

  it('onSend throwing ends that session with hook onSend', async (t) => {
    const cleanup = cleanupAfter(t);
    const boom = new Error('boom in onSend');
    const make = (): RecordingSession =>
      new RecordingSession({
        ...echoBehavior,
        sent() {
          throw boom;
        },
      });
    const { service, collector } = await startServer(cleanup, make);
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    await client.write('echo me');
    assertHandlerError(await session.untilDisconnected(), 'onSend', boom);
    await client.waitForEnd();
    assert.equal(client.received.toString(), 'echo me');
  });

  it('onDisconnected throwing still removes the session and lets close() resolve', async (t) => {
    const cleanup = cleanupAfter(t);
    const make = (): RecordingSession =>
      new RecordingSession({
        disconnected() {
          throw new Error('boom in onDisconnected');
        },
      });
    const { service, collector } = await startServer(cleanup, make);
    await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    await withTimeout(service.close(), 'service.close()');
    assert.equal(session.recordedCause?.code, 'SERVICE_CLOSING');
    assert.equal(service.sessionCount, 0);
    assert.equal(service.state, 'closed');
  });
});

describe('Session peer reset', () => {
  it('ends with CONNECTION_RESET when the peer resets in the middle of a packet', async (t) => {
    const cleanup = cleanupAfter(t);
    const seenHalf = new Deferred<void>();
    const disconnected = new Deferred<DisconnectCause>();
    class TracedEcho extends EchoSession {
      protected override onRecv(buffer: Buffer): number {
        const consumed = super.onRecv(buffer);
        if (buffer.length > 0) seenHalf.resolve();
        return consumed;
      }
      protected override onDisconnected(cause: DisconnectCause): void {
        disconnected.resolve(cause);
      }
    }
    const { service } = await startServer(cleanup, () => new TracedEcho());
    const client = await RawClient.connect(service.port, { cleanup });
    const whole = packet(3, Buffer.alloc(200, 9));
    await client.write(whole.subarray(0, 100));
    await withTimeout(seenHalf.promise, 'the server to read half a packet');
    await client.reset();
    const cause = await withTimeout(disconnected.promise, 'onDisconnected');
    assert.equal(cause.code, 'CONNECTION_RESET', `got ${cause.code}: ${cause.reason}`);
    assert.equal(client.received.length, 0, 'half a packet is never echoed');
  });
});
