#!/usr/bin/env node
// What metrics cost the echo server, as CPU time per echoed packet over a fixed workload (less
// sensitive to a busy machine than throughput): CONNS connections each keep DEPTH 32-byte packets in
// flight until PACKETS are echoed. Cases, alternating rep by rep:
//   off   echo-server                          (the counters run, no endpoint)
//   on    echo-server --metrics-port P         (scraped every --scrape-ms, default 1000)
//   base  the same echo-server of another build (--base FILE, e.g. main before the counters)
// Server pinned to CPU 0, load to CPU 1 (taskset, when present). Prints each run and the medians.
//
//   npm run build && node bench/metrics-cost.mjs --reps 5 [--base ../other/dist/src/cli/main.js]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    base: { type: 'string' },
    main: { type: 'string', default: path.join(HERE, '..', 'dist', 'src', 'cli', 'main.js') },
    conns: { type: 'string', default: '100' },
    depth: { type: 'string', default: '16' },
    packets: { type: 'string', default: '60000' },
    'scrape-ms': { type: 'string', default: '1000' },
  },
});
const REPS = Number(values.reps), CONNS = Number(values.conns), DEPTH = Number(values.depth);
const PER_CONN = Number(values.packets), SCRAPE_MS = Number(values['scrape-ms']), SIZE = 32;
const TASKSET = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const TICK_NS = 1e9 / 100; // /proc/<pid>/stat counts in clock ticks (USER_HZ = 100 on Linux)

const cases = [
  { name: 'off', main: values.main, args: [] },
  { name: 'on', main: values.main, args: ['--metrics-port', 'METRICS'] },
  ...(values.base ? [{ name: 'base', main: path.resolve(values.base), args: [] }] : []),
];

const freePort = () =>
  new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

function cpuTicks(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

async function runOnce(c) {
  const port = await freePort();
  const metricsPort = await freePort();
  const args = [c.main, 'echo-server', '--port', port, '--max-sessions', 5000, ...c.args.map((a) => (a === 'METRICS' ? metricsPort : a))];
  const argv = TASKSET ? ['taskset', '-c', '0', process.execPath, ...args.map(String)] : [process.execPath, ...args.map(String)];
  const server = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, GAMEWIRE_LOG_FORMAT: 'json' } });
  await new Promise((resolve, reject) => {
    server.stdout.on('data', (d) => String(d).includes('listening on') && resolve());
    server.once('exit', (code) => reject(new Error(`${c.name}: server exited (${code}) before listening`)));
  });
  const scrape = c.args.includes('METRICS')
    ? setInterval(() => http.get({ host: '127.0.0.1', port: metricsPort, path: '/metrics', agent: false }, (r) => r.resume()).on('error', () => {}), SCRAPE_MS)
    : undefined;
  const packet = Buffer.alloc(SIZE);
  packet.writeUInt16LE(SIZE, 0);
  packet.writeUInt16LE(1, 2);
  const burst = Buffer.concat(Array.from({ length: DEPTH }, () => packet));
  const ticks0 = cpuTicks(server.pid);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNS }, () =>
      new Promise((resolve, reject) => {
        const socket = net.connect({ port, host: '127.0.0.1', noDelay: true }, () => socket.write(burst));
        let received = 0;
        let sent = DEPTH;
        socket.on('data', (chunk) => {
          received += chunk.length;
          const echoed = Math.floor(received / SIZE);
          const want = Math.min(PER_CONN, echoed + DEPTH);
          if (want > sent) {
            socket.write(burst.subarray(0, (want - sent) * SIZE));
            sent = want;
          }
          if (echoed >= PER_CONN) {
            socket.end();
            resolve();
          }
        });
        socket.on('error', reject);
      }),
    ),
  );
  const cpuNs = (cpuTicks(server.pid) - ticks0) * TICK_NS;
  const seconds = (performance.now() - started) / 1000;
  clearInterval(scrape);
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  const packets = CONNS * PER_CONN;
  return { nsPerPacket: cpuNs / packets, packetsPerSecond: packets / seconds };
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const results = new Map(cases.map((c) => [c.name, []]));
console.log(`${CONNS} conns x ${DEPTH} in flight x ${PER_CONN} packets of ${SIZE} B; ${REPS} reps; ${TASKSET ? 'pinned' : 'NOT pinned'}; scrape every ${SCRAPE_MS} ms`);
for (let rep = 0; rep < REPS; rep++) {
  // Alternate the order so that a drift of the machine does not favour one case.
  for (const c of rep % 2 === 0 ? cases : [...cases].reverse()) {
    const r = await runOnce(c);
    results.get(c.name).push(r);
    console.log(`rep ${rep + 1} ${c.name.padEnd(4)} ${r.nsPerPacket.toFixed(0)} ns CPU/packet, ${(r.packetsPerSecond / 1000).toFixed(0)} k packets/s`);
  }
}
const med = (name) => median(results.get(name).map((r) => r.nsPerPacket));
for (const c of cases) console.log(`median ${c.name.padEnd(4)} ${med(c.name).toFixed(0)} ns CPU/packet`);
console.log(`on / off CPU per packet: ${(med('on') / med('off')).toFixed(3)} (throughput-equivalent ${(med('off') / med('on')).toFixed(3)}x)`);
if (values.base) console.log(`off / base CPU per packet: ${(med('off') / med('base')).toFixed(3)} (throughput-equivalent ${(med('base') / med('off')).toFixed(3)}x)`);
