/**
 * Resume on the server, driven from the network's side: a client written from docs/protocol.md, a
 * proxy that cuts connections with an RST or silently, and the same Session object before and after.
 * Most tests start from `resumeFixture` (a server, a welcomed client, its session).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pollUntil } from '../../helpers/limits.js';
import { MemoryLogger } from '../../helpers/memory-logger.js';
import { ResumePeer, WELCOME } from '../../helpers/resume-peer.js';
import { startServer } from '../../helpers/services.js';
import { cleanupAfter } from '../../helpers/wait.js';
import { BURST, CLIENT_SEQ, resumeFixture, ResumeTestSession, seqsOf, u32, upTo, welcomedPeer } from './resume-fixtures.js';

describe('resume, server side', () => {
  it('a server without resume ignores HELLO: no WELCOME, and the session is a plain one', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new ResumeTestSession());
    const peer = new ResumePeer(cleanup);
    await peer.open({ tcp: service.port });
    peer.send(BURST, u32(3));
    await peer.until(() => peer.received.length === 3, '3 packets');
    assert.deepEqual(seqsOf(peer.received), [1, 2, 3]);
    assert.equal(peer.controls.length, 0, 'no resume packet from a server without resume');
    const session = await collector.nth(0);
    assert.equal(session.resumable, false);
    assert.equal(session.connected, true, 'a reserved id is ignored, not UNKNOWN_PACKET');
  });

  it('HELLO gets WELCOME first: a 24-byte token, the grace period and the replay cap', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new ResumeTestSession(), { resume: { graceMs: 7000, maxReplayBytes: 65536 } });
    const peer = new ResumePeer(cleanup);
    await peer.open({ tcp: service.port });
    // Asked at once, before WELCOME came: WELCOME still comes first.
    peer.send(BURST, u32(2));
    await peer.until(() => peer.received.length === 2, '2 packets');
    assert.equal(peer.controls[0]?.id, WELCOME);
    assert.equal(peer.token?.length, 24);
    assert.equal(peer.graceMs, 7000);
    assert.equal(peer.maxReplayBytes, 65536);
    assert.equal((await collector.nth(0)).resumable, true);
  });

  for (const cut of ['reset', 'blackhole'] as const) {
    it(`a connection cut (${cut === 'reset' ? 'RST' : 'silently'}) mid-burst resumes: the same Session, every packet once and in order, both ways`, async (t) => {
      const { service, collector, proxy, peer, session } = await resumeFixture(cleanupAfter(t), { proxy: true });
      for (let i = 1; i <= 5; i++) peer.send(CLIENT_SEQ, u32(i));
      session.burst(200);
      await peer.until(() => peer.received.length >= 50, '50 packets');
      proxy?.[cut]();
      peer.drop();
      // While the client is away the game goes on sending to it; it also sent more that may be lost.
      session.burst(100);
      for (let i = 6; i <= 8; i++) peer.send(CLIENT_SEQ, u32(i));
      if (cut === 'reset') {
        await session.until(() => session.state === 'suspended', 'suspended');
        assert.deepEqual(session.events, ['connected', 'lost:CONNECTION_RESET']);
      } else {
        assert.equal(session.state, 'open', 'a silent drop is not seen by the server');
      }
      session.burst(50);
      assert.equal(await peer.resume({ tcp: service.port }), 'RESUMED');
      await peer.until(() => peer.received.length === 350, 'all 350 packets');
      assert.deepEqual(seqsOf(peer.received), upTo(350), 'each packet once, in order');
      await session.until(() => session.clientSeqs.length === 8, "the client's 8 packets");
      assert.deepEqual(session.clientSeqs, upTo(8), "each of the client's packets once, in order");
      assert.equal(collector.sessions.length, 1, 'no new session was made');
      assert.equal(session.state, 'open');
      assert.deepEqual(session.events.slice(-2), [cut === 'reset' ? 'lost:CONNECTION_RESET' : 'lost:CONNECTION_RESET', 'resumed:tcp']);
      const counters = service.resumeCounters;
      assert.equal(counters?.resumed, 1);
      assert.ok((counters?.replayedPackets ?? 0) >= 150, `replayed ${counters?.replayedPackets} packets`);
    });
  }
});

describe('resume, server side: tokens, grace, caps and endings', () => {
  it('a forged token, a token already used and a token of an ended session are refused UNKNOWN_SESSION, and the connection closed', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, peer, session } = await resumeFixture(cleanup);
    const first = Buffer.from(peer.token as Buffer);
    const forged = Buffer.from(first);
    forged[23] = (forged[23] as number) ^ 1; // the right key, one bit of the secret wrong
    const attacker = new ResumePeer(cleanup);
    assert.equal(await attacker.resume({ tcp: service.port }, forged, 0), 'REFUSED');
    assert.equal(attacker.refusal?.reason, 'UNKNOWN_SESSION');
    await attacker.untilClosed();
    assert.equal(session.state, 'open', 'a forged token does not touch the session');

    peer.drop();
    await session.until(() => session.state === 'suspended', 'suspended');
    assert.equal(await peer.resume({ tcp: service.port }), 'RESUMED');
    assert.notDeepEqual(peer.token, first, 'a new token at each resume');
    const replayer = new ResumePeer(cleanup);
    assert.equal(await replayer.resume({ tcp: service.port }, first, 0), 'REFUSED', 'a token works once');
    assert.equal(replayer.refusal?.reason, 'UNKNOWN_SESSION');

    session.disconnect('game over');
    await session.until(() => session.cause !== undefined, 'onDisconnected');
    const late = new ResumePeer(cleanup);
    assert.equal(await late.resume({ tcp: service.port }, peer.token, 0), 'REFUSED', 'refused after the session ended');
    assert.equal(service.resumeCounters?.refused.UNKNOWN_SESSION, 3);
  });

  it('a session whose client does not come back within graceMs ends with RESUME_EXPIRED; a later RESUME is refused', async (t) => {
    const { service, peer, session } = await resumeFixture(cleanupAfter(t), { server: { resume: { graceMs: 1000 } } });
    peer.drop();
    await session.until(() => session.state === 'suspended', 'suspended');
    assert.equal(service.resumeCounters?.suspended, 1);
    const lostAt = performance.now();
    await session.until(() => session.cause !== undefined, 'onDisconnected', 5000);
    const waited = performance.now() - lostAt;
    assert.ok(waited >= 950 && waited < 2500, `ended after ${waited.toFixed(0)} ms`);
    assert.equal(session.cause?.code, 'RESUME_EXPIRED');
    assert.equal(session.cause?.error?.code, 'GW_ERR_RESUME_EXPIRED');
    assert.deepEqual(session.events, ['connected', 'lost:PEER_CLOSED', 'disconnected:RESUME_EXPIRED']);
    assert.equal(service.sessionCount, 0);
    assert.equal(service.resumeCounters?.expired, 1);
    assert.equal(await peer.resume({ tcp: service.port }), 'REFUSED');
    assert.equal(peer.refusal?.reason, 'UNKNOWN_SESSION');
  });

  it('a client that never acknowledges holds at most maxReplayBytes, then the session ends with REPLAY_OVERFLOW and BYE says so', async (t) => {
    const logger = new MemoryLogger();
    const { service, peer, session } = await resumeFixture(cleanupAfter(t), { server: { resume: { maxReplayBytes: 8192 }, logger } });
    let peak = 0;
    for (let turn = 0; turn < 100 && session.connected; turn++) {
      session.burst(20); // 20 x 8 bytes a turn: 16000 bytes in all
      await new Promise((resolve) => setImmediate(resolve));
      peak = Math.max(peak, service.resumeCounters?.replayBufferBytes ?? 0);
    }
    await session.until(() => session.cause !== undefined, 'onDisconnected');
    assert.equal(session.cause?.code, 'REPLAY_OVERFLOW');
    assert.equal(session.cause?.error?.code, 'GW_ERR_REPLAY_OVERFLOW');
    assert.ok(peak <= 8192 + 20 * 8, `held at most the cap and one write: ${peak} bytes`);
    await peer.untilClosed();
    assert.match(peer.bye ?? '', /^REPLAY_OVERFLOW/);
    const warnings = logger.at('warn').filter((line) => line.message.includes('REPLAY_OVERFLOW'));
    assert.equal(warnings.length, 1, 'the operator is told, and told what to change');
    assert.match(warnings[0]?.message ?? '', /raise resume\.maxReplayBytes/);
  });

  it('a client that acknowledges keeps the server holding only what is in flight', async (t) => {
    const { service, peer, session } = await resumeFixture(cleanupAfter(t), { server: { resume: { maxReplayBytes: 8192 } } });
    for (let turn = 0; turn < 100; turn++) {
      session.burst(20);
      await peer.until(() => peer.received.length === (turn + 1) * 20, `turn ${turn}`);
      peer.ack();
    }
    await pollUntil(() => (service.resumeCounters?.replayBufferBytes ?? -1) === 0, 'everything acknowledged');
    assert.equal(session.connected, true, '16000 bytes sent through an 8192-byte cap');
  });

  it('BYE from the client ends the session at once with PEER_CLOSED; a server-side disconnect sends BYE with the cause', async (t) => {
    const cleanup = cleanupAfter(t);
    const { collector, ports, peer: leaver, session: left } = await resumeFixture(cleanup);
    leaver.bye_('quit');
    await left.until(() => left.cause !== undefined, 'onDisconnected');
    assert.deepEqual(left.events, ['connected', 'disconnected:PEER_CLOSED']);

    const kicked = await welcomedPeer(cleanup, { tcp: ports.tcp });
    const session = await collector.nth(1);
    session.burst(3);
    session.disconnect('kicked');
    await kicked.untilClosed();
    assert.deepEqual(seqsOf(kicked.received), [1, 2, 3], 'what was sent before arrives');
    assert.equal(kicked.bye, 'LOCAL_DISCONNECT: kicked');
    await session.until(() => session.cause !== undefined, 'onDisconnected');
    assert.equal(session.cause?.code, 'LOCAL_DISCONNECT');
  });

  it('an ACK is answered with the server\'s count, also when the server sends nothing else', async (t) => {
    const { peer, session } = await resumeFixture(cleanupAfter(t));
    for (let i = 1; i <= 3; i++) peer.send(CLIENT_SEQ, u32(i));
    await session.until(() => session.clientSeqs.length === 3, '3 client packets');
    const acksBefore = peer.controls.filter((p) => p.id === 65525).length;
    peer.ack();
    await peer.until(() => peer.serverReceived === 3, 'the answer: 3 packets received');
    assert.equal(peer.controls.filter((p) => p.id === 65525).length, acksBefore + 1, 'one ACK answers');

  });

  it('an ACK of more packets than were sent ends the session with BAD_PACKET (GW_ERR_RESUME_PROTOCOL)', async (t) => {
    const { peer, session } = await resumeFixture(cleanupAfter(t));
    session.burst(2);
    await peer.until(() => peer.received.length === 2, '2 packets');
    const lie = Buffer.alloc(8);
    lie.writeBigUInt64LE(3n);
    peer.sendRaw(65525, lie);
    await session.until(() => session.cause !== undefined, 'onDisconnected');
    assert.equal(session.cause?.code, 'BAD_PACKET');
    assert.equal(session.cause?.error?.code, 'GW_ERR_RESUME_PROTOCOL');
  });

  for (const [what, body] of [
    ['7 bytes', Buffer.alloc(7)],
    ['9 bytes', Buffer.alloc(9)],
    ['a count of 2^53', Buffer.from([0, 0, 0, 0, 0, 0, 0x20, 0])],
  ] as const) {
    it(`an ACK whose body is ${what} ends the session with BAD_PACKET (GW_ERR_RESUME_PROTOCOL), the process unharmed`, async (t) => {
      const { peer, session } = await resumeFixture(cleanupAfter(t));
      session.burst(2);
      await peer.until(() => peer.received.length === 2, '2 packets');
      peer.sendRaw(65525, body);
      await session.until(() => session.cause !== undefined, 'onDisconnected');
      assert.equal(session.cause?.code, 'BAD_PACKET');
      assert.equal(session.cause?.error?.code, 'GW_ERR_RESUME_PROTOCOL');
    });
  }

  it('a resumable peer that goes silent past idleTimeoutMs is suspended, not ended, and resumes', async (t) => {
    const { service, proxy, peer, session } = await resumeFixture(cleanupAfter(t), { server: { idleTimeoutMs: 400, resume: {} }, proxy: true });
    proxy?.blackhole();
    await session.until(() => session.state === 'suspended', 'suspended by the idle watch', 3000);
    assert.deepEqual(session.events, ['connected', 'lost:IDLE_TIMEOUT']);
    session.burst(4);
    peer.drop();
    assert.equal(await peer.resume({ tcp: service.port }), 'RESUMED');
    await peer.until(() => seqsOf(peer.received).length === 4, '4 packets');
    assert.deepEqual(seqsOf(peer.received), [1, 2, 3, 4]);
  });

  it('a RESUME whose count is more than the server sent is refused BAD_POSITION, and the session stays suspended', async (t) => {
    const { service, peer, session } = await resumeFixture(cleanupAfter(t));
    session.burst(2);
    await peer.until(() => peer.received.length === 2, '2 packets');
    peer.drop();
    await session.until(() => session.state === 'suspended', 'suspended');
    assert.equal(await peer.resume({ tcp: service.port }, peer.token, 3), 'REFUSED');
    assert.equal(peer.refusal?.reason, 'BAD_POSITION');
    assert.equal(session.state, 'suspended');
    assert.equal(await peer.resume({ tcp: service.port }), 'RESUMED', 'the right count still resumes');
  });
});

describe('resume across transports', () => {
  for (const [from, to] of [
    ['ws', 'ws'],
    ['tcp', 'ws'],
    ['ws', 'tcp'],
  ] as const) {
    it(`a ${from} connection cut by an RST resumes over ${to}, every packet once and in order`, async (t) => {
      const { ports, proxy, peer, session } = await resumeFixture(cleanupAfter(t), { server: { resume: {}, ws: { port: 0 } }, transport: from, proxy: true });
      assert.equal(session.transport, from);
      session.burst(100);
      for (let i = 1; i <= 3; i++) peer.send(CLIENT_SEQ, u32(i));
      await peer.until(() => peer.received.length >= 20, '20 packets');
      proxy?.reset();
      peer.drop();
      await session.until(() => session.state === 'suspended', 'suspended');
      session.burst(100);
      peer.send(CLIENT_SEQ, u32(4));
      assert.equal(await peer.resume(to === 'tcp' ? { tcp: ports.tcp } : { ws: ports.ws as number }), 'RESUMED');
      await peer.until(() => peer.received.length === 200, '200 packets');
      assert.deepEqual(seqsOf(peer.received), upTo(200));
      await session.until(() => session.clientSeqs.length === 4, "the client's 4 packets");
      assert.deepEqual(session.clientSeqs, [1, 2, 3, 4]);
      assert.equal(session.transport, to);
      assert.deepEqual(session.events, ['connected', 'lost:CONNECTION_RESET', `resumed:${to}`]);
    });
  }
});

describe('resume, server side: the first packet', () => {
  it('a connection that says nothing gets a plain session after helloTimeoutMs, so a server that speaks first still works', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new ResumeTestSession(), { resume: { helloTimeoutMs: 200 } });
    const silent = new ResumePeer(cleanup);
    const openedAt = performance.now();
    await silent.open({ tcp: service.port }, false);
    const session = await collector.nth(0, 2000);
    const waited = performance.now() - openedAt;
    assert.ok(waited >= 150, `the session was made after ${waited.toFixed(0)} ms`);
    assert.equal(session.resumable, false);
    session.burst(2);
    await silent.until(() => silent.received.length === 2, '2 packets');
    assert.equal(silent.controls.length, 0);
  });

  it('a game packet first makes a plain session at once, and that packet is handled', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new ResumeTestSession(), { resume: {} });
    const plain = new ResumePeer(cleanup);
    await plain.open({ tcp: service.port }, false);
    plain.send(BURST, u32(3));
    await plain.until(() => plain.received.length === 3, '3 packets');
    const session = await collector.nth(0);
    assert.equal(session.resumable, false);
    assert.deepEqual(seqsOf(plain.received), [1, 2, 3]);
  });

  it('a full server still takes back its suspended players; new sessions past maxSessionCount are refused', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector, peer, session } = await resumeFixture(cleanup, { server: { resume: {}, maxSessionCount: 1 } });
    const newcomer = new ResumePeer(cleanup);
    await newcomer.open({ tcp: service.port });
    await newcomer.untilClosed();
    assert.equal(newcomer.token, undefined, 'no room for a new session');
    peer.drop();
    await session.until(() => session.state === 'suspended', 'suspended');
    assert.equal(await peer.resume({ tcp: service.port }), 'RESUMED', 'the suspended player holds its slot');
    assert.equal(collector.sessions.length, 1);
  });
});
