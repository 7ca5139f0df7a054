#!/usr/bin/env node
// bench/run-scale.mjs - gamewire on several cores and through Redis, measured with netload
// (../shared/bench) in one sitting, reported as ratios to the one-process server:
//   echo  c1000 p4 s64                 echo-server --workers 1 vs --workers N...
//   bcast c200 k10 r100 s64 (200k/s)   broadcast-server: one process, one room over N workers (IPC
//                                      through the primary), and over N workers that reach each
//                                      other only through Redis (--worker-bus redis: as N machines)
//
//   node bench/run-scale.mjs [--server-cores 1] [--load-cores 1] [--workers 1,2] [--reps 2]
//        [--duration 4] [--warmup 1] [--only REGEX] [--shared ../shared/bench] [--out NAME]
//
// The server (primary, workers and redis-server) is pinned to CPUs 0..server-cores-1, netload to
// the next load-cores CPUs (netload is one thread: more load cores only leave room for the kernel).
// Past the machine's CPU count the two sets wrap and share cores (the report says so). On the
// 2-core VM the default is 1 + 1, so N workers share one core there: the figure is the cost of the
// cluster layer, not its gain; give --server-cores N on a machine with N+1 cores or more.
// Writes bench/results/NAME.md (default scale) and NAME.jsonl. Plain ESM, node built-ins only.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const opt = { 'server-cores': '1', 'load-cores': '1', workers: '1,2', reps: '2', duration: '4', warmup: '1', shared: '../shared/bench', out: 'scale' };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '');
  if (k === 'h' || k === 'help') { console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\nimport')[0]); process.exit(0); }
  if (!(k in opt) && k !== 'only') { console.error(`run-scale: unknown option --${k}`); process.exit(2); }
  opt[k] = process.argv[i + 1];
}
const CPUS = os.availableParallelism();
const serverCores = Number(opt['server-cores']);
const loadCores = Number(opt['load-cores']);
const cpuList = (from, n) => Array.from({ length: n }, (_, i) => (from + i) % CPUS).join(',');
const SERVER_CPUS = cpuList(0, serverCores);
const LOAD_CPUS = cpuList(serverCores, loadCores);
const SHARED = serverCores + loadCores > CPUS;
const WORKERS = opt.workers.split(',').map(Number);
const [REPS, DURATION, WARMUP] = [Number(opt.reps), Number(opt.duration), Number(opt.warmup)];
const MAIN = path.join(REPO, 'dist/src/cli/main.js');

const children = new Set();
const track = (p) => { children.add(p); p.once('exit', () => children.delete(p)); return p; };
process.on('exit', () => children.forEach((p) => p.kill('SIGKILL')));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(sig === 'SIGINT' ? 130 : 143));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freePort() {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const free = await new Promise((resolve) => { const s = net.createServer(); s.once('error', () => resolve(false)); s.listen(port, '127.0.0.1', () => s.close(() => resolve(true))); });
    if (free) return port;
  }
}

/** Spawns `argv` pinned to `cpus`, resolves once a stdout line matches `ready`. */
function startPinned(cpus, argv, ready, env = {}) {
  const p = track(spawn('taskset', ['-c', cpus, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } }));
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready: ${argv.join(' ')}\n${out.slice(-2000)}`)), 20_000);
    p.stdout.on('data', (d) => { out += d; if (ready.test(out)) { clearTimeout(timer); resolve(p); } });
    p.stderr.on('data', (d) => { out += d; });
    p.once('exit', (code) => { clearTimeout(timer); reject(new Error(`exited ${code}: ${argv.join(' ')}\n${out.slice(-2000)}`)); });
  });
}

async function stop(p) {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  if (await Promise.race([done.then(() => true), sleep(10_000).then(() => false)])) return;
  p.kill('SIGKILL');
  await done;
}

function netload(bin, port, args) {
  return new Promise((resolve) => {
    const argv = ['-c', LOAD_CPUS, path.join(bin, 'netload'), '--port', String(port), ...args, '--warmup', String(WARMUP), '--duration', String(DURATION), '--json'];
    const p = track(spawn('taskset', argv, { stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), (WARMUP + DURATION + 80) * 1000);
    p.once('close', () => { clearTimeout(t); try { resolve(JSON.parse(out.trim().split('\n').at(-1))); } catch { resolve(null); } });
  });
}

const ECHO = ['--mode', 'echo', '--conns', '1000', '--pipeline', '4', '--size', '64'];
const BCAST = ['--mode', 'bcast', '--conns', '200', '--senders', '10', '--rate', '100', '--size', '64', '--drain', '10'];
const cases = [];
for (const w of WORKERS) cases.push({ name: `echo c1000 p4 s64 / workers ${w}`, command: 'echo-server', extra: ['--workers', String(w)], load: ECHO, base: 'echo c1000 p4 s64 / workers 1' });
for (const w of WORKERS) cases.push({ name: `bcast c200 k10 r100 / workers ${w}`, command: 'broadcast-server', extra: ['--workers', String(w)], load: BCAST, base: 'bcast c200 k10 r100 / workers 1' });
for (const w of WORKERS.filter((n) => n > 1)) {
  cases.push({ name: `bcast c200 k10 r100 / workers ${w} via redis`, command: 'broadcast-server', extra: ['--workers', String(w), '--worker-bus', 'redis'], load: BCAST, redis: true, base: 'bcast c200 k10 r100 / workers 1' });
}
const selected = opt.only ? cases.filter((c) => new RegExp(opt.only).test(c.name)) : cases;

async function runCase(bin, c) {
  let redis;
  const extra = [...c.extra];
  if (c.redis) {
    const rport = await freePort();
    redis = await startPinned(SERVER_CPUS, ['redis-server', '--port', String(rport), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], /Ready to accept/);
    extra.push('--redis', `redis://127.0.0.1:${rport}`);
  }
  const port = await freePort();
  const server = await startPinned(SERVER_CPUS, [process.execPath, MAIN, c.command, '--port', String(port), '--max-sessions', '5000', '--log-format', 'json', ...extra], /listening on/);
  const j = await netload(bin, port, c.load);
  await stop(server);
  if (redis) await stop(redis);
  return j;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]; };
async function main() {
  const build = spawn(path.resolve(REPO, opt.shared, 'build.sh'), [], { stdio: ['ignore', 'pipe', 'inherit'] });
  let bout = '';
  build.stdout.on('data', (d) => { bout += d; });
  await new Promise((r) => build.once('close', r));
  const bin = bout.trim().split('\n').at(-1);
  console.log(`run-scale: ${selected.length} cases x ${REPS} reps; server on CPUs ${SERVER_CPUS}, netload on ${LOAD_CPUS}${SHARED ? ' (SHARED cores)' : ''}; node ${process.versions.node}; ${CPUS} CPUs`);
  const runs = new Map(selected.map((c) => [c.name, []]));
  const jsonl = path.join(REPO, 'bench/results', `${opt.out}.jsonl`);
  for (let rep = 1; rep <= REPS; rep++) {
    for (const c of selected) {
      const j = await runCase(bin, c);
      runs.get(c.name).push(j);
      fs.appendFileSync(jsonl, JSON.stringify({ type: 'run', case: c.name, rep, serverCpus: SERVER_CPUS, loadCpus: LOAD_CPUS, json: j }) + '\n');
      const line = j === null ? 'no result' : `${Math.round(j.recv_per_s)}/s p99 ${(j.lat_us.p99 / 1000).toFixed(1)} ms errors ${j.errors} lost ${j.lost} disc ${j.disconnects}`;
      console.log(`  rep ${rep} ${c.name}: ${line}`);
    }
  }
  const rows = ['| case | msgs or deliveries/s | vs workers 1 | % wanted | p99 ms | errors / lost / disconnects |', '| --- | --- | --- | --- | --- | --- |'];
  const rate = (name) => median((runs.get(name) ?? []).filter(Boolean).map((j) => j.recv_per_s));
  let bad = false;
  for (const c of selected) {
    const js = runs.get(c.name).filter(Boolean);
    const faults = js.reduce((a, j) => [a[0] + j.errors, a[1] + j.lost, a[2] + j.disconnects + j.connect_fail], [0, 0, 0]);
    if (js.length < REPS || faults.some((n) => n > 0)) bad = true;
    const r = rate(c.name);
    const wanted = js[0]?.wanted_per_s ? `${((100 * r) / js[0].wanted_per_s).toFixed(1)} %` : '';
    rows.push(`| ${c.name} | ${Math.round(r)} | ${(r / rate(c.base)).toFixed(2)}x | ${wanted} | ${(median(js.map((j) => j.lat_us.p99)) / 1000).toFixed(1)} | ${faults.join(' / ')} |`);
  }
  const report = [`# gamewire scale-out (${new Date().toISOString()})`, '',
    `Server (primary + workers + redis-server) on CPUs ${SERVER_CPUS}, netload on ${LOAD_CPUS}${SHARED ? ' (the sets overlap: server and netload share cores)' : ''}; ${CPUS} CPUs; node ${process.versions.node}; ${REPS} reps x ${DURATION} s (+${WARMUP} s warmup), medians.`, '', ...rows, ''].join('\n');
  fs.writeFileSync(path.join(REPO, 'bench/results', `${opt.out}.md`), report);
  console.log(`\n${report}`);
  process.exitCode = bad ? 1 : 0;
}
main().catch((e) => { console.error('run-scale:', e); process.exit(2); });
