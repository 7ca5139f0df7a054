import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { InvalidOptionError } from '../../src/core/errors.js';
import type { MessageType } from '../../src/packet/message-type.js';
import { Room } from '../../src/room/room.js';
import { S_CHAT, type S_CHAT as S_CHAT_MESSAGE } from '../../src/samples/protocol/packets.js';
import { CliProcess } from '../helpers/cli.js';
import { packet } from '../helpers/packets.js';
import { cleanupAfter, withTimeout } from '../helpers/wait.js';
import { connectPairs, CountingRoom, idsOf, packetsOf, range, type Pair, type TrackingSession } from './room-fixtures.js';

const INDEX_URL = new URL('../../src/index.js', import.meta.url).href;

/** Packet number `seq`: id = seq, body = seq as u32 LE; 8 bytes. */
function numbered(seq: number): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt32LE(seq, 0);
  return packet(seq, body);
}

describe('Room enter and leave', () => {
  it('refuses a full room, a second enter, a closing or closed session; leave says if it was a member', async (t) => {
    const cleanup = cleanupAfter(t);
    const pairs = await connectPairs(cleanup, 5);
    const [s0, s1, s2, s3, s4] = pairs.map((p) => p.session) as [
      TrackingSession,
      TrackingSession,
      TrackingSession,
      TrackingSession,
      TrackingSession,
    ];
    const room = new CountingRoom({ maxMembers: 2 });
    cleanup.add(() => room.close());
    assert.equal(room.maxMembers, 2);
    assert.equal(room.enter(s0), true);
    assert.equal(room.enter(s0), false, 'second enter');
    assert.equal(room.enter(s1), true);
    assert.equal(room.enter(s2), false, 'full room');
    assert.equal(room.memberCount, 2);
    assert.deepEqual([...room.members], [s0, s1]);
    assert.equal(room.enters.get(s0), 1);
    assert.equal(room.enters.get(s2), undefined, 'onEnter ran for a refused session');

    assert.equal(room.leave(s2), false, 'leave of a non-member');
    assert.equal(room.leave(s0), true);
    assert.equal(room.leave(s0), false, 'second leave');
    assert.equal(room.leaveCount(s0), 1);
    assert.equal(room.leaveCount(s2), 0);
    assert.equal(room.memberCount, 1);
    assert.equal(room.enter(s2), true, 'a place became free');
    assert.equal(room.leave(s2), true);

    s3.disconnect('closing now');
    assert.equal(s3.state, 'closing');
    assert.equal(room.enter(s3), false, 'closing session');
    await pairs[4]?.client.close();
    await s4.untilDisconnected();
    assert.equal(room.enter(s4), false, 'closed session');
    assert.equal(room.memberCount, 1);
    assert.deepEqual([...room.members], [s1]);
  });

  it('removes a member that disconnects exactly once, and not again on close()', async (t) => {
    const cleanup = cleanupAfter(t);
    const pairs = await connectPairs(cleanup, 3);
    const room = new CountingRoom();
    cleanup.add(() => room.close());
    for (const { session } of pairs) assert.equal(room.enter(session), true);
    const [a, b, c] = pairs as [Pair, Pair, Pair];

    await a.client.close(); // the peer goes away
    await room.until(() => room.leaveCount(a.session) === 1, 'onLeave of the closed member');
    assert.equal(room.memberCount, 2);
    assert.equal(room.members.has(a.session), false);

    b.session.disconnect('kicked'); // the server ends it
    await room.until(() => room.leaveCount(b.session) === 1, 'onLeave of the disconnected member');
    await b.session.untilDisconnected();
    assert.equal(room.memberCount, 1);

    room.close();
    assert.equal(room.memberCount, 0);
    assert.deepEqual(room.leaveLog, [a.session, b.session, c.session]);
    assert.equal(a.session.disconnectCount, 1);
    assert.equal(b.session.disconnectCount, 1);
  });

  it('leave() then disconnect: onLeave runs once, and the closed session is not re-entered', async (t) => {
    const cleanup = cleanupAfter(t);
    const [pair, witness] = (await connectPairs(cleanup, 2)) as [Pair, Pair];
    const room = new CountingRoom();
    cleanup.add(() => room.close());
    assert.equal(room.enter(pair.session), true);
    assert.equal(room.enter(witness.session), true);
    assert.equal(room.leave(pair.session), true);
    assert.equal(room.leaveCount(pair.session), 1);
    await pair.client.close();
    await pair.session.untilDisconnected();
    // A later member event proves the room has processed the closes that came before it.
    await witness.client.close();
    await room.until(() => room.leaveCount(witness.session) === 1, 'onLeave of the witness');
    assert.equal(room.leaveCount(pair.session), 1, 'onLeave ran again when the member that had left disconnected');
    assert.equal(room.enter(pair.session), false);
    assert.equal(room.memberCount, 0);
  });

  it('rejects out-of-range options with InvalidOptionError', () => {
    const bad: Array<Record<string, unknown>> = [
      { maxMembers: 0 },
      { maxMembers: 1.5 },
      { maxMembers: '10' },
      { tickIntervalMs: -1 },
      { tickIntervalMs: Number.NaN },
      { budgetMs: 0 },
    ];
    for (const options of bad) {
      assert.throws(
        () => new Room(options as never),
        (error: unknown) => error instanceof InvalidOptionError,
        JSON.stringify(options),
      );
    }
    assert.equal(new Room().maxMembers, 1000);
  });
});

describe('Room broadcast', () => {
  it('sends the same bytes to every member but the excepted one', async (t) => {
    const cleanup = cleanupAfter(t);
    const pairs = await connectPairs(cleanup, 3);
    const room = new CountingRoom();
    cleanup.add(() => room.close());
    for (const { session } of pairs) room.enter(session);
    const [sender, ...others] = pairs as [Pair, ...Pair[]];
    const first = numbered(1);
    assert.equal(room.broadcast(first, { except: sender.session }), 2);
    const second = numbered(2);
    assert.equal(room.broadcast(second), 3);
    for (const { client, session } of others) {
      await client.waitForBytes(16);
      assert.deepEqual(client.received, Buffer.concat([first, second]));
      assert.equal(session.sent[0]?.bytes, first, 'the bytes were copied instead of shared');
    }
    // Same-session order: the second packet arriving first proves the first never came.
    await sender.client.waitForBytes(8);
    assert.deepEqual(idsOf(sender.client), [2]);
    assert.equal(sender.session.sent.length, 1);
  });

  it('broadcastMessage encodes once and hands every member the same buffer', async (t) => {
    const cleanup = cleanupAfter(t);
    const pairs = await connectPairs(cleanup, 4);
    const room = new CountingRoom();
    cleanup.add(() => room.close());
    for (const { session } of pairs) room.enter(session);
    let encodes = 0;
    const spy: MessageType<S_CHAT_MESSAGE> = {
      ...S_CHAT,
      makeSendBuffer(message) {
        encodes++;
        return S_CHAT.makeSendBuffer(message);
      },
    };
    const message = { playerId: 7, msg: 'hello room', sentAtMs: 1234.5 };
    assert.equal(room.broadcastMessage(spy, message), 4);
    assert.equal(encodes, 1);
    const shared = pairs[0]?.session.sent[0]?.bytes;
    assert.ok(shared !== undefined);
    for (const { client, session } of pairs) {
      assert.equal(session.sent.length, 1);
      assert.equal(session.sent[0]?.bytes, shared, 'a member got its own copy');
      await client.waitForBytes(shared.length);
      const [received] = packetsOf(client);
      assert.equal(received?.id, S_CHAT.id);
      assert.deepEqual(received?.bytes, Buffer.from(shared));
      assert.deepEqual({ ...S_CHAT.decode(received.bytes.subarray(4)) }, message);
    }
    assert.equal(room.broadcastMessage(spy, message, { except: pairs[1]?.session }), 3);
    assert.equal(encodes, 2);
  });

  it('keeps broadcasting to the others when members leave or disconnect inside the loop', async (t) => {
    const cleanup = cleanupAfter(t);
    const pairs = await connectPairs(cleanup, 5);
    const room = new CountingRoom();
    cleanup.add(() => room.close());
    for (const { session } of pairs) room.enter(session);
    const [p0, p1, p2, p3, p4] = pairs as [Pair, Pair, Pair, Pair, Pair];
    // While p1 is being sent packet 20: p3 (not yet visited) is disconnected, p2 (not yet visited) leaves.
    p1.session.beforeSend = (bytes) => {
      if (bytes[2] !== 20) return;
      p3.session.disconnect('kicked mid-broadcast');
      assert.equal(room.leave(p2.session), true);
    };
    const total = 50;
    const counts = range(total).map((seq) => room.broadcast(numbered(seq)));
    assert.deepEqual(counts, [...Array<number>(20).fill(5), ...Array<number>(30).fill(3)]);
    for (const { client } of [p0, p1, p4]) {
      await client.waitForBytes(total * 8);
      assert.deepEqual(idsOf(client), range(total));
    }
    await p3.client.waitForEnd();
    assert.deepEqual(idsOf(p3.client), range(20));
    await room.until(() => room.leaveCount(p3.session) === 1, 'onLeave of the disconnected member');
    // p2 stays connected: a marker sent after the loop shows nothing else was queued for it.
    p2.session.send(numbered(999));
    await p2.client.waitForBytes(21 * 8);
    assert.deepEqual(idsOf(p2.client), [...range(20), 999]);
    assert.equal(room.memberCount, 3);
    room.close();
    assert.deepEqual(
      pairs.map((p) => room.leaveCount(p.session)),
      [1, 1, 1, 1, 1],
    );
  });

  it('keeps broadcasting over many turns while a client socket is destroyed; the member leaves once', async (t) => {
    const cleanup = cleanupAfter(t);
    const pairs = await connectPairs(cleanup, 4);
    const room = new CountingRoom();
    cleanup.add(() => room.close());
    for (const { session } of pairs) room.enter(session);
    const [gone, ...stay] = pairs as [Pair, ...Pair[]];
    const counts: number[] = [];
    let seq = 0;
    let extraAfterLeave = 0;
    await withTimeout(
      (async () => {
        while (extraAfterLeave < 10) {
          counts.push(room.broadcast(numbered(seq)));
          if (seq === 30) gone.client.socket.destroy();
          if (room.leaveCount(gone.session) > 0) extraAfterLeave++;
          seq++;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      })(),
      'the destroyed member to leave while broadcasting',
    );
    for (const { client } of stay) {
      await client.waitForBytes(seq * 8);
      assert.deepEqual(idsOf(client), range(seq));
    }
    assert.equal(room.leaveCount(gone.session), 1);
    assert.equal(room.memberCount, 3);
    assert.deepEqual(counts.slice(0, 31), Array<number>(31).fill(4));
    assert.deepEqual(counts.slice(-10), Array<number>(10).fill(3));
    assert.equal(gone.session.disconnectCount, 1);
  });
});

describe('Room close and tick', () => {
  it('close() removes every member, refuses new ones, drops queued jobs and stops the tick', async (t) => {
    const cleanup = cleanupAfter(t);
    const pairs = await connectPairs(cleanup, 3);
    const room = new CountingRoom({ tickIntervalMs: 10 });
    const witness = new CountingRoom({ tickIntervalMs: 10 });
    cleanup.add(() => room.close());
    cleanup.add(() => witness.close());
    for (const { session } of pairs.slice(0, 2)) room.enter(session);
    await room.until(() => room.ticks.length >= 2, 'two ticks before close');
    let droppedRan = false;
    room.doAsync(() => {
      droppedRan = true;
    });
    room.doTimer(5, () => {
      droppedRan = true;
    });
    room.close();
    room.close(); // a second close does nothing
    assert.equal(room.memberCount, 0);
    assert.deepEqual(room.leaveLog, [pairs[0]?.session, pairs[1]?.session]);
    assert.equal(room.pendingCount, 0);
    assert.equal(room.timerCount, 0);
    assert.equal(room.enter(pairs[2]?.session as TrackingSession), false, 'enter after close');
    const ticksAtClose = room.ticks.length;
    // The witness room ticks at the same rate: after 5 of its ticks the closed room would have ticked too.
    const from = witness.ticks.length;
    await witness.until(() => witness.ticks.length >= from + 5, 'five witness ticks');
    assert.equal(room.ticks.length, ticksAtClose, 'the closed room kept ticking');
    assert.equal(droppedRan, false, 'a job queued before close() ran');
    // Sessions that were members are not affected by the room closing.
    assert.equal(pairs[0]?.session.connected, true);
  });

  it('calls onTick as a job of the room every tickIntervalMs with the elapsed time', async (t) => {
    const errors: unknown[] = [];
    const room = new CountingRoom({ tickIntervalMs: 20, onJobError: (error) => errors.push(error) });
    cleanupAfter(t).add(() => room.close());
    const boom = new Error('tick failed');
    let nestedAfterTick = -1;
    room.tickBehavior = (tick) => {
      if (tick === 2) {
        // Pushed from inside the tick: runs after the tick finished, not inside it.
        room.doAsync(() => {
          nestedAfterTick = room.ticks.length;
        });
      }
      if (tick === 3) throw boom;
    };
    const startedAt = performance.now();
    await room.until(() => room.ticks.length >= 6, 'six ticks', 10_000);
    const wall = performance.now() - startedAt;
    for (const elapsed of room.ticks) assert.ok(elapsed > 0, `elapsed ${elapsed}`);
    // Elapsed times add up to about the wall time (the first is measured from construction).
    const sum = room.ticks.reduce((a, b) => a + b, 0);
    assert.ok(sum <= wall + 5, `ticks add up to ${sum} ms in ${wall} ms`);
    assert.ok(sum >= 6 * 20 * 0.5, `ticks add up to only ${sum} ms`);
    assert.deepEqual(errors, [boom], 'a throwing onTick is reported like any job');
    assert.equal(nestedAfterTick, 2);
  });

  it('a ticking room does not keep the process alive', { timeout: 30_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const script = [
      `import { Room } from ${JSON.stringify(INDEX_URL)};`,
      'const room = new Room({ tickIntervalMs: 60_000 });',
      "room.doTimer(60_000, () => console.log('fired'));",
      "console.log('ticking', room.timerCount);",
    ].join('\n');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const cli = new CliProcess(child);
    cleanup.add(async () => {
      if (!cli.exited) {
        child.kill('SIGKILL');
        await cli.waitForExit();
      }
    });
    assert.equal(await cli.waitForExit(20_000), 0, cli.output());
    assert.deepEqual(cli.stdoutLines, ['ticking 1'], cli.output());
  });
});
