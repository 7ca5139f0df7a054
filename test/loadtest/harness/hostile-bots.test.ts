/**
 * Load-test bots written carelessly: a createSession that returns something else than a Session, and
 * bot sessions whose hooks throw or reject. The harness counts them and goes on; nothing crashes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineBot } from '../../../src/loadtest/bots/bot.js';
import { BotRunner } from '../../../src/loadtest/harness/bot-runner.js';
import type { WorkerConfig } from '../../../src/loadtest/harness/ipc-messages.js';
import type { Session } from '../../../src/net/session.js';
import { PacketSession } from '../../../src/packet/packet-session.js';
import { EchoSession } from '../../../src/samples/echo-session.js';
import { pollUntil } from '../../helpers/limits.js';
import { startServer } from '../../helpers/services.js';
import { cleanupAfter, Condition } from '../../helpers/wait.js';

function config(port: number): WorkerConfig {
  return {
    workerIndex: 0,
    bot: 'test',
    botOptions: { intervalMs: 10, message: 'x', size: undefined, extra: {} },
    host: '127.0.0.1',
    port,
    transport: 'tcp',
    sessions: 4,
    rampPerSecond: 0,
    connectConcurrency: 4,
    connectTimeoutMs: 5_000,
    reconnect: false,
    reconnectDelayMs: 50,
    drainTimeoutMs: 100,
    resume: false,
    chaosCutPercent: 0,
    chaosMethod: 'mixed',
  };
}

/** A bot session whose onRecvPacket rejects (an async handler with a bug). */
class RejectingBotSession extends PacketSession {
  static readonly changed = new Condition();
  static closed = 0;
  protected override onConnected(): void {
    this.sendPacket(1, Buffer.from('hello'));
  }
  protected override async onRecvPacket(): Promise<void> {
    throw Symbol('bot bug');
  }
  protected override onDisconnected(): void {
    RejectingBotSession.closed++;
    RejectingBotSession.changed.notify();
  }
}

describe('careless bots', () => {
  it('a createSession returning a non-Session fails each connect with GW_ERR_SESSION_FACTORY', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service } = await startServer(cleanup, () => new EchoSession());
    const bot = defineBot({ name: 'broken', createSession: () => ({ not: 'a session' }) as unknown as Session });
    const runner = new BotRunner(config(service.port), bot);
    cleanup.add(() => runner.destroy());
    runner.start();
    // The failures have no event of their own: the snapshot is polled (it resets its counters).
    let failures = 0;
    await pollUntil(() => {
      failures += runner.snapshot().connectFailures['GW_ERR_SESSION_FACTORY'] ?? 0;
      return failures >= 4;
    }, 'every connect to fail with GW_ERR_SESSION_FACTORY');
    await pollUntil(() => service.sessionCount === 0, 'the server to see the connections closed');
    await runner.stop();
    assert.equal(runner.sessionCount, 0);
  });

  it('bot sessions whose async onRecvPacket rejects end with HANDLER_ERROR; the run goes on', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service } = await startServer(cleanup, () => new EchoSession());
    const bot = defineBot({ name: 'rejecting', createSession: () => new RejectingBotSession() });
    const runner = new BotRunner(config(service.port), bot);
    cleanup.add(() => runner.destroy());
    runner.start();
    await RejectingBotSession.changed.until(() => RejectingBotSession.closed >= 4, 'every bot session to end');
    const snapshot = runner.snapshot();
    assert.equal(snapshot.unexpectedDisconnects['HANDLER_ERROR'], 4, JSON.stringify(snapshot.unexpectedDisconnects));
    await runner.stop();
  });
});
