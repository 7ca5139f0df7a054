#!/usr/bin/env node
// Memory per idle session: N idle TCP connections held by `gamewire echo-server` (the default CLI,
// its defaults included: idle timeout on) against a minimal node:net server holding the same
// connections. Each server runs in its own process with --expose-gc; after a full GC it reports
// heapUsed and RSS before and after the connections are opened; the per-connection figure is the
// difference divided by N. Plain ESM, Node built-ins only; needs `dist/` (npm run build) and
// `ulimit -n` above N (both the clients here and the server hold N descriptors).
//
//   node bench/idle-memory.mjs                 # 10,000 connections
//   node bench/idle-memory.mjs --connections 2000
//   node bench/idle-memory.mjs --server-args '--idle-timeout-ms 0'   # extra echo-server flags
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { connections: { type: 'string', default: '10000' }, 'server-args': { type: 'string', default: '' } },
});
const count = Number(values.connections);
const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const probe = here('./idle-memory-probe.mjs');
const servers = [
  { name: 'node:net (minimal)', args: [here('./idle-memory-minimal-server.mjs')] },
  {
    name: 'gamewire echo-server',
    args: [here('../dist/src/cli/main.js'), 'echo-server', '--port', '0', '--max-sessions', String(count + 100), ...values['server-args'].split(' ').filter(Boolean)],
  },
];

function start(server) {
  const child = spawn(process.execPath, ['--expose-gc', '--import', probe, ...server.args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
  });
  let probeOutput = '';
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on [^\s:]+:(\d+)/.exec(out);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      probeOutput += chunk;
      let newline;
      while ((newline = probeOutput.indexOf('\n')) >= 0) {
        const line = probeOutput.slice(0, newline);
        probeOutput = probeOutput.slice(newline + 1);
        if (line.startsWith('idle-memory-probe ')) child.emit('probe', JSON.parse(line.slice(18)));
        else process.stderr.write(`${line}\n`);
      }
    });
    child.once('exit', (code) => reject(new Error(`${server.name} exited (${code}) before listening: ${out}`)));
  });
}

function measure(child) {
  return new Promise((resolve) => {
    child.once('probe', resolve);
    child.kill('SIGUSR2');
  });
}

async function openAll(port) {
  const sockets = [];
  for (let i = 0; i < count; i += 200) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + 200); j++) {
      batch.push(
        new Promise((resolve, reject) => {
          const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
          socket.once('error', reject);
        }),
      );
    }
    sockets.push(...(await Promise.all(batch)));
  }
  // Let the server accept and set up every session before measuring.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  return sockets;
}

const rows = [];
for (const server of servers) {
  const { child, port } = await start(server);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const before = await measure(child);
  console.error(`${server.name}: ${count} connections…`);
  const sockets = await openAll(port);
  const after = await measure(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  for (const socket of sockets) socket.destroy();
  await exited;
  rows.push({
    name: server.name,
    heap: (after.heapUsed - before.heapUsed) / count,
    rss: (after.rss - before.rss) / count,
  });
}

const [ref, gw] = rows;
console.log(`${count} idle TCP connections, Node ${process.version}`);
console.log('| server | JS heap / session | RSS / session |');
console.log('| --- | ---: | ---: |');
for (const row of rows) console.log(`| ${row.name} | ${(row.heap / 1024).toFixed(2)} KiB | ${(row.rss / 1024).toFixed(2)} KiB |`);
console.log(`| ratio gamewire / node:net | ${(gw.heap / ref.heap).toFixed(2)}x | ${(gw.rss / ref.rss).toFixed(2)}x |`);
