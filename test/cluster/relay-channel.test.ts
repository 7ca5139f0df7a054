/**
 * The relay channel's accounting, with a channel whose writes complete when the test says: bytes in
 * flight are counted, congestion is reported once at the high mark and once back at the low mark,
 * broadcasts past the cap are refused while control messages still go, and bad bounds are refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULTS } from '../../src/core/defaults.js';
import { RelayChannel, resolveRelayLimits } from '../../src/cluster/relay-channel.js';

describe('RelayChannel', () => {
  it('counts bytes until written; congested above the high mark until the low mark; past the cap broadcasts are refused', () => {
    const pending: Array<() => void> = [];
    const sent: object[] = [];
    const changes: boolean[] = [];
    const channel = new RelayChannel(
      (message, written) => {
        sent.push(message);
        pending.push(() => written(null));
      },
      resolveRelayLimits({ highWaterMark: 1000, lowWaterMark: 400, maxQueueBytes: 2000 }),
      (congested) => changes.push(congested),
    );
    for (let i = 0; i < 10; i++) assert.equal(channel.send({ i }, 150, true), true);
    assert.equal(channel.queuedBytes, 1500);
    assert.deepEqual(changes, [true], 'congested once, when it went past 1000');
    assert.equal(channel.send({ big: true }, 600, true), false, 'a broadcast past the cap is refused');
    assert.equal(channel.send({ control: true }, 600, false), true, 'a control message still goes');
    assert.equal(channel.queuedBytes, 2100);
    assert.equal(sent.length, 11);
    while (channel.queuedBytes > 400) (pending.shift() as () => void)();
    assert.deepEqual(changes, [true, false], 'released once back at the low mark');
    while (pending.length > 0) (pending.shift() as () => void)();
    assert.equal(channel.queuedBytes, 0);
    assert.equal(channel.congested, false);
  });

  it('a channel that throws (closing) leaves nothing counted', () => {
    const channel = new RelayChannel(() => {
      throw new Error('ERR_IPC_CHANNEL_CLOSED');
    }, resolveRelayLimits(), () => assert.fail('never congested'));
    for (let i = 0; i < 100; i++) channel.send({}, 100_000, false);
    assert.equal(channel.queuedBytes, 0);
  });

  it('100,000 messages through: the bookkeeping stays small and exact', () => {
    const pending: Array<(error: Error | null) => void> = [];
    const channel = new RelayChannel((_, written) => pending.push(written), resolveRelayLimits(), () => {});
    for (let round = 0; round < 100; round++) {
      for (let i = 0; i < 1000; i++) channel.send({}, 10 + (i % 7), true);
      for (const written of pending.splice(0, 900)) written(null);
    }
    for (const written of pending.splice(0)) written(null);
    assert.equal(channel.queuedBytes, 0);
  });

  it('bounds: defaults from DEFAULTS, and low <= high <= max', () => {
    assert.deepEqual(resolveRelayLimits(), {
      highWaterMark: DEFAULTS.relayHighWaterMark,
      lowWaterMark: DEFAULTS.relayLowWaterMark,
      maxQueueBytes: DEFAULTS.maxRelayQueueBytes,
    });
    assert.deepEqual(resolveRelayLimits({ highWaterMark: 100 }), { highWaterMark: 100, lowWaterMark: 100, maxQueueBytes: DEFAULTS.maxRelayQueueBytes });
    assert.throws(() => resolveRelayLimits({ highWaterMark: 100, lowWaterMark: 200 }), /relay\.lowWaterMark/);
    assert.throws(() => resolveRelayLimits({ highWaterMark: 100, maxQueueBytes: 50 }), /relay\.maxQueueBytes/);
    assert.throws(() => resolveRelayLimits({ highWaterMark: 0 }), /relay\.highWaterMark/);
    assert.throws(() => resolveRelayLimits({ maxQueueBytes: Number.NaN }), /relay\.maxQueueBytes/);
  });
});
