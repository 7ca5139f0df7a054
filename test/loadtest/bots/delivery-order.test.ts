/**
 * The bots' check that every message comes exactly once and in order: the pure sequence check, and the
 * echo bot against a server that duplicates, swaps and drops echoes (real sockets, a real worker).
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { disconnectCause, DisconnectCode } from '../../../src/core/disconnect-cause.js';
import type { BotContext } from '../../../src/loadtest/bots/bot.js';
import { ChatLoadBotSession } from '../../../src/loadtest/bots/chat-bot.js';
import { DeliveryOrder } from '../../../src/loadtest/bots/delivery-order.js';
import { runLoadTest } from '../../../src/loadtest/harness/run-load-test.js';
import { cleanupAfter } from '../../helpers/wait.js';

describe('DeliveryOrder', () => {
  it('tells the next number, a gap, a late one and a duplicate apart, per stream', () => {
    const order = new DeliveryOrder();
    assert.equal(order.check(7, 40), 'next', 'a stream starts at its first number seen');
    assert.equal(order.check(7, 41), 'next');
    assert.equal(order.check(7, 44), 'gap', '42 and 43 are missing');
    assert.equal(order.missingCount(), 2);
    assert.equal(order.check(7, 42), 'late', 'a missing one that comes is out of order');
    assert.equal(order.missingCount(), 1);
    assert.equal(order.check(7, 42), 'duplicate', 'and the second time a duplicate');
    assert.equal(order.check(7, 44), 'duplicate');
    assert.equal(order.check(7, 45), 'next');
    assert.equal(order.check(8, 1), 'next', 'another stream is apart');
    assert.equal(order.check(8, 3), 'gap');
    assert.equal(order.missingCount(), 2);
    assert.equal(order.missingCount(8), 1, 'a stream can be left out (the bot counts its own as unanswered)');
  });

  it('a stream started at 1 sees a missing first number', () => {
    const order = new DeliveryOrder();
    order.start(0, 1);
    assert.equal(order.check(0, 2), 'gap');
    assert.equal(order.missingCount(), 1);
  });
});

describe('the chat bot checks every sender', () => {
  it('counts a duplicated, a late and a lost chat of another player, and its own missing chats as not lost', () => {
    const counts = { lost: 0, duplicated: 0, outOfOrder: 0, roundTrips: 0 };
    const context: BotContext = {
      options: { intervalMs: 1000, message: 'hi', size: undefined, extra: {} },
      name: 'w0-s1',
      workerIndex: 0,
      stopping: true,
      inFlight: 0,
      recordSent() {},
      recordRequest() {},
      recordReceived() {},
      recordRoundTrip() {
        counts.roundTrips++;
      },
      count() {},
      recordLost(n = 1) {
        counts.lost += n;
      },
      recordDuplicate(n = 1) {
        counts.duplicated += n;
      },
      recordOutOfOrder(n = 1) {
        counts.outOfOrder += n;
      },
    };
    const bot = new ChatLoadBotSession(context);
    bot.entered(5); // its own player id; stopping, so it sends nothing
    for (const seq of [3, 4, 4, 6, 5, 9]) bot.chatArrived(8, `#${seq} hi`, 0); // 4 twice, 5 late, 7 and 8 never
    for (const seq of [1, 3]) bot.chatArrived(5, `#${seq} hi`, 0); // its own: 2 never came back
    bot.chatArrived(9, 'not numbered', 0); // someone else's client: not checked
    assert.deepEqual({ ...counts }, { lost: 0, duplicated: 1, outOfOrder: 1, roundTrips: 2 });
    (bot as unknown as { onDisconnected(cause: unknown): void }).onDisconnected(disconnectCause(DisconnectCode.ServiceClosing, 'end'));
    assert.equal(counts.lost, 2, "7 and 8 of player 8 are lost; the bot's own 2 is unanswered, not lost");
  });
});

/**
 * A TCP echo server that breaks the order of the echoes of its first connection: echoes packet 5
 * twice, sends 11 before 10, and never echoes 20. Others are echoed as they come.
 */
async function faultyEchoServer(cleanup: { add(step: () => unknown): void }): Promise<number> {
  const sockets = new Set<Socket>();
  let first = true;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const faulty = first;
    first = false;
    let held = Buffer.alloc(0);
    let count = 0;
    let swapped: Buffer | undefined;
    socket.on('data', (chunk: Buffer) => {
      held = Buffer.concat([held, chunk]);
      while (held.length >= 4 && held.length >= held.readUInt16LE(0)) {
        const size = held.readUInt16LE(0);
        const packet = Buffer.from(held.subarray(0, size));
        held = held.subarray(size);
        count++;
        if (!faulty) socket.write(packet);
        else if (count === 5) socket.write(Buffer.concat([packet, packet]));
        else if (count === 10) swapped = packet;
        else if (count === 11) socket.write(Buffer.concat([packet, swapped as Buffer]));
        else if (count !== 20) socket.write(packet);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.add(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return (server.address() as { port: number }).port;
}

describe('the echo bot checks its echoes', { timeout: 20_000 }, () => {
  it('a duplicated, a reordered and a dropped echo are counted, and fail the run', async (t) => {
    const cleanup = cleanupAfter(t);
    const port = await faultyEchoServer(cleanup);
    const report = await runLoadTest({
      port,
      sessions: 1,
      workers: 1,
      durationMs: 1_000,
      intervalMs: 5,
      botExtra: { pipeline: '3' },
      drainTimeoutMs: 200,
    });
    const { totals } = report;
    assert.equal(totals.messagesDuplicated, 1, 'echo 5 came twice');
    assert.equal(totals.messagesOutOfOrder, 1, 'echo 10 came after 11');
    assert.equal(totals.unanswered, 1, 'echo 20 never came: its request is unanswered');
    assert.equal(totals.messagesLost, 0, 'the echo bot counts its lost echoes as unanswered, not twice');
    assert.equal(totals.unexpectedDisconnects, 0, 'the bot goes on after each');
    assert.equal(report.errors, 3);
    assert.equal(report.passed, false);
  });
});
