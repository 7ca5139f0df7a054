/**
 * SIGTERM to a server with workers when one worker cannot close (stopped with SIGSTOP, as a stuck
 * worker would be): the primary waits for it at most `workerCloseTimeoutMs`, kills it, says so, and
 * the server exits, instead of hanging until a supervisor's SIGKILL.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DEFAULTS } from '../../src/core/defaults.js';
import { cleanupAfter } from '../helpers/wait.js';
import { records, startCluster } from './cluster-fixtures.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts `echo-server --workers 2 ...extra`, stops its first worker, sends SIGTERM and waits for the exit. */
async function stopOneWorkerThenTerm(cleanup: ReturnType<typeof cleanupAfter>, extra: string[]) {
  // No drain time: the close deadline alone is measured (a drain's time adds to it: docs/errors.md).
  const { cli, ready } = await startCluster(cleanup, 'echo-server', ['--workers', '2', '--drain-timeout-ms', '0', ...extra]);
  const [stopped, other] = ready.workerPids as [number, number];
  process.kill(stopped, 'SIGSTOP');
  cleanup.add(() => {
    if (alive(stopped)) process.kill(stopped, 'SIGKILL');
  });
  const signalled = performance.now();
  cli.child.kill('SIGTERM');
  const code = await cli.waitForExit(DEFAULTS.workerCloseTimeoutMs + 10_000);
  return { cli, code, stopped, other, exitMs: performance.now() - signalled };
}

it('--workers 2, one worker stopped: SIGTERM exits after workerCloseTimeoutMs, the stopped worker killed and named', { timeout: 60_000 }, async (t) => {
  const cleanup = cleanupAfter(t);
  // A worker watch longer than the close deadline, so that the deadline is what ends the stopped worker.
  const { cli, code, stopped, other, exitMs } = await stopOneWorkerThenTerm(cleanup, ['--worker-timeout-ms', '60000']);
  const killed = records(cli, /did not close within/);
  t.diagnostic(`SIGTERM to exit ${exitMs.toFixed(0)} ms with one worker stopped (workerCloseTimeoutMs ${DEFAULTS.workerCloseTimeoutMs})`);
  assert.equal(code, 0, cli.output());
  assert.equal(killed.length, 1, cli.output());
  assert.equal(killed[0]?.['pid'], stopped);
  assert.ok(exitMs >= DEFAULTS.workerCloseTimeoutMs - 100 && exitMs < DEFAULTS.workerCloseTimeoutMs + 3_000, `exited ${exitMs.toFixed(0)} ms after SIGTERM`);
  assert.equal(alive(stopped), false, 'the stopped worker is gone');
  assert.equal(alive(other), false, 'the other worker closed');
});

it('--workers 2, one worker stopped, default watch: the worker watch ends it first, and SIGTERM exits within workerTimeoutMs', { timeout: 60_000 }, async (t) => {
  const cleanup = cleanupAfter(t);
  const { cli, code, stopped, exitMs } = await stopOneWorkerThenTerm(cleanup, []);
  t.diagnostic(`SIGTERM to exit ${exitMs.toFixed(0)} ms with one worker stopped (workerTimeoutMs ${DEFAULTS.workerTimeoutMs})`);
  assert.equal(code, 0, cli.output());
  assert.equal(records(cli, /has not answered the primary/).length, 1, cli.output());
  assert.ok(exitMs < DEFAULTS.workerTimeoutMs * 1.2 + 2_000, `exited ${exitMs.toFixed(0)} ms after SIGTERM`);
  assert.equal(alive(stopped), false, 'the stopped worker is gone');
});
