/** A PacketSession given its handler table, and typed sends `session.send(S_CHAT, message)`. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DisconnectCode } from '../../src/core/disconnect-cause.js';
import { PacketSession } from '../../src/packet/packet-session.js';
import { C_CHAT, createServerHandlers, S_CHAT, S_MOVE } from '../../src/samples/protocol/packets.js';
import { packet, PacketReader } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer } from '../helpers/services.js';
import { pollUntil } from '../helpers/limits.js';
import { cleanupAfter } from '../helpers/wait.js';

/** A PacketSession with no onRecvPacket of its own: the table does everything. */
class TableSession extends PacketSession {}

const table = createServerHandlers<PacketSession>({
  C_LOGIN() {},
  C_ENTER_GAME() {},
  C_CHAT(session, message) {
    session.send(S_CHAT, { playerId: session.id, msg: message.msg });
  },
  C_MOVE() {},
});

describe('PacketSession with a handler table', () => {
  it('dispatches to the table given as an option; the handler answers with a typed send', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new TableSession({ handlers: table }));
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    await client.write(packet(C_CHAT.id, C_CHAT.encodeBody({ msg: 'hi' })));
    await client.waitForBytes(4, 'the reply');
    await pollUntil(() => new PacketReader().push(client.received).length === 1, 'one whole reply');
    const [reply] = new PacketReader().push(client.received);
    assert.equal(reply?.id, S_CHAT.id);
    assert.deepEqual(S_CHAT.decode((reply?.bytes as Buffer).subarray(4)), S_CHAT.decode(S_CHAT.encodeBody({ playerId: session.id, msg: 'hi' })));
    assert.equal(session.traffic.packetsSent, 1);
  });

  it('an id the table does not handle ends the session with UNKNOWN_PACKET; without a table every id is unknown', async (t) => {
    const cleanup = cleanupAfter(t);
    let made = 0;
    const { service, collector } = await startServer(cleanup, (): TableSession => new TableSession(made++ === 0 ? { handlers: table } : {}));
    const first = await RawClient.connect(service.port, { cleanup });
    const withTable = await collector.nth(0);
    await first.write(packet(S_MOVE.id, 'a server-side id'));
    await pollUntil(() => withTable.disconnectCause !== undefined, 'closed');
    assert.equal(withTable.disconnectCause?.code, DisconnectCode.UnknownPacket);
    const second = await RawClient.connect(service.port, { cleanup });
    const bare = await collector.nth(1);
    await second.write(packet(C_CHAT.id, C_CHAT.encodeBody({ msg: 'x' })));
    await pollUntil(() => bare.disconnectCause !== undefined, 'closed');
    assert.equal(bare.disconnectCause?.code, DisconnectCode.UnknownPacket);
  });
});

/** Records every batch it is given, and echoes it. */
class BatchRecorder extends PacketSession {
  readonly batches: [number[], number][] = [];
  /** traffic.packetsReceived as each onRecvBatch saw it. */
  readonly countsSeen: number[] = [];
  constructor() {
    super({ batch: true });
  }
  protected override onRecvBatch(packets: Buffer, packetCount: number): void {
    const ids: number[] = [];
    for (const p of new PacketReader().push(packets)) ids.push(p.id);
    this.batches.push([ids, packetCount]);
    this.countsSeen.push(this.traffic.packetsReceived);
  }
}

/** Batch mode with its own admission: every second packet is dropped. */
class DropEverySecond extends BatchRecorder {
  #seen = 0;
  protected override admitPacket(): boolean {
    return this.#seen++ % 2 === 0;
  }
}

describe('PacketSession in batch mode', () => {
  it('hands each run of data packets of one read to onRecvBatch in one call; a heartbeat ping in between is answered, not batched', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new BatchRecorder());
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    const ping = packet(65534, Buffer.alloc(8));
    await client.write(Buffer.concat([packet(1, 'a'), packet(2, 'b'), ping, packet(3, 'c')]));
    await pollUntil(() => session.batches.length === 2, 'two batches');
    assert.deepEqual(session.batches, [
      [[1, 2], 2],
      [[3], 1],
    ]);
    await client.waitForBytes(12, 'the pong');
    assert.equal(new PacketReader().push(client.received)[0]?.id, 65535);
    assert.equal(session.traffic.packetsReceived, 4);
    // Every packet up to the end of a run is counted by the time onRecvBatch sees the run (the ping
    // after the first run is counted when it is answered, after that run).
    assert.deepEqual(session.countsSeen, [2, 4]);
  });

  it('an admitPacket override or a packet rate limit still sees every packet: a dropped one ends the run', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new DropEverySecond());
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    await client.write(Buffer.concat([packet(1, 'a'), packet(2, 'b'), packet(3, 'c'), packet(4, 'd')]));
    await pollUntil(() => session.batches.length === 2 && session.traffic.packetsReceived === 4, 'two batches');
    assert.deepEqual(session.batches, [
      [[1], 1],
      [[3], 1],
    ]);
    assert.equal(session.droppedPacketCount, 0, 'dropped by the override, not by the limit');

    const limited = await startServer(cleanup, () => new BatchRecorder(), { packet: { maxPacketsPerSecond: 2 }, rateLimitAction: 'drop' });
    const other = await RawClient.connect(limited.service.port, { cleanup });
    const capped = await limited.collector.nth(0);
    await other.write(Buffer.concat([packet(1, 'a'), packet(2, 'b'), packet(3, 'c'), packet(4, 'd')]));
    await pollUntil(() => capped.traffic.packetsReceived === 4, 'four packets read');
    assert.deepEqual(capped.batches, [[[1, 2], 2]]);
    assert.equal(capped.droppedPacketCount, 2);
  });
});

/** Batch mode whose onRecvBatch fails as careless game code does: an `async` one that rejects, or a throw of an odd value. */
class FailingBatch extends BatchRecorder {
  constructor(readonly failure: 'reject' | 'reject-null-prototype') {
    super();
  }
  protected override async onRecvBatch(packets: Buffer, packetCount: number): Promise<void> {
    super.onRecvBatch(packets, packetCount);
    await Promise.resolve();
    throw this.failure === 'reject' ? new Error('async batch handler failed') : Object.create(null);
  }
}

/** Batch mode that throws synchronously a value no one can turn into a string. */
class ThrowingBatch extends BatchRecorder {
  protected override onRecvBatch(): void {
    throw Object.create(null);
  }
}

describe('PacketSession in batch mode, from the sending side', () => {
  it('delivers the runs before a bad header, answers the ping between them, then ends with MALFORMED_HEADER', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new BatchRecorder());
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    const ping = packet(65534, Buffer.alloc(8));
    const stream = Buffer.concat([packet(1, 'a'), packet(2, 'bb'), ping, packet(3, 'ccc'), Buffer.from([2, 0, 9, 9])]);
    // A packet split over two reads: the tail of the first read is held back and completed by the second.
    await client.write(stream.subarray(0, 7));
    await pollUntil(() => session.batches.length === 1, 'the first run');
    await client.write(stream.subarray(7));
    await pollUntil(() => session.disconnectCause !== undefined, 'closed');
    assert.equal(session.disconnectCause?.code, DisconnectCode.MalformedHeader);
    assert.deepEqual(session.batches, [
      [[1], 1],
      [[2], 1],
      [[3], 1],
    ]);
    assert.equal(session.traffic.packetsReceived, 4);
    await client.waitForBytes(12, 'the pong');
    assert.equal(new PacketReader().push(client.received)[0]?.id, 65535);
  });

  const failures: [string, () => BatchRecorder, RegExp][] = [
    ['rejects (async)', () => new FailingBatch('reject'), /onRecvBatch rejected: Error: async batch handler failed/],
    ['rejects with a null-prototype object', () => new FailingBatch('reject-null-prototype'), /onRecvBatch rejected/],
    ['throws a null-prototype object', () => new ThrowingBatch(), /onRecvBatch threw/],
  ];
  for (const [what, makeFailing, reason] of failures) {
    it(`an onRecvBatch that ${what} ends that session only, with HANDLER_ERROR`, async (t) => {
      const cleanup = cleanupAfter(t);
      let made = 0;
      const { service, collector } = await startServer(cleanup, (): BatchRecorder => (made++ === 0 ? makeFailing() : new BatchRecorder()));
      const bad = await RawClient.connect(service.port, { cleanup });
      const failing = await collector.nth(0);
      const good = await RawClient.connect(service.port, { cleanup });
      const healthy = await collector.nth(1);
      await bad.write(packet(1, 'a'));
      await pollUntil(() => failing.disconnectCause !== undefined, 'the failing session closed');
      assert.equal(failing.disconnectCause?.code, DisconnectCode.HandlerError);
      assert.match(String(failing.disconnectCause?.reason), reason);
      await good.write(packet(2, 'b'));
      await pollUntil(() => healthy.batches.length === 1, 'the other session still served');
      assert.equal(healthy.connected, true);
    });
  }
});
