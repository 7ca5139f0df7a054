/**
 * `gamewire loadtest --resume --chaos-cut-percent P` on real processes: the servers and the load
 * tester are separate processes and the cuts are real RSTs and silent drops. With resume on, every
 * cut connection is resumed and the bots find no message lost, duplicated or out of order (their
 * echoes and every chat of every sender are numbered and checked); with resume off the same cuts
 * are counted as lost sessions and the run fails.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LoadTestReport } from '../../src/loadtest/harness/load-test-report.js';
import { runCli } from '../helpers/cli.js';
import { cleanupAfter, type Cleanup } from '../helpers/wait.js';

const LISTENING = /listening on 127\.0\.0\.1:(\d+)/;
const WS_LISTENING = /websocket listening on 127\.0\.0\.1:(\d+)/;

async function startServer(cleanup: Cleanup, args: readonly string[], pattern = LISTENING): Promise<number> {
  const server = runCli(cleanup, [...args, '--port', '0']);
  return Number(pattern.exec(await server.waitForLine(pattern, 10_000))?.[1]);
}

function jsonPath(cleanup: Cleanup): string {
  const dir = mkdtempSync(join(tmpdir(), 'gamewire-chaos-'));
  cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'run.json');
}

/** Runs the load tester with `args` and a JSON report; returns its exit code, report and output. */
async function loadtest(
  cleanup: Cleanup,
  args: readonly string[],
  seconds = 3,
): Promise<{ code: number | null; report: LoadTestReport; out: string }> {
  const json = jsonPath(cleanup);
  const cli = runCli(cleanup, ['loadtest', '--duration-s', String(seconds), '--workers', '2', '--json', json, ...args]);
  const code = await cli.waitForExit(30_000);
  const out = cli.stdoutLines.join('\n');
  return { code, report: JSON.parse(readFileSync(json, 'utf8')) as LoadTestReport, out: `${out}\n${cli.stderrLines.join('\n')}` };
}

/** A run with resume on and chaos: cut, resumed, nothing lost, the summary says so. */
function assertResumedCleanly(run: { code: number | null; report: LoadTestReport; out: string }, minCuts: number): void {
  const { report, out } = run;
  const { totals } = report;
  const cuts = totals.cutsRst + totals.cutsSilent;
  assert.equal(run.code, 0, out);
  assert.ok(cuts >= minCuts, `at least ${minCuts} cuts: ${cuts}\n${out}`);
  assert.ok(totals.cutsRst > 0 && totals.cutsSilent > 0, `both methods (mixed): ${totals.cutsRst} rst, ${totals.cutsSilent} silent`);
  assert.equal(totals.connectionsLost, cuts, 'every cut is a lost connection');
  assert.equal(totals.resumes, cuts, 'and every one came back (the drain waits for the suspended ones)');
  assert.ok(totals.reconnectAttempts >= cuts);
  assert.deepEqual([totals.resumesExpired, totals.resumesRefused], [0, 0]);
  assert.deepEqual([totals.messagesLost, totals.messagesDuplicated, totals.messagesOutOfOrder], [0, 0, 0], out);
  assert.deepEqual([totals.unexpectedDisconnects, totals.unanswered, totals.connectFailures], [0, 0, 0], out);
  assert.equal(totals.connects, report.config.sessions, 'no session was opened again: the same ones went on');
  assert.equal(totals.packetsSent > 0, true);
  assert.match(out, /chaos cuts\s+\d+\s+\(\d+ rst, \d+ silent; 25 % per second\)/);
  assert.match(out, /messages lost \/ dup \/ out of order\s+0 \/ 0 \/ 0/);
  assert.match(out, /result\s+PASS \(0 errors\)/);
}

describe('gamewire loadtest with chaos', { timeout: 60_000 }, () => {
  it('echo-server --resume: 25 % of the connections cut every second, RST and silent, all resumed, every echo once and in order', async (t) => {
    const cleanup = cleanupAfter(t);
    const port = await startServer(cleanup, ['echo-server', '--resume']);
    const run = await loadtest(cleanup, [
      '--port', String(port), '--sessions', '12', '--interval-ms', '2', '--bot-option', 'pipeline=4',
      '--resume', '--chaos-cut-percent', '25',
    ]);
    assertResumedCleanly(run, 4);
    assert.equal(run.report.totals.packetsSent, run.report.totals.packetsReceived, 'every echo came back');
  });

  it('chat-server --resume: cut players resume in the room, and every bot saw every chat of every sender once and in order', async (t) => {
    const cleanup = cleanupAfter(t);
    const port = await startServer(cleanup, ['chat-server', '--resume']);
    const run = await loadtest(cleanup, [
      '--bot', 'chat', '--port', String(port), '--sessions', '12', '--interval-ms', '100', '--resume', '--chaos-cut-percent', '25',
    ]);
    assertResumedCleanly(run, 4);
    const { counters } = run.report.totals;
    assert.equal(counters['entered'], 12, 'each bot entered once: a resumed player is the same player');
    assert.ok((counters['deliveries'] ?? 0) > 12 * 12, `deliveries ${counters['deliveries']}`);
  });

  it('chat-server --resume over WebSocket: the same, on the WebSocket port', async (t) => {
    const cleanup = cleanupAfter(t);
    const port = await startServer(cleanup, ['chat-server', '--resume', '--ws-port', '0'], WS_LISTENING);
    const run = await loadtest(cleanup, [
      '--bot', 'chat', '--transport', 'ws', '--port', String(port), '--sessions', '12', '--interval-ms', '100',
      '--connect-concurrency', '4', '--resume', '--chaos-cut-percent', '25',
    ], 4); // the upgrades, 4 at a time, take a while on a busy machine
    assertResumedCleanly(run, 4);
  });

  it('resume off: the same cuts lose the sessions, the report counts them and the run fails', async (t) => {
    const cleanup = cleanupAfter(t);
    const port = await startServer(cleanup, ['echo-server']);
    const run = await loadtest(cleanup, [
      '--port', String(port), '--sessions', '12', '--interval-ms', '2', '--reconnect-delay-ms', '20', '--chaos-cut-percent', '25',
    ]);
    const { totals } = run.report;
    const cuts = totals.cutsRst + totals.cutsSilent;
    assert.equal(run.code, 1, run.out);
    assert.ok(cuts >= 4, run.out);
    assert.equal(totals.connectionsLost, cuts, 'each cut loses its session');
    assert.equal(totals.unexpectedDisconnects, cuts);
    assert.equal(totals.resumes, 0);
    assert.match(run.out, /connections lost\s+\d+/);
    assert.match(run.out, /result\s+FAIL/);
  });
});
