/** describeValue and friends: never throw, whatever they are given; WarningThrottle: at once, then per interval. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catchRejection, describeType, describeValue, isInstance, isThenable } from '../../src/core/describe.js';
import { HandlerError, InvalidOptionError } from '../../src/core/errors.js';
import { WarningThrottle } from '../../src/core/warning-throttle.js';
import { hostileValues } from '../helpers/hostile-values.js';

describe('describeValue', () => {
  it('describes every hostile value without throwing, and errors made from them too', () => {
    for (const [label, value] of hostileValues()) {
      const text = describeValue(value);
      assert.equal(typeof text, 'string', label);
      assert.ok(text.length > 0 && text.length <= 200, `${label}: ${text}`);
      assert.doesNotThrow(() => new HandlerError('onRecv', value), label);
      assert.doesNotThrow(() => new InvalidOptionError('port', value, 'an integer'), label);
      assert.doesNotThrow(() => describeType(value), label);
      assert.doesNotThrow(() => isThenable(value), label);
      assert.equal(isInstance(value, Error), label === 'an Error', label);
    }
  });

  it('says what a value is', () => {
    assert.equal(describeValue(new TypeError('bad')), 'TypeError: bad');
    assert.equal(describeValue(undefined), 'undefined');
    assert.equal(describeValue(Symbol('s')), 'Symbol(s)');
    assert.equal(describeValue(Object.create(null)), 'null-prototype object');
    assert.equal(describeValue('7777'), '"7777"');
    assert.equal(describeValue(10n), '10n');
    assert.equal(describeValue([1, 2]), 'array(2)');
    assert.equal(describeValue(new (class Thing {})()), 'Thing');
    assert.equal(describeValue({ message: 'hi' }), 'Object: hi');
    assert.ok(describeValue('x'.repeat(1000)).endsWith('…'));
  });

  it('catchRejection attaches a handler only to promises, and treats a throwing then as a rejection', async () => {
    const seen: unknown[] = [];
    catchRejection(undefined, (reason) => seen.push(reason));
    catchRejection(42, (reason) => seen.push(reason));
    const reason = Symbol('r');
    catchRejection(Promise.reject(reason), (r) => seen.push(r));
    catchRejection({ then: () => { throw 'then threw'; } }, (r) => seen.push(r));
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, ['then threw', reason]);
  });
});

describe('WarningThrottle', () => {
  it('reports the first event at once, then at most once per interval with the count since', () => {
    const throttle = new WarningThrottle(10_000);
    assert.equal(throttle.count(0), 1);
    assert.equal(throttle.count(1), 0);
    assert.equal(throttle.count(9_999), 0);
    assert.equal(throttle.count(10_000), 3);
    assert.equal(throttle.count(10_001), 0);
    assert.equal(throttle.count(30_000), 2);
  });
});
