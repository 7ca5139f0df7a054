/**
 * A 1,000-member room over loopback: the broadcast sample (BroadcastSession + Room) with 1,000 raw
 * clients in this process (about 2,000 descriptors: each client socket and its server socket).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { ServerService } from '../../src/net/server-service.js';
import { Room } from '../../src/room/room.js';
import { BroadcastSession } from '../../src/samples/broadcast-session.js';
import { packet, PacketReader } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { Condition, cleanupAfter, withTimeout } from '../helpers/wait.js';

const WANTED_MEMBERS = 1000;
const SENDERS = 3;
const PACKETS_PER_SENDER = 20;
/** Sender k's packets have id SENDER_ID_BASE + k; the body is the sequence number (u32 LE). */
const SENDER_ID_BASE = 100;
/** After the numbered packets, each sender sends one marker (seq MARKER) to prove nothing more follows. */
const MARKER = 0xffff_ffff;
const CONNECT_CONCURRENCY = 100;

/** The shell's open-file limit, or Infinity. */
function openFileLimit(): number {
  try {
    const text = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text);
  } catch {
    return 1024;
  }
}

/** A Room that lets the test wait on its member count. */
class WatchedRoom extends Room<BroadcastSession> {
  readonly changed = new Condition();
  leaves = 0;

  protected override onEnter(): void {
    this.changed.notify();
  }

  protected override onLeave(): void {
    this.leaves++;
    this.changed.notify();
  }
}

/** What one client has received, per sender. */
class Receiver {
  /** seqs[k]: the sequence numbers received from sender k, in arrival order (markers excluded). */
  readonly seqs: number[][] = Array.from({ length: SENDERS }, () => []);
  readonly markers = new Set<number>();
  readonly problems: string[] = [];
  private readonly reader = new PacketReader();

  constructor(
    readonly client: RawClient,
    private readonly onProgress: () => void,
  ) {
    client.socket.on('data', (chunk: Buffer) => {
      for (const p of this.reader.push(chunk)) {
        const sender = p.id - SENDER_ID_BASE;
        const list = this.seqs[sender];
        if (list === undefined || p.size !== 8) {
          this.problems.push(`unexpected packet id ${p.id} size ${p.size}`);
          continue;
        }
        const seq = p.bytes.readUInt32LE(4);
        if (seq === MARKER) this.markers.add(sender);
        else list.push(seq);
      }
      this.onProgress();
    });
  }

  get complete(): boolean {
    return this.seqs.every((list) => list.length >= PACKETS_PER_SENDER);
  }
}

function numbered(sender: number, seq: number): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt32LE(seq >>> 0, 0);
  return packet(SENDER_ID_BASE + sender, body);
}

describe('Room with 1,000 members over loopback', () => {
  it('delivers 3 senders x 20 packets to every member, in order per sender, exactly once', { timeout: 90_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const limit = openFileLimit();
    // Each member costs two descriptors here (client and server socket), plus some headroom.
    const members = limit >= 2 * WANTED_MEMBERS + 200 ? WANTED_MEMBERS : Math.min(400, Math.floor((limit - 200) / 2));
    if (members < WANTED_MEMBERS) t.diagnostic(`ulimit -n is ${limit}: using ${members} members instead of ${WANTED_MEMBERS}`);
    const startedAt = performance.now();

    const room = new WatchedRoom({ maxMembers: members });
    const service = new ServerService<BroadcastSession>({
      port: 0,
      maxSessionCount: members,
      sessionFactory: () => new BroadcastSession(room),
    });
    await service.start();
    cleanup.add(() => service.close());
    cleanup.add(() => room.close());

    const progress = new Condition();
    const receivers: Receiver[] = [];
    // All clients are closed in one cleanup step, in parallel (registered after the server: runs first).
    cleanup.add(() => Promise.all(receivers.map((r) => r.client.close())));
    const notify = (): void => progress.notify();

    await withTimeout(
      (async () => {
        let next = 0;
        const worker = async (): Promise<void> => {
          while (next < members) {
            next++;
            const client = await RawClient.connect(service.port);
            receivers.push(new Receiver(client, notify));
          }
        };
        await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, worker));
      })(),
      `${members} clients to connect`,
      30_000,
    );
    await room.changed.until(() => room.memberCount === members, `${members} room members`, 15_000);
    const connectedMs = performance.now() - startedAt;
    assert.equal(service.sessionCount, members);
    assert.equal(service.refusedCount, 0);

    const senders = [0, Math.floor(members / 2), members - 1].map((i) => receivers[i] as Receiver);
    for (let seq = 0; seq < PACKETS_PER_SENDER; seq++) {
      senders.forEach((sender, k) => sender.client.socket.write(numbered(k, seq)));
    }
    const countComplete = (): number => receivers.filter((r) => r.complete).length;
    await progress.until(() => countComplete() === members, 'every member to receive all 60 packets', 30_000).catch(
      (error: Error) => {
        throw new Error(`${error.message}; complete: ${countComplete()} of ${members}`);
      },
    );
    const deliveredMs = performance.now() - startedAt - connectedMs;

    // Markers: once every member has every sender's marker, nothing of the numbered packets can follow.
    senders.forEach((sender, k) => sender.client.socket.write(numbered(k, MARKER)));
    await progress.until(() => receivers.every((r) => r.markers.size === SENDERS), 'every marker everywhere', 30_000);

    const expected = Array.from({ length: PACKETS_PER_SENDER }, (_, i) => i);
    receivers.forEach((receiver, index) => {
      assert.deepEqual(receiver.problems, [], `client ${index}`);
      receiver.seqs.forEach((list, k) => assert.deepEqual(list, expected, `client ${index} from sender ${k}`));
      assert.equal(receiver.client.closed, false, `client ${index} was closed`);
    });
    assert.equal(room.leaves, 0);
    t.diagnostic(
      `${members} members: connected in ${Math.round(connectedMs)} ms, ` +
        `${SENDERS * PACKETS_PER_SENDER * members} deliveries in ${Math.round(deliveredMs)} ms`,
    );

    // Close every client and see the room empty itself.
    await Promise.all(receivers.map((r) => r.client.close()));
    await room.changed.until(() => room.memberCount === 0, 'the room to empty', 15_000);
    assert.equal(room.leaves, members);
  });
});
