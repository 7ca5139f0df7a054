import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { BotRunner } from '../../../src/loadtest/harness/bot-runner.js';
import { echoBot } from '../../../src/loadtest/bots/echo-bot.js';
import type { WorkerConfig } from '../../../src/loadtest/harness/ipc-messages.js';
import { LatencyAccumulator } from '../../../src/loadtest/harness/latency-histogram.js';
import { runLoadTest } from '../../../src/loadtest/harness/run-load-test.js';
import { PacketRecorder } from '../../helpers/packet-recorder.js';
import { freePort, startServer } from '../../helpers/services.js';
import { cleanupAfter } from '../../helpers/wait.js';
import { ServiceDrainedError } from '../../../src/core/errors.js';

/** A server that echoes two packets per session and closes the session on the third. */
function dropOnThirdPacket(): PacketRecorder {
  return new PacketRecorder((session, id, body) => {
    if (session.packets.length >= 3) session.disconnect('third packet');
    else session.sendPacket(id, body);
  });
}

function workerConfig(port: number, fields: Partial<WorkerConfig> = {}): WorkerConfig {
  return {
    workerIndex: 0,
    bot: 'echo',
    botOptions: { intervalMs: 10, message: 'ramp', size: undefined, extra: {} },
    host: '127.0.0.1',
    port,
    transport: 'tcp',
    sessions: 10,
    rampPerSecond: 0,
    connectConcurrency: 256,
    connectTimeoutMs: 5_000,
    reconnect: true,
    reconnectDelayMs: 50,
    drainTimeoutMs: 1_000,
    ...fields,
  };
}

/** A WebSocket server whose sessions end as a draining server ends them (SERVICE_DRAINED, close 1012) on their third packet. */
class DrainOnThirdPacket extends PacketRecorder {
  constructor() {
    super((session, id, body) => {
      if (session.packets.length >= 3) (session as DrainOnThirdPacket).drained();
      else session.sendPacket(id, body);
    });
  }
  drained(): void {
    this.closeWithError(new ServiceDrainedError(100, false));
  }
}

describe('sessions that drop, reconnects and failed connects', { timeout: 20_000 }, () => {
  it('a session the server drained (close 1012, SERVICE_DRAINED) reconnects at once, without backoff, and is not unexpected', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service } = await startServer(cleanup, () => new DrainOnThirdPacket(), { maxSessionCount: 100, ws: { port: 0 } });
    const report = await runLoadTest({
      port: service.wsPort as number,
      transport: 'ws',
      sessions: 4,
      workers: 1,
      durationMs: 1_000,
      intervalMs: 0,
      reconnectDelayMs: 60_000, // a backoff would allow no reconnect within the run
    });
    const { totals } = report;
    assert.ok(totals.connects > 8, `connects ${totals.connects}: reconnected at once; ${JSON.stringify(totals)}`);
    assert.ok((totals.disconnectsByCause['SERVICE_DRAINED'] ?? 0) > 4, JSON.stringify(totals));
    assert.equal(totals.unexpectedDisconnectsByCause['SERVICE_DRAINED'], undefined, 'a drain is expected');
  });

  it('reopens sessions that the server closes, counting reconnects, the causes and the lost requests', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service } = await startServer(cleanup, dropOnThirdPacket, { maxSessionCount: 100 });
    const report = await runLoadTest({
      port: service.port,
      sessions: 4,
      workers: 2,
      durationMs: 1_000,
      intervalMs: 0,
      reconnectDelayMs: 50,
    });
    const { totals } = report;
    assert.ok(totals.connects > 4, `connects ${totals.connects}`);
    assert.equal(service.acceptedCount, totals.connects, 'every connect reached the server');
    assert.ok(totals.reconnects >= totals.connects - 4, `reconnects ${totals.reconnects}`);
    assert.ok((totals.unexpectedDisconnectsByCause['PEER_CLOSED'] ?? 0) > 0, JSON.stringify(totals));
    assert.equal(totals.unanswered, totals.unexpectedDisconnects, 'each dropped session lost its third request');
    assert.equal(totals.packetsSent, totals.packetsReceived + totals.unanswered);
    assert.equal(report.passed, false);
  });

  it('with reconnect off, a dropped session stays closed', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service } = await startServer(cleanup, dropOnThirdPacket, { maxSessionCount: 100 });
    const report = await runLoadTest({
      port: service.port,
      sessions: 4,
      workers: 2,
      durationMs: 500,
      intervalMs: 0,
      reconnect: false,
    });
    const { totals } = report;
    assert.equal(totals.connects, 4);
    assert.equal(totals.reconnects, 0);
    assert.deepEqual(totals.unexpectedDisconnectsByCause, { PEER_CLOSED: 4 });
    assert.equal(totals.unanswered, 4);
    assert.equal(totals.packetsSent, 12);
    assert.equal(report.errors, 8);
  });

  it('counts failed connects by error code, and fails the run', async () => {
    const port = await freePort();
    const report = await runLoadTest({ port, sessions: 3, workers: 1, durationMs: 300, reconnect: false });
    assert.equal(report.totals.connects, 0);
    assert.deepEqual(report.totals.connectFailuresByCode, { ECONNREFUSED: 3 });
    assert.equal(report.errors, 3);
    assert.equal(report.passed, false);
  });

  it('in one process: the ramp spreads the connects, stop() drains and closes every session', async (t) => {
    const cleanup = cleanupAfter(t);
    const acceptedAt: number[] = [];
    const { service, collector } = await startServer(
      cleanup,
      () => {
        acceptedAt.push(performance.now());
        return new PacketRecorder((session, id, body) => session.sendPacket(id, body));
      },
      { maxSessionCount: 100 },
    );
    const runner = new BotRunner(workerConfig(service.port, { rampPerSecond: 20 }), echoBot);
    cleanup.add(() => runner.abort());
    runner.start();
    // Each bot sends on connect: once every server session has a packet, every bot is open.
    for (let i = 0; i < 10; i++) await (await collector.nth(i, 5_000)).untilPackets(1);
    // 10 sessions at 20/s: the first at once, the last 450 ms later (the ramp releases every 20 ms).
    const spread = (acceptedAt[9] ?? 0) - (acceptedAt[0] ?? 0);
    assert.ok(spread >= 400, `ramp spread ${spread.toFixed(0)} ms`);
    const result = await runner.stop();
    assert.equal(result.drained, true);
    assert.equal(runner.sessionCount, 0);
    assert.equal(runner.inFlight, 0);
    const snapshot = runner.snapshot();
    runner.destroy();
    assert.equal(snapshot.connects, 10);
    assert.deepEqual(snapshot.unexpectedDisconnects, {});
    assert.equal(snapshot.packetsSent, snapshot.packetsReceived);
    const latency = new LatencyAccumulator();
    latency.add(snapshot.latency);
    assert.equal(latency.summary().count, snapshot.roundTrips);
    assert.ok(snapshot.latency.max >= snapshot.latency.min && snapshot.latency.min > 0);
    latency.destroy();
  });
});
