import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecvBuffer } from '../../src/core/recv-buffer.js';

describe('RecvBuffer', () => {
  it('appends, reads and resets cursors for free when emptied', () => {
    const rb = new RecvBuffer(16);
    assert.equal(rb.append(Buffer.from('abcdef')), 6);
    assert.equal(rb.data().toString(), 'abcdef');
    rb.onRead(6);
    rb.clean();
    assert.equal(rb.isEmpty, true);
    assert.equal(rb.freeSize, 16);
  });
});
