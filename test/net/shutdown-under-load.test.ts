/**
 * close() with 1,000 sessions mid-traffic: every packet that send() accepted before close() reaches its
 * peer, in order and without gaps; close() resolves within closeGraceMs; every session ends with
 * SERVICE_CLOSING.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { openFileLimit, pollUntil, WatchedSession } from '../helpers/limits.js';
import { packet, PacketReader } from '../helpers/packets.js';
import { startServer } from '../helpers/services.js';
import { cleanupAfter, withTimeout } from '../helpers/wait.js';

const SESSIONS = 1_000;
const CLOSE_GRACE_MS = 5_000;
const TICK_MS = 10;
const PER_TICK = 3;
const SERVER_ID = 40;
const CLIENT_ID = 41;

/** A server session numbering what it sends: seq (u32 LE) in a 28-byte body. */
class NumberedSession extends WatchedSession {
  nextSeq = 0;
  /** Highest seq that sendPacket accepted. */
  lastAccepted = -1;
  acceptedAfterClose = 0;
  private readonly body = Buffer.alloc(28, 0x77);

  sendNext(afterClose: boolean): void {
    this.body.writeUInt32LE(this.nextSeq, 0);
    if (this.sendPacket(SERVER_ID, this.body)) {
      this.lastAccepted = this.nextSeq++;
      if (afterClose) this.acceptedAfterClose++;
    }
  }
}

/** One raw client: checks the numbered stream as it comes, and sends small packets of its own. */
class Peer {
  next = 0;
  /** The client's port, which is the session's remotePort. */
  port = -1;
  problems: string[] = [];
  closed = false;
  readonly done: Promise<void>;
  private readonly reader = new PacketReader();

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const p of this.reader.push(chunk)) {
          const seq = p.bytes.readUInt32LE(4);
          if (p.id !== SERVER_ID || seq !== this.next) this.problems.push(`got id ${p.id} seq ${seq}, expected ${this.next}`);
          this.next = seq + 1;
        }
      } catch (error) {
        this.problems.push(String(error));
      }
    });
    socket.on('error', (error) => this.problems.push(`socket error ${error.message}`));
    this.done = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        resolve();
      }),
    );
  }
}

describe('close() under load', () => {
  it(`${SESSIONS} sessions mid-traffic: every accepted packet arrives in order, SERVICE_CLOSING, within closeGraceMs`, async (t) => {
    const limit = openFileLimit();
    if (limit < SESSIONS * 2 + 500) return t.skip(`ulimit -n is ${limit}; needs about ${SESSIONS * 2 + 500}`);
    const cleanup = cleanupAfter(t);
    let fromClients = 0;
    const { service, collector } = await startServer(
      cleanup,
      () => new NumberedSession(() => fromClients++),
      { maxSessionCount: SESSIONS, closeGraceMs: CLOSE_GRACE_MS, disconnectTimeoutMs: 10_000 },
    );

    // Connect, 100 at a time.
    const peers: Peer[] = [];
    cleanup.add(() => {
      for (const peer of peers) peer.socket.destroy();
    });
    for (let i = 0; i < SESSIONS; i += 100) {
      const batch = Array.from({ length: Math.min(100, SESSIONS - i) }, () => {
        const socket = connect({ host: '127.0.0.1', port: service.port, noDelay: true });
        const peer = new Peer(socket);
        peers.push(peer);
        return new Promise<void>((resolve, reject) => {
          socket.once('connect', () => {
            peer.port = socket.localPort ?? -1;
            resolve();
          });
          socket.once('error', reject);
        });
      });
      await withTimeout(Promise.all(batch), 'a batch of 100 connections', 10_000);
    }
    await pollUntil(() => service.sessionCount === SESSIONS, `${SESSIONS} sessions`, 10_000);
    const sessions = [...collector.sessions];

    // Traffic both ways: each tick, PER_TICK numbered packets to every session's peer, and one packet
    // from every client.
    let closing = false;
    const ping = packet(CLIENT_ID, 'client traffic');
    const ticker = setInterval(() => {
      for (const session of sessions) for (let k = 0; k < PER_TICK; k++) session.sendNext(closing);
      if (!closing) for (const peer of peers) peer.socket.write(ping);
    }, TICK_MS);
    cleanup.add(() => clearInterval(ticker));
    await pollUntil(
      () => sessions.every((s) => s.nextSeq >= 30) && fromClients >= SESSIONS * 5,
      'traffic to flow (30 packets per session, 5 per client)',
      15_000,
      TICK_MS,
    );

    // Mid-traffic: note what was accepted, then close. The ticker keeps trying to send.
    const acceptedBeforeClose = new Map(sessions.map((s) => [s.remotePort, s.lastAccepted]));
    closing = true;
    const start = performance.now();
    await withTimeout(service.close(), 'close()', CLOSE_GRACE_MS + 5_000);
    const took = performance.now() - start;
    clearInterval(ticker);

    assert.ok(took < CLOSE_GRACE_MS, `close() took ${took.toFixed(0)} ms, not within closeGraceMs ${CLOSE_GRACE_MS}`);
    assert.equal(service.sessionCount, 0);
    assert.equal(service.state, 'closed');
    const causes = new Map<string, number>();
    for (const session of sessions) {
      const code = session.cause?.code ?? 'none';
      causes.set(code, (causes.get(code) ?? 0) + 1);
      assert.equal(session.acceptedAfterClose, 0, `session ${session.id}: send() accepted a packet after close()`);
    }
    assert.deepEqual([...causes], [['SERVICE_CLOSING', SESSIONS]]);

    await withTimeout(Promise.all(peers.map((p) => p.done)), 'every client to see its connection end', 10_000);
    let checked = 0;
    for (const peer of peers) {
      const last = acceptedBeforeClose.get(peer.port);
      assert.ok(last !== undefined, `no session for client port ${peer.port}`);
      assert.ok(last >= 29, `the session of port ${peer.port} had sent only ${last + 1}`);
      assert.deepEqual(peer.problems, [], `client port ${peer.port}`);
      assert.equal(peer.next, last + 1, `client port ${peer.port}: got seqs 0..${peer.next - 1}, sent 0..${last}`);
      checked++;
    }
    assert.equal(checked, SESSIONS);
  });
});
