import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadPacketError, HandlerError, InvalidOptionError, UnknownPacketError } from '../../src/core/errors.js';
import { Session } from '../../src/net/session.js';
import { defineMessage, loadProtocolSchema } from '../../src/packet/message-type.js';
import { createHandlerTable, PacketHandlerTable } from '../../src/packet/packet-handler-table.js';
import {
  C_CHAT,
  C_ENTER_GAME,
  C_LOGIN,
  C_MOVE,
  clientPackets,
  createClientHandlers,
  createServerHandlers,
  PacketId,
  S_CHAT,
  S_MOVE,
  type C_CHAT as ChatMessage,
  type C_MOVE as MoveMessage,
} from '../../src/samples/protocol/packets.js';
import { PacketRecorder } from '../helpers/packet-recorder.js';
import { packet, PacketReader } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer } from '../helpers/services.js';
import { cleanupAfter } from '../helpers/wait.js';

/** Every call a server table's handlers got, as [handler, session, message]. */
type Call = readonly [string, Session, unknown];

function recordingServerTable(options?: Parameters<typeof createServerHandlers<Session>>[1]): {
  table: PacketHandlerTable<Session>;
  calls: Call[];
} {
  const calls: Call[] = [];
  const table = createServerHandlers<Session>(
    {
      C_LOGIN: (s, m) => calls.push(['C_LOGIN', s, m]),
      C_ENTER_GAME: (s, m) => calls.push(['C_ENTER_GAME', s, m]),
      C_CHAT: (s, m) => calls.push(['C_CHAT', s, m]),
      C_MOVE: (s, m) => calls.push(['C_MOVE', s, m]),
    },
    options,
  );
  return { table, calls };
}

const body = (bytes: Uint8Array): Buffer => Buffer.from(bytes);

/** Field 1 announced as 5 bytes long, with 1 byte present: protobufjs cannot decode it. */
const TRUNCATED = Buffer.from([0x0a, 0x05, 0x61]);
/** Field 1 with wire type 7, which does not exist. */
const BAD_WIRE_TYPE = Buffer.from([0x0f, 0x01]);

describe('PacketHandlerTable (generated sample)', () => {
  it('handles exactly the C_* ids on the server side and the S_* ids on the client side', () => {
    const { table } = recordingServerTable();
    assert.deepEqual([...table.ids].sort(), [PacketId.C_LOGIN, PacketId.C_ENTER_GAME, PacketId.C_CHAT, PacketId.C_MOVE].sort());
    const client = createClientHandlers<Session>({
      S_LOGIN() {},
      S_ENTER_GAME() {},
      S_CHAT() {},
      S_CHAT_REJECTED() {},
      S_MOVE() {},
      S_SPAWN() {},
      S_DESPAWN() {},
    });
    assert.deepEqual([...client.ids].sort(), [1001, 1003, 1005, 1007, 1008, 1009, 1010]);
  });

  it('dispatches C_CHAT to its handler with the decoded, typed message and the session', () => {
    const { table, calls } = recordingServerTable();
    const session = new Session();
    table.dispatch(session, PacketId.C_CHAT, body(C_CHAT.encodeBody({ msg: 'hello, 세계' })));
    assert.equal(calls.length, 1);
    const [name, s, message] = calls[0] as Call;
    assert.equal(name, 'C_CHAT');
    assert.equal(s, session);
    assert.equal((message as ChatMessage).msg, 'hello, 세계');
  });

  it('dispatches every C_* message to its own handler, nested messages decoded', () => {
    const { table, calls } = recordingServerTable();
    const session = new Session();
    table.dispatch(session, C_LOGIN.id, body(C_LOGIN.encodeBody({ account: 'acc', token: 'tok' })));
    table.dispatch(session, C_ENTER_GAME.id, body(C_ENTER_GAME.encodeBody({ playerIndex: 3 })));
    table.dispatch(session, C_MOVE.id, body(C_MOVE.encodeBody({ position: { x: 1.5, y: -2, z: 0.25 }, yaw: 90, seq: 7 })));
    table.dispatch(session, C_CHAT.id, Buffer.alloc(0)); // an empty body is a message with defaults
    assert.deepEqual(
      calls.map(([name]) => name),
      ['C_LOGIN', 'C_ENTER_GAME', 'C_MOVE', 'C_CHAT'],
    );
    const move = calls[2]?.[2] as MoveMessage;
    assert.deepEqual([move.position?.x, move.position?.y, move.position?.z, move.yaw, move.seq], [1.5, -2, 0.25, 90, 7]);
    assert.equal((calls[3]?.[2] as ChatMessage).msg, '');
  });

  for (const id of [0, 1, PacketId.S_CHAT, 65535]) {
    it(`throws UnknownPacketError for id ${id}, which has no handler and no fallback`, () => {
      const { table, calls } = recordingServerTable();
      assert.throws(
        () => table.dispatch(new Session(), id, Buffer.from('whatever')),
        (error: unknown) =>
          error instanceof UnknownPacketError && error.code === 'GW_ERR_UNKNOWN_PACKET' && error.packetId === id,
      );
      assert.equal(calls.length, 0);
    });
  }

  it('calls onUnknown with the session, id and body instead of throwing, when given', () => {
    const unknown: Array<[Session, number, string]> = [];
    const { table, calls } = recordingServerTable({ onUnknown: (s, id, b) => unknown.push([s, id, b.toString()]) });
    const session = new Session();
    table.dispatch(session, 4242, Buffer.from('mystery'));
    table.dispatch(session, C_CHAT.id, body(C_CHAT.encodeBody({ msg: 'known' })));
    assert.deepEqual(unknown, [[session, 4242, 'mystery']]);
    assert.equal(calls.length, 1, 'known ids still go to their handler');
  });

  for (const [label, bad] of [
    ['a truncated field', TRUNCATED],
    ['an invalid wire type', BAD_WIRE_TYPE],
  ] as const) {
    it(`throws BadPacketError naming the id and message for a body with ${label}`, () => {
      const { table, calls } = recordingServerTable({ onUnknown: () => assert.fail('not unknown') });
      assert.throws(
        () => table.dispatch(new Session(), C_CHAT.id, bad),
        (error: unknown) => {
          assert.ok(error instanceof BadPacketError);
          assert.equal(error.code, 'GW_ERR_BAD_PACKET');
          assert.equal(error.packetId, 1004);
          assert.equal(error.messageName, 'C_CHAT');
          assert.match(error.message, /1004/);
          assert.match(error.message, /C_CHAT/);
          assert.ok(error.cause instanceof Error, 'the protobufjs error is kept as cause');
          return true;
        },
      );
      assert.equal(calls.length, 0, 'the handler is not called');
    });
  }

  it('rejects a table with a missing handler or two messages sharing an id', () => {
    const isInvalid = (error: unknown): boolean => error instanceof InvalidOptionError;
    const missing = { C_LOGIN() {}, C_ENTER_GAME() {}, C_CHAT() {} } as unknown as Parameters<typeof createServerHandlers<Session>>[0];
    assert.throws(() => createServerHandlers<Session>(missing), isInvalid);
    const clash = { A: C_CHAT, B: { ...S_MOVE, id: C_CHAT.id } };
    assert.throws(() => createHandlerTable<Session, typeof clash>(clash, { A() {}, B() {} }), isInvalid);
  });

  it('types each handler by its own message (compile-time check)', () => {
    const table = createServerHandlers<Session>({
      C_LOGIN: (_s, m) => void m.account.toUpperCase(),
      C_ENTER_GAME: (_s, m) => void m.playerIndex.toFixed(),
      // @ts-expect-error a C_CHAT handler cannot take a C_MOVE message: the build fails if this compiles
      C_CHAT: (_s: Session, m: MoveMessage) => void m.seq,
      C_MOVE: (_s, m) => void m.position?.x,
    });
    assert.equal(table.ids.length, Object.keys(clientPackets).length);
  });
});

/** The sample server table the loopback sessions below dispatch every packet to. */
const gameTable = createServerHandlers<PacketRecorder>({
  C_LOGIN(session, message) {
    S_CHAT.send(session, { playerId: session.id, msg: `welcome ${message.account}` });
  },
  C_ENTER_GAME() {},
  C_CHAT(session, message) {
    if (message.msg === 'throw') throw new RangeError('handler failed');
    S_CHAT.send(session, { playerId: session.id, msg: message.msg });
  },
  C_MOVE() {},
});

async function gameServer(t: Parameters<typeof cleanupAfter>[0]): Promise<{ client: RawClient; session: PacketRecorder }> {
  const cleanup = cleanupAfter(t);
  const { service, collector } = await startServer(cleanup, () => new PacketRecorder((s, id, b) => gameTable.dispatch(s, id, b)));
  const client = await RawClient.connect(service.port, { cleanup });
  return { client, session: await collector.nth(0) };
}

/** Resolves with the first `count` packets the client received, waiting for more bytes as needed. */
async function readPackets(client: RawClient, count: number): Promise<Buffer[]> {
  for (;;) {
    const got = new PacketReader().push(client.received);
    if (got.length >= count) return got.slice(0, count).map((p) => p.bytes);
    await client.waitForBytes(client.byteCount + 1, `packet #${got.length + 1}`);
  }
}

const chatPacket = (msg: string): Buffer => packet(C_CHAT.id, C_CHAT.encodeBody({ msg }));

describe('PacketHandlerTable in a PacketSession over loopback', () => {
  it('decodes C_CHAT, runs its handler, and the handler replies with S_CHAT', async (t) => {
    const { client, session } = await gameServer(t);
    await client.write(Buffer.concat([chatPacket('one'), packet(C_LOGIN.id, C_LOGIN.encodeBody({ account: 'kim' })), chatPacket('two')]));
    const replies = (await readPackets(client, 3)).map((p) => S_CHAT.decode(p.subarray(4)));
    assert.deepEqual(
      replies.map((m) => [m.playerId, m.msg]),
      [
        [session.id, 'one'],
        [session.id, 'welcome kim'],
        [session.id, 'two'],
      ],
    );
    assert.equal(session.connected, true);
  });

  it('closes with UNKNOWN_PACKET for an id the table does not handle', async (t) => {
    const { client, session } = await gameServer(t);
    await client.write(Buffer.concat([chatPacket('before'), packet(S_MOVE.id, 'server-side id'), chatPacket('after')]));
    await client.waitForEnd();
    const cause = await session.untilDisconnected();
    assert.equal(cause.code, 'UNKNOWN_PACKET');
    assert.ok(cause.error instanceof UnknownPacketError);
    assert.equal(cause.error.packetId, S_MOVE.id);
    assert.deepEqual(
      session.packets.map((p) => p.id),
      [C_CHAT.id, S_MOVE.id],
    );
    // The packet before it was handled, and its reply flushed before the FIN.
    const replies = new PacketReader().push(client.received).map((p) => S_CHAT.decode(p.bytes.subarray(4)).msg);
    assert.deepEqual(replies, ['before']);
  });

  it('closes with BAD_PACKET for a body that does not decode', async (t) => {
    const { client, session } = await gameServer(t);
    await client.write(Buffer.concat([packet(C_CHAT.id, TRUNCATED), chatPacket('after')]));
    await client.waitForEnd();
    const cause = await session.untilDisconnected();
    assert.equal(cause.code, 'BAD_PACKET');
    assert.ok(cause.error instanceof BadPacketError);
    assert.equal(cause.error.code, 'GW_ERR_BAD_PACKET');
    assert.equal(cause.error.packetId, C_CHAT.id);
    assert.equal(session.packets.length, 1);
  });

  it('closes with HANDLER_ERROR (hook onRecvPacket) when a handler throws', async (t) => {
    const { client, session } = await gameServer(t);
    await client.write(chatPacket('throw'));
    await client.waitForEnd();
    const cause = await session.untilDisconnected();
    assert.equal(cause.code, 'HANDLER_ERROR');
    assert.ok(cause.error instanceof HandlerError);
    assert.equal(cause.error.hook, 'onRecvPacket');
    assert.ok(cause.error.cause instanceof RangeError);
    assert.equal(client.byteCount, 0, 'no reply was sent');
  });

  it('a decoded message handed to a handler stays valid after the call, also its bytes fields', async (t) => {
    // PacketSession's contract: the body is valid only during the call; "to keep it, copy it or
    // decode it into a message first". A kept message must not change when receive memory is reused.
    const schema = loadProtocolSchema({ nested: { t: { nested: { C_BLOB: { fields: { blob: { type: 'bytes', id: 1 } } } } } } });
    const C_BLOB = defineMessage<{ blob: Uint8Array }, 'C_BLOB'>(schema, 't.C_BLOB', 1, 'C_BLOB');
    const kept: Array<{ blob: Uint8Array }> = [];
    const table = createHandlerTable<PacketRecorder, { C_BLOB: typeof C_BLOB }>({ C_BLOB }, { C_BLOB: (_s, m) => kept.push(m) });
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new PacketRecorder((s, id, b) => table.dispatch(s, id, b)));
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    const blobPacket = (fill: string): Buffer => packet(C_BLOB.id, C_BLOB.encodeBody({ blob: Buffer.from(fill.repeat(16)) }));
    const small = blobPacket('x');
    // Each blob packet arrives in two parts, so it is decoded out of the session's receive buffer.
    let count = 0;
    for (const fill of ['A', 'B', 'C']) {
      const whole = blobPacket(fill);
      await client.write(Buffer.concat([small, whole.subarray(0, whole.length - 1)]));
      await session.untilPackets((count += 1));
      await client.write(whole.subarray(whole.length - 1));
      await session.untilPackets((count += 1));
    }
    assert.equal(session.connected, true);
    assert.deepEqual(
      kept.map((m) => Buffer.from(m.blob).toString()),
      ['x', 'A', 'x', 'B', 'x', 'C'].map((fill) => fill.repeat(16)),
      'a kept message changed after its call: its bytes field is a view into reused receive memory',
    );
  });
});
