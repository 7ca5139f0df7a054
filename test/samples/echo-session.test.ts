import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DisconnectCause } from '../../src/core/disconnect-cause.js';
import { MalformedHeaderError, PacketTooLargeError } from '../../src/core/errors.js';
import { EchoSession, RawEchoSession } from '../../src/samples/echo-session.js';
import { header, packet, PacketReader, seqPacket } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer } from '../helpers/services.js';
import { Condition, cleanupAfter, withTimeout } from '../helpers/wait.js';

/** EchoSession that reports its disconnect cause. */
class ObservedEcho extends EchoSession {
  seenCause: DisconnectCause | undefined;
  static readonly changed = new Condition();

  protected override onDisconnected(cause: DisconnectCause): void {
    this.seenCause = cause;
    ObservedEcho.changed.notify();
  }

  untilDisconnected(): Promise<DisconnectCause> {
    return ObservedEcho.changed
      .until(() => this.seenCause !== undefined, `echo session ${this.id} onDisconnected`)
      .then(() => this.seenCause as DisconnectCause);
  }
}

describe('EchoSession', () => {
  it('echoes packets unchanged, also when they arrive split', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service } = await startServer(cleanup, () => new ObservedEcho());
    const client = await RawClient.connect(service.port, { cleanup });
    const p = packet(77, 'split across writes');
    await client.write(p.subarray(0, 3));
    await client.write(p.subarray(3, 10));
    await client.write(p.subarray(10));
    assert.deepEqual((await client.waitForBytes(p.length)).subarray(0, p.length), p);
    assert.deepEqual(await client.roundTrip(packet(0)), packet(0));
  });

  it('closes the peer with MALFORMED_HEADER for a size below 4, after echoing the packets before it', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new ObservedEcho());
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    const good = packet(1, 'fine');
    await client.write(Buffer.concat([good, header(3, 9), packet(2, 'never echoed')]));
    await client.waitForEnd();
    assert.deepEqual(client.received, good);
    const cause = await session.untilDisconnected();
    assert.equal(cause.code, 'MALFORMED_HEADER');
    assert.ok(cause.error instanceof MalformedHeaderError);
    assert.equal(cause.error.code, 'GW_ERR_MALFORMED_HEADER');
  });

  it('closes the peer with PACKET_TOO_LARGE for a size above maxPacketSize', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new ObservedEcho(), { packet: { maxPacketSize: 100 } });
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    const atLimit = packet(5, Buffer.alloc(96, 1));
    assert.deepEqual(await client.roundTrip(atLimit), atLimit);
    await client.write(header(101).subarray(0, 2));
    await client.waitForEnd();
    const cause = await session.untilDisconnected();
    assert.equal(cause.code, 'PACKET_TOO_LARGE');
    assert.ok(cause.error instanceof PacketTooLargeError);
  });

  it('echoes 100,000 pipelined packets with no loss and no reordering', { timeout: 60_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const { service } = await startServer(cleanup, () => new ObservedEcho());
    const client = await RawClient.connect(service.port, { cleanup });
    const total = 100_000;
    const batch = 1_000;
    const reader = new PacketReader();
    const done = new Condition();
    let next = 0;
    let mismatch: string | undefined;
    client.socket.on('data', (chunk: Buffer) => {
      for (const got of reader.push(chunk)) {
        if (mismatch === undefined && !got.bytes.equals(seqPacket(next))) {
          mismatch = `packet #${next}: got id ${got.id} size ${got.size}, seq ${got.bytes.readUInt32LE(4)}`;
        }
        next++;
      }
      done.notify();
    });
    const finished = done.until(() => next >= total || mismatch !== undefined, `${total} echoed packets`, 50_000);

    for (let seq = 0; seq < total; seq += batch) {
      const chunk = Buffer.concat(Array.from({ length: batch }, (_, i) => seqPacket(seq + i)));
      if (!client.socket.write(chunk)) await withTimeout(new Promise((r) => client.socket.once('drain', r)), "'drain'");
    }
    await finished;
    assert.equal(mismatch, undefined);
    assert.equal(next, total);
    assert.equal(reader.pendingBytes, 0);
    client.end();
    await client.waitForClose();
  });
});

describe('RawEchoSession', () => {
  it('echoes bytes as they come, without framing', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service } = await startServer(cleanup, () => new RawEchoSession());
    const client = await RawClient.connect(service.port, { cleanup });
    const bytes = Buffer.from([1, 0, 2]); // not a valid packet: echoed anyway
    assert.deepEqual(await client.roundTrip(bytes), bytes);
  });
});
