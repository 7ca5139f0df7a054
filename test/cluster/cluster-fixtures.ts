/** Servers with --workers as child processes: start, read the ready line, find the workers. */
import assert from 'node:assert/strict';
import { runCli, type CliProcess } from '../helpers/cli.js';
import type { Cleanup } from '../helpers/wait.js';

const LISTENING = /listening on 127\.0\.0\.1:(\d+)/;

export interface ReadyLine {
  readonly port: number;
  readonly workers: number;
  readonly workerPids: readonly number[];
}

/** Starts `gamewire <command> --port 0 ...extra` and resolves once its one ready line is out. */
export async function startCluster(
  cleanup: Cleanup,
  command: string,
  extra: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<{ cli: CliProcess; ready: ReadyLine }> {
  const cli = runCli(cleanup, [command, '--port', '0', '--log-format', 'json', ...extra], env);
  const line = await cli.waitForLine(LISTENING, 20_000);
  const ready = JSON.parse(line) as ReadyLine & { msg: string };
  assert.equal(ready.port, Number(LISTENING.exec(ready.msg)?.[1]));
  return { cli, ready };
}

/** The JSON log records printed so far with message `msg` (a regex on it). */
export function records(cli: CliProcess, msg: RegExp): Array<Record<string, unknown>> {
  return cli.stdoutLines
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => msg.test(String(record.msg)));
}

/** SIGTERM, then the exit code (all workers included: the primary exits last). */
export async function terminate(cli: CliProcess): Promise<number | null> {
  cli.child.kill('SIGTERM');
  return cli.waitForExit(20_000);
}

/** The block (IdSequence) a player id of the chat sample comes from: which worker made it. */
export function playerBlock(playerId: number): number {
  return Math.floor(playerId / 2 ** 20);
}
