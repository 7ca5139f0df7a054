/**
 * Room game code that throws or rejects anything (jobs, timer jobs, onTick, onEnter, onLeave): each
 * failure is reported to onJobError with the very value and logged through a real pino logger, the
 * room goes on running jobs, and its members keep getting broadcasts. Nothing reaches the process.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Room, type RoomOptions } from '../../src/room/room.js';
import { hostileValues } from '../helpers/hostile-values.js';
import { packet } from '../helpers/packets.js';
import { cleanupAfter, Condition } from '../helpers/wait.js';
import { connectPairs, packetsOf } from './room-fixtures.js';
import type { TrackingSession } from './room-fixtures.js';

type RoomHook = 'onEnter' | 'onLeave' | 'onTick';

function fail(mode: 'throw' | 'reject', value: unknown): Promise<void> {
  if (mode === 'throw') throw value;
  return Promise.reject(value as Error);
}

/** A room whose hooks misbehave while `plan` names them. */
class HostileRoom extends Room<TrackingSession> {
  plan: { hook: RoomHook; mode: 'throw' | 'reject'; value: unknown } | undefined;

  constructor(options: RoomOptions) {
    super(options);
  }

  /** Fails once, as `plan` says, if it names `hook`. */
  #failOnce(hook: RoomHook): Promise<void> | undefined {
    const plan = this.plan;
    if (plan?.hook !== hook) return undefined;
    this.plan = undefined;
    return fail(plan.mode, plan.value);
  }

  protected override onEnter(): void | Promise<void> {
    return this.#failOnce('onEnter');
  }

  protected override onLeave(): void | Promise<void> {
    return this.#failOnce('onLeave');
  }

  protected override onTick(): void | Promise<void> {
    return this.#failOnce('onTick');
  }
}

describe('room code cannot crash the process', () => {
  it('jobs, timer jobs, onTick, onEnter and onLeave that throw or reject anything are reported; the room goes on', async (t) => {
    const cleanup = cleanupAfter(t);
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => {
      uncaught.push(error);
    };
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
    cleanup.add(() => {
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onUncaught);
    });
    const reported: unknown[] = [];
    const changed = new Condition();
    const logLines: string[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          logLines.push(chunk.toString());
          done();
        },
      }),
    );
    const room = new HostileRoom({
      logger,
      tickIntervalMs: 5,
      onJobError: (error) => {
        reported.push(error);
        changed.notify();
      },
    });
    cleanup.add(() => room.close());
    const pairs = await connectPairs(cleanup, 2);
    const member = pairs[0] as (typeof pairs)[number];
    const other = pairs[1] as (typeof pairs)[number];
    room.doAsync(() => room.enter(member.session));
    let broadcasts = 0;

    /** One failure of `what` with `value`: reported once with the value itself; a broadcast still arrives. */
    async function expectReported(what: string, value: unknown, cause: () => void): Promise<void> {
      const before = reported.length;
      cause();
      await changed.until(() => reported.length > before, `${what} to be reported`);
      assert.equal(reported[before], value, `${what}: onJobError got the very value`);
      const body = `after ${what}`;
      room.doAsync(() => room.broadcast(packet(7, body)));
      broadcasts++;
      await member.client.waitForBytes(packetsOf(member.client).reduce((n, p) => n + p.size, 0) + 4 + body.length);
      assert.equal(packetsOf(member.client).length, broadcasts);
      assert.equal(member.session.connected, true);
    }

    for (const mode of ['throw', 'reject'] as const) {
      for (const [label, value] of hostileValues()) {
        const what = `${mode} ${label}`;
        await expectReported(`job ${what}`, value, () => room.doAsync(() => fail(mode, value)));
        await expectReported(`timer job ${what}`, value, () => room.doTimer(1, () => fail(mode, value)));
        await expectReported(`onTick ${what}`, value, () => {
          room.plan = { hook: 'onTick', mode, value };
        });
        await expectReported(`onEnter ${what}`, value, () => {
          room.plan = { hook: 'onEnter', mode, value };
          room.doAsync(() => room.enter(other.session));
        });
        await expectReported(`onLeave ${what}`, value, () => {
          room.plan = { hook: 'onLeave', mode, value };
          room.doAsync(() => room.leave(other.session));
        });
      }
    }
    assert.deepEqual(uncaught, [], 'nothing went uncaught');
    assert.ok(logLines.filter((line) => line.includes('queue goes on')).length >= reported.length);
    for (const line of logLines) JSON.parse(line);
  });
});
