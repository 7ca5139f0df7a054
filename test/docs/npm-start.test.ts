import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.js';
import { httpGet } from '../helpers/scrape.js';
import { cleanupAfter } from '../helpers/wait.js';

const PACKAGE = fileURLToPath(new URL('../../../package.json', import.meta.url));

it("npm start's command starts the sample game: TCP, the WebSocket port serving the game page, resume on, and how to drive it", async (t) => {
  const start = (JSON.parse(readFileSync(PACKAGE, 'utf8')) as { scripts: Record<string, string> }).scripts['start'] ?? '';
  const command = /node dist\/src\/cli\/main\.js (.*)$/.exec(start)?.[1];
  assert.ok(command !== undefined, start);
  const args = command.split(' ');
  assert.deepEqual(args.slice(0, 1), ['chat-server']);
  assert.equal(args[args.indexOf('--port') + 1], '7777');
  assert.equal(args[args.indexOf('--ws-port') + 1], '8080');
  assert.ok(args.includes('--resume'), 'the demo page resumes: the server must keep its players through a drop');
  // The same command on free ports, so the test does not depend on 7777 and 8080 being free.
  const onFreePorts = args.map((arg, i) => (args[i - 1] === '--port' || args[i - 1] === '--ws-port' ? '0' : arg));
  const cli = runCli(cleanupAfter(t), onFreePorts);
  const line = await cli.waitForLine(/game page/, 15_000);
  const ready = JSON.parse(line) as { msg: string; driveWith: string; wsPort: number; resume?: { graceMs: number } };
  assert.equal(ready.resume?.graceMs, 30_000, 'the ready line says resume is on, with its grace period');
  assert.match(ready.msg, /^listening on 127\.0\.0\.1:\d+, websocket listening on 127\.0\.0\.1:\d+ \(game page http:\/\/127\.0\.0\.1:\d+\/\)$/);
  assert.match(ready.driveWith, /dummy-client --scenario chat/);
  const page = await httpGet(ready.wsPort, '/');
  assert.equal(page.status, 200);
  assert.match(page.contentType, /text\/html/);
  assert.match(page.body, /<canvas id="field"/);
  assert.doesNotMatch(page.body, /https?:\/\/(?!127\.0\.0\.1)/, 'nothing loaded from the network');
  const app = await httpGet(ready.wsPort, '/app.js');
  assert.equal(app.status, 200);
  assert.equal((await httpGet(ready.wsPort, '/../package.json')).status, 404);
  cli.child.kill('SIGTERM');
  assert.equal(await cli.waitForExit(10_000), 0, cli.output());
});
