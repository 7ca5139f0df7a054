/**
 * The IPC messages between the cluster primary and its workers, checked from the hostile side: every
 * shape a confused or foreign writer could send is refused with a reason (never thrown); a game's own
 * messages on the channel are not gamewire's; the version rule reads an adjacent newer release.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GW, parseToPrimary, parseToWorker, toPrimary, toWorker } from '../../src/cluster/cluster-messages.js';
import { MIN_READER_VERSION, PROTOCOL_VERSION, readableVersion } from '../../src/cluster/cluster-protocol.js';

const envelope = { gw: GW, v: PROTOCOL_VERSION, min: MIN_READER_VERSION };

/** Values the IPC channel can carry (structured clone) where a field expects something else. */
const HOSTILE_VALUES: readonly unknown[] = [undefined, null, NaN, -1, -0.5, 1.5, Infinity, 2 ** 53, 65536, '', 'x', true, {}, [], [1], 10n, new Date(0), new Map(), new Uint16Array(2)];

describe('cluster IPC messages', () => {
  it('what this release writes, it reads', () => {
    const frame = new Uint8Array([1, 2, 3]);
    for (const body of [
      { type: 'ready', host: '127.0.0.1', port: 7777, wsPort: 7778 },
      { type: 'ready', host: '127.0.0.1', port: 7777 },
      { type: 'ready', host: '127.0.0.1', port: 7777, gamewireVersion: '0.1.0', appVersion: 'build-42' },
      { type: 'failed', message: 'EADDRINUSE' },
      { type: 'closed', accepted: 3, refused: 0 },
      { type: 'join', room: 'chat' },
      { type: 'leave', room: 'chat' },
      { type: 'publish', room: 'chat', frame },
      { type: 'flow', room: 'chat', held: true },
      { type: 'pong', seq: 9 },
      { type: 'metrics-reply', id: 1, metrics: [] },
      { type: 'resume-route', route: 2, kind: 'tcp', port: 7777, bytes: frame },
      { type: 'resume-route', route: 65535, kind: 'ws', port: 7778, bytes: new Uint8Array(65_536) },
    ] as const) {
      assert.deepEqual(parseToPrimary(toPrimary(body)), toPrimary(body), body.type);
    }
    for (const body of [
      { type: 'close' },
      { type: 'drain', timeoutMs: 20_000 },
      { type: 'drain', timeoutMs: 0 },
      { type: 'room', room: 'chat', frame, holdable: true },
      { type: 'flow', room: 'chat', held: false },
      { type: 'ping', seq: 1 },
      { type: 'metrics-request', id: 0 },
      { type: 'routes', routes: [1, 2, 65535] },
      { type: 'routes', routes: [] },
      { type: 'resume-socket', kind: 'tcp', port: 7777, bytes: frame },
    ] as const) {
      assert.deepEqual(parseToWorker(toWorker(body)), toWorker(body), body.type);
    }
  });

  it('a message that is not gamewire\'s (the game\'s own, prom-client\'s) is left alone', () => {
    for (const raw of [undefined, null, 'stop', 7, [], {}, { type: 'ready' }, { gw: 'other', type: 'close' }, { type: 'prom-client:getMetricsReq', requestId: 1 }]) {
      assert.equal(parseToPrimary(raw), undefined);
      assert.equal(parseToWorker(raw), undefined);
    }
  });

  it('every field of every type, given a hostile value, is refused as malformed; never thrown', () => {
    const goodPrimary: Record<string, Record<string, unknown>> = {
      ready: { host: 'h', port: 1 },
      failed: { message: 'm' },
      closed: { accepted: 1, refused: 1 },
      join: { room: 'r' },
      publish: { room: 'r', frame: new Uint8Array(1) },
      flow: { room: 'r', held: true },
      pong: { seq: 1 },
      'metrics-reply': { id: 1 },
      'resume-route': { route: 1, kind: 'tcp', port: 1, bytes: new Uint8Array(1) },
    };
    for (const [type, fields] of Object.entries(goodPrimary)) {
      for (const field of Object.keys(fields)) {
        for (const hostile of HOSTILE_VALUES) {
          if (type === 'failed' && typeof hostile === 'string') continue;
          if (type === 'ready' && field === 'host' && typeof hostile === 'string') continue;
          if (field === 'room' && typeof hostile === 'string' && hostile.length > 0) continue;
          if (field === 'held' && typeof hostile === 'boolean') continue;
          if (['accepted', 'refused', 'seq', 'id'].includes(field) && hostile === 65536) continue;
          const raw = { ...envelope, type, ...fields, [field]: hostile };
          assert.equal(parseToPrimary(raw), 'malformed', `${type}.${field} = ${String(hostile)}`);
        }
      }
    }
    assert.equal(parseToWorker({ ...envelope, type: 'room', room: 'r', frame: 'not bytes', holdable: true }), 'malformed');
    assert.equal(parseToWorker({ ...envelope, type: 'ping', seq: -1 }), 'malformed');
    for (const hostile of [...HOSTILE_VALUES, 2 ** 31]) {
      if (hostile === 65536) continue;
      assert.equal(parseToWorker({ ...envelope, type: 'drain', timeoutMs: hostile }), 'malformed', `drain.timeoutMs = ${String(hostile)}`);
    }
    for (const field of ['gamewireVersion', 'appVersion']) {
      for (const hostile of [null, 7, {}, [], 'x'.repeat(201)]) {
        assert.equal(parseToPrimary({ ...envelope, type: 'ready', host: 'h', port: 1, [field]: hostile }), 'malformed', `ready.${field} = ${String(hostile)}`);
      }
    }
    assert.equal(parseToWorker({ ...envelope }), 'malformed', 'no type');
    for (const routes of [[0], [65536], [1.5], ['1'], 'all', new Array(4097).fill(1), null]) {
      assert.equal(parseToWorker({ ...envelope, type: 'routes', routes }), 'malformed', `routes ${String(routes).slice(0, 20)}`);
    }
    for (const bad of [{ kind: 'udp' }, { port: -1 }, { bytes: 'x' }, { bytes: new Uint8Array(65_537) }]) {
      assert.equal(parseToWorker({ ...envelope, type: 'resume-socket', kind: 'tcp', port: 1, bytes: new Uint8Array(1), ...bad }), 'malformed', JSON.stringify(bad));
    }
    assert.equal(parseToPrimary({ ...envelope, type: 'resume-route', route: 0, kind: 'tcp', port: 1, bytes: new Uint8Array(1) }), 'malformed', 'route 0 is a lone process');
    assert.equal(parseToWorker({ ...envelope, type: 'explode' }), 'malformed', 'an unknown type from this version');
  });

  it('versions: a future one only it can read is refused; an adjacent newer one is read, its new types dropped as unknown', () => {
    assert.equal(parseToWorker({ gw: GW, v: 9, min: 9, type: 'close' }), 'version');
    assert.equal(parseToWorker({ gw: GW, type: 'close' }), 'version', 'the unversioned messages of older releases');
    assert.equal(parseToPrimary({ gw: GW, v: '1', min: 1, type: 'pong', seq: 1 }), 'version');
    const newer = { gw: GW, v: PROTOCOL_VERSION + 1, min: PROTOCOL_VERSION, type: 'ping', seq: 3, addedLater: { anything: true } };
    assert.deepEqual(parseToWorker(newer), newer, 'fields it does not know are ignored');
    assert.equal(parseToWorker({ ...newer, type: 'migrate' }), 'unknown');
    assert.equal(readableVersion(PROTOCOL_VERSION, PROTOCOL_VERSION + 1), false);
    assert.equal(readableVersion(256, 1), false);
  });

  it('across a rolling reload: an old worker\'s ready (no versions) is read; a drain an old release cannot read is dropped, never thrown', () => {
    // What a worker of the release before versions were reported writes.
    const oldReady = { gw: GW, v: 1, min: 1, type: 'ready', host: '127.0.0.1', port: 7777 };
    assert.deepEqual(parseToPrimary(oldReady), oldReady);
    // A drain from a primary of an older protocol than this worker reads: dropped with a reason.
    assert.equal(parseToWorker({ gw: GW, v: 0, min: 0, type: 'drain', timeoutMs: 1000 }), 'version');
    // A drain written by a newer release that this one cannot read at all.
    assert.equal(parseToWorker({ gw: GW, v: PROTOCOL_VERSION + 2, min: PROTOCOL_VERSION + 1, type: 'drain', timeoutMs: 1000 }), 'version');
    // A newer release's drain with a field added later: read, the field ignored.
    const newerDrain = { gw: GW, v: PROTOCOL_VERSION + 1, min: PROTOCOL_VERSION, type: 'drain', timeoutMs: 5, moveResumable: true };
    assert.deepEqual(parseToWorker(newerDrain), newerDrain);
  });
});
