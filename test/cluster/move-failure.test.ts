/**
 * A new worker that dies in the middle of a move (after the old one let the session go: its client
 * was told MOVE), with real processes (move-fixture.ts): the client's resume is refused, it ends
 * with RESUME_REFUSED (its game logs in again: a new session works), and the primary counts the move
 * as failed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CliProcess } from '../helpers/cli.js';
import { pollUntil } from '../helpers/limits.js';
import { makeClient } from '../helpers/services.js';
import { cleanupAfter } from '../helpers/wait.js';
import { ResumePlayer } from '../net/resume/resume-fixtures.js';

it('the new worker dying mid-move: the client is refused and logs in again; the move is counted failed', { timeout: 90_000 }, async (t) => {
  const cleanup = cleanupAfter(t);
  const child = spawn(process.execPath, [fileURLToPath(new URL('./move-fixture.js', import.meta.url))], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DIE_ON_RESTORE: '1' } });
  const program = new CliProcess(child);
  cleanup.add(async () => {
    if (!program.exited) child.kill('SIGKILL');
    await program.waitForExit();
  });
  const { port } = (JSON.parse(await program.waitForLine(/^\{"ready":/, 20_000)) as { ready: { port: number } }).ready;
  const client = makeClient(cleanup, () => new ResumePlayer(), { port, maxSessionCount: 2, resume: { reconnectDelayMs: 20, maxReconnectDelayMs: 100 } });
  const session = await client.service.connect();
  await pollUntil(() => session.resumable, 'WELCOME');
  child.kill('SIGHUP');
  await session.changed.until(() => session.events.some((e) => e.startsWith('disconnected')), 'the client gives up', 30_000).catch((error: unknown) => {
    throw new Error(`${String(error)}; client: ${session.events.join(' ')}; server: ${program.output()}`);
  });
  assert.equal(session.events[0], 'lost:SESSION_MOVED', session.events.join(' '));
  assert.equal(session.events.at(-1), 'disconnected:RESUME_REFUSED', session.events.join(' '));
  const again = await client.service.connect(); // logs in again: a new session on a live worker
  assert.equal(again.state, 'open');
  await program.waitForLine(/^\{"reload":/, 60_000);
  child.kill('SIGUSR2');
  const stats = (JSON.parse(await program.waitForLine(/^\{"stats":/, 10_000)) as { stats: { sessionMoves: { ok: number; failed: number } } }).stats;
  assert.equal(stats.sessionMoves.failed, 1, JSON.stringify(stats));
  assert.equal(stats.sessionMoves.ok, 0);
  await client.service.close();
  child.kill('SIGTERM');
  await program.waitForExit(20_000);
});
