/** The current read source, and how a JobQueue carries it from doAsync to the job. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { currentReadSource, swapReadSource } from '../../src/core/read-source.js';
import { JobQueue } from '../../src/jobs/job-queue.js';

describe('read source', () => {
  it('swapReadSource sets the current source and returns the one it replaced', () => {
    const a = {};
    assert.equal(currentReadSource(), undefined);
    assert.equal(swapReadSource(a), undefined);
    assert.equal(currentReadSource(), a);
    assert.equal(swapReadSource(undefined), a);
    assert.equal(currentReadSource(), undefined);
  });

  it('a job runs with the source that was current when it was queued; jobs queued with none run with none', async () => {
    const queue = new JobQueue();
    const a = { name: 'a' };
    const b = { name: 'b' };
    const seen: Array<object | undefined> = [];
    const record = (): void => {
      seen.push(currentReadSource());
    };
    const previous = swapReadSource(a);
    queue.doAsync(record);
    queue.doAsync(() => {
      record();
      queue.doAsync(record); // queued by a job charged to a: charged to a too
    });
    swapReadSource(b);
    queue.doAsync(record);
    swapReadSource(previous);
    queue.doAsync(record);
    assert.equal(currentReadSource(), undefined);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, [a, a, b, undefined, a]);
    assert.equal(currentReadSource(), undefined, 'the drain puts the outer source back');
  });

  it('a job that throws does not leave its source current', async () => {
    const queue = new JobQueue();
    const a = {};
    const previous = swapReadSource(a);
    queue.doAsync(() => {
      throw new Error('boom');
    });
    swapReadSource(previous);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(currentReadSource(), undefined);
  });
});
