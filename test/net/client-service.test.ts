import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import {
  ClientStartError,
  ConnectError,
  ConnectTimeoutError,
  InvalidOptionError,
  ServiceStateError,
} from '../../src/core/errors.js';
import { ClientService } from '../../src/net/client-service.js';
import { Session } from '../../src/net/session.js';
import { echoBehavior, RecordingSession } from '../helpers/recording-session.js';
import { freePort, makeClient, startServer } from '../helpers/services.js';
import { cleanupAfter, waitForEvent, withTimeout } from '../helpers/wait.js';

describe('ClientService against a ServerService', () => {
  it('start() opens maxSessionCount sessions; connect() past the limit rejects', async (t) => {
    const cleanup = cleanupAfter(t);
    const server = await startServer(cleanup, () => new RecordingSession(echoBehavior));
    const client = makeClient(cleanup, () => new RecordingSession(), { port: server.service.port, maxSessionCount: 5 });
    assert.equal(client.service.type, 'client');
    await withTimeout(client.service.start(), 'ClientService.start()');
    assert.equal(client.service.sessionCount, 5);
    assert.equal(client.service.connectingCount, 0);
    await server.collector.nth(4);
    assert.equal(server.service.sessionCount, 5);

    const session = client.collector.sessions[0] as RecordingSession;
    assert.equal(session.connected, true);
    assert.equal(session.service.type, 'client');
    assert.equal(session.remotePort, server.service.port);
    assert.equal(session.remoteAddress, '127.0.0.1');
    assert.equal(session.hooks[0], 'onConnected');

    await assert.rejects(client.service.connect(), (e: unknown) => e instanceof ServiceStateError && e.code === 'GW_ERR_SERVICE_STATE');
    await assert.rejects(client.service.start(), ServiceStateError);
    assert.equal(client.service.sessionCount, 5);
    assert.equal(server.service.refusedCount, 0);
  });

  it('client sessions exchange bytes with server sessions', async (t) => {
    const cleanup = cleanupAfter(t);
    const server = await startServer(cleanup, () => new RecordingSession(echoBehavior));
    const client = makeClient(
      cleanup,
      () => new RecordingSession({ connected: (s) => s.send(Buffer.from(`hello from ${s.id}`)) }),
      { port: server.service.port, maxSessionCount: 3 },
    );
    await withTimeout(client.service.start(), 'start()');
    for (const session of client.collector.sessions) {
      const text = `hello from ${session.id}`;
      await session.untilSeen(text.length);
      assert.equal(Buffer.concat(session.callsOf('onRecv').map((c) => c.bytes as Buffer)).toString(), text);
    }
  });

  it('connect() opens one more session once one has left', async (t) => {
    const cleanup = cleanupAfter(t);
    const server = await startServer(cleanup, () => new RecordingSession());
    const client = makeClient(cleanup, () => new RecordingSession(), { port: server.service.port, maxSessionCount: 2 });
    await client.service.start();
    const first = client.collector.sessions[0] as RecordingSession;
    first.disconnect('making room');
    assert.equal((await first.untilDisconnected()).code, 'LOCAL_DISCONNECT');
    const again = await withTimeout(client.service.connect(), 'connect()');
    assert.equal(again.connected, true);
    assert.equal(client.service.sessionCount, 2);
  });

  it('close() ends client sessions with SERVICE_CLOSING; the server sees PEER_CLOSED', async (t) => {
    const cleanup = cleanupAfter(t);
    const server = await startServer(cleanup, () => new RecordingSession());
    const client = makeClient(cleanup, () => new RecordingSession(), { port: server.service.port, maxSessionCount: 2 });
    await client.service.start();
    const serverSession = await server.collector.nth(1);
    await withTimeout(client.service.close(), 'close()');
    for (const session of client.collector.sessions) assert.equal(session.recordedCause?.code, 'SERVICE_CLOSING');
    assert.equal((await serverSession.untilDisconnected()).code, 'PEER_CLOSED');
    await assert.rejects(client.service.connect(), ServiceStateError);
  });
});

describe('ClientService failures', () => {
  it('start() rejects with ClientStartError of ConnectError ECONNREFUSED when nothing listens', async (t) => {
    const cleanup = cleanupAfter(t);
    const port = await freePort();
    const client = makeClient(cleanup, () => new RecordingSession(), { port, maxSessionCount: 3 });
    const error = await client.service.start().then(
      () => assert.fail('start() resolved'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ClientStartError, String(error));
    assert.equal(error.code, 'GW_ERR_CLIENT_START');
    assert.equal(error.connectedCount, 0);
    assert.equal(error.failures.length, 3);
    for (const failure of error.failures) {
      assert.ok(failure instanceof ConnectError, String(failure));
      assert.equal(failure.code, 'GW_ERR_CONNECT');
      assert.equal(failure.syscallCode, 'ECONNREFUSED');
    }
    assert.match(error.message, /3 of 3/);
    assert.equal(client.service.sessionCount, 0);
    assert.equal(client.collector.sessions.length, 0);
    await withTimeout(client.service.close(), 'close() after a failed start');
  });

  it('connect() rejects with ConnectError when nothing listens', async (t) => {
    const cleanup = cleanupAfter(t);
    const client = makeClient(cleanup, () => new Session(), { port: await freePort() });
    await assert.rejects(
      client.service.connect(),
      (e: unknown) => e instanceof ConnectError && e.syscallCode === 'ECONNREFUSED',
    );
    assert.equal(client.service.connectingCount, 0);
  });

  it('with ws, attempts waiting for the WebSocket connector to load count as connecting, and close() ends them before any connects', async (t) => {
    const cleanup = cleanupAfter(t);
    // Nothing listens there: an attempt that went ahead after close() would fail with ECONNREFUSED.
    const client = makeClient(cleanup, () => new RecordingSession(), { port: await freePort(), ws: {}, maxSessionCount: 3 });
    const started = client.service.start();
    assert.equal(client.service.connectingCount, 3);
    await withTimeout(client.service.close(), 'close() while the connector loads');
    const error = await started.then(
      () => assert.fail('start() resolved'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ClientStartError, String(error));
    assert.equal(error.failures.length, 3);
    for (const failure of error.failures) {
      assert.ok(failure instanceof ServiceStateError, String(failure));
      assert.match(failure.message, /aborted: service closing/);
    }
    assert.equal(client.service.connectingCount, 0);
  });

  it('rejects out-of-range options with InvalidOptionError', () => {
    for (const override of [{ connectTimeoutMs: 0 }, { connectConcurrency: 0 }, { maxSessionCount: 0 }, { port: -1 }]) {
      assert.throws(
        () => new ClientService({ port: 1, sessionFactory: () => new Session(), ...override }),
        InvalidOptionError,
        JSON.stringify(override),
      );
    }
  });

  it('times out connection attempts to a listener whose accept queue is full (loopback only)', async (t) => {
    const cleanup = cleanupAfter(t);
    // A child process listens with backlog 1 and then never returns to its event loop, so it never
    // accepts: once the kernel's accept queue is full, further SYNs are dropped and connects hang.
    const source = `
      const server = require('node:net').createServer();
      server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
        console.log(server.address().port);
        const end = Date.now() + 20000;
        while (Date.now() < end) {}
      });`;
    const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = waitForEvent(child, 'exit', 'the stuck listener to exit', 25_000);
    cleanup.add(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    const lines = createInterface({ input: child.stdout });
    const [line] = await waitForEvent<[string]>(lines, 'line', 'the listener port');
    lines.close();
    const port = Number(line);
    assert.ok(port > 0);

    const client = makeClient(cleanup, () => new Session(), {
      port,
      maxSessionCount: 5,
      connectConcurrency: 1, // one attempt at a time: the first fill the queue, the rest hang
      connectTimeoutMs: 300,
      closeGraceMs: 100,
    });
    const error = await withTimeout(client.service.start(), 'start()', 10_000).then(
      () => assert.fail('start() resolved although the listener never accepts'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ClientStartError, String(error));
    assert.ok(error.failures.length >= 1);
    assert.equal(error.connectedCount + error.failures.length, 5);
    for (const failure of error.failures) {
      assert.ok(failure instanceof ConnectTimeoutError, String(failure));
      assert.equal(failure.code, 'GW_ERR_CONNECT_TIMEOUT');
    }
    assert.equal(client.service.connectingCount, 0);
    child.kill('SIGKILL');
    await exited;
    await withTimeout(client.service.close(), 'close()');
  });
});
