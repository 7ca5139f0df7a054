/**
 * Chaos from the server's side of the wire: a raw TCP echo server records, per connection, whether
 * the peer ended it with a FIN or an RST, and when. RST cuts must reach it as resets at once; silent
 * drops must reach it as nothing at all while the run goes (no FIN, no RST), the bot's session
 * reconnecting meanwhile, and only end with the parent's RST once the run is over.
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { LoadTestReport } from '../../../src/loadtest/harness/load-test-report.js';
import { runLoadTest } from '../../../src/loadtest/harness/run-load-test.js';
import { cleanupAfter, type Cleanup } from '../../helpers/wait.js';

interface Seen {
  /** Connections accepted. */
  accepted: number;
  /** Connections whose peer sent a FIN. */
  fins: number;
  /** Connections whose peer reset them. */
  resets: number;
  /** Connections open now. */
  open: number;
  /** Connections closed so far. */
  closed: number;
}

/** An echo server (bytes back as they come) that counts how its peers end their connections. */
async function watchingEchoServer(cleanup: Cleanup): Promise<{ port: number; seen: Seen }> {
  const seen: Seen = { accepted: 0, fins: 0, resets: 0, open: 0, closed: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    seen.accepted++;
    seen.open++;
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => socket.write(chunk));
    socket.on('end', () => {
      seen.fins++;
      socket.end();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET') seen.resets++;
    });
    socket.on('close', () => {
      seen.open--;
      seen.closed++;
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.add(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as { port: number }).port, seen };
}

/** Waits until `check` holds, polling the event loop (the server's counts change on socket events). */
async function eventually(check: () => boolean, label: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function assertCutsCounted(report: LoadTestReport, cuts: number): void {
  const { totals } = report;
  // Cuts at 1 s and 2 s; the last half second lets the cut sessions be opened again.
  assert.ok(cuts >= 6, `cut at least 6 connections (2.5 s, 8 sessions, 50 %/s): ${cuts}`);
  assert.equal(totals.connectionsLost, cuts, 'each cut drops a session (resume off)');
  assert.equal(totals.unexpectedDisconnects, cuts);
  assert.equal(report.passed, false, 'without resume, cut sessions fail the run');
  assert.equal(totals.connects, 8 + cuts, 'each cut session is opened again');
}

describe('chaos cuts, seen by the server', { timeout: 30_000 }, () => {
  it('rst: the server reads a reset for every cut, at once, and never a FIN from a cut connection', async (t) => {
    const cleanup = cleanupAfter(t);
    const { port, seen } = await watchingEchoServer(cleanup);
    const report = await runLoadTest({
      port,
      sessions: 8,
      workers: 1,
      durationMs: 2_500,
      intervalMs: 20,
      reconnectDelayMs: 20,
      chaosCutPercent: 50,
      chaosMethod: 'rst',
    });
    const { cutsRst, cutsSilent } = report.totals;
    assert.equal(cutsSilent, 0);
    assertCutsCounted(report, cutsRst);
    await eventually(() => seen.open === 0, 'every connection closed');
    assert.equal(seen.accepted, 8 + cutsRst);
    assert.equal(seen.resets, cutsRst, 'one reset per cut');
    assert.equal(seen.fins, 8, 'FINs only from the sessions closed at the end');
  });

  it('silent: the server hears nothing from a cut connection while the run goes, and the bot reconnects', async (t) => {
    const cleanup = cleanupAfter(t);
    const { port, seen } = await watchingEchoServer(cleanup);
    // While the run goes: what the server has seen when a second with cuts is reported.
    const during: Array<Pick<Seen, 'fins' | 'resets' | 'closed' | 'accepted'> & { cuts: number }> = [];
    const report = await runLoadTest(
      { port, sessions: 8, workers: 1, durationMs: 2_500, intervalMs: 20, reconnectDelayMs: 20, chaosCutPercent: 50, chaosMethod: 'silent' },
      {
        onPoint: (_point, progress) => {
          if (progress.stopping || progress.totals.cutsSilent === 0) return;
          const { fins, resets, closed, accepted } = seen;
          during.push({ fins, resets, closed, accepted, cuts: progress.totals.cutsSilent });
        },
      },
    );
    const { cutsRst, cutsSilent } = report.totals;
    assert.ok(during.length >= 1, 'the server was looked at while the run went');
    for (const moment of during) {
      // Cut connections are still open on the server and silent; the bots came back on new ones.
      assert.deepEqual([moment.fins, moment.resets, moment.closed], [0, 0, 0], `no FIN, no RST, nothing closed: ${JSON.stringify(moment)}`);
    }
    const last = during[during.length - 1] as (typeof during)[number];
    assert.ok(last.accepted > 8, `the bots reconnected beside their silent connections: ${JSON.stringify(last)}`);
    assert.equal(cutsRst, 0);
    assertCutsCounted(report, cutsSilent);
    await eventually(() => seen.open === 0, 'every connection closed');
    assert.equal(seen.accepted, 8 + cutsSilent);
    assert.equal(seen.fins, 8, 'FINs only from the sessions closed at the end');
    assert.equal(seen.resets, cutsSilent, 'the held connections are reset once the run is over');
  });
});
