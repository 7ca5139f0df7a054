/**
 * Game code that throws or rejects anything, from every session hook, as careless code would: each
 * throw or rejection ends that session only (HANDLER_ERROR), the value is described without throwing,
 * a real pino logger (the CLI's) is fed every one of them, and a bystander session keeps echoing.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { DisconnectCause } from '../../src/core/disconnect-cause.js';
import { describeValue } from '../../src/core/describe.js';
import { BadConsumedCountError, HandlerError } from '../../src/core/errors.js';
import type { ServerService } from '../../src/net/server-service.js';
import { createHandlerTable } from '../../src/packet/packet-handler-table.js';
import { PacketSession } from '../../src/packet/packet-session.js';
import { C_CHAT } from '../../src/samples/protocol/packets.js';
import { packet } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer } from '../helpers/services.js';
import { hostileValues } from '../helpers/hostile-values.js';
import { Cleanup, Condition } from '../helpers/wait.js';

type Hook = 'onConnected' | 'onRecv' | 'onSend' | 'onWritableChanged' | 'onRecvPacket' | 'handler C_CHAT' | 'onDisconnected';
type Mode = 'throw' | 'reject' | 'return';
interface Plan {
  readonly hook: Hook | 'none';
  readonly mode: Mode;
  readonly value: unknown;
}
const CALM: Plan = { hook: 'none', mode: 'throw', value: undefined };

/** Does what the plan says in its hook: throws the value, or returns a promise rejecting with it. */
function act(plan: Plan): Promise<void> | undefined {
  if (plan.mode === 'throw') throw plan.value;
  return Promise.reject(plan.value as Error);
}

const handlers = createHandlerTable<HostileSession, { C_CHAT: typeof C_CHAT }>(
  { C_CHAT },
  {
    C_CHAT: (session) => {
      if (session.plan.hook === 'handler C_CHAT') return act(session.plan);
      session.sendPacket(1, Buffer.from('chat ok'));
      return undefined;
    },
  },
);

/** Echoes packets (id 1) and dispatches C_CHAT; misbehaves in the hook its plan names. */
class HostileSession extends PacketSession {
  cause: DisconnectCause | undefined;
  constructor(
    readonly plan: Plan,
    private readonly changed: Condition,
  ) {
    super();
  }

  protected override onConnected(): void | Promise<void> {
    if (this.plan.hook === 'onConnected') return act(this.plan);
    // Past the 64 KiB high water mark in one turn: onWritableChanged(false) runs inside send().
    if (this.plan.hook === 'onWritableChanged') this.send(Buffer.alloc(200 * 1024, 1));
    return undefined;
  }

  protected override onWritableChanged(writable: boolean): void | Promise<void> {
    if (this.plan.hook === 'onWritableChanged' && !writable) return act(this.plan);
    return undefined;
  }

  protected override onRecv(buffer: Buffer): number {
    if (this.plan.hook !== 'onRecv') return super.onRecv(buffer);
    if (this.plan.mode === 'return') return this.plan.value as number; // a non-number, as careless JS would
    return act(this.plan) as unknown as number; // an async onRecv returns a promise, not a count
  }

  protected override onRecvPacket(id: number, body: Buffer): void | Promise<void> {
    if (this.plan.hook === 'onRecvPacket') return act(this.plan);
    if (id === C_CHAT.id) handlers.dispatch(this, id, body);
    else this.sendPacket(id, body);
    return undefined;
  }

  protected override onSend(): void | Promise<void> {
    if (this.plan.hook === 'onSend') return act(this.plan);
    return undefined;
  }

  protected override onDisconnected(cause: DisconnectCause): void | Promise<void> {
    this.cause = cause;
    this.changed.notify();
    if (this.plan.hook === 'onDisconnected') return act(this.plan);
    return undefined;
  }
}

describe('hooks cannot crash the process', () => {
  const cleanup = new Cleanup();
  const changed = new Condition();
  const logLines: string[] = [];
  const sessions: HostileSession[] = [];
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown): void => {
    uncaught.push(error);
  };
  let nextPlan: Plan = CALM;
  let service: ServerService<HostileSession>;
  let bystander: RawClient;
  let bystanderRounds = 0;

  before(async () => {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
    // The CLI's logger (pino) with its standard serializers, so a value that breaks them is seen.
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    const logger = pino({ level: 'debug' }, sink);
    ({ service } = await startServer(
      cleanup,
      () => {
        const session = new HostileSession(nextPlan, changed);
        sessions.push(session);
        return session;
      },
      { logger, maxSessionCount: 1000 },
    ));
    bystander = await RawClient.connect(service.port, { cleanup });
  });

  after(async () => {
    await cleanup.run();
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
  });

  /** The bystander's echo still works, and nothing reached the process's uncaught handlers. */
  async function assertUntouched(): Promise<void> {
    const body = `round ${++bystanderRounds}`;
    const sent = packet(1, body);
    const before = bystander.received.length;
    await bystander.write(sent);
    const echoed = await bystander.waitForBytes(before + sent.length);
    assert.deepEqual(echoed.subarray(before), sent, 'the bystander is still echoed');
    assert.equal(service.sessions.has(sessions[0] as HostileSession), true, 'the bystander session is live');
    assert.deepEqual(uncaught, [], 'nothing went uncaught');
  }

  /** Connects one client whose session follows `plan`, makes the hook run, and returns its session. */
  async function runPlan(plan: Plan): Promise<HostileSession> {
    nextPlan = plan;
    const made = sessions.length;
    const client = await RawClient.connect(service.port, { cleanup });
    await changed.until(() => sessions.length > made, 'the session to be made');
    const session = sessions[made] as HostileSession;
    nextPlan = CALM;
    const trigger = plan.hook === 'handler C_CHAT' ? Buffer.from(C_CHAT.makeSendBuffer({ msg: 'hi' })) : packet(1, 'x');
    if (plan.hook !== 'onConnected' && plan.hook !== 'onWritableChanged') await client.write(trigger).catch(() => undefined);
    if (plan.hook === 'onDisconnected') client.end();
    await changed.until(() => session.cause !== undefined, `onDisconnected of ${plan.hook} ${plan.mode}`);
    await client.waitForClose();
    return session;
  }

  function assertHandlerError(session: HostileSession, hook: Hook, mode: Mode, value: unknown): void {
    const cause = session.cause as DisconnectCause;
    assert.equal(cause.code, 'HANDLER_ERROR', `${hook} ${mode}: ${cause.code} ${cause.reason}`);
    const error = cause.error;
    assert.ok(error instanceof HandlerError, `${hook} ${mode}: cause.error is a HandlerError`);
    assert.equal(error.code, 'GW_ERR_HANDLER');
    // A handler's synchronous throw passes through onRecvPacket, which names it; its rejection is
    // caught by the table, which names the handler.
    assert.equal(error.hook, hook === 'handler C_CHAT' && mode === 'throw' ? 'onRecvPacket' : hook);
    assert.equal(error.rejected, mode === 'reject');
    assert.equal(error.cause, value, 'cause.error.cause is the very value');
    assert.ok(error.message.includes(describeValue(value)), `message names the value: ${error.message}`);
  }

  for (const hook of ['onConnected', 'onRecv', 'onSend', 'onWritableChanged', 'onRecvPacket', 'handler C_CHAT'] as const) {
    for (const mode of ['throw', 'reject'] as const) {
      if (hook === 'onRecv' && mode === 'reject') continue; // an async onRecv returns no count: below
      it(`${hook} that ${mode}s any value: that session ends with HANDLER_ERROR, the bystander goes on`, async () => {
        for (const [, value] of hostileValues()) {
          const session = await runPlan({ hook, mode, value });
          assertHandlerError(session, hook, mode, value);
          await assertUntouched();
        }
      });
    }
  }

  it('an async onRecv (its promise rejects with any value) ends that session with GW_ERR_BAD_CONSUMED_COUNT', async () => {
    for (const [label, value] of hostileValues()) {
      const session = await runPlan({ hook: 'onRecv', mode: 'reject', value });
      const cause = session.cause as DisconnectCause;
      assert.equal(cause.code, 'HANDLER_ERROR', `${label}: ${cause.code}`);
      assert.ok(cause.error instanceof BadConsumedCountError, label);
      assert.match(cause.error.message, /async onRecv/);
      await new Promise<void>((resolve) => setImmediate(resolve)); // the rejection is handled, not uncaught
      await assertUntouched();
    }
  });

  it('onRecv returning a non-number (a promise, a Proxy, a Symbol …) ends that session only', async () => {
    for (const [label, value] of [...hostileValues(), ['a number out of range', 1e9] as const, ['a promise', Promise.resolve(1)] as const]) {
      const session = await runPlan({ hook: 'onRecv', mode: 'return', value });
      const cause = session.cause as DisconnectCause;
      assert.equal(cause.code, 'HANDLER_ERROR', `${label}: ${cause.code}`);
      assert.ok(cause.error instanceof BadConsumedCountError, label);
      assert.equal(cause.error.code, 'GW_ERR_BAD_CONSUMED_COUNT');
      await assertUntouched();
    }
  });

  it('onDisconnected that throws or rejects anything is logged; later sessions are served', async () => {
    for (const mode of ['throw', 'reject'] as const) {
      for (const [, value] of hostileValues()) {
        const linesBefore = logLines.length;
        const session = await runPlan({ hook: 'onDisconnected', mode, value });
        assert.equal(session.cause?.code, 'PEER_CLOSED');
        await changed.until(() => true, 'a turn');
        await new Promise<void>((resolve) => setImmediate(resolve)); // the rejection handler runs
        assert.ok(
          logLines.slice(linesBefore).some((line) => line.includes('session hook failed')),
          `onDisconnected ${mode} is logged`,
        );
        await assertUntouched();
      }
    }
    const served = await runPlan({ hook: 'handler C_CHAT', mode: 'throw', value: 'still served' });
    assert.equal(served.cause?.code, 'HANDLER_ERROR');
  });

  it('every failure above was logged through pino without breaking it', () => {
    const failures = logLines.filter((line) => line.includes('session hook failed'));
    assert.ok(failures.length >= 6 * 2 * hostileValues().length, `${failures.length} hook failures logged`);
    for (const line of logLines) JSON.parse(line); // every line is whole JSON
  });
});
