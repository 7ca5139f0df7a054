/**
 * Rolling reloads through the library (`runWorkers` → `server.reload()`), with real processes and
 * game code that the test rewrites on disk between reloads (reload-fixture.ts): every worker runs
 * the new version after a reload; new code that fails to start leaves the old workers serving and
 * the reload says why; a second reload while one runs is refused; a client still on an old worker
 * at its drain deadline is closed with SERVICE_DRAINED (WebSocket 1012 in the docs; here the FIN of
 * a plain TCP stream), reconnects at once, and lands on a new worker.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ReloadResult, WorkerInfo } from '../../src/cluster/worker-types.js';
import { CliProcess } from '../helpers/cli.js';
import { packet, PacketReader } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { cleanupAfter, type Cleanup } from '../helpers/wait.js';

const DRAIN_MS = 800;

/** A client that learns which worker (pid, version) it landed on from the server's first packet. */
async function land(cleanup: Cleanup, port: number): Promise<{ client: RawClient; pid: number; version: string }> {
  const client = await RawClient.connect(port, { cleanup });
  const reader = new PacketReader();
  const bytes = await client.waitForBytes(4, 'the hello packet', 10_000);
  const size = bytes.readUInt16LE(0);
  const all = await client.waitForBytes(size, 'the hello packet', 10_000);
  const [hello] = reader.push(all.subarray(0, size));
  assert.equal(hello?.id, 2);
  const [pid, version] = hello.bytes.subarray(4).toString().split(' ');
  return { client, pid: Number(pid), version: version as string };
}

function startFixture(cleanup: Cleanup, gameModule: string): CliProcess {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./reload-fixture.js', import.meta.url))], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GAME_MODULE: gameModule, DRAIN_TIMEOUT_MS: String(DRAIN_MS) },
  });
  const program = new CliProcess(child);
  cleanup.add(async () => {
    if (!program.exited) child.kill('SIGKILL');
    await program.waitForExit();
  });
  return program;
}

/** The `count`-th JSON line `{"key": …}` the fixture printed. */
async function nthJson<T>(program: CliProcess, key: string, count: number): Promise<T> {
  const line = await program.waitForNthLine(new RegExp(`^\\{"${key}":`), count, 30_000);
  return (JSON.parse(line) as Record<string, T>)[key] as T;
}

it('reload() replaces every worker with the code on disk; failing new code keeps the old ones; one at a time', { timeout: 120_000 }, async (t) => {
  const cleanup = cleanupAfter(t);
  const dir = mkdtempSync(join(tmpdir(), 'gamewire-reload-'));
  cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
  const gameModule = join(dir, 'game.mjs');
  writeFileSync(gameModule, "export const version = 'v1';\n");
  const program = startFixture(cleanup, gameModule);
  const ready = await nthJson<{ port: number; workers: WorkerInfo[] }>(program, 'ready', 1);
  assert.equal(ready.workers.length, 2);
  assert.ok(ready.workers.every((w) => w.appVersion === 'v1' && typeof w.gamewireVersion === 'string' && w.gamewireVersion !== 'unknown'), JSON.stringify(ready.workers));
  const oldPids = new Set(ready.workers.map((w) => w.pid));

  // A client on an old worker stays connected past the drain deadline: it is closed then, and reconnects at once.
  const before = await land(cleanup, ready.port);
  assert.ok(oldPids.has(before.pid));
  assert.equal(before.version, 'v1');

  writeFileSync(gameModule, "export const version = 'v2';\n");
  const sentAt = performance.now();
  program.child.kill('SIGHUP');
  const reloaded = await nthJson<ReloadResult>(program, 'reload', 1);
  assert.equal(reloaded.ok, true, JSON.stringify(reloaded));
  assert.equal(reloaded.workers.length, 2);
  for (const worker of reloaded.workers) {
    assert.equal(worker.appVersion, 'v2', 'every worker runs the new code');
    assert.ok(!oldPids.has(worker.pid), 'in a new process');
  }
  const newPids = new Set(reloaded.workers.map((w) => w.pid));
  // The old client was served until its worker's drain deadline, then closed (FIN, not a reset).
  await before.client.waitForEnd(10_000);
  const closedAfterMs = performance.now() - sentAt;
  assert.ok(closedAfterMs >= DRAIN_MS, `closed ${closedAfterMs.toFixed(0)} ms after the reload began, not before the ${DRAIN_MS} ms deadline`);
  assert.ok(reloaded.durationMs >= DRAIN_MS, `the reload waited for the drains (${reloaded.durationMs} ms)`);
  assert.ok(records(program, /reload done: .*app v2/).length === 1, program.output());
  // It reconnects at once and lands on a new worker, with the new code.
  const after = await land(cleanup, ready.port);
  assert.ok(newPids.has(after.pid), `reconnected to ${after.pid}, one of ${[...newPids].join(', ')}`);
  assert.equal(after.version, 'v2');
  const echo = await after.client.roundTrip(packet(7, 'still here'));
  assert.equal(echo.subarray(4).toString(), 'still here');

  // New code that fails to start: the reload is aborted, the v2 workers keep serving.
  writeFileSync(gameModule, "export const version = 'v3'; export const failWith = 'cannot read config.json';\n");
  program.child.kill('SIGHUP');
  const failed = await nthJson<ReloadResult>(program, 'reload', 2);
  assert.equal(failed.ok, false);
  assert.match(failed.error ?? '', /failed to start: cannot read config\.json/);
  assert.deepEqual(new Set(failed.workers.map((w) => w.pid)), newPids, 'the same workers serve');
  assert.ok(failed.workers.every((w) => w.appVersion === 'v2'));
  assert.ok(records(program, /reload aborted: new worker 0 failed to start \(cannot read config\.json\); the old workers keep serving/).length === 1, program.output());
  const echo2 = await after.client.roundTrip(packet(7, 'after the failed reload'));
  assert.equal(echo2.subarray(4).toString(), 'after the failed reload', 'the session on the v2 worker was not touched');
  const fresh = await land(cleanup, ready.port);
  assert.ok(newPids.has(fresh.pid));

  // Two reloads asked at once: the second is refused, the first runs.
  writeFileSync(gameModule, "export const version = 'v4';\n");
  program.child.kill('SIGUSR2');
  const second = await nthJson<ReloadResult>(program, 'second', 1);
  assert.equal(second.ok, false);
  assert.match(second.error ?? '', /already running/);
  const fourth = await nthJson<ReloadResult>(program, 'reload', 3);
  assert.equal(fourth.ok, true, JSON.stringify(fourth));
  assert.ok(fourth.workers.every((w) => w.appVersion === 'v4'));

  // SIGTERM drains the whole server, and it exits.
  await Promise.all([after.client.close(), fresh.client.close()]);
  program.child.kill('SIGTERM');
  assert.equal(await program.waitForExit(20_000), 0, program.output());
});

function records(program: CliProcess, msg: RegExp): unknown[] {
  return program.stdoutLines.filter((line) => line.startsWith('{"level"')).filter((line) => msg.test(String((JSON.parse(line) as { msg: string }).msg)));
}
