import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serializeError } from '../../src/cli/cli-logger.js';
import { HandlerError, SocketError } from '../../src/core/errors.js';
import { runCli } from '../helpers/cli.js';
import { cleanupAfter } from '../helpers/wait.js';

describe('CLI logs', () => {
  it('print an error with a cause once, without a stack unless debugging', () => {
    const error = new HandlerError('onRecvPacket', new Error('oops in my chat handler: hi'));
    const logged = serializeError(error, false);
    assert.equal(logged.message, 'onRecvPacket threw: Error: oops in my chat handler: hi');
    assert.equal(logged.code, 'GW_ERR_HANDLER');
    assert.equal(logged.hook, 'onRecvPacket');
    assert.equal(logged.stack, undefined);
    assert.match(serializeError(error, true).stack ?? '', /HandlerError/);
    const socket = serializeError(new SocketError(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), false);
    assert.equal(socket.syscallCode, 'ETIMEDOUT');
  });

  it('describe thrown values that are not errors, even ones whose toString throws', () => {
    const hostile = { toString: () => { throw new Error('no'); } };
    assert.equal(serializeError(hostile, false).message, 'Object');
    assert.equal(serializeError(Object.create(null), false).message, 'null-prototype object');
    assert.equal(serializeError(undefined, false).message, 'undefined');
    const plainCause = new Error('outer', { cause: 'inner reason' });
    assert.equal(serializeError(plainCause, false).message, 'outer: "inner reason"');
  });

  it('are JSON when piped, readable with --log-format pretty, and one ready line either way', async (t) => {
    const cleanup = cleanupAfter(t);
    const json = runCli(cleanup, ['echo-server', '--port', '0']);
    const pretty = runCli(cleanup, ['--log-format', 'pretty', 'echo-server', '--port', '0']);
    const jsonReady = await json.waitForLine(/listening on/, 10_000);
    const prettyReady = await pretty.waitForLine(/listening on/, 10_000);
    const parsed = JSON.parse(jsonReady) as Record<string, unknown>;
    assert.equal(parsed['msg'], `listening on 127.0.0.1:${String(parsed['port'])}`);
    assert.match(prettyReady, /^\[[\d:.]+\] INFO: echo-server: listening on 127\.0\.0\.1:\d+ /);
    for (const cli of [json, pretty]) {
      cli.child.kill('SIGTERM');
      assert.equal(await cli.waitForExit(10_000), 0, cli.output());
      assert.equal(cli.stdoutLines.filter((line) => /listening/.test(line)).length, 1, cli.output());
    }
    const bad = runCli(cleanup, ['--log-format', 'xml', 'echo-server']);
    assert.equal(await bad.waitForExit(10_000), 2, bad.output());
    assert.match(bad.stderrLines.join('\n'), /--log-format must be 'pretty' or 'json', got 'xml'/);
  });
});
