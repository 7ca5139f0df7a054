/**
 * ClusterRoom in one test process: two "processes" are two RoomDirectories on an in-memory bus that
 * delivers asynchronously, in order, never to the sender (the RoomBus contract), with real sessions
 * on loopback sockets.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterRoom } from '../../src/room/cluster-room.js';
import type { RoomBus, RoomBusListener, RoomBusMessage } from '../../src/room/room-bus.js';
import { RoomDirectory } from '../../src/room/room-directory.js';
import { S_CHAT } from '../../src/samples/protocol/packets.js';
import { packet, PacketReader } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { RoomEchoMember } from '../helpers/room-echo-member.js';
import { startServer } from '../helpers/services.js';
import { Condition, cleanupAfter, type Cleanup } from '../helpers/wait.js';

/** An in-memory bus shared by several origins: every message goes, on a later turn, to the others. */
class MemoryNetwork {
  readonly joined = new Map<string, Map<number, RoomBusListener>>();
  readonly changed = new Condition();

  bus(origin: number): RoomBus {
    return {
      origin,
      join: (room, listener) => {
        let set = this.joined.get(room);
        if (set === undefined) this.joined.set(room, (set = new Map()));
        set.set(origin, listener);
      },
      leave: (room) => {
        this.joined.get(room)?.delete(origin);
        if (this.joined.get(room)?.size === 0) this.joined.delete(room);
      },
      publish: (room, message: RoomBusMessage) => {
        const targets = [...(this.joined.get(room) ?? [])].filter(([o]) => o !== origin);
        setImmediate(() => {
          for (const [, listener] of targets) listener(message);
          this.changed.notify();
        });
      },
    };
  }
}

async function side(cleanup: Cleanup, network: MemoryNetwork, origin: number): Promise<{ room: ClusterRoom<RoomEchoMember>; port: number }> {
  const room = new RoomDirectory(network.bus(origin)).room<RoomEchoMember>('lobby');
  cleanup.add(() => room.close());
  const { service } = await startServer(cleanup, () => new RoomEchoMember(room));
  return { room, port: service.port };
}

describe('ClusterRoom over a bus', () => {
  it('one room over two processes: broadcasts reach every member once and in order; enter, leave and home are seen by both', async (t) => {
    const cleanup = cleanupAfter(t);
    const network = new MemoryNetwork();
    const a = await side(cleanup, network, 1);
    const b = await side(cleanup, network, 2);
    const [a1, a2] = [await RawClient.connect(a.port, { cleanup }), await RawClient.connect(a.port, { cleanup })];
    const b1 = await RawClient.connect(b.port, { cleanup });
    await network.changed.until(() => a.room.remoteMemberCount === 1 && b.room.remoteMemberCount === 2, 'members seen across');
    assert.equal(a.room.totalMemberCount, 3);
    assert.equal(a.room.isHome, true, 'the lowest origin with members is home');
    assert.equal(b.room.isHome, false);
    const sent = Array.from({ length: 20 }, (_, i) => packet(1, `a1 #${i}`));
    for (const p of sent) await a1.write(p);
    await b1.write(packet(2, 'b1'));
    const all = sent.reduce((n, p) => n + p.length, 0) + packet(2, 'b1').length;
    for (const client of [a1, a2, b1]) await client.waitForBytes(all, 'every broadcast');
    for (const client of [a1, a2, b1]) {
      const got = new PacketReader().push(client.received);
      assert.deepEqual(got.filter((p) => p.id === 1).map((p) => p.bytes), sent, 'a1 in order, once');
      assert.equal(got.filter((p) => p.id === 2).length, 1, 'b1 once');
    }
    await a1.close();
    await a2.close();
    await network.changed.until(() => b.room.remoteMemberCount === 0, 'a members leave at b');
    assert.equal(b.room.isHome, true, 'home moves when the home has no members left');
  });

  it('broadcastMessage from a process with no members of its own still reaches the others', async (t) => {
    const cleanup = cleanupAfter(t);
    const network = new MemoryNetwork();
    const a = await side(cleanup, network, 1);
    const b = await side(cleanup, network, 2);
    const b1 = await RawClient.connect(b.port, { cleanup });
    await network.changed.until(() => a.room.remoteMemberCount === 1, 'b1 seen at a');
    assert.equal(a.room.memberCount, 0);
    a.room.broadcastMessage(S_CHAT, { playerId: 7, msg: 'announcement', sentAtMs: 1 });
    const bytes = S_CHAT.makeSendBuffer({ playerId: 7, msg: 'announcement', sentAtMs: 1 });
    assert.deepEqual(await b1.waitForBytes(bytes.length), Buffer.from(bytes));
  });

  it('a room is on the bus from when it is made until it is closed, and a late process hears who is there', async (t) => {
    const cleanup = cleanupAfter(t);
    const network = new MemoryNetwork();
    const a = await side(cleanup, network, 1);
    await RawClient.connect(a.port, { cleanup });
    await network.changed.until(() => a.room.memberCount === 1, 'a member at a');
    const late = await side(cleanup, network, 2);
    await network.changed.until(() => late.room.remoteMemberCount === 1, 'the late process hears the member of a');
    assert.deepEqual([...(network.joined.get('lobby')?.keys() ?? [])].sort(), [1, 2]);
    a.room.close();
    late.room.close();
    assert.equal(network.joined.size, 0, 'closed rooms leave the bus');
  });
});
