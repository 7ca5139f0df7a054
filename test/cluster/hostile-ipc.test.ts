/**
 * The IPC channel between the primary and its workers from the hostile side, with real processes:
 * unversioned, future, malformed and unknown messages both ways (as an older or newer release, or a
 * confused game, would send them) are counted by reason and dropped; a `close` from a release that
 * cannot be read closes nothing; the room over both workers goes on, whole packets only.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CliProcess } from '../helpers/cli.js';
import { packet, PacketReader } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { cleanupAfter } from '../helpers/wait.js';
import { JUNK_TO_PRIMARY, JUNK_TO_WORKER } from './ipc-junk.js';

const FIXTURE = fileURLToPath(new URL('./ipc-junk-fixture.js', import.meta.url));

function tally(junk: ReadonlyArray<readonly [unknown, string]>, times: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [, reason] of junk) out[`ipc:${reason}`] = (out[`ipc:${reason}`] ?? 0) + times;
  return out;
}

it('junk over IPC both ways: counted by reason in the process that got it, dropped; no worker closes or dies; the room still carries whole packets', { timeout: 60_000 }, async (t) => {
  const cleanup = cleanupAfter(t);
  const child = spawn(process.execPath, [FIXTURE], { stdio: ['ignore', 'pipe', 'pipe'] });
  const program = new CliProcess(child);
  cleanup.add(async () => {
    if (!program.exited) child.kill('SIGKILL');
    await program.waitForExit();
  });
  const line = await program.waitForLine(/^ready \d+/, 20_000);
  const port = Number(line.split(' ')[1]);
  const pids = JSON.parse(line.slice(line.indexOf('['))) as number[];
  const [a, b] = [await RawClient.connect(port, { cleanup }), await RawClient.connect(port, { cleanup })];
  const sent = [packet(1, 'from a'), packet(2, 'from b')];
  // Each broadcast reaches both members, across the two workers, after the junk.
  await (a as RawClient).write(sent[0] as Buffer);
  await (b as RawClient).waitForBytes((sent[0] as Buffer).length, 'a across');
  await (b as RawClient).write(sent[1] as Buffer);
  const total = (sent[0] as Buffer).length + (sent[1] as Buffer).length;
  for (const client of [a, b] as RawClient[]) {
    await client.waitForBytes(total, 'both broadcasts');
    const reader = new PacketReader();
    assert.deepEqual(reader.push(client.received).map((p) => p.bytes), sent);
    assert.equal(reader.pendingBytes, 0);
  }
  for (const pid of pids) assert.doesNotThrow(() => process.kill(pid, 0), `worker ${pid} alive`);
  child.kill('SIGTERM');
  assert.equal(await program.waitForExit(20_000), 0, program.output());
  const reports = program.stdoutLines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { role: string; pid: number; dropped: Record<string, number> });
  const primary = reports.find((r) => r.role === 'primary');
  const workers = reports.filter((r) => r.role === 'worker');
  assert.deepEqual(primary?.dropped, tally(JUNK_TO_PRIMARY, 2), 'the primary, from both workers');
  assert.equal(workers.length, 2, program.output());
  for (const worker of workers) assert.deepEqual(worker.dropped, tally(JUNK_TO_WORKER, 1), `worker ${worker.pid}`);
});
