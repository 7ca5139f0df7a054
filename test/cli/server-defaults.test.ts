/**
 * The server commands' defaults hold on a public server: an idle timeout on, --max-sessions sized to
 * the open-file limit, TLS handshakes bounded, no per-address cap (NAT); out-of-range timers refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultMaxSessions, FALLBACK_MAX_SESSIONS, openFileLimit, parseLimitsFile, RESERVED_FDS } from '../../src/net/listen/file-limit.js';
import { UsageError } from '../../src/cli/command.js';
import { CLI_IDLE_TIMEOUT_MS, serverSetup } from '../../src/cli/server-runner.js';
import { runCli } from '../helpers/cli.js';
import { cleanupAfter } from '../helpers/wait.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 1048576              files
Max locked memory         8388608              8388608              bytes
`;

describe('server command defaults', () => {
  it('reads the soft open-file limit from /proc/self/limits, or a shell', () => {
    assert.equal(parseLimitsFile(LIMITS), 1024);
    assert.equal(parseLimitsFile(LIMITS.replace('1024 ', 'unlimited ')), Number.POSITIVE_INFINITY);
    assert.equal(parseLimitsFile('nothing here'), undefined);
    const limit = openFileLimit();
    if (process.platform === 'linux') assert.ok(limit !== undefined && limit > 0, `read ${limit}`);
  });

  it('sizes --max-sessions to the file limit less the reserve, with a fallback', () => {
    assert.equal(defaultMaxSessions(1024), 1024 - RESERVED_FDS);
    assert.equal(defaultMaxSessions(256), 256 - RESERVED_FDS);
    assert.equal(defaultMaxSessions(10), 1);
    assert.equal(defaultMaxSessions(Number.POSITIVE_INFINITY), 100_000);
    assert.equal(defaultMaxSessions(undefined), FALLBACK_MAX_SESSIONS);
  });

  it('has the idle timeout on, no per-address cap, and TLS handshakes bounded', () => {
    const { options } = serverSetup('test', {});
    assert.equal(options.idleTimeoutMs, CLI_IDLE_TIMEOUT_MS);
    assert.ok(CLI_IDLE_TIMEOUT_MS >= 30_000);
    assert.equal(options.maxSessionCount, defaultMaxSessions(openFileLimit()));
    assert.equal(options.maxSessionsPerAddress, 0);
    assert.ok((options.maxPendingHandshakes ?? 0) >= 1 && (options.maxPendingHandshakes ?? 0) <= 128);
    assert.ok((options.maxPendingHandshakesPerAddress ?? 0) >= 1);
    const small = serverSetup('test', { 'max-sessions': '40' }).options;
    assert.equal(small.maxPendingHandshakes, 10, 'a quarter of --max-sessions');
    assert.equal(small.maxPendingHandshakesPerAddress, 10);
  });

  it("refuses --idle-timeout-ms at or past 2^31 with a clear error, not a 1 ms timer", () => {
    assert.throws(() => serverSetup('test', { 'idle-timeout-ms': String(2 ** 31) }), (error: unknown) =>
      error instanceof UsageError && /Node's timer range/.test(error.message));
    assert.equal(serverSetup('test', { 'idle-timeout-ms': '0' }).options.idleTimeoutMs, 0);
  });

  it('echo-server --idle-timeout-ms 2147483648 exits 2 naming the range', async (t) => {
    const cleanup = cleanupAfter(t);
    const cli = runCli(cleanup, ['echo-server', '--port', '0', '--idle-timeout-ms', '2147483648']);
    assert.equal(await cli.waitForExit(), 2);
    assert.match(cli.stderrLines.join('\n'), /--idle-timeout-ms must be at most 2147483647/);
  });
});
