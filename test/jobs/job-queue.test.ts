import { DEFAULTS } from '../../src/core/defaults.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { InvalidOptionError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { JobQueue } from '../../src/jobs/job-queue.js';
import { CliProcess } from '../helpers/cli.js';
import { Condition, cleanupAfter, Deferred, withTimeout } from '../helpers/wait.js';

/** dist/src/index.js as a file URL, found from this compiled file (dist/test/jobs/job-queue.test.js). */
const INDEX_URL = new URL('../../src/index.js', import.meta.url).href;

/** A log of what ran, with a condition to wait on its length. */
class RunLog {
  readonly entries: string[] = [];
  private readonly changed = new Condition();

  add(entry: string): void {
    this.entries.push(entry);
    this.changed.notify();
  }

  /** Resolves once `entry` was logged. */
  until(entry: string, timeoutMs?: number): Promise<void> {
    return this.changed.until(() => this.entries.includes(entry), `'${entry}'`, timeoutMs);
  }

  /** Resolves once at least `count` entries were logged. */
  untilCount(count: number, timeoutMs?: number): Promise<void> {
    return this.changed.until(() => this.entries.length >= count, `${count} entries`, timeoutMs);
  }
}

/** Spins for `ms` on performance.now(): a job that is busy, which is what the time budget is about. */
function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

/** A Logger that records error() calls. */
function fakeLogger(): { logger: Logger; errors: Array<{ fields: Record<string, unknown>; message: string }> } {
  const errors: Array<{ fields: Record<string, unknown>; message: string }> = [];
  const ignore = (): void => {};
  return {
    errors,
    logger: {
      debug: ignore,
      info: ignore,
      warn: ignore,
      error: (fields, message) => errors.push({ fields: fields as Record<string, unknown>, message }),
    },
  };
}

describe('JobQueue ordering', () => {
  it('runs jobs in push order, not synchronously inside doAsync', async () => {
    const queue = new JobQueue();
    const log = new RunLog();
    for (let i = 0; i < 100; i++) queue.doAsync(() => log.add(String(i)));
    assert.equal(log.entries.length, 0, 'a job ran inside doAsync');
    assert.equal(queue.pendingCount, 100);
    await log.untilCount(100);
    assert.deepEqual(log.entries, Array.from({ length: 100 }, (_, i) => String(i)));
    assert.equal(queue.pendingCount, 0);
  });

  it('is not re-entrant: a job pushed by a job runs after it, never nested', async () => {
    const queue = new JobQueue();
    const log = new RunLog();
    let depth = 0;
    let maxDepth = 0;
    const job = (name: string, pushes: string[]) => (): void => {
      depth++;
      maxDepth = Math.max(maxDepth, depth);
      log.add(`${name} start`);
      for (const next of pushes) queue.doAsync(job(next, next === 'b' ? ['d'] : []));
      log.add(`${name} end`);
      depth--;
    };
    queue.doAsync(job('a', ['b', 'c']));
    await log.until('d end');
    assert.equal(maxDepth, 1, 'a job ran nested inside another');
    assert.deepEqual(log.entries, ['a start', 'a end', 'b start', 'b end', 'c start', 'c end', 'd start', 'd end']);
  });

  it('runs the jobs of many queues, each queue in its own order', async () => {
    const queues = Array.from({ length: 5 }, () => new JobQueue());
    const ran = queues.map((): number[] => []);
    const log = new RunLog();
    for (let i = 0; i < 50; i++) {
      queues.forEach((queue, q) =>
        queue.doAsync(() => {
          (ran[q] as number[]).push(i);
          log.add(`${q}:${i}`);
        }),
      );
    }
    await log.untilCount(250);
    for (const list of ran) assert.deepEqual(list, Array.from({ length: 50 }, (_, i) => i));
  });

  it('reports a throwing job to onJobError and the logger, and runs the later jobs', async () => {
    const { logger, errors } = fakeLogger();
    const seen: unknown[] = [];
    const queue = new JobQueue({ logger, onJobError: (error) => seen.push(error) });
    const log = new RunLog();
    const boom = new Error('boom');
    queue.doAsync(() => log.add('before'));
    queue.doAsync(() => {
      throw boom;
    });
    queue.doAsync(() => log.add('after'));
    queue.doAsync(() => {
      throw 'not an Error';
    });
    queue.doAsync(() => log.add('last'));
    await log.until('last');
    assert.deepEqual(log.entries, ['before', 'after', 'last']);
    assert.deepEqual(seen, [boom, 'not an Error']);
    assert.equal(errors.length, 2);
    assert.equal(errors[0]?.fields['err'], boom);
    assert.equal(errors[1]?.fields['err'], 'not an Error');
  });

  it('goes on when onJobError itself throws', async () => {
    const queue = new JobQueue({
      onJobError: () => {
        throw new Error('callback failed too');
      },
    });
    const log = new RunLog();
    queue.doAsync(() => {
      throw new Error('job failed');
    });
    queue.doAsync(() => log.add('after'));
    await log.until('after');
  });

  it('goes on, and keeps other queues going, when the logger throws while reporting a job error', async () => {
    const throwingLogger: Logger = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: () => {
        throw new Error('logger failed');
      },
    };
    const failing = new JobQueue({ logger: throwingLogger });
    const other = new JobQueue();
    const log = new RunLog();
    // Both queues are drained in the same batch; the failing one first.
    failing.doAsync(() => {
      throw new Error('job failed');
    });
    failing.doAsync(() => log.add('failing: later job'));
    other.doAsync(() => log.add('other: job'));
    // On failure these waits time out (bounded) and the assertions below say what was lost.
    await log.untilCount(2, 1_000).catch(() => undefined);
    assert.deepEqual(
      [...log.entries].sort(),
      ['failing: later job', 'other: job'],
      'a throwing logger.error escaped drain(): the rest of the failing queue and the other queue of the batch did not run',
    );
    // The queues must also keep working for new jobs.
    failing.doAsync(() => log.add('failing: new job'));
    other.doAsync(() => log.add('other: new job'));
    await log.untilCount(4, 1_000).catch(() => undefined);
    assert.deepEqual(
      [...log.entries].sort(),
      ['failing: later job', 'failing: new job', 'other: job', 'other: new job'],
      'the other queue is stuck for good after a throwing logger',
    );
  });
});

describe('JobQueue timers', () => {
  it('fires equal delays in the order made and different delays by delay', async () => {
    const queue = new JobQueue();
    const log = new RunLog();
    const madeFrom = performance.now();
    queue.doTimer(30, () => log.add('30a'));
    queue.doTimer(5, () => log.add('5'));
    queue.doTimer(30, () => log.add('30b'));
    queue.doTimer(15, () => log.add('15'));
    queue.doTimer(30, () => log.add('30c'));
    queue.doTimer(-10, () => log.add('negative=0'));
    // Each timer starts at the clock when it is made (whole ms), so a pause between two doTimer calls
    // (a busy machine) can let a longer delay made earlier come due first: by delay is promised only
    // for delays further apart than the time it took to make them all.
    const makingMs = performance.now() - madeFrom + 1;
    assert.equal(queue.timerCount, 6);
    assert.equal(queue.pendingCount, 0);
    await log.untilCount(6);
    // One Node timer list per delay: equal delays always fire in the order made.
    assert.deepEqual(log.entries.filter((entry) => entry.startsWith('30')), ['30a', '30b', '30c']);
    const delayOf = new Map([['negative=0', 1], ['5', 5], ['15', 15], ['30a', 30], ['30b', 30], ['30c', 30]]); // Node runs 0 as 1
    for (const [early, earlyDelay] of delayOf) {
      for (const [late, lateDelay] of delayOf) {
        if (earlyDelay + makingMs >= lateDelay) continue;
        assert.ok(log.entries.indexOf(early) < log.entries.indexOf(late), `${early} before ${late} (made within ${makingMs.toFixed(1)} ms): ${log.entries.join(', ')}`);
      }
    }
    if (makingMs < 4) assert.deepEqual(log.entries, ['negative=0', '5', '15', '30a', '30b', '30c']);
    assert.equal(queue.timerCount, 0);
  });

  it('cancel() before it fires prevents the job and returns true; later cancels return false', async () => {
    const queue = new JobQueue();
    const log = new RunLog();
    const cancelled = queue.doTimer(5, () => log.add('cancelled job ran'));
    const fired = queue.doTimer(5, () => log.add('fired'));
    queue.doTimer(40, () => log.add('sentinel'));
    assert.equal(queue.timerCount, 3);
    assert.equal(cancelled.cancel(), true);
    assert.equal(cancelled.cancel(), false, 'second cancel');
    assert.equal(queue.timerCount, 2);
    await log.until('fired');
    assert.equal(fired.cancel(), false, 'cancel after the timer fired');
    await log.until('sentinel');
    assert.deepEqual(log.entries, ['fired', 'sentinel']);
    assert.equal(queue.timerCount, 0);
  });

  it('does not keep the process alive with a pending timer (unref)', { timeout: 30_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const script = [
      `import { JobQueue } from ${JSON.stringify(INDEX_URL)};`,
      'const queue = new JobQueue();',
      "queue.doTimer(60_000, () => { console.log('fired'); process.exitCode = 3; });",
      "console.log('armed', queue.timerCount);",
    ].join('\n');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const cli = new CliProcess(child);
    cleanup.add(async () => {
      if (!cli.exited) {
        child.kill('SIGKILL');
        await cli.waitForExit();
      }
    });
    const startedAt = performance.now();
    assert.equal(await cli.waitForExit(20_000), 0, cli.output());
    assert.deepEqual(cli.stdoutLines, ['armed 1'], cli.output());
    assert.ok(performance.now() - startedAt < 20_000);
  });
});

describe('JobQueue clearJobs', () => {
  it('drops queued jobs and pending timers', async () => {
    const queue = new JobQueue();
    const log = new RunLog();
    queue.doAsync(() => log.add('dropped job 1'));
    queue.doAsync(() => log.add('dropped job 2'));
    queue.doTimer(5, () => log.add('dropped timer'));
    assert.equal(queue.pendingCount, 2);
    assert.equal(queue.timerCount, 1);
    queue.clearJobs();
    assert.equal(queue.pendingCount, 0);
    assert.equal(queue.timerCount, 0);
    // The queue still works afterwards; the sentinel timer outlasts the dropped one.
    queue.doAsync(() => log.add('new job'));
    queue.doTimer(40, () => log.add('sentinel'));
    await log.until('sentinel');
    assert.deepEqual(log.entries, ['new job', 'sentinel']);
  });

  it('called from a job: the running job finishes, the rest are dropped, later pushes run', async () => {
    const queue = new JobQueue();
    const log = new RunLog();
    queue.doAsync(() => {
      log.add('first start');
      queue.clearJobs();
      log.add('first end');
      queue.doAsync(() => log.add('pushed after clear'));
    });
    queue.doAsync(() => log.add('dropped'));
    queue.doTimer(1, () => log.add('dropped timer'));
    queue.doTimer(40, () => log.add('dropped timer 2'));
    await log.until('pushed after clear');
    queue.doTimer(60, () => log.add('sentinel'));
    await log.until('sentinel');
    assert.deepEqual(log.entries, ['first start', 'first end', 'pushed after clear', 'sentinel']);
  });
});

describe('JobQueue time budget', () => {
  it('defaults to 64 ms and rejects a budget that is not a positive number', () => {
    assert.equal(DEFAULTS.jobBudgetMs, 64);
    assert.equal(new JobQueue().budgetMs, 64);
    assert.equal(new JobQueue({ budgetMs: 0.5 }).budgetMs, 0.5);
    for (const budgetMs of [0, -1, Number.NaN, '10']) {
      assert.throws(
        () => new JobQueue({ budgetMs } as never),
        (error: unknown) => error instanceof InvalidOptionError && error.code === 'GW_ERR_INVALID_OPTION',
        String(budgetMs),
      );
    }
  });

  it('yields to other queues and to the event loop once past the budget, then finishes in order', async () => {
    const jobCount = 12;
    const busy = new JobQueue({ budgetMs: 10 });
    const other = new JobQueue();
    const done: number[] = [];
    const allDone = new Deferred<void>();
    for (let i = 0; i < jobCount; i++) {
      busy.doAsync(() => {
        busyWait(5);
        done.push(i);
        if (done.length === jobCount) allDone.resolve();
      });
    }
    let busyDoneWhenOtherRan = -1;
    let busyDoneAtImmediate = -1;
    const otherRan = new Deferred<void>();
    const immediateRan = new Deferred<void>();
    other.doAsync(() => {
      busyDoneWhenOtherRan = done.length;
      otherRan.resolve();
    });
    setImmediate(() => {
      busyDoneAtImmediate = done.length;
      immediateRan.resolve();
    });
    await withTimeout(Promise.all([otherRan.promise, immediateRan.promise, allDone.promise]), 'all jobs');
    assert.ok(busyDoneWhenOtherRan >= 1, `the other queue ran before the busy one started (${busyDoneWhenOtherRan})`);
    assert.ok(busyDoneWhenOtherRan < jobCount, `the other queue waited for all ${jobCount} busy jobs`);
    assert.ok(busyDoneAtImmediate < jobCount, `setImmediate waited for all ${jobCount} busy jobs`);
    // 12 jobs of 5 ms with a 10 ms budget cannot fit in one drain: at most 3 ran before it yielded.
    assert.ok(busyDoneWhenOtherRan <= 3, `the busy queue overran its budget: ${busyDoneWhenOtherRan} jobs`);
    assert.deepEqual(done, Array.from({ length: jobCount }, (_, i) => i));
  });

  it('a job pushed while the queue is yielding runs after the queued ones', async () => {
    const queue = new JobQueue({ budgetMs: 1 });
    const order: string[] = [];
    const finished = new Deferred<void>();
    for (let i = 0; i < 4; i++) {
      queue.doAsync(() => {
        busyWait(2);
        order.push(`job ${i}`);
      });
    }
    setImmediate(() =>
      queue.doAsync(() => {
        order.push('late');
        finished.resolve();
      }),
    );
    await withTimeout(finished.promise, 'the late job');
    assert.deepEqual(order, ['job 0', 'job 1', 'job 2', 'job 3', 'late']);
  });
});
