/**
 * Careless configuration and factories, as a new user writes them: a port from process.env (a string),
 * timer options past Node's timer range, a session factory that returns something else than a new
 * Session, and a server at maxSessionCount that must say so at once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidOptionError, SessionFactoryError } from '../../src/core/errors.js';
import { MAX_TIMER_MS } from '../../src/core/timer-range.js';
import { JobQueue } from '../../src/jobs/job-queue.js';
import { echoBot } from '../../src/loadtest/bots/echo-bot.js';
import { resolveLoadTestConfig } from '../../src/loadtest/harness/load-test-config.js';
import { ClientService } from '../../src/net/client-service.js';
import { ServerService } from '../../src/net/server-service.js';
import { Session } from '../../src/net/session.js';
import { PacketSession } from '../../src/packet/packet-session.js';
import { Room } from '../../src/room/room.js';
import { EchoSession } from '../../src/samples/echo-session.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer } from '../helpers/services.js';
import { cleanupAfter, Condition } from '../helpers/wait.js';
import { MemoryLogger } from '../helpers/memory-logger.js';

const factory = (): Session => new Session();

class QuietPacketSession extends PacketSession {
  protected override onRecvPacket(): void {}
}

describe('packet limits live in the service option `packet`', () => {
  it('a packet limit given where it used to be (a JavaScript caller) is refused, saying where it goes', () => {
    const loose = (options: object): object => options;
    assert.throws(() => new ServerService({ port: 0, sessionFactory: factory, ...loose({ maxPacketsPerSecond: 100 }) }), {
      code: 'GW_ERR_INVALID_OPTION',
      message: /option service\.maxPacketsPerSecond must be given as the service option packet\.maxPacketsPerSecond/,
    });
    for (const name of ['maxPacketSize', 'heartbeatIntervalMs']) {
      assert.throws(() => new QuietPacketSession(loose({ [name]: 100 }) as never), {
        code: 'GW_ERR_INVALID_OPTION',
        message: new RegExp(`option PacketSession\\.${name} must be given as the service option packet\\.${name}`),
      });
    }
  });

  it('`packet` must be an object, and each of its values is checked by name', () => {
    assert.throws(() => new ServerService({ port: 0, sessionFactory: factory, packet: 7 as never }), { message: /option packet must be an object/ });
    assert.throws(() => new ClientService({ port: 1, sessionFactory: factory, packet: { maxPacketsPerSecond: -1 } }), {
      message: /option packet\.maxPacketsPerSecond must be an integer >= 0, got -1/,
    });
  });
});

describe('options as users get them wrong', () => {
  it("port '7777' (a string, as from process.env) gets a message that shows the type", () => {
    assert.throws(
      () => new ServerService({ port: '7777' as unknown as number, sessionFactory: factory }),
      (error: unknown) =>
        error instanceof InvalidOptionError &&
        error.code === 'GW_ERR_INVALID_OPTION' &&
        error.message.includes('option port') &&
        error.message.includes('"7777" (string)'),
    );
  });

  it("every timer option past Node's timer range (2^31 ms) is refused, not turned into a 1 ms timer", () => {
    const tooLong = MAX_TIMER_MS + 1;
    const makers: Array<[string, () => unknown]> = [
      ['idleTimeoutMs', () => new ServerService({ port: 0, sessionFactory: factory, idleTimeoutMs: tooLong })],
      ['disconnectTimeoutMs', () => new ServerService({ port: 0, sessionFactory: factory, disconnectTimeoutMs: tooLong })],
      ['closeGraceMs', () => new ServerService({ port: 0, sessionFactory: factory, closeGraceMs: tooLong })],
      ['connectTimeoutMs', () => new ClientService({ port: 1, sessionFactory: factory, connectTimeoutMs: tooLong })],
      ['tls.handshakeTimeout', () => new ServerService({ port: 0, sessionFactory: factory, tls: { handshakeTimeout: tooLong } })],
      ['packet.heartbeatIntervalMs', () => new ServerService({ port: 0, sessionFactory: factory, packet: { heartbeatIntervalMs: tooLong } })],
      ['tickIntervalMs', () => new Room({ tickIntervalMs: tooLong })],
      ['delayMs', () => new JobQueue().doTimer(tooLong, () => undefined)],
      ['intervalMs', () => resolveLoadTestConfig({ port: 7777, intervalMs: tooLong }, echoBot)],
      ['connectTimeoutMs', () => resolveLoadTestConfig({ port: 7777, connectTimeoutMs: tooLong }, echoBot)],
      ['drainTimeoutMs', () => resolveLoadTestConfig({ port: 7777, drainTimeoutMs: tooLong }, echoBot)],
      ['durationMs', () => resolveLoadTestConfig({ port: 7777, durationMs: tooLong }, echoBot)],
      ['reconnectDelayMs', () => resolveLoadTestConfig({ port: 7777, reconnectDelayMs: tooLong / 16 }, echoBot)],
    ];
    for (const [name, make] of makers) {
      assert.throws(make, (error: unknown) => error instanceof InvalidOptionError && error.message.includes(name), name);
    }
    // The largest value Node holds is still accepted.
    new ServerService({ port: 0, sessionFactory: factory, idleTimeoutMs: MAX_TIMER_MS });
  });
});

describe('a sessionFactory that does not return a new Session', () => {
  it('drops the connection with a typed, logged error; the service stays consistent and closes', async (t) => {
    const cleanup = cleanupAfter(t);
    const logger = new MemoryLogger();
    let liveSession: Session | undefined;
    const results: Array<[string, () => unknown]> = [
      ['a plain object', () => ({})],
      ['undefined', () => undefined],
      ['a promise that rejects', () => Promise.reject(new Error('async factory'))],
      ['a throw', () => {
        throw new Error('factory threw');
      }],
      ['a session already in use', () => liveSession],
    ];
    let next = -1;
    const { service } = await startServer(
      cleanup,
      () => {
        const make = results[next]?.[1];
        return (make === undefined ? new EchoSession() : make()) as Session;
      },
      { logger, maxSessionCount: 10 },
    );
    // The "already in use" session is attached to a live connection first.
    next = 5;
    const owner = await RawClient.connect(service.port, { cleanup });
    await new Condition().until(() => service.sessionCount === 1, 'the first session');
    liveSession = [...service.sessions][0];
    for (let i = 0; i < results.length; i++) {
      next = i;
      const client = await RawClient.connect(service.port, { cleanup });
      await client.waitForClose();
      assert.equal(service.factoryFailureCount, i + 1, `${results[i]?.[0]}: counted`);
      assert.equal(service.sessionCount, 1, `${results[i]?.[0]}: the live set is untouched`);
    }
    const errors = logger.at('error').filter((line) => line.message.includes('session factory failed'));
    assert.equal(errors.length, 1, 'logged at once, then rate-limited');
    const err = errors[0]?.fields['err'];
    assert.ok(err instanceof SessionFactoryError);
    assert.equal(err.code, 'GW_ERR_SESSION_FACTORY');
    assert.match(err.message, /returned object|returned \{\}|returned Object/);
    // The live session is untouched and the service closes cleanly.
    next = 5;
    const echoed = await owner.roundTrip(Buffer.from([5, 0, 1, 0, 9]));
    assert.deepEqual([...echoed], [5, 0, 1, 0, 9]);
    await service.close();
    assert.equal(service.sessionCount, 0);
  });

  it('ClientService.connect() rejects with SessionFactoryError', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service: server } = await startServer(cleanup, () => new Session());
    const client = new ClientService({ port: server.port, sessionFactory: () => ({}) as Session });
    cleanup.add(() => client.close());
    await assert.rejects(client.connect(), SessionFactoryError);
    assert.equal(client.sessionCount, 0);
    assert.equal(client.factoryFailureCount, 1);
  });
});

describe('a server at its limit says so at once', () => {
  it('warns on the first refusal past maxSessionCount, naming the option, then rate-limits', async (t) => {
    const cleanup = cleanupAfter(t);
    const logger = new MemoryLogger();
    const { service } = await startServer(cleanup, () => new Session(), { logger, maxSessionCount: 1 });
    await RawClient.connect(service.port, { cleanup });
    await new Condition().until(() => service.sessionCount === 1, 'the first session');
    for (let i = 0; i < 3; i++) {
      const refused = await RawClient.connect(service.port, { cleanup });
      await refused.waitForClose();
    }
    assert.equal(service.refusedCount, 3);
    const warnings = logger.at('warn');
    assert.equal(warnings.length, 1, 'one warning, at the first refusal');
    assert.match(warnings[0]?.message ?? '', /maxSessionCount/);
    assert.match(warnings[0]?.message ?? '', /--max-sessions/);
    assert.equal(warnings[0]?.fields['refusedSinceLastWarning'], 1);
  });
});
