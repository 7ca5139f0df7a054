import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBucket } from '../../src/core/token-bucket.js';

describe('TokenBucket', () => {
  it('starts full: a burst of `burst` tokens is taken at once, one more is refused', () => {
    const bucket = new TokenBucket(100, 100, 1_000);
    assert.equal(bucket.ratePerSecond, 100);
    assert.equal(bucket.burst, 100);
    for (let i = 0; i < 100; i++) assert.equal(bucket.take(1, 1_000), true, `token ${i}`);
    assert.equal(bucket.take(1, 1_000), false);
  });

  it('burst defaults to one second of tokens, and the start time to 0', () => {
    const bucket = new TokenBucket(250);
    assert.equal(bucket.burst, 250);
    assert.equal(bucket.take(250, 0), true);
    assert.equal(bucket.take(1, 0), false);
    assert.equal(bucket.take(25, 100), true, '100 ms refill 25 tokens');
  });

  it('refills at ratePerSecond in proportion to the elapsed ms', () => {
    const bucket = new TokenBucket(1_000, 1_000, 0);
    assert.equal(bucket.take(1_000, 0), true);
    assert.equal(bucket.take(1, 0), false);
    assert.equal(bucket.take(10, 9), false, '9 ms give 9 tokens');
    assert.equal(bucket.take(10, 10), true, '10 ms give 10 tokens');
    assert.equal(bucket.take(1, 10), false, 'and they are gone');
    assert.equal(bucket.take(500, 510), true, '500 ms give 500 tokens');
  });

  it('refills fractional tokens and keeps the fraction', () => {
    const bucket = new TokenBucket(3, 3, 0);
    assert.equal(bucket.take(3, 0), true);
    assert.equal(bucket.take(1, 200), false, '0.6 tokens');
    assert.equal(bucket.take(1, 400), true, '0.6 + 0.6 = 1.2 tokens: the first fraction was kept');
    assert.equal(bucket.take(1, 400), false, '0.2 left');
  });

  it('never holds more than burst, however long it was idle', () => {
    const bucket = new TokenBucket(10, 5, 0);
    assert.equal(bucket.take(5, 0), true);
    assert.equal(bucket.take(5, 3_600_000), true, 'an hour later: full, i.e. 5');
    assert.equal(bucket.take(1, 3_600_000), false, 'not 36,000');
    const fresh = new TokenBucket(10, 5, 0);
    assert.equal(fresh.take(6, 1_000_000), false, 'more than burst is never there');
    assert.equal(fresh.take(5, 1_000_000), true, 'a refused take took nothing');
  });

  it('a refused take takes nothing', () => {
    const bucket = new TokenBucket(100, 100, 0);
    assert.equal(bucket.take(60, 0), true);
    assert.equal(bucket.take(50, 0), false);
    assert.equal(bucket.take(40, 0), true, 'the 40 left are still there');
    assert.equal(bucket.take(1, 0), false);
  });

  it('ignores a clock that goes backwards (no refill, no loss)', () => {
    const bucket = new TokenBucket(100, 100, 1_000);
    assert.equal(bucket.take(50, 1_000), true);
    assert.equal(bucket.take(10, 900), true, 'the 50 left are usable at an earlier time');
    assert.equal(bucket.take(41, 900), false, 'and no tokens appear from going back');
    assert.equal(bucket.take(40, 1_000), true, 'time 1000 is not counted as 100 ms of refill');
    assert.equal(bucket.take(1, 1_000), false);
  });

  it('msUntil says when n tokens are there, and take agrees at that time', () => {
    const bucket = new TokenBucket(250, 250, 0);
    assert.equal(bucket.msUntil(250), 0, 'full');
    assert.equal(bucket.take(250, 0), true);
    assert.equal(bucket.msUntil(0), 0);
    assert.equal(bucket.msUntil(1), 4, '250/s: 4 ms per token');
    assert.equal(bucket.msUntil(50), 200);
    assert.equal(bucket.msUntil(250), 1_000);
    assert.equal(bucket.take(50, 199), false, 'one ms early');
    assert.equal(bucket.take(50, 200), true, 'on time');
    assert.equal(bucket.msUntil(1), 4);
  });

  it('msUntil counts the tokens already there', () => {
    const bucket = new TokenBucket(1_000, 1_000, 0);
    assert.equal(bucket.take(900, 0), true);
    assert.equal(bucket.msUntil(100), 0);
    assert.equal(bucket.msUntil(101), 1);
    assert.equal(bucket.msUntil(600), 500);
    assert.equal(bucket.take(600, 500), true);
    assert.equal(bucket.msUntil(1), 1);
  });

  it('a sustained stream gets ratePerSecond on average after the burst (1 ms steps for 10 s)', () => {
    const bucket = new TokenBucket(500, 100, 0);
    let taken = 0;
    for (let ms = 0; ms <= 10_000; ms++) {
      while (bucket.take(1, ms)) taken++;
    }
    // burst + 10 s of refill, give or take one token of rounding
    assert.ok(Math.abs(taken - (100 + 500 * 10)) <= 1, `took ${taken}`);
  });
});
