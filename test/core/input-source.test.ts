/** The current input source, and how a JobQueue carries it from doAsync to the job. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { currentInputSource, swapInputSource } from '../../src/core/input-source.js';
import { JobQueue } from '../../src/jobs/job-queue.js';

describe('input source', () => {
  it('swapInputSource sets the current source and returns the one it replaced', () => {
    const a = {};
    assert.equal(currentInputSource(), undefined);
    assert.equal(swapInputSource(a), undefined);
    assert.equal(currentInputSource(), a);
    assert.equal(swapInputSource(undefined), a);
    assert.equal(currentInputSource(), undefined);
  });

  it('a job runs with the source that was current when it was queued; jobs queued with none run with none', async () => {
    const queue = new JobQueue();
    const a = { name: 'a' };
    const b = { name: 'b' };
    const seen: Array<object | undefined> = [];
    const record = (): void => {
      seen.push(currentInputSource());
    };
    const previous = swapInputSource(a);
    queue.doAsync(record);
    queue.doAsync(() => {
      record();
      queue.doAsync(record); // queued by a job charged to a: charged to a too
    });
    swapInputSource(b);
    queue.doAsync(record);
    swapInputSource(previous);
    queue.doAsync(record);
    assert.equal(currentInputSource(), undefined);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, [a, a, b, undefined, a]);
    assert.equal(currentInputSource(), undefined, 'the drain puts the outer source back');
  });

  it('a job that throws does not leave its source current', async () => {
    const queue = new JobQueue();
    const a = {};
    const previous = swapInputSource(a);
    queue.doAsync(() => {
      throw new Error('boom');
    });
    swapInputSource(previous);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(currentInputSource(), undefined);
  });
});
