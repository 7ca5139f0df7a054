#!/usr/bin/env node
// bench/cluster-spread.mjs - how evenly N workers of `gamewire echo-server --workers N` share the
// connections, for each way node:cluster can hand them out:
//   rr    NODE_CLUSTER_SCHED_POLICY=rr   (default on Linux): the primary accepts, round-robin
//   none  NODE_CLUSTER_SCHED_POLICY=none: every worker accepts on the shared socket (the kernel picks)
// reusePort (Node >= 22.12 / 23.1, SO_REUSEPORT: one listening socket per worker) is reported as
// not available on older Node.
//
//   node bench/cluster-spread.mjs [--workers 2] [--conns 1000] [--rounds 3] [--cpus 0-1]
//
// Counts each worker's established connections with `ss -tnp`. Plain ESM, node built-ins; needs dist/.
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const WORKERS = Number(args.workers ?? 2);
const CONNS = Number(args.conns ?? 1000);
const ROUNDS = Number(args.rounds ?? 3);
const CPUS = args.cpus ?? `0-${Math.max(0, WORKERS - 1)}`;
const children = new Set();
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

function startServer(policy) {
  const child = spawn('taskset', ['-c', CPUS, process.execPath, path.join(REPO, 'dist/src/cli/main.js'), 'echo-server', '--port', '0',
    '--workers', String(WORKERS), '--max-sessions', String(CONNS * 2), '--log-format', 'json'], {
    env: { ...process.env, NODE_CLUSTER_SCHED_POLICY: policy }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('no ready line')), 20_000);
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.includes('listening on'));
      if (line) { clearTimeout(timer); const r = JSON.parse(line); resolve({ child, port: r.port, pids: r.workerPids }); }
    });
  });
}

async function openConns(port, n) {
  const socks = [];
  for (let i = 0; i < n; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve());
      s.on('error', reject);
      socks.push(s);
    })));
  }
  return socks;
}

function perWorker(port, pids) {
  const text = execFileSync('ss', ['-Htnp', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
  const counts = new Map(pids.map((p) => [p, 0]));
  for (const m of text.matchAll(/pid=(\d+)/g)) {
    const pid = Number(m[1]);
    if (counts.has(pid)) counts.set(pid, counts.get(pid) + 1);
  }
  return [...counts.values()];
}

async function measure(policy) {
  const { child, port, pids } = await startServer(policy);
  const results = [];
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = performance.now();
    const socks = await openConns(port, CONNS);
    const ms = performance.now() - t0;
    // Accepted connections reach a worker asynchronously (rr: over IPC): wait until all are counted.
    let counts = perWorker(port, pids);
    for (let i = 0; i < 100 && counts.reduce((a, b) => a + b, 0) < CONNS; i++) {
      await new Promise((r) => setTimeout(r, 50));
      counts = perWorker(port, pids);
    }
    results.push({ counts, connectMs: Math.round(ms), maxOverMean: +(Math.max(...counts) / (CONNS / WORKERS)).toFixed(3) });
    socks.forEach((s) => s.destroy());
    for (let i = 0; i < 100 && perWorker(port, pids).reduce((a, b) => a + b, 0) > 0; i++) await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  children.delete(child);
  return results;
}

const [major, minor] = process.versions.node.split('.').map(Number);
const reusePort = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
console.log(`node ${process.versions.node}, ${WORKERS} workers on cpus ${CPUS}, ${CONNS} connections x ${ROUNDS} rounds`);
for (const policy of ['rr', 'none']) {
  for (const r of await measure(policy)) {
    console.log(`${policy.padEnd(5)} per worker ${r.counts.join(' / ')}  max/mean ${r.maxOverMean}  connect ${r.connectMs} ms`);
  }
}
console.log(`reusePort: ${reusePort ? 'available on this Node (not measured by this script)' : 'not available on this Node (needs >= 22.12 or 23.1)'}`);
