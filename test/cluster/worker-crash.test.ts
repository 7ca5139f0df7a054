/**
 * A worker SIGKILLed mid-broadcast loses only its own sessions: the others keep every packet of every
 * surviving sender, in order, without gaps or duplicates; the primary logs it and starts a
 * replacement that serves new connections in the same room.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { packet, PacketReader } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { Condition, cleanupAfter } from '../helpers/wait.js';
import { records, startCluster, terminate } from './cluster-fixtures.js';

const CLIENTS = 6;

/** A broadcast-server client that sends numbered packets (body: client u32, seq u32) and checks what comes back. */
class Member {
  sent = 0;
  /** seqs received, by sender. */
  readonly from = new Map<number, number[]>();
  /** Senders whose hello (id 2) arrived. */
  readonly heard = new Set<number>();
  readonly changed = new Condition();
  private readonly reader = new PacketReader();

  constructor(
    readonly index: number,
    readonly client: RawClient,
  ) {
    client.socket.on('data', (chunk: Buffer) => {
      for (const p of this.reader.push(chunk)) {
        const sender = p.bytes.readUInt32LE(4);
        if (p.id === 2) {
          this.heard.add(sender);
          continue;
        }
        const list = this.from.get(sender) ?? [];
        list.push(p.bytes.readUInt32LE(8));
        this.from.set(sender, list);
      }
      this.changed.notify();
    });
    client.socket.on('close', () => this.changed.notify());
  }

  get alive(): boolean {
    return !this.client.closed && !this.client.ended;
  }

  /** A packet (id 2) that says this member is in the room. */
  hello(): Promise<void> {
    const body = Buffer.alloc(8);
    body.writeUInt32LE(this.index, 0);
    return this.client.write(packet(2, body));
  }

  /** Waits until the hello of `sender` arrived. */
  waitForHello(sender: number): Promise<void> {
    return this.changed.until(() => this.heard.has(sender), `hello of ${sender} at ${this.index}`, 15_000);
  }

  send(): Promise<void> {
    const body = Buffer.alloc(8);
    body.writeUInt32LE(this.index, 0);
    body.writeUInt32LE(this.sent++, 4);
    return this.client.write(packet(1, body)).catch(() => undefined);
  }

  /** Waits until `count` packets of `sender` arrived. */
  waitFor(sender: number, count: number): Promise<void> {
    return this.changed.until(() => (this.from.get(sender)?.length ?? 0) >= count, `${count} packets of ${sender} at ${this.index}`, 15_000);
  }
}

it('broadcast-server --workers 2: SIGKILL one worker mid-broadcast; the survivors get everything in order; a replacement starts', { timeout: 60_000 }, async (t) => {
  const cleanup = cleanupAfter(t);
  const { cli, ready } = await startCluster(cleanup, 'broadcast-server', ['--workers', '2']);
  const members: Member[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const member = new Member(i, await RawClient.connect(ready.port, { cleanup }));
    members.push(member);
    // Its hello coming back to everyone so far shows it is in the room everywhere.
    await member.hello();
    await Promise.all(members.map((m) => m.waitForHello(i)));
  }
  const victim = ready.workerPids[0] as number;
  let stop = false;
  const pumps = members.map(async (member) => {
    while (!stop && member.alive) {
      await member.send();
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  });
  await Promise.all(members.map((m) => m.waitFor(m.index, 30)));
  process.kill(victim, 'SIGKILL');
  await Promise.all(members.map((m) => m.changed.until(() => !m.alive || m.sent > 150, `member ${m.index} to go on or drop`, 15_000)));
  stop = true;
  await Promise.all(pumps);
  const dead = members.filter((m) => !m.alive);
  const living = members.filter((m) => m.alive);
  assert.equal(dead.length, CLIENTS / 2, 'round-robin put half the members on the killed worker');
  const counts = (): string =>
    members.map((r) => `${r.index}${r.alive ? '' : '(dead)'} sent ${r.sent} got ${members.map((s) => r.from.get(s.index)?.length ?? 0).join('/')}`).join('; ');
  try {
    for (const receiver of living) {
      for (const sender of living) await receiver.waitFor(sender.index, sender.sent);
    }
  } catch (error) {
    throw new Error(`${String(error)}: ${counts()}\n${cli.output()}`);
  }
  for (const receiver of living) {
    for (const sender of members) {
      const seqs = receiver.from.get(sender.index) ?? [];
      // From a living sender: all of it; from a dead one: what got out before the kill. In order, once.
      if (sender.alive) assert.equal(seqs.length, sender.sent);
      assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i), `${sender.index} -> ${receiver.index}`);
    }
  }
  await cli.waitForLine(/worker 0 replaced/, 15_000);
  assert.equal(records(cli, /worker 0 died/).length, 1);
  // The replacement serves the same room: a newcomer hears a survivor.
  const newcomers = [new Member(100, await RawClient.connect(ready.port, { cleanup })), new Member(101, await RawClient.connect(ready.port, { cleanup }))];
  const speaker = living[0] as Member;
  for (const n of newcomers) {
    await n.hello();
    await speaker.waitForHello(n.index);
  }
  const before = speaker.sent;
  await speaker.send();
  await Promise.all(newcomers.map((n) => n.changed.until(() => (n.from.get(speaker.index) ?? []).includes(before), 'the survivor heard by the newcomer')));
  assert.equal(await terminate(cli), 0, cli.output());
});
