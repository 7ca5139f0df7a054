/**
 * What `send` returns on a resumable session, state by state (docs/resume.md): true while open or
 * suspended (kept for the client), false once it is ending. A send that itself crosses
 * `maxSendQueueBytes` cuts a plain session off (false: its bytes are dropped) but only suspends a
 * resumable one, whose queue, that send included, is kept and delivered on resume: true.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResumePeer } from '../../helpers/resume-peer.js';
import { startServer } from '../../helpers/services.js';
import { cleanupAfter } from '../../helpers/wait.js';
import { NUMBERED, resumeFixture, ResumeTestSession, seqsOf, u32 } from './resume-fixtures.js';

/** A packet id of the test: 40000 bytes of body. */
const BIG = 9;
const BIG_BODY = Buffer.alloc(40_000, 7);
/** Two BIG packets in one turn cross this cap, the first does not. */
const LIMITS = { maxSendQueueBytes: 65_536, sendHighWaterMark: 16_384 } as const;

describe('resume, server side: what send returns', () => {
  it('a send that crosses maxSendQueueBytes suspends a resumable session, returns true, and its bytes arrive after the resume', async (t) => {
    const { service, peer, session } = await resumeFixture(cleanupAfter(t), { server: { resume: {}, ...LIMITS } });
    // One turn, from no read: nothing holds the sender back, so the second send crosses the cap.
    const sent = [session.sendPacket(BIG, BIG_BODY), session.sendPacket(BIG, BIG_BODY)];
    assert.equal(session.state, 'suspended', 'cut off in the second send');
    assert.deepEqual(sent, [true, true], 'both sends are kept for the client');
    assert.deepEqual(session.events, ['connected', 'lost:SEND_QUEUE_OVERFLOW']);
    assert.equal(session.traffic.packetsSent, 2);
    // Suspended: still true, kept in the replay buffer.
    assert.equal(session.sendPacket(NUMBERED, u32(1)), true);
    await peer.untilClosed();
    assert.equal(await peer.resume({ tcp: service.port }), 'RESUMED');
    await peer.until(() => seqsOf(peer.received).length === 1, 'both big packets, then the numbered one');
    const bigs = peer.receivedOf(BIG);
    assert.equal(bigs.length, 2);
    for (const p of bigs) assert.ok(p.bytes.subarray(4).equals(BIG_BODY));
    assert.equal(peer.received.at(-1)?.id, NUMBERED, 'in the order sent');
    // Ending: false from the moment disconnect is called.
    session.disconnect('done');
    assert.equal(session.sendPacket(NUMBERED, u32(2)), false);
    await session.until(() => session.cause !== undefined, 'onDisconnected');
    assert.equal(session.sendPacket(NUMBERED, u32(3)), false);
  });

  it('the same send on a plain session of the same server returns false and ends it with SEND_QUEUE_OVERFLOW', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new ResumeTestSession(), { resume: { helloTimeoutMs: 1 }, ...LIMITS });
    const plain = new ResumePeer(cleanup);
    await plain.open({ tcp: service.port }, false);
    const session = await collector.nth(0);
    assert.equal(session.resumable, false);
    const sent = [session.sendPacket(BIG, BIG_BODY), session.sendPacket(BIG, BIG_BODY)];
    assert.deepEqual(sent, [true, false], 'the second send is dropped with the queue');
    await session.until(() => session.cause !== undefined, 'onDisconnected');
    assert.equal(session.cause?.code, 'SEND_QUEUE_OVERFLOW');
  });
});
