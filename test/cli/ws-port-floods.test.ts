/**
 * The WebSocket port of `gamewire echo-server --ws-port` under a small open-file limit, from the
 * attacker's side: thousands of TCP connections to the WebSocket port, from many source addresses,
 * that never send their upgrade request (a port scanner, a load balancer's TCP check, a flood). They
 * count against the same budget as TLS handshakes, so players still log in on both ports during the
 * flood, the server's descriptors stay bounded, and every flood socket is closed by the upgrade
 * deadline. Plain (`ws://` beside TCP) and TLS (`wss://` beside TLS).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULTS } from '../../src/core/defaults.js';
import { makeCertificate } from '../helpers/certificate.js';
import { FloodCounts, ProcessPeaks, startUnderUlimit, tcpRoundTrip, tlsRoundTrip, withRetries, wsRoundTrip } from '../helpers/flood.js';
import { openFileLimit } from '../helpers/limits.js';
import { cleanupAfter } from '../helpers/wait.js';

const FILE_LIMIT = 256;
const FLOOD_ADDRESSES = 100;
const PER_ADDRESS = 20;
const FLOOD = FLOOD_ADDRESSES * PER_ADDRESS;
const LOGINS = 10;
/** Slack on the upgrade deadline for a loaded 2-core machine: timers fire late, closes take a turn. */
const DEADLINE_SLACK_MS = 2_000;

describe('the WebSocket port under a small ulimit -n', () => {
  for (const secure of [false, true]) {
    const kind = secure ? 'wss beside TLS' : 'ws beside TCP';
    it(`${kind}: ${FLOOD} silent connections to the WebSocket port; players log in on both ports, fds bounded, every flood socket closed by the deadline`, async (t) => {
      if (process.platform !== 'linux') return t.skip('needs /proc and 127.0.0.0/8 source addresses (Linux)');
      if (openFileLimit() < FLOOD + 1000) return t.skip(`the test process needs about ${FLOOD + 1000} fds`);
      const cleanup = cleanupAfter(t);
      let ca: Buffer | undefined;
      const tlsArgs: string[] = [];
      if (secure) {
        const dir = mkdtempSync(join(tmpdir(), 'gamewire-wsflood-'));
        cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
        const pem = makeCertificate(dir);
        if (typeof pem === 'string') return t.skip(pem);
        ca = pem.cert;
        tlsArgs.push('--tls-cert', pem.certFile, '--tls-key', pem.keyFile);
      }
      const { cli, pid, port, wsPort, maxSessions } = await startUnderUlimit(cleanup, FILE_LIMIT, ['--ws-port', '0', ...tlsArgs]);
      assert.ok(wsPort !== undefined && wsPort > 0, cli.output());
      const tcpLogin = (): Promise<number> => (ca === undefined ? tcpRoundTrip(port) : tlsRoundTrip(port, ca));
      const wsLogin = (): Promise<number> => wsRoundTrip(wsPort, ca);
      await tcpLogin();
      await wsLogin();

      const peaks = new ProcessPeaks(pid);
      const sample = peaks.sample;
      const flood = new FloodCounts(sample);
      cleanup.add(() => flood.destroyAll());
      const wave = (perAddress: number): void => {
        for (let i = 0; i < perAddress; i++) {
          for (let a = 0; a < FLOOD_ADDRESSES; a++) flood.open(wsPort, `127.0.0.${2 + a}`);
        }
      };
      const floodStarted = performance.now();
      // In waves the kernel's accept queue (backlog 511) can take: past it, connections wait unseen by
      // the server in SYN-RECV and are accepted seconds later, which would blur the deadline measured.
      for (let w = 1; w <= PER_ADDRESS / 2; w++) {
        wave(2);
        await flood.changed.until(() => flood.settled >= w * 2 * FLOOD_ADDRESSES, 'a flood wave to connect', 30_000);
      }

      // Players while the flood holds what it could get: one attempt each.
      const during = { ws: 0, tcp: 0, wsMs: [] as number[], tcpMs: [] as number[] };
      for (let round = 0; round < LOGINS; round++) {
        await wsLogin().then((ms) => (during.ws++, during.wsMs.push(ms)), () => undefined);
        await tcpLogin().then((ms) => (during.tcp++, during.tcpMs.push(ms)), () => undefined);
        sample();
      }
      // Each racing a fresh burst: a player whose connection lands inside a burst larger than the
      // budget may be pushed out before its request is read; like any game client, it retries.
      const attempts: number[] = [];
      let racingTcp = 0;
      for (let round = 0; round < LOGINS; round++) {
        wave(2);
        attempts.push(await withRetries(5, wsLogin).catch(() => Number.POSITIVE_INFINITY));
        await tcpLogin().then(() => racingTcp++, () => undefined);
        sample();
      }
      await flood.changed.until(() => flood.settled >= FLOOD + LOGINS * 2 * FLOOD_ADDRESSES, 'the bursts to connect', 30_000);
      const deadline = DEFAULTS.wsUpgradeTimeoutMs;
      const allClosed = await flood.changed.until(() => flood.held === 0, 'every flood socket to be closed by the server', deadline + 10_000).then(
        () => true,
        () => false,
      );
      const allClosedMs = performance.now() - floodStarted;
      sample();

      const pendingLimit = Math.min(128, Math.floor(maxSessions / 4));
      t.diagnostic(
        `${kind}: flood ${flood.connected} connected (${flood.failed} failed to), all ${flood.closedByServer} closed by the server, ` +
          `${flood.held} still held; longest lived ${flood.longestLifeMs.toFixed(0)} ms (deadline ${deadline} ms), ${allClosed ? 'all' : 'not all'} closed ${allClosedMs.toFixed(0)} ms after the flood began; ` +
          `logins during the flood: WebSocket ${during.ws}/${LOGINS} (max ${Math.max(0, ...during.wsMs).toFixed(0)} ms), ` +
          `${secure ? 'TLS' : 'TCP'} ${during.tcp}/${LOGINS} (max ${Math.max(0, ...during.tcpMs).toFixed(0)} ms); ` +
          `racing ${LOGINS} fresh bursts of ${2 * FLOOD_ADDRESSES}: WebSocket served after ${attempts.join(', ')} attempts, ${secure ? 'TLS' : 'TCP'} ${racingTcp}/${LOGINS}; ` +
          `server fds ${peaks.baseFds} -> max ${peaks.maxFds} (ulimit ${FILE_LIMIT}, pending budget ${pendingLimit}); ` +
          `RSS ${(peaks.baseRss / 1048576).toFixed(1)} -> max ${(peaks.maxRss / 1048576).toFixed(1)} MB; ` +
          `warnings: ${cli.stdoutLines.filter((line) => line.includes('"level":40')).length}`,
      );
      assert.equal(during.ws, LOGINS, 'every WebSocket login during the flood succeeds at the first attempt');
      assert.equal(during.tcp, LOGINS, 'every TCP/TLS login during the flood succeeds at the first attempt');
      assert.ok(attempts.every((n) => n <= 5) && racingTcp === LOGINS, 'players racing fresh bursts get in');
      assert.ok(allClosed, `${flood.held} flood sockets still held`);
      assert.ok(flood.longestLifeMs <= deadline + DEADLINE_SLACK_MS, `a flood socket lived ${flood.longestLifeMs.toFixed(0)} ms`);
      assert.ok(peaks.maxFds <= peaks.baseFds + pendingLimit + 8, `server fds ${peaks.maxFds} stay within ${peaks.baseFds} + ${pendingLimit} pending`);
      assert.ok(peaks.maxRss - peaks.baseRss < 128 * 1048576, `RSS grew by ${((peaks.maxRss - peaks.baseRss) / 1048576).toFixed(1)} MB`);
      assert.ok(!cli.stdoutLines.some((line) => line.includes('out of file descriptors')), 'no EMFILE');
      assert.ok(
        cli.stdoutLines.some((line) => /"level":40.*dropping connections: WebSocket upgrades not done.*--max-pending-handshakes/.test(line)),
        `the connections pushed out are warned about\n${cli.output()}`,
      );

      cli.child.kill('SIGTERM');
      assert.equal(await cli.waitForExit(15_000), 0, cli.output());
    });
  }
});
