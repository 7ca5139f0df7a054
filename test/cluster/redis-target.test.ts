/**
 * Where rooms meet in Redis: the default prefix keeps databases apart, a bad URL or prefix is refused
 * with an error that names the option, and no password ever appears in what is logged or thrown.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactUrl, redactUrls, redisErrorFields, resolveRedisTarget } from '../../src/cluster/redis-target.js';

const SECRET = 's3cr3t-pw';

describe('Redis target', () => {
  it('the default prefix carries the database: the URL path, else ?db=, else 0', () => {
    assert.deepEqual(resolveRedisTarget('redis://h:6379'), { url: 'redis://h:6379', prefix: 'gamewire:0:', db: 0 });
    assert.equal(resolveRedisTarget('redis://h:6379/').prefix, 'gamewire:0:');
    assert.equal(resolveRedisTarget('redis://h/2').prefix, 'gamewire:2:');
    assert.equal(resolveRedisTarget('redis://h?db=5').prefix, 'gamewire:5:');
    assert.equal(resolveRedisTarget('redis://h/3?db=5').db, 3, 'the path wins, as in ioredis');
    assert.equal(resolveRedisTarget({ url: 'rediss://h/1', prefix: 'game-a:' }).prefix, 'game-a:');
  });

  it('refuses what is not a Redis URL, a database that is not a number, and a prefix that would break a key pattern; never with the password', () => {
    for (const url of ['http://h', 'h:6379', '', `redis://:${SECRET}@h/x`, `redis://u:${SECRET}@h/-1`, `redis://:${SECRET}@h/1.5`]) {
      assert.throws(
        () => resolveRedisTarget(url),
        (error: Error & { code?: string }) => error.code === 'GW_ERR_INVALID_OPTION' && !error.message.includes(SECRET),
        url,
      );
    }
    for (const prefix of ['', 'a b', 'a*', 'a?', 'a[', 'x'.repeat(101), 'tab\t']) {
      assert.throws(() => resolveRedisTarget({ url: `redis://:${SECRET}@h`, prefix }), (error: Error) => /redis\.prefix/.test(error.message) && !error.message.includes(SECRET));
    }
  });

  it('redacts the user and password of a URL, alone and inside a message', () => {
    assert.equal(redactUrl(`redis://:${SECRET}@127.0.0.1:6379/2`), 'redis://:***@127.0.0.1:6379/2');
    assert.equal(redactUrl(`rediss://admin:${SECRET}@h:6380`), 'rediss://***:***@h:6380');
    assert.equal(redactUrl('redis://h:6379/1'), 'redis://h:6379/1', 'no credentials: unchanged');
    assert.equal(redactUrl(`not a url //user:${SECRET}@host`), 'not a url //***@host');
    const message = `cannot reach Redis at redis://u:${SECRET}@h:1/0: connect ECONNREFUSED; also 'rediss://:${SECRET}@other'`;
    assert.ok(!redactUrls(message).includes(SECRET), redactUrls(message));
  });

  it("an ioredis error is logged without its command (AUTH's arguments are the password)", () => {
    const error = Object.assign(new Error('WRONGPASS invalid username-password pair'), { command: { name: 'auth', args: [SECRET] }, code: 'WRONGPASS' });
    const safe = redisErrorFields(error);
    assert.ok(safe instanceof Error);
    assert.deepEqual({ name: safe.name, message: safe.message, code: safe.code }, { name: 'Error', message: 'WRONGPASS invalid username-password pair', code: 'WRONGPASS' });
    assert.equal('command' in safe, false, 'no command');
    assert.ok(!JSON.stringify({ ...safe, stack: safe.stack }).includes(SECRET));
  });
});
