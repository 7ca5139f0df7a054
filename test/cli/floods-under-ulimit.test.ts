/**
 * Floods against `gamewire echo-server` running under a small open-file limit (`ulimit -n` in a child
 * process), from the attacker's side:
 * - TLS: thousands of TCP connections from many source addresses that never start a handshake. The
 *   server's file descriptors stay bounded (no EMFILE), its memory stays bounded, and a legitimate TLS
 *   client is served throughout.
 * - Plain TCP with `--max-sessions` set above what the file limit allows: connections past the limit
 *   are refused, counted and warned about at once, instead of dropped by the OS unseen.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { makeCertificate } from '../helpers/certificate.js';
import { fdCount, FloodCounts, ProcessPeaks, startUnderUlimit, tcpRoundTrip, tlsRoundTrip, withRetries } from '../helpers/flood.js';
import { openFileLimit } from '../helpers/limits.js';
import { cleanupAfter } from '../helpers/wait.js';

const FILE_LIMIT = 256;
/** Source addresses of the flood (127.0.0.2 ...): many, so the per-address limit alone cannot stop it. */
const FLOOD_ADDRESSES = 100;
const PER_ADDRESS = 15;
const LEGIT_ROUNDS = 10;

describe('floods under a small ulimit -n', () => {
  it('fds and memory stay bounded, no EMFILE, and a legitimate TLS client is served', async (t) => {
    if (process.platform !== 'linux') return t.skip('needs /proc and 127.0.0.0/8 source addresses (Linux)');
    if (openFileLimit() < FLOOD_ADDRESSES * PER_ADDRESS * 2 + 500) return t.skip('the test process needs about 3,500 fds');
    const dir = mkdtempSync(join(tmpdir(), 'gamewire-flood-'));
    const cleanup = cleanupAfter(t);
    cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
    const pem = makeCertificate(dir);
    if (typeof pem === 'string') return t.skip(pem);

    const { cli, port, maxSessions, pid } = await startUnderUlimit(cleanup, FILE_LIMIT, [
      '--tls-cert', pem.certFile, '--tls-key', pem.keyFile,
    ]);
    assert.ok(port > 0 && maxSessions === FILE_LIMIT - 64, `--max-sessions defaults to ulimit -n less 64: ${maxSessions}`);

    await tlsRoundTrip(port, pem.cert);
    const peaks = new ProcessPeaks(pid);
    const sample = peaks.sample;

    const flood = new FloodCounts(sample);
    cleanup.add(() => flood.sockets.forEach((socket) => socket.destroy()));
    const wave = (): void => {
      for (let i = 0; i < PER_ADDRESS; i++) {
        for (let a = 0; a < FLOOD_ADDRESSES; a++) flood.open(port, `127.0.0.${2 + a}`);
      }
    };
    wave();
    await flood.changed.until(() => flood.settled >= FLOOD_ADDRESSES * PER_ADDRESS, 'the flood to connect', 30_000);

    // Legitimate clients while the flood holds its connections: served at the first attempt.
    const times: number[] = [];
    for (let round = 0; round < LEGIT_ROUNDS; round++) {
      times.push(await tlsRoundTrip(port, pem.cert));
      sample();
    }
    // Each racing a fresh burst of the flood, a client inside a burst larger than the gate may be
    // pushed out before its ClientHello is read; like any game client, it retries.
    const attempts: number[] = [];
    for (let round = 0; round < LEGIT_ROUNDS; round++) {
      wave();
      attempts.push(await withRetries(5, () => tlsRoundTrip(port, pem.cert)));
      sample();
    }
    sample();
    const floodOpen = flood.connected - flood.closedByServer;
    t.diagnostic(
      `flood: ${flood.connected} connected, ${flood.closedByServer} closed by the server, ${flood.failed} failed, ${floodOpen} still open; ` +
        `server fds ${peaks.baseFds} -> max ${peaks.maxFds} (ulimit ${FILE_LIMIT}, --max-sessions ${maxSessions}); ` +
        `RSS ${(peaks.baseRss / 1048576).toFixed(1)} -> max ${(peaks.maxRss / 1048576).toFixed(1)} MB; ` +
        `legit TLS clients beside the held flood: ${LEGIT_ROUNDS}/${LEGIT_ROUNDS} at the first attempt, max ${Math.max(...times).toFixed(0)} ms; ` +
        `racing ${LEGIT_ROUNDS} fresh bursts of ${FLOOD_ADDRESSES * PER_ADDRESS}: served after ${attempts.join(', ')} attempts`,
    );
    assert.ok(!cli.stdoutLines.some((line) => line.includes('out of file descriptors')), 'no EMFILE');
    const pendingLimit = Math.min(128, Math.floor(maxSessions / 4));
    assert.ok(peaks.maxFds <= peaks.baseFds + pendingLimit + 4, `server fds ${peaks.maxFds} stay within ${peaks.baseFds} + ${pendingLimit} pending handshakes`);
    assert.ok(peaks.maxRss - peaks.baseRss < 128 * 1048576, `RSS grew by ${((peaks.maxRss - peaks.baseRss) / 1048576).toFixed(1)} MB`);

    flood.sockets.forEach((socket) => socket.destroy());
    cli.child.kill('SIGTERM');
    assert.equal(await cli.waitForExit(15_000), 0, cli.output());
  });

  it('plain TCP, --max-sessions above the file limit: refused, counted and warned at once, never dropped unseen', async (t) => {
    if (process.platform !== 'linux') return t.skip('needs /proc and 127.0.0.0/8 source addresses (Linux)');
    const cleanup = cleanupAfter(t);
    const fileLimit = 128;
    const { cli, port, pid } = await startUnderUlimit(cleanup, fileLimit, ['--max-sessions', '1000']);
    assert.ok(cli.stdoutLines.some((line) => line.includes('maxSessionCount 1000 is more than the open-file limit allows')), cli.output());
    const flood = new FloodCounts(() => undefined);
    cleanup.add(() => flood.sockets.forEach((socket) => socket.destroy()));
    const floodSize = 400;
    for (let i = 0; i < floodSize; i++) flood.open(port, `127.0.1.${1 + (i % 200)}`);
    await flood.changed.until(() => flood.settled >= floodSize, 'the flood to connect', 30_000);
    const capacity = fileLimit - 64;
    await flood.changed.until(() => flood.closedByServer >= floodSize - capacity, 'the refusals', 10_000);
    const fds = fdCount(pid);
    await cli.waitForLine(/refusing connections: at the open-file limit/);
    t.diagnostic(`${floodSize} connections: ${flood.connected - flood.closedByServer} held (capacity ${capacity}), ${flood.closedByServer} refused; server fds ${fds} (ulimit ${fileLimit})`);
    assert.equal(flood.connected - flood.closedByServer, capacity, 'exactly the capacity is held');
    assert.ok(fds < fileLimit, `fds ${fds} stay under the limit`);
    flood.sockets.forEach((socket) => socket.destroy());
    const used = await withRetries(5, () => tcpRoundTrip(port));
    t.diagnostic(`a real player is served once the flood is gone (attempt ${used})`);
    cli.child.kill('SIGTERM');
    assert.equal(await cli.waitForExit(15_000), 0, cli.output());
    const closed = cli.stdoutLines.find((line) => line.includes('"msg":"closed"')) ?? '';
    assert.ok(Number(/"refused":(\d+)/.exec(closed)?.[1]) >= floodSize - capacity, closed);
  });
});
