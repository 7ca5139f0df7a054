#!/usr/bin/env node
// bench/resume-storm.mjs - a reconnect storm: N resumable clients cut at the same moment (an RST from a
// proxy, as a NAT or a load balancer dropping every flow), all reconnecting and resuming at once.
// Measures the time until every client is back and the server's event-loop delay during the storm
// (its own p99 and max, from its /metrics, reset by a scrape just before the cut).
//
//   npm run build && node bench/resume-storm.mjs [--clients 2000]
//
// The server is `gamewire echo-server --resume` in its own process; the clients are one ClientService
// with `resume` (defaults: reconnect after 125-250 ms, doubling, jitter) behind a node:net proxy in
// this process. Prints one line of results.
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.join(HERE, '../dist/src');
const { ClientService, PacketSession } = await import(path.join(DIST, 'index.js'));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
};
const CLIENTS = Number(option('clients', '2000'));
/** The server's resume.maxResumesPerSecond: the CLI's default. */
const RATE = 1000;

// ------------------------------------------------------------------ the server
const server = spawn(process.execPath, [path.join(DIST, 'cli/main.js'), 'echo-server', '--port', '0', '--resume', '--max-sessions', String(CLIENTS + 100), '--metrics-port', '0'], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, GAMEWIRE_LOG_LEVEL: 'info' },
});
process.on('exit', () => server.kill('SIGKILL'));
const ready = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (chunk) => {
    out += chunk;
    const match = /listening on [\d.]+:(\d+).*metrics on [\d.]+:(\d+)/.exec(out);
    if (match) resolve({ port: Number(match[1]), metrics: Number(match[2]) });
  });
  server.on('exit', () => reject(new Error(`server exited: ${out}`)));
});

async function scrape() {
  const response = await fetch(`http://127.0.0.1:${ready.metrics}/metrics`);
  const samples = new Map();
  for (const line of (await response.text()).split('\n')) {
    if (line.startsWith('#') || line.length === 0) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

// ------------------------------------------------------------------ the proxy (cuts every flow at once)
const pairs = new Set();
const proxy = createServer((client) => {
  const upstream = connect({ host: '127.0.0.1', port: ready.port });
  const pair = { client, upstream };
  pairs.add(pair);
  client.pipe(upstream);
  upstream.pipe(client);
  for (const socket of [client, upstream]) {
    socket.on('error', () => {});
    socket.on('close', () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    });
  }
});
await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));

// ------------------------------------------------------------------ the clients
let resumed = 0;
let reconnecting = 0;
let lost = 0;
let ended = 0;
let allBack;
const back = new Promise((resolve) => (allBack = resolve));
class Player extends PacketSession {
  onConnectionLost() {
    lost++;
  }
  onReconnecting() {
    reconnecting++;
  }
  onResumed() {
    if (++resumed === CLIENTS) allBack();
  }
  onDisconnected() {
    ended++;
  }
}
const clients = new ClientService({
  port: proxy.address().port,
  maxSessionCount: CLIENTS,
  resume: {},
  sessionFactory: () => new Player(),
});
await clients.start();
// Every session has its WELCOME once the server holds them all as resumable.
for (;;) {
  const samples = await scrape();
  if (samples.get('gamewire_resume_sessions') === CLIENTS) break;
  await new Promise((resolve) => setTimeout(resolve, 50));
}

await scrape(); // resets the server's event-loop delay histogram: what follows is the storm
const cutAt = performance.now();
for (const { client, upstream } of pairs) {
  upstream.resetAndDestroy();
  client.resetAndDestroy();
}
const timeout = setTimeout(() => allBack(), 60_000);
await back;
clearTimeout(timeout);
const allBackMs = performance.now() - cutAt;
const after = await scrape();
const result = {
  clients: CLIENTS,
  maxResumesPerSecond: RATE,
  resumed,
  ended,
  lost,
  reconnectAttempts: reconnecting,
  allBackMs: Math.round(allBackMs),
  serverLoopDelayP99Ms: Math.round((after.get('nodejs_eventloop_lag_p99_seconds') ?? NaN) * 1000 * 10) / 10,
  serverLoopDelayMaxMs: Math.round((after.get('nodejs_eventloop_lag_max_seconds') ?? NaN) * 1000 * 10) / 10,
  serverResumesOk: after.get('gamewire_resumes_total{result="ok",reason=""}'),
  serverRetryLater: after.get('gamewire_resumes_total{result="refused",reason="RETRY_LATER"}'),
};
console.log(JSON.stringify(result));
await clients.close();
proxy.close();
server.kill('SIGTERM');
