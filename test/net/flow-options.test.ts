/** The flow-control options of a service: defaults and ranges. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidOptionError } from '../../src/core/errors.js';
import { ServerService } from '../../src/net/server-service.js';
import { Session } from '../../src/net/session.js';
import { DEFAULTS } from '../../src/index.js';

describe('flow-control options', () => {
  it('have the documented defaults', () => {
    assert.equal(DEFAULTS.stallTimeoutMs, 60_000);
    assert.equal(DEFAULTS.fanoutShareBytesPerSecond, 4096);
    assert.equal(DEFAULTS.readBudgetBytes, 65_536);
    assert.equal(DEFAULTS.maxSendQueuePieces, 1024);
  });

  it('reject values out of range, stallTimeoutMs past what a Node timer takes included', () => {
    const sessionFactory = (): Session => new Session();
    const bad: Array<Record<string, unknown>> = [
      { stallTimeoutMs: 0 },
      { stallTimeoutMs: 2 ** 31 },
      { stallTimeoutMs: 1.5 },
      { readBudgetBytes: -1 },
      { maxSendQueuePieces: 1 },
      { maxSendQueuePieces: '1024' },
      { fanoutShareBytesPerSecond: -1 },
      { fanoutShareBytesPerSecond: 0.5 },
      { fanoutShareBytesPerSecond: '4096' },
    ];
    for (const override of bad) {
      assert.throws(
        () => new ServerService({ port: 0, sessionFactory, ...override } as never),
        (error: unknown) =>
          error instanceof InvalidOptionError && error.message.includes(Object.keys(override)[0] as string),
        JSON.stringify(override),
      );
    }
    for (const good of [{ stallTimeoutMs: 2 ** 31 - 1 }, { readBudgetBytes: 0 }, { maxSendQueuePieces: 2 }, { fanoutShareBytesPerSecond: 0 }]) {
      assert.doesNotThrow(() => new ServerService({ port: 0, sessionFactory, ...good }), JSON.stringify(good));
    }
  });
});
