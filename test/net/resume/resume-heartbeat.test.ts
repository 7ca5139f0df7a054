/**
 * Heartbeats across a resume, on the server: a client that answered a ping as its connection died
 * sends the pong again after the resume (it was never acknowledged). That pong answers a ping of the
 * earlier connection; its round trip would count the time the client was away, so it must not
 * become `heartbeatRttMs`. A ping of the new connection still counts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { elapse } from '../../helpers/limits.js';
import { PING, PONG, ResumePeer } from '../../helpers/resume-peer.js';
import { startServer } from '../../helpers/services.js';
import { cleanupAfter } from '../../helpers/wait.js';
import { BURST, ResumeTestSession, seqsOf, u32 } from './resume-fixtures.js';

const AWAY_MS = 500;

describe('resume, server side: heartbeats', () => {
  it('a pong to a ping sent before the resume, replayed after it, does not skew heartbeatRttMs', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new ResumeTestSession(), { resume: {}, packet: { heartbeatIntervalMs: 100 } });
    const peer = new ResumePeer(cleanup);
    peer.answerPings = false; // the test answers them
    await peer.open({ tcp: service.port });
    await peer.welcomed();
    const session = await collector.nth(0);
    await peer.until(() => peer.receivedOf(PING).length > 0, 'a ping');
    const oldPing = (peer.receivedOf(PING)[0]?.bytes as Buffer).subarray(4);
    peer.drop();
    await session.until(() => session.state === 'suspended', 'suspended');
    // The answer the client wrote as its connection died: kept by the client, sent on resume.
    peer.send(PONG, oldPing);
    await elapse(AWAY_MS);
    assert.equal(await peer.resume({ tcp: service.port }), 'RESUMED');
    // After RESUMED arrived: the server marked its new connection before it sent it.
    const resumedAt = performance.now();
    // The server reads in order: when packet 1 comes back, the replayed pong was handled.
    peer.send(BURST, u32(1));
    await peer.until(() => seqsOf(peer.received).length === 1, 'packet 1');
    assert.equal(session.heartbeatRttMs, undefined, `the pong to a ping sent ${AWAY_MS} ms earlier is not a round trip`);

    // A ping of the new connection (the server's clock is this process's) counts.
    const isNew = (p: { bytes: Buffer }): boolean => p.bytes.readDoubleLE(4) > resumedAt;
    await peer.until(() => peer.receivedOf(PING).some(isNew), 'a ping of the new connection');
    const newPing = peer.receivedOf(PING).find(isNew) as { bytes: Buffer };
    peer.send(PONG, newPing.bytes.subarray(4));
    peer.send(BURST, u32(1));
    await peer.until(() => seqsOf(peer.received).length === 2, 'packet 2');
    const rtt = session.heartbeatRttMs;
    assert.ok(rtt !== undefined && rtt < AWAY_MS, `round trip of a ping of the new connection: ${rtt} ms`);
  });
});
