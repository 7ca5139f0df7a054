/**
 * The `--resume-*` flags of the server commands, through the real bin: each sets its option (seen
 * from the network: WELCOME's fields, a second resume told to retry later, a late HELLO that gets no
 * WELCOME), and a value outside the documented range, or a flag without `--resume`, is a usage error
 * (exit 2) that names the range.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli, type CliProcess } from '../helpers/cli.js';
import { elapse } from '../helpers/limits.js';
import { HELLO, ResumePeer, WELCOME } from '../helpers/resume-peer.js';
import { cleanupAfter, type Cleanup } from '../helpers/wait.js';

async function startEcho(cleanup: Cleanup, flags: readonly string[]): Promise<{ cli: CliProcess; port: number }> {
  const cli = runCli(cleanup, ['echo-server', '--port', '0', ...flags]);
  const line = await cli.waitForLine(/listening on/, 15_000);
  return { cli, port: Number(/listening on 127\.0\.0\.1:(\d+)/.exec(line)?.[1]) };
}

async function stop(cli: CliProcess): Promise<void> {
  cli.child.kill('SIGTERM');
  assert.equal(await cli.waitForExit(10_000), 0, cli.output());
}

describe('server commands: the --resume-* flags', () => {
  it('--resume-grace-ms and --resume-max-replay-bytes are what WELCOME tells the client; a HELLO 400 ms late still gets one by default', async (t) => {
    const cleanup = cleanupAfter(t);
    const { cli, port } = await startEcho(cleanup, ['--resume', '--resume-grace-ms', '1500', '--resume-max-replay-bytes', '4096']);
    const peer = new ResumePeer(cleanup);
    await peer.open({ tcp: port });
    await peer.welcomed();
    assert.equal(peer.graceMs, 1500);
    assert.equal(peer.maxReplayBytes, 4096);
    // The default hello timeout (5 s) waits for a client that speaks late.
    const late = new ResumePeer(cleanup);
    await late.open({ tcp: port }, false);
    await elapse(400);
    late.sendRaw(HELLO, Buffer.from([1]));
    await late.welcomed();
    await stop(cli);
  });

  it('--resume-hello-timeout-ms 100: a connection silent for 400 ms gets a plain session, and its late HELLO no WELCOME', async (t) => {
    const cleanup = cleanupAfter(t);
    const { cli, port } = await startEcho(cleanup, ['--resume', '--resume-hello-timeout-ms', '100']);
    const late = new ResumePeer(cleanup);
    await late.open({ tcp: port }, false);
    await elapse(400);
    late.sendRaw(HELLO, Buffer.from([1]));
    late.send(7, 'echo me');
    await late.until(() => late.received.some((p) => p.id === 7), 'the echo');
    assert.equal(late.controls.filter((p) => p.id === WELCOME).length, 0, 'a plain session: HELLO came too late');
    assert.equal(late.token, undefined);
    await stop(cli);
  });

  it('--resume-max-per-second 1: a second resume within the second is told RETRY_LATER with a delay', async (t) => {
    const cleanup = cleanupAfter(t);
    const { cli, port } = await startEcho(cleanup, ['--resume', '--resume-max-per-second', '1']);
    const peer = new ResumePeer(cleanup);
    await peer.open({ tcp: port });
    await peer.welcomed();
    peer.drop();
    assert.equal(await peer.resume({ tcp: port }), 'RESUMED');
    peer.drop();
    assert.equal(await peer.resume({ tcp: port }), 'REFUSED');
    assert.equal(peer.refusal?.reason, 'RETRY_LATER');
    const wait = peer.refusal?.retryAfterMs ?? 0;
    assert.ok(wait > 0 && wait <= 1000, `retry after ${wait} ms`);
    await stop(cli);
  });

  const refusals: ReadonlyArray<readonly [command: string, flags: readonly string[], message: RegExp]> = [
    ['echo-server', ['--resume', '--resume-grace-ms', '999'], /--resume-grace-ms must be a whole number from 1000 to 600000, got '999'/],
    ['broadcast-server', ['--resume', '--resume-max-replay-bytes', '67108865'], /--resume-max-replay-bytes must be a whole number from 4096 to 67108864, got '67108865'/],
    ['chat-server', ['--resume', '--resume-max-per-second', '0'], /--resume-max-per-second must be a whole number from 1 to 1000000, got '0'/],
    ['echo-server', ['--resume', '--resume-hello-timeout-ms', '60001'], /--resume-hello-timeout-ms must be a whole number from 1 to 60000, got '60001'/],
    ['broadcast-server', ['--resume', '--resume-hello-timeout-ms', '1.5'], /--resume-hello-timeout-ms must be a whole number from 1 to 60000, got '1\.5'/],
    ['chat-server', ['--resume-max-per-second', '10'], /--resume-max-per-second needs --resume/],
    ['echo-server', ['--resume-hello-timeout-ms', '10'], /--resume-hello-timeout-ms needs --resume/],
  ];
  for (const [command, flags, message] of refusals) {
    it(`${command} ${flags.join(' ')} exits 2 and says why`, async (t) => {
      const cleanup = cleanupAfter(t);
      const cli = runCli(cleanup, [command, '--port', '0', ...flags]);
      assert.equal(await cli.waitForExit(10_000), 2, cli.output());
      assert.match(cli.stderrLines.join('\n'), message);
    });
  }

  it('every server command lists the flags in --help, with their ranges', async (t) => {
    const cleanup = cleanupAfter(t);
    for (const command of ['echo-server', 'broadcast-server', 'chat-server']) {
      const cli = runCli(cleanup, [command, '--help']);
      assert.equal(await cli.waitForExit(10_000), 0, cli.output());
      const help = cli.stdoutLines.join('\n');
      assert.match(help, /--resume-max-replay-bytes N[\s\S]*4096\.\.67108864/, command);
      assert.match(help, /--resume-max-per-second N[\s\S]*1\.\.1000000/, command);
      assert.match(help, /--resume-hello-timeout-ms MS[\s\S]*1\.\.60000/, command);
    }
  });
});
