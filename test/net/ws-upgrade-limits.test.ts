/**
 * Connections to the WebSocket port before their upgrade, from the attacker's side: silent TCP
 * connections count against maxPendingHandshakes, maxPendingHandshakesPerAddress and
 * maxSessionsPerAddress like TLS handshakes, each is closed at ws.upgradeTimeoutMs, close() ends them
 * at once, and every way one is turned away is counted under its reason.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { REFUSAL_REASONS, REFUSALS } from '../../src/net/listen/refusal.js';
import { ServerService } from '../../src/net/server-service.js';
import { Session } from '../../src/net/session.js';
import { PacketRecorder } from '../helpers/packet-recorder.js';
import { packet } from '../helpers/packets.js';
import { pollUntil } from '../helpers/limits.js';
import { MemoryLogger } from '../helpers/memory-logger.js';
import { startServer } from '../helpers/services.js';
import { cleanupAfter, Condition, waitForEvent, type Cleanup } from '../helpers/wait.js';

/** Opens `count` TCP connections that never send a byte; records when the server closes each. */
async function silent(cleanup: Cleanup, port: number, count: number, localAddress = '127.0.0.1') {
  const closedAt: number[] = [];
  const changed = new Condition();
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closedAt.push(performance.now());
      changed.notify();
    });
    cleanup.add(() => socket.destroy());
    sockets.push(socket);
    await waitForEvent(socket, 'connect');
  }
  return { sockets, closedAt, changed };
}

async function echoOverWs(cleanup: Cleanup, port: number): Promise<void> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  cleanup.add(() => socket.terminate());
  await waitForEvent(socket, 'open');
  socket.send(packet(5, 'real'));
  const [data] = await waitForEvent<[Buffer]>(socket, 'message');
  assert.deepEqual(data, packet(5, 'real'));
}

const echo = (session: PacketRecorder, id: number, body: Buffer): void => void session.sendPacket(id, body);

describe('connections to the WebSocket port before their upgrade', () => {
  it('count against maxPendingHandshakes and the per-address limits; a real client pushes a silent one out', async (t) => {
    const cleanup = cleanupAfter(t);
    const logger = new MemoryLogger();
    const { service } = await startServer(cleanup, () => new PacketRecorder(echo), {
      ws: { port: 0 },
      maxPendingHandshakes: 4,
      maxPendingHandshakesPerAddress: 3,
      logger,
    });
    const wsPort = service.wsPort as number;
    const first = await silent(cleanup, wsPort, 5, '127.0.0.2');
    await first.changed.until(() => first.closedAt.length === 2, 'two refused past the per-address limit');
    assert.equal(service.pendingHandshakeCount, 3);
    assert.equal(service.counters.refused.per_address, 2);
    const second = await silent(cleanup, wsPort, 2, '127.0.0.3');
    await first.changed.until(() => first.closedAt.length === 3, 'one pushed out for the newcomers');
    assert.equal(service.pendingHandshakeCount, 4);
    assert.equal(second.closedAt.length, 0);
    await echoOverWs(cleanup, wsPort);
    assert.equal(service.sessionCount, 1);
    assert.ok(service.pendingHandshakeCount <= 4);
    assert.ok(service.wsUpgradeFailureCount >= 2, `${service.wsUpgradeFailureCount} dropped`);
    assert.ok(logger.at('warn').some((line) => /dropping connections: WebSocket upgrades/.test(line.message)), 'the drops are warned about');

    const perAddress = await startServer(cleanup, () => new Session(), { ws: { port: 0 }, maxSessionsPerAddress: 2 });
    const held = await silent(cleanup, perAddress.service.wsPort as number, 4, '127.0.0.4');
    await held.changed.until(() => held.closedAt.length === 2, 'two refused past maxSessionsPerAddress');
    assert.equal(perAddress.service.pendingHandshakeCount, 2);
    assert.equal(perAddress.service.counters.refused.per_address, 2);
  });

  it('a silent one is closed at ws.upgradeTimeoutMs; close() ends the others at once', async (t) => {
    const cleanup = cleanupAfter(t);
    const upgradeTimeoutMs = 300;
    const { service } = await startServer(cleanup, () => new Session(), { ws: { port: 0, upgradeTimeoutMs } });
    const startedAt = performance.now();
    const early = await silent(cleanup, service.wsPort as number, 3);
    await early.changed.until(() => early.closedAt.length === 3, 'the deadline', 5_000);
    const lived = Math.max(...early.closedAt) - startedAt;
    assert.ok(lived >= upgradeTimeoutMs - 20 && lived < upgradeTimeoutMs + 1000, `closed after ${lived.toFixed(0)} ms`);
    assert.equal(service.counters.refused.ws_upgrade, 3);

    const slow = new ServerService({ port: 0, sessionFactory: () => new Session(), ws: { port: 0 } });
    await slow.start();
    cleanup.add(() => slow.close());
    const late = await silent(cleanup, slow.wsPort as number, 3);
    const closing = performance.now();
    await slow.close();
    const closeMs = performance.now() - closing;
    await late.changed.until(() => late.closedAt.length === 3, 'the held connections to be closed');
    t.diagnostic(`silent connections closed ${lived.toFixed(0)} ms after connecting (upgradeTimeoutMs ${upgradeTimeoutMs}); close() with 3 held: ${closeMs.toFixed(0)} ms`);
    assert.ok(closeMs < 500, `close() took ${closeMs.toFixed(0)} ms`);
    assert.equal(slow.counters.refused.closing, 3);
  });

  it('every refusal reason is one row of REFUSALS with its label; counted without parsing text', async (t) => {
    const labels = new Set(Object.values(REFUSALS).map((row) => row.reason));
    assert.deepEqual([...labels].sort(), [...REFUSAL_REASONS].sort(), 'every label has a row and every row a label');
    for (const [name, row] of Object.entries(REFUSALS)) {
      if (row.advice === undefined) continue;
      const advice = row.advice({
        maxSessionCount: 1,
        maxSessionsPerAddress: 1,
        maxPendingHandshakes: 1,
        maxPendingHandshakesPerAddress: 1,
        tlsHandshakeTimeoutMs: 1,
        wsUpgradeTimeoutMs: 1,
        wsPath: '/ws',
        fileLimit: 256,
      });
      assert.match(advice, /option|ulimit|ws\.path/, `${name}: its advice names what to change`);
    }
    const cleanup = cleanupAfter(t);
    const { service } = await startServer(cleanup, () => new Session(), { ws: { port: 0 } });
    const wrongPath = new WebSocket(`ws://127.0.0.1:${service.wsPort}/elsewhere`);
    wrongPath.on('error', () => undefined);
    cleanup.add(() => wrongPath.terminate());
    const [, response] = await waitForEvent<[unknown, { statusCode: number }]>(wrongPath, 'unexpected-response');
    assert.equal(response.statusCode, 404);
    await pollUntil(() => service.counters.refused.ws_path === 1, 'the 404 counted');
    assert.equal(service.counters.byTransport.get('ws')?.refused.ws_path, 1);
    assert.equal(service.refusedCount, 1);
  });
});
