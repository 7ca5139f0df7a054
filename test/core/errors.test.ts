/** Errors know the cause they end a session with; one validation helper; one defaults object. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULTS } from '../../src/core/defaults.js';
import { DisconnectCode } from '../../src/core/disconnect-cause.js';
import {
  HandlerError,
  IdleTimeoutError,
  InvalidOptionError,
  ListenError,
  MalformedHeaderError,
  RateLimitedError,
  SendStalledError,
  UnknownPacketError,
} from '../../src/core/errors.js';
import { checkInteger, checkOneOf } from '../../src/core/options.js';

describe('GamewireError.disconnectCode', () => {
  it('is the cause each session-ending error ends a session with, and undefined for the others', () => {
    assert.equal(new RateLimitedError('packets', 10).disconnectCode, DisconnectCode.RateLimited);
    assert.equal(new MalformedHeaderError(2).disconnectCode, DisconnectCode.MalformedHeader);
    assert.equal(new IdleTimeoutError(1000).disconnectCode, DisconnectCode.IdleTimeout);
    assert.equal(new SendStalledError(2000, 1).disconnectCode, DisconnectCode.SendStalled);
    assert.equal(new UnknownPacketError(7).disconnectCode, DisconnectCode.UnknownPacket);
    assert.equal(new HandlerError('onRecv', new Error('x')).disconnectCode, DisconnectCode.HandlerError);
    assert.equal(new ListenError('h', 1, new Error('x')).disconnectCode, undefined);
  });
});

describe('option checks', () => {
  it('name the option and the range', () => {
    assert.equal(checkInteger('n', 5, 1, 10), 5);
    assert.throws(() => checkInteger('maxThings', 0, 1), (e: unknown) => e instanceof InvalidOptionError && /option maxThings must be an integer >= 1/.test(e.message));
    assert.throws(() => checkInteger('n', 1.5, 1, 10), /an integer 1\.\.10/);
    assert.equal(checkOneOf('mode', 'drop', ['disconnect', 'drop']), 'drop');
    assert.throws(() => checkOneOf('mode', 'x', ['disconnect', 'drop']), /'disconnect' or 'drop'/);
  });
});

describe('DEFAULTS', () => {
  it('is frozen: the one place a default is read, and nobody can change it', () => {
    assert.ok(Object.isFrozen(DEFAULTS));
    assert.throws(() => Object.assign(DEFAULTS, { maxSessionCount: 1 }), TypeError);
    assert.equal(DEFAULTS.maxSessionCount, 100);
  });
});
