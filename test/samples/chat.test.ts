import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DisconnectCause } from '../../src/core/disconnect-cause.js';
import type { MessageInit, MessageType } from '../../src/packet/message-type.js';
import { ChatRoom as SampleChatRoom } from '../../src/samples/chat/chat-room.js';
import type { BotContext } from '../../src/loadtest/bots/bot.js';
import { ChatLoadBotSession } from '../../src/loadtest/bots/chat-bot.js';
import { CHAT_MAX_BYTES, CHAT_ROOM_ID, chatServerHandlers } from '../../src/samples/chat/chat-server-handlers.js';
import { ChatSession } from '../../src/samples/chat/chat-session.js';
import {
  C_CHAT,
  C_ENTER_GAME,
  C_LOGIN,
  PacketId,
  S_CHAT,
  S_CHAT_REJECTED,
  S_DESPAWN,
  S_ENTER_GAME,
  S_LOGIN,
  S_SPAWN,
} from '../../src/samples/protocol/packets.js';
import { packet, PacketReader, type ParsedPacket } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { makeClient, startServer } from '../helpers/services.js';
import { Condition, cleanupAfter, type Cleanup } from '../helpers/wait.js';

const BOTS = 3;

/** The chat server's Room, with a condition to wait on its member count. */
class ChatRoom extends SampleChatRoom {
  readonly changed = new Condition();

  protected override onEnter(): void {
    this.changed.notify();
  }

  protected override onLeave(session: ChatSession): void {
    super.onLeave(session);
    this.changed.notify();
  }
}

/** The chat server as chat-server-command wires it: one Room, ChatSessions with chatServerHandlers. */
async function startChatServer(cleanup: Cleanup): Promise<{ port: number; room: ChatRoom }> {
  const room = new ChatRoom('chat', undefined, { maxMembers: 100 });
  const { service } = await startServer(cleanup, () => new ChatSession(room, chatServerHandlers), { maxSessionCount: 100 });
  cleanup.add(() => room.close());
  return { port: service.port, room };
}

/** What one chat bot of the test reports through its BotContext. */
interface BotTally {
  sent: number;
  requests: number;
  roundTrips: number;
  deliveries: number;
  entered: number;
  /** Chats the bots found lost, duplicated or out of order. */
  disorder: number;
}

/** A BotContext as the load tester gives one session, counting into `tally` and notifying `changed`. */
function botContext(name: string, tally: BotTally, changed: Condition): BotContext {
  let inFlight = 0;
  return {
    options: { intervalMs: 50, message: 'Hello World', size: undefined, extra: {} },
    name,
    workerIndex: 0,
    stopping: false,
    get inFlight() {
      return inFlight;
    },
    recordSent() {
      tally.sent++;
    },
    recordRequest() {
      tally.sent++;
      tally.requests++;
      inFlight++;
    },
    recordReceived() {},
    recordRoundTrip(micros) {
      assert.ok(micros > 0);
      tally.roundTrips++;
      inFlight = Math.max(0, inFlight - 1);
      changed.notify();
    },
    count(counter, n = 1) {
      if (counter === 'deliveries') tally.deliveries += n;
      if (counter === 'entered') tally.entered += n;
      changed.notify();
    },
    recordLost(n = 1) {
      tally.disorder += n;
    },
    recordDuplicate(n = 1) {
      tally.disorder += n;
    },
    recordOutOfOrder(n = 1) {
      tally.disorder += n;
    },
  };
}

/** The load tester's chat bot, also remembering its player id, who each chat came from, and its end. */
class ObservedBot extends ChatLoadBotSession {
  myPlayerId = -1;
  readonly from = new Map<number, number>();
  disconnects: DisconnectCause[] = [];

  constructor(
    context: BotContext,
    private readonly changed: Condition,
  ) {
    super(context);
  }

  override entered(playerId: number): void {
    this.myPlayerId = playerId;
    super.entered(playerId);
  }

  override chatArrived(fromPlayerId: number, msg: string, sentAtMs: number): void {
    this.from.set(fromPlayerId, (this.from.get(fromPlayerId) ?? 0) + 1);
    super.chatArrived(fromPlayerId, msg, sentAtMs);
  }

  protected override onDisconnected(cause: DisconnectCause): void {
    super.onDisconnected(cause);
    this.disconnects.push(cause);
    this.changed.notify();
  }
}

/** A raw client speaking the protocol: sends typed packets, reads back typed packets. */
class RawPlayer {
  private readonly reader = new PacketReader();
  readonly packets: ParsedPacket[] = [];
  private readonly changed = new Condition();

  constructor(readonly client: RawClient) {
    client.socket.on('data', (chunk: Buffer) => {
      this.packets.push(...this.reader.push(chunk));
      this.changed.notify();
    });
  }

  send<T>(type: MessageType<T>, message: MessageInit<T>): Promise<void> {
    return this.client.write(packet(type.id, type.encodeBody(message)));
  }

  /** Resolves with the decoded `index`-th packet received of `type` (0-based). */
  async nth<T>(type: MessageType<T>, index = 0): Promise<T> {
    const ofType = (): ParsedPacket[] => this.packets.filter((p) => p.id === type.id);
    await this.changed.until(() => ofType().length > index, `${type.name} #${index}`);
    return type.decode((ofType()[index] as ParsedPacket).bytes.subarray(4));
  }

  ids(): number[] {
    return this.packets.map((p) => p.id);
  }
}

async function rawPlayer(cleanup: Cleanup, port: number): Promise<RawPlayer> {
  return new RawPlayer(await RawClient.connect(port, { cleanup }));
}

describe('chat sample: server and bots', () => {
  it('every bot chat reaches all 3 bots', { timeout: 30_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const { port, room } = await startChatServer(cleanup);
    const changed = new Condition();
    const tallies: BotTally[] = Array.from({ length: BOTS }, () => ({ sent: 0, requests: 0, roundTrips: 0, deliveries: 0, entered: 0, disorder: 0 }));
    let made = 0;
    const { service, collector } = makeClient(
      cleanup,
      () => {
        const index = made++;
        return new ObservedBot(botContext(`bot${index}`, tallies[index] as BotTally, changed), changed);
      },
      { port, maxSessionCount: BOTS },
    );
    await service.start();
    const bots = collector.sessions;
    await changed.until(() => tallies.every((s) => s.entered === 1), 'every bot to enter', 10_000);
    assert.equal(room.memberCount, BOTS);
    const ids = bots.map((b) => b.myPlayerId);
    assert.equal(new Set(ids).size, BOTS, `player ids ${ids}`);
    // Every bot has received at least 5 chats from every bot.
    await changed.until(
      () => bots.every((bot) => ids.every((id) => (bot.from.get(id) ?? 0) >= 5)),
      'five chats from every bot at every bot',
      15_000,
    );
    await service.close();
    await room.changed.until(() => room.memberCount === 0, 'the bots to leave the room');
    assert.deepEqual(
      bots.map((bot) => bot.disconnects.map((c) => c.code)),
      Array.from({ length: BOTS }, () => ['SERVICE_CLOSING']),
    );

    const chats = tallies.reduce((sum, s) => sum + s.requests, 0);
    const delivered = tallies.reduce((sum, s) => sum + s.deliveries, 0);
    // The last chat of each bot may have been in flight when the bots closed.
    assert.ok(delivered <= BOTS * chats, `delivered ${delivered} > 3 x chats ${chats}`);
    assert.ok(delivered >= BOTS * (chats - BOTS), `delivered ${delivered} < 3 x (chats ${chats} - 3)`);
    assert.deepEqual(tallies.map((s) => s.disorder), [0, 0, 0], 'every chat once and in order');
    bots.forEach((bot, i) => {
      const own = tallies[i] as BotTally;
      assert.equal(own.sent, own.requests + 2, 'C_LOGIN and C_ENTER_GAME, then only chats');
      assert.equal(own.deliveries, [...bot.from.values()].reduce((a, b) => a + b, 0));
      assert.ok(own.roundTrips <= own.requests && own.roundTrips >= own.requests - 1, `bot ${i}: ${own.roundTrips} of ${own.requests}`);
      ids.forEach((id, j) => {
        const got = bot.from.get(id) ?? 0;
        const by = (tallies[j] as BotTally).requests;
        // At most one chat lost at the start (sent before this bot entered) and one at the end.
        assert.ok(got <= by && got >= by - 2, `bot ${i} got ${got} of the ${by} chats of bot ${j}`);
      });
    });
  });

  it('ignores C_CHAT before the player entered the game', async (t) => {
    const cleanup = cleanupAfter(t);
    const { port, room } = await startChatServer(cleanup);
    const watcher = await rawPlayer(cleanup, port);
    await watcher.send(C_LOGIN, { account: 'watcher' });
    await watcher.nth(S_LOGIN);
    await watcher.send(C_ENTER_GAME, { playerIndex: 0 });
    assert.equal((await watcher.nth(S_ENTER_GAME)).success, true);

    const talker = await rawPlayer(cleanup, port);
    await talker.send(C_CHAT, { msg: 'before entering', sentAtMs: 1 }); // not even logged in
    await talker.send(C_LOGIN, { account: 'talker' });
    await talker.send(C_CHAT, { msg: 'logged in, not entered', sentAtMs: 2 });
    await talker.send(C_ENTER_GAME, { playerIndex: 1 });
    const entered = await talker.nth(S_ENTER_GAME);
    assert.equal(entered.success, true);
    assert.equal(entered.roomId, CHAT_ROOM_ID);
    await talker.send(C_CHAT, { msg: 'in the game', sentAtMs: 3 });

    // The talker's packets are handled in order: had an early chat been broadcast, it would come first.
    const first = await watcher.nth(S_CHAT);
    assert.equal(first.msg, 'in the game');
    assert.equal(first.playerId, entered.player?.id);
    assert.equal((await talker.nth(S_CHAT)).msg, 'in the game');
    assert.deepEqual(talker.ids(), [PacketId.S_LOGIN, PacketId.S_ENTER_GAME, PacketId.S_SPAWN, PacketId.S_CHAT]);
    assert.equal(room.memberCount, 2);
  });

  it('delivers a C_CHAT sent right behind C_ENTER_GAME in the same write', async (t) => {
    const cleanup = cleanupAfter(t);
    const { port } = await startChatServer(cleanup);
    const player = await rawPlayer(cleanup, port);
    await player.send(C_LOGIN, { account: 'eager' });
    await player.nth(S_LOGIN);
    // A client need not wait for S_ENTER_GAME: the server handles a connection's packets in order, so a
    // chat after the enter is a chat of a player in the game (both arrive in one read here).
    await player.client.write(
      Buffer.concat([
        packet(C_ENTER_GAME.id, C_ENTER_GAME.encodeBody({ playerIndex: 0 })),
        packet(C_CHAT.id, C_CHAT.encodeBody({ msg: 'right after entering', sentAtMs: 1 })),
      ]),
    );
    assert.equal((await player.nth(S_ENTER_GAME)).success, true);
    // A later chat proves the server has handled the pipelined one by now.
    await player.send(C_CHAT, { msg: 'later', sentAtMs: 2 });
    const first = await player.nth(S_CHAT, 0);
    assert.equal(first.msg, 'right after entering', `the pipelined chat was dropped (first S_CHAT is '${first.msg}')`);
    assert.equal((await player.nth(S_CHAT, 1)).msg, 'later');
  });

  it('answers C_ENTER_GAME with success=false for a bad player index, before login, and when already in', async (t) => {
    const cleanup = cleanupAfter(t);
    const { port, room } = await startChatServer(cleanup);
    const player = await rawPlayer(cleanup, port);
    await player.send(C_ENTER_GAME, { playerIndex: 0 }); // before login: no players offered yet
    assert.equal((await player.nth(S_ENTER_GAME, 0)).success, false);

    await player.send(C_LOGIN, { account: 'alice' });
    const login = await player.nth(S_LOGIN);
    assert.equal(login.success, true);
    assert.equal(login.players.length, 3);

    await player.send(C_ENTER_GAME, { playerIndex: 3 });
    const bad = await player.nth(S_ENTER_GAME, 1);
    assert.equal(bad.success, false);
    assert.equal(bad.player, null);
    assert.equal(room.memberCount, 0);

    await player.send(C_ENTER_GAME, { playerIndex: 2 });
    const good = await player.nth(S_ENTER_GAME, 2);
    assert.equal(good.success, true);
    assert.equal(good.player?.id, login.players[2]?.id);
    assert.equal(good.player?.name, 'alice-3');
    assert.equal(room.memberCount, 1);

    await player.send(C_ENTER_GAME, { playerIndex: 0 });
    assert.equal((await player.nth(S_ENTER_GAME, 3)).success, false, 'entered twice');
    assert.equal(room.memberCount, 1);
    assert.equal(player.client.closed, false, 'a refused enter closed the connection');
  });

  it('refuses a chat over CHAT_MAX_BYTES with S_CHAT_REJECTED, up to the largest legal C_CHAT, and goes on', async (t) => {
    const cleanup = cleanupAfter(t);
    const { port, room } = await startChatServer(cleanup);
    const enter = async (account: string): Promise<RawPlayer> => {
      const player = await rawPlayer(cleanup, port);
      await player.send(C_LOGIN, { account });
      await player.send(C_ENTER_GAME, { playerIndex: 0 });
      assert.equal((await player.nth(S_ENTER_GAME)).success, true);
      return player;
    };
    const talker = await enter('talker');
    const listener = await enter('listener');
    // The largest body a C_CHAT packet can carry: 65531 bytes (tag 1 + 3-byte length + 65527 text).
    const largest = 'x'.repeat(65527);
    assert.equal(4 + C_CHAT.encodeBody({ msg: largest }).length, 65535);
    await talker.send(C_CHAT, { msg: largest });
    await talker.send(C_CHAT, { msg: 'é'.repeat(CHAT_MAX_BYTES / 2 + 1), sentAtMs: 2 }); // 2 bytes each: one over
    await talker.send(C_CHAT, { msg: 'a'.repeat(CHAT_MAX_BYTES), sentAtMs: 3 }); // exactly the limit
    const first = await talker.nth(S_CHAT_REJECTED, 0);
    assert.equal(first.maxBytes, CHAT_MAX_BYTES);
    assert.match(first.reason, /65527 bytes, at most 1024/);
    assert.match((await talker.nth(S_CHAT_REJECTED, 1)).reason, /1026 bytes/);
    const delivered = await listener.nth(S_CHAT, 0);
    assert.equal(delivered.msg.length, CHAT_MAX_BYTES);
    assert.equal(delivered.sentAtMs, 3, 'the refused chats reached nobody');
    assert.equal((await talker.nth(S_CHAT, 0)).sentAtMs, 3);
    assert.equal(room.memberCount, 2);
    assert.equal(talker.client.closed, false);
  });

  it('tells a newcomer who is in the room, tells the room about the newcomer, and tells it who left', async (t) => {
    const cleanup = cleanupAfter(t);
    const { port, room } = await startChatServer(cleanup);
    const enter = async (account: string): Promise<{ player: RawPlayer; id: number }> => {
      const player = await rawPlayer(cleanup, port);
      await player.send(C_LOGIN, { account });
      await player.send(C_ENTER_GAME, { playerIndex: 1 });
      const entered = await player.nth(S_ENTER_GAME);
      return { player, id: entered.player?.id ?? -1 };
    };
    const a = await enter('a');
    assert.deepEqual((await a.player.nth(S_SPAWN, 0)).players, [], 'nobody there yet');
    const b = await enter('b');
    const bSees = (await b.player.nth(S_SPAWN, 0)).players;
    assert.deepEqual(bSees.map((p) => [p.id, p.name]), [[a.id, 'a-2']]);
    const aSees = (await a.player.nth(S_SPAWN, 1)).players;
    assert.deepEqual(aSees.map((p) => [p.id, p.name]), [[b.id, 'b-2']]);
    b.player.client.socket.destroy();
    assert.deepEqual((await a.player.nth(S_DESPAWN, 0)).playerIds, [b.id]);
    await room.changed.until(() => room.memberCount === 1, 'b to leave');
  });
});

