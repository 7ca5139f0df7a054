import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { InvalidOptionError, ListenError, ServiceStateError } from '../../src/core/errors.js';
import { ServerService } from '../../src/net/server-service.js';
import { Session } from '../../src/net/session.js';
import { RawClient } from '../helpers/raw-client.js';
import { echoBehavior, RecordingSession } from '../helpers/recording-session.js';
import { startServer } from '../helpers/services.js';
import { cleanupAfter, waitForEvent, withTimeout } from '../helpers/wait.js';

const PIECE = 64 * 1024;

describe('ServerService lifecycle', () => {
  it('moves idle -> started -> closed and reports the real port of port 0', async (t) => {
    const cleanup = cleanupAfter(t);
    const service = new ServerService({ port: 0, sessionFactory: () => new Session() });
    cleanup.add(() => service.close());
    assert.equal(service.state, 'idle');
    assert.equal(service.type, 'server');
    assert.equal(service.host, '127.0.0.1');
    await service.start();
    assert.equal(service.state, 'started');
    assert.ok(service.port > 0);
    await assert.rejects(service.start(), ServiceStateError);
    await service.close();
    assert.equal(service.state, 'closed');
    assert.equal(service.closing, true);
    await assert.rejects(service.start(), ServiceStateError);
  });

  it('rejects out-of-range options with InvalidOptionError', () => {
    const sessionFactory = (): Session => new Session();
    const bad: Array<Record<string, unknown>> = [
      { port: -1 },
      { port: 65536 },
      { port: 1.5 },
      { maxSessionCount: 0 },
      { recvBufferSize: 15 },
      { closeGraceMs: -1 },
      { disconnectTimeoutMs: -1 },
      { backlog: 0 },
      { sessionFactory: 'nope' },
    ];
    for (const override of bad) {
      assert.throws(
        () => new ServerService({ port: 0, sessionFactory, ...override } as never),
        (error: unknown) => error instanceof InvalidOptionError && error.code === 'GW_ERR_INVALID_OPTION',
        JSON.stringify(override),
      );
    }
  });

  it('start() rejects with ListenError EADDRINUSE when the port is taken', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service: first } = await startServer(cleanup, () => new Session());
    const second = new ServerService({ port: first.port, sessionFactory: () => new Session() });
    cleanup.add(() => second.close());
    const error = await second.start().then(
      () => assert.fail('second start() resolved'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ListenError, String(error));
    assert.equal(error.code, 'GW_ERR_LISTEN');
    assert.equal(error.syscallCode, 'EADDRINUSE');
    assert.equal(second.state, 'closed');
    await second.close();
    assert.equal(first.state, 'started', 'the first service is unaffected');
  });

  for (const host of ['256.1.1.1', 'not a host']) {
    it(`start() rejects with ListenError for the bad address '${host}'`, async (t) => {
      const cleanup = cleanupAfter(t);
      const service = new ServerService({ host, port: 0, sessionFactory: () => new Session() });
      cleanup.add(() => service.close());
      const error = await service.start().then(
        () => assert.fail('start() resolved'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof ListenError, String(error));
      assert.equal(error.code, 'GW_ERR_LISTEN');
      assert.equal(typeof error.syscallCode, 'string');
      assert.match(error.message, new RegExp(host));
    });
  }
});

describe('ServerService maxSessionCount', () => {
  it('closes connections past the limit at once, leaves the live ones alone, accepts again after one leaves', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new RecordingSession(echoBehavior), {
      maxSessionCount: 2,
    });
    const a = await RawClient.connect(service.port, { cleanup });
    const sessionA = await collector.nth(0);
    const b = await RawClient.connect(service.port, { cleanup });
    await collector.nth(1);
    assert.equal(service.sessionCount, 2);

    const c = await RawClient.connect(service.port, { cleanup });
    await c.waitForClose();
    assert.equal(c.byteCount, 0);
    assert.equal(service.refusedCount, 1);
    assert.equal(service.acceptedCount, 2);
    assert.equal(collector.sessions.length, 2, 'no session is made for a refused connection');
    assert.deepEqual(await a.roundTrip(Buffer.from('a still echoes')), Buffer.from('a still echoes'));
    assert.deepEqual(await b.roundTrip(Buffer.from('b still echoes')), Buffer.from('b still echoes'));

    a.end();
    await sessionA.untilDisconnected();
    assert.equal(service.sessionCount, 1);
    const d = await RawClient.connect(service.port, { cleanup });
    const sessionD = await collector.nth(2);
    assert.deepEqual(await d.roundTrip(Buffer.from('d is in')), Buffer.from('d is in'));
    assert.equal(sessionD.connected, true);
    assert.equal(service.sessionCount, 2);
    assert.equal(service.refusedCount, 1);
    assert.equal(service.acceptedCount, 3);
  });
});

describe('ServerService close()', () => {
  it('flushes every queued byte to every peer, ends each session with SERVICE_CLOSING, then resolves', async (t) => {
    const cleanup = cleanupAfter(t);
    const pieces = Array.from({ length: 32 }, (_, i) => Buffer.alloc(PIECE, i + 1)); // 2 MiB
    const expected = Buffer.concat(pieces);
    const make = (): RecordingSession =>
      new RecordingSession({
        connected(session) {
          for (const piece of pieces) session.send(piece);
        },
      });
    // 2 MiB queued at once is past the default maxSendQueueBytes (1 MiB), so allow it here.
    const { service, collector } = await startServer(cleanup, make, { maxSendQueueBytes: 4 * 1024 * 1024 });
    const clients = [
      await RawClient.connect(service.port, { cleanup }),
      await RawClient.connect(service.port, { cleanup }),
    ];
    await collector.nth(1); // both sessions made; the second one's bytes are still queued

    const first = service.close();
    const second = service.close();
    assert.equal(first, second, 'close() twice returns the same promise');
    assert.equal(service.closing, true);
    const doneAtResolve = first.then(() => collector.sessions.map((s) => s.callsOf('onDisconnected').length));

    for (const client of clients) {
      await client.waitForEnd(15_000);
      assert.equal(client.byteCount, expected.length, 'every byte before the FIN');
      assert.ok(client.received.equals(expected), 'bytes intact and in order');
    }
    assert.deepEqual(await withTimeout(doneAtResolve, 'close()', 15_000), [1, 1]);
    for (const session of collector.sessions) {
      assert.equal(session.recordedCause?.code, 'SERVICE_CLOSING');
      assert.equal(session.hooks.at(-1), 'onDisconnected');
    }
    assert.equal(service.state, 'closed');
    assert.equal(service.sessionCount, 0);
    await service.close(); // again, after it closed

    const late = connect({ host: '127.0.0.1', port: service.port });
    const [error] = await waitForEvent<[NodeJS.ErrnoException]>(late, 'error');
    assert.equal(error.code, 'ECONNREFUSED', 'no longer listening');
    late.destroy();
  });

  it('destroys sessions after closeGraceMs when a peer never reads', async (t) => {
    const cleanup = cleanupAfter(t);
    const piece = Buffer.alloc(PIECE, 0x5a);
    let closing: Promise<void> | undefined;
    let service: ServerService<RecordingSession> | undefined;
    const make = (): RecordingSession =>
      new RecordingSession({
        recv(session, buffer) {
          for (let i = 0; i < 512; i++) session.send(piece); // 32 MiB: far more than socket buffers hold
          closing = service?.close();
          return buffer.length;
        },
      });
    // disconnectTimeoutMs is long, so only the close grace can end the session in time.
    const started = await startServer(cleanup, make, { closeGraceMs: 200, disconnectTimeoutMs: 60_000 });
    service = started.service;
    const client = await RawClient.connect(service.port, { cleanup });
    client.socket.pause(); // never reads
    const session = await started.collector.nth(0);
    await client.write('go');
    await session.until(() => closing !== undefined, 'close() to be called');
    await withTimeout(closing as Promise<void>, 'close() with a stuck peer', 4_000);
    assert.equal(session.recordedCause?.code, 'SERVICE_CLOSING');
    assert.equal(session.state, 'closed');
    assert.equal(service.state, 'closed');
  });

  it('resolves at once when never started, and when started with no session live', async (t) => {
    const idle = new ServerService({ port: 0, sessionFactory: () => new Session() });
    await withTimeout(idle.close(), 'close() of an idle service');
    assert.equal(idle.state, 'closed');
    const { service } = await startServer(cleanupAfter(t), () => new Session());
    await withTimeout(service.close(), 'close() of a service with no session');
    assert.equal(service.state, 'closed');
  });
});
