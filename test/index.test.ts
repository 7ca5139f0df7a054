/** The root entry point as a user sees it: every documented error, one way to read defaults. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as errors from '../src/core/errors.js';
import * as root from '../src/index.js';

describe("the root entry point, 'gamewire'", () => {
  it('exports every error class of core/errors.ts, WebSocketProtocolError included', () => {
    const exported = new Set(Object.values(root));
    const missing = Object.entries(errors)
      .filter(([, value]) => typeof value === 'function' && (value === errors.GamewireError || value.prototype instanceof errors.GamewireError))
      .filter(([, value]) => !exported.has(value))
      .map(([name]) => name);
    assert.deepEqual(missing, []);
    assert.equal(root.WebSocketProtocolError, errors.WebSocketProtocolError);
  });

  it('has one way to read a default: the frozen DEFAULTS, and no DEFAULT_* constant', () => {
    assert.deepEqual(Object.keys(root).filter((name) => name.startsWith('DEFAULT_')), []);
    assert.ok(Object.isFrozen(root.DEFAULTS));
    assert.equal(root.DEFAULTS.wsPath, '/ws');
    assert.equal(root.DEFAULTS.wsMaxMessageBytes, 262_144);
  });
});
