import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { CliProcess, runCli } from '../helpers/cli.js';
import { cleanupAfter } from '../helpers/wait.js';

const RAW_CLIENT = fileURLToPath(new URL('../../../examples/interop/raw-client.mjs', import.meta.url));

it('a client written without gamewire (docs/protocol.md + the .proto) logs in and chats with chat-server', async (t) => {
  const cleanup = cleanupAfter(t);
  const server = runCli(cleanup, ['chat-server', '--port', '0']);
  const ready = await server.waitForLine(/listening on 127\.0\.0\.1:\d+/);
  const port = /listening on 127\.0\.0\.1:(\d+)/.exec(ready)?.[1] as string;

  const client = new CliProcess(spawn(process.execPath, [RAW_CLIENT, '--port', port, '--message', 'interop check'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  cleanup.add(async () => {
    if (!client.exited) client.child.kill('SIGKILL');
    await client.waitForExit();
  });
  assert.equal(await client.waitForExit(), 0, client.output());
  assert.ok(client.stdoutLines.some((l) => l.startsWith('<- S_CHAT') && l.includes('interop check')), client.output());

  server.child.kill('SIGTERM');
  assert.equal(await server.waitForExit(), 0, server.output());
});

it('the same client only listening past 4 idle timeouts stays connected: answering the pings is enough', { timeout: 40_000 }, async (t) => {
  const IDLE_MS = 1000;
  const cleanup = cleanupAfter(t);
  const server = runCli(cleanup, ['chat-server', '--port', '0', '--idle-timeout-ms', String(IDLE_MS)]);
  const ready = await server.waitForLine(/listening on 127\.0\.0\.1:\d+/);
  const port = /listening on 127\.0\.0\.1:(\d+)/.exec(ready)?.[1] as string;

  const client = new CliProcess(
    spawn(process.execPath, [RAW_CLIENT, '--port', port, '--message', 'still here', '--idle-ms', String(4 * IDLE_MS)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  cleanup.add(async () => {
    if (!client.exited) client.child.kill('SIGKILL');
    await client.waitForExit();
  });
  assert.equal(await client.waitForExit(20_000), 0, client.output());
  const pings = Number(/answered (\d+) pings/.exec(client.stdoutLines.join('\n'))?.[1]);
  // One ping per T/4 to T/2 of silence (plus the answer's round trip): at least 4 in 4 timeouts.
  assert.ok(pings >= 4, client.output());
  assert.equal(client.stdoutLines.filter((l) => l.startsWith('<- S_CHAT') && l.includes('still here')).length, 2, client.output());

  server.child.kill('SIGTERM');
  assert.equal(await server.waitForExit(), 0, server.output());
});
