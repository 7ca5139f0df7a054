#!/usr/bin/env node
// bench/run-netload.mjs - gamewire vs the reference servers of ../shared/bench, measured by the
// neutral C load generator `netload` in the same sitting.
//
//   node bench/run-netload.mjs [--quick] [--reps N] [--duration S] [--warmup S]
//        [--configs REGEX] [--servers REGEX] [--only REGEX] [--all] [--out NAME] [--shared DIR]
//        [--gamewire-main FILE] [--node PATH] [--dry-run] [--report FILE.jsonl]
//
// Each case = one server x one netload config. The server runs pinned to CPU 0 (taskset -c 0),
// netload pinned to CPU 1; fresh server process and fresh port per run; runs in rep-major order, each
// config's servers rotated by one per rep (no server always first).
// Raw results are appended to bench/results/NAME.jsonl, the report goes to bench/results/NAME.md
// and to stdout. Plain ESM, node built-ins only; not compiled by tsc. See bench/README.md.
//
// Exit status: 0 = completed; 1 = some gamewire run had errors / lost packets / disconnects /
// connect failures (or netload produced no result against gamewire); 2 = usage or internal error;
// 130 / 143 = interrupted by SIGINT / SIGTERM. Every child has a hard timeout and everything
// started here is killed on exit, so the script always ends by itself.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');

// ------------------------------------------------------------------ options
const USAGE = `usage: node bench/run-netload.mjs [options]

  --quick            reps 1, duration 3 s, warmup 1 s (explicit --reps/--duration/--warmup still win)
  --reps N           runs per case (default 2)
  --duration S       measured window, seconds (default 4)
  --warmup S         unmeasured traffic before the window, seconds (default 1)
  --configs REGEX    configs whose name matches (from all configs), e.g. 'echo c100 p16'
  --servers REGEX    servers whose name matches, e.g. '^(gamewire|ref-node-batch)$'
  --only REGEX       cases whose "server/config" matches (from all configs), e.g. 'gamewire/bcast'
  --all              all six configs (default: echo c100 p16, echo c1000 p4, both bcast configs)
  --out NAME         bench/results/NAME.{jsonl,md} (default latest); a NAME with a '/' is a path
  --shared DIR       shared bench kit (default ../shared/bench relative to the repo root)
  --gamewire-main F  gamewire CLI to run (default dist/src/cli/main.js of this repo)
  --node PATH        Node binary the Node servers run on: gamewire and the ref-node servers, so their
                     ratios compare one Node (default: the Node running this script)
  --gamewire-base F  also run server 'gamewire-base': the same commands with this other CLI (e.g. a
                     build of main), in the same sitting, for a before/after ratio (and, when asked
                     for with --servers, 'gamewire-resume-base': that build with --resume)
  --scrape-ms MS     how often the gamewire-metrics server is scraped (default 1000)
  --dry-run          print the plan and the time estimate, run nothing
  --report FILE      run nothing; re-render the report of the last run recorded in FILE.jsonl
  -h, --help         this text`;

const argv = process.argv.slice(2);
const VALUE_OPTS = new Set(['scrape-ms', 'reps', 'duration', 'warmup', 'configs', 'servers', 'only', 'out', 'shared', 'report', 'gamewire-main', 'gamewire-base', 'node']);
const FLAG_OPTS = new Set(['quick', 'all', 'dry-run', 'help']);
const opts = {};
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '-h') { opts.help = true; continue; }
  const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
  if (!m) usageExit(`unexpected argument '${a}'`);
  const [, k, inline] = m;
  if (FLAG_OPTS.has(k)) { if (inline !== undefined) usageExit(`--${k} takes no value`); opts[k] = true; }
  else if (VALUE_OPTS.has(k)) {
    const v = inline !== undefined ? inline : argv[++i];
    if (v === undefined) usageExit(`--${k} needs a value`);
    opts[k] = v;
  } else usageExit(`unknown option --${k}`);
}
function usageExit(msg) { console.error(`run-netload: ${msg}\n\n${USAGE}`); process.exit(2); }
if (opts.help) { console.log(USAGE); process.exit(0); }

const num = (k, d, min) => {
  if (opts[k] === undefined) return d;
  const v = Number(opts[k]);
  if (!Number.isFinite(v) || v < min) usageExit(`--${k} must be a number >= ${min}`);
  return v;
};
const QUICK = !!opts.quick;
const REPS = Math.floor(num('reps', QUICK ? 1 : 2, 1));
const DURATION = num('duration', QUICK ? 3 : 4, 0.5);
const WARMUP = num('warmup', 1, 0);
const rx = (k) => { try { return opts[k] !== undefined ? new RegExp(opts[k]) : null; } catch (e) { return usageExit(`--${k}: ${e.message}`); } };
const CONFIGS_RX = rx('configs'), SERVERS_RX = rx('servers'), ONLY_RX = rx('only');
const SHARED = path.resolve(opts.shared ?? path.resolve(REPO, '../shared/bench'));
const GAMEWIRE_MAIN = path.resolve(opts['gamewire-main'] ?? path.join(REPO, 'dist', 'src', 'cli', 'main.js'));
const GAMEWIRE_BASE = opts['gamewire-base'] === undefined ? null : path.resolve(opts['gamewire-base']);
const OUTNAME = opts.out ?? 'latest';
const OUT = OUTNAME.includes('/') ? path.resolve(process.cwd(), OUTNAME) : path.join(HERE, 'results', OUTNAME);

// ------------------------------------------------------------------ matrix
// BIN is filled in by build() before any server or netload is started.
let BIN = '';
// A --node with a path separator is a file; a bare name is looked up on PATH, like spawn does.
const NODE = opts.node === undefined ? process.execPath : /[\\/]/.test(opts.node) ? path.resolve(opts.node) : opts.node;
/** `NODE --version`, asked once; a --node that does not run is a usage error. */
function nodeVersion() {
  if (NODE === process.execPath) return process.version;
  try {
    return execFileSync(NODE, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch (e) {
    return usageExit(`--node ${opts.node}: cannot run it (${e.message.split('\n')[0]})`);
  }
}
const refNode = (extra) => (port, mode) =>
  [NODE, path.join(SHARED, 'ref-node-server.mjs'), '--port', port, '--mode', mode, ...extra, '--max-seconds', 300];
/** Servers driven by netload-resume (netload patched to say HELLO and acknowledge). */
const RESUME_SERVERS = new Set(['gamewire-resume', 'gamewire-resume-base']);
const SERVERS = {
  gamewire: (port, mode) => mode === 'echo'
    ? [NODE, GAMEWIRE_MAIN, 'echo-server', '--port', port, '--max-sessions', 5000]
    : [NODE, GAMEWIRE_MAIN, 'broadcast-server', '--port', port, '--max-sessions', 5000],
  // The same server with its Prometheus endpoint on, scraped every SCRAPE_MS during the run (see runCase).
  'gamewire-metrics': (port, mode, metricsPort = 0) => [...SERVERS.gamewire(port, mode), '--metrics-port', metricsPort, '--no-stats'],
  // The echo server with resume on, driven by netload patched to say HELLO and acknowledge
  // (bench/netload-resume.patch): resume on against the `gamewire` row's resume off.
  'gamewire-resume': (port, mode) => (mode === 'echo' ? [...SERVERS.gamewire(port, mode), '--resume'] : null),
  // The same commands with another build (--gamewire-base), e.g. main before a change.
  'gamewire-base': (port, mode) => (GAMEWIRE_BASE === null ? null : SERVERS.gamewire(port, mode).map((a) => (a === GAMEWIRE_MAIN ? GAMEWIRE_BASE : a))),
  // Resume on with that other build: a change to the resume path, before against after.
  'gamewire-resume-base': (port, mode) => (mode === 'echo' && GAMEWIRE_BASE !== null ? [...SERVERS['gamewire-base'](port, mode), '--resume'] : null),
  // The same echo written as game code: PacketSession.onRecvPacket -> sendPacket, packet by packet.
  'gamewire-dispatch': (port, mode) => mode === 'echo'
    ? [NODE, GAMEWIRE_MAIN, 'echo-server', '--dispatch', '--port', port, '--max-sessions', 5000]
    : null,
  'ref-epoll': (port, mode) => [path.join(BIN, 'ref-epoll-server'), '--port', port, '--mode', mode, '--max-seconds', 300],
  'ref-node': refNode([]),
  'ref-node-batch': refNode(['--batch']),
  'ref-node-batch-imm': refNode(['--batch=immediate']),
};
/** How often the gamewire-metrics server is scraped (--scrape-ms; default 1 s: 15x Prometheus's default 15 s). */
const SCRAPE_MS = Number(opts['scrape-ms'] ?? 1000);
const REF_ORDER = ['ref-node-batch', 'ref-node-batch-imm', 'ref-node', 'ref-epoll'];
const BEST_NODE = ['ref-node-batch', 'ref-node-batch-imm'];
const CONFIGS = [
  { name: 'echo c100 p16 s32', mode: 'echo', conns: 100, args: ['--conns', 100, '--pipeline', 16, '--size', 32] },
  { name: 'echo c1000 p4 s64', mode: 'echo', conns: 1000, args: ['--conns', 1000, '--pipeline', 4, '--size', 64] },
  { name: 'echo c100 p1 s32', mode: 'echo', conns: 100, args: ['--conns', 100, '--pipeline', 1, '--size', 32] },
  { name: 'echo c10 p64 s1024', mode: 'echo', conns: 10, args: ['--conns', 10, '--pipeline', 64, '--size', 1024] },
  { name: 'bcast c200 k10 r100 s64', mode: 'bcast', conns: 200, drain: 10, args: ['--conns', 200, '--senders', 10, '--rate', 100, '--size', 64, '--drain', 10] },
  { name: 'bcast c1000 k10 r20 s64', mode: 'bcast', conns: 1000, drain: 10, args: ['--conns', 1000, '--senders', 10, '--rate', 20, '--size', 64, '--drain', 10] },
  // Saturation: more offered load than the standard bcast configs (select with --configs 'bcast c200 k').
  { name: 'bcast c200 k20 r100 s64', mode: 'bcast', conns: 200, drain: 5, args: ['--conns', 200, '--senders', 20, '--rate', 100, '--size', 64, '--drain', 5] },
  { name: 'bcast c200 k30 r100 s64', mode: 'bcast', conns: 200, drain: 5, args: ['--conns', 200, '--senders', 30, '--rate', 100, '--size', 64, '--drain', 5] },
  { name: 'bcast c200 k40 r100 s64', mode: 'bcast', conns: 200, drain: 5, args: ['--conns', 200, '--senders', 40, '--rate', 100, '--size', 64, '--drain', 5] },
];
const DEFAULT_CONFIGS = ['echo c100 p16 s32', 'echo c1000 p4 s64', 'bcast c200 k10 r100 s64', 'bcast c1000 k10 r20 s64'];

/**
 * The cases of one rep: each config's servers in an order rotated by one per rep, so that no server
 * always runs first (or right after the same neighbour) in a sitting; paired per-rep ratios then
 * carry no position bias. With 3 servers and 3 reps each server runs once in each position.
 */
function rotatedForRep(list, rep) {
  const out = [];
  for (let i = 0; i < list.length; ) {
    let j = i;
    while (j < list.length && list[j].config === list[i].config) j++;
    const group = list.slice(i, j);
    const shift = (rep - 1) % group.length;
    out.push(...group.slice(shift), ...group.slice(0, shift));
    i = j;
  }
  return out;
}

function selectCases() {
  const pool = CONFIGS_RX || ONLY_RX || opts.all ? CONFIGS : CONFIGS.filter((c) => DEFAULT_CONFIGS.includes(c.name));
  const list = [];
  for (const config of pool) {
    if (CONFIGS_RX && !CONFIGS_RX.test(config.name)) continue;
    for (const server of Object.keys(SERVERS)) {
      if (SERVERS_RX && !SERVERS_RX.test(server)) continue;
      if (SERVERS[server](0, config.mode) === null) continue; // server has no such mode
      if ((server === 'gamewire-metrics' || RESUME_SERVERS.has(server)) && !SERVERS_RX && !ONLY_RX) continue; // only when asked for
      if (ONLY_RX && !ONLY_RX.test(`${server}/${config.name}`)) continue;
      list.push({ server, config });
    }
  }
  return list;
}

// Time model of one run (seconds), calibrated on this 2-core VM: server start + port wait,
// connect ramp (1000 conns overflow Node's listen backlog: ~1 s of SYN retries), settle/sync,
// warmup, window, drain, server stop, pause between runs. Worst case: every drain runs to its limit.
const START_S = 0.4, STOP_S = 0.15, PAUSE_S = 0.3;
function runSeconds(config, worst) {
  const ramp = config.conns >= 1000 ? 1.0 : 0.1;
  const settle = config.mode === 'bcast' ? 0.3 : 0.1;
  const drain = config.mode === 'bcast' ? (worst ? config.drain : 0.5) : worst ? 2 : 0.1;
  return START_S + ramp + settle + WARMUP + DURATION + drain + STOP_S + PAUSE_S;
}
const NETLOAD_TIMEOUT_S = (config) => WARMUP + DURATION + (config.drain ?? 2) + 60; // 30 s connect timeout + 10 s sync + margin
const PORT_WAIT_MS = 10_000;

// ------------------------------------------------------------------ child process bookkeeping
const children = new Set();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const alive = (p) => p.pid !== undefined && p.exitCode === null && p.signalCode === null; // false if spawn failed

function track(p) {
  children.add(p);
  p.once('exit', () => children.delete(p));
  return p;
}
function killAll(sig = 'SIGKILL') {
  for (const p of children) { try { if (alive(p)) p.kill(sig); } catch { /* gone */ } }
}
let interrupted = null;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = sig;
    console.error(`\nrun-netload: ${sig}, stopping ${children.size} child process(es)`);
    killAll('SIGTERM');
    setTimeout(() => { killAll('SIGKILL'); process.exit(sig === 'SIGINT' ? 130 : 143); }, 1000).unref();
    // a second ref'd timer keeps the loop alive until the exit above
    setTimeout(() => {}, 1500);
  });
}
process.on('exit', () => killAll('SIGKILL'));
process.on('uncaughtException', (e) => { console.error('run-netload: internal error:', e); killAll('SIGKILL'); process.exit(2); });
process.on('unhandledRejection', (e) => { console.error('run-netload: internal error:', e); killAll('SIGKILL'); process.exit(2); });

/** Keeps the last `max` characters of a stream. */
function tail(stream, max = 4000) {
  const box = { text: '' };
  stream?.on('data', (d) => { box.text = (box.text + d).slice(-max); });
  return box;
}

/** Runs a command to completion with a hard timeout (SIGKILL). */
function run(cmd, args, timeoutMs) {
  return new Promise((resolve) => {
    const p = track(spawn(cmd, args.map(String), { stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    const err = tail(p.stderr, 8000);
    p.stdout.on('data', (d) => { out += d; });
    let timedOut = false;
    const t = setTimeout(() => { timedOut = true; p.kill('SIGKILL'); }, timeoutMs);
    p.once('error', (e) => { clearTimeout(t); resolve({ code: null, sig: null, out, err: String(e), timedOut }); });
    p.once('close', (code, sig) => { clearTimeout(t); resolve({ code, sig, out, err: err.text, timedOut }); });
  });
}

async function stopServer(p) {
  if (!alive(p)) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const ok = await Promise.race([done.then(() => true), sleep(3000).then(() => false)]);
  if (!ok) { p.kill('SIGKILL'); await Promise.race([done, sleep(3000)]); }
}

function canListen(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
/** A random free port below the ephemeral range (so netload's own client ports never collide with it). */
async function freePort() {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (await canListen(port)) return port;
  }
  throw new Error('no free port found in 20000..31999');
}

/** Polls connect() until the port accepts, the server exits, or the deadline passes. */
function waitPort(port, proc, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const once = () => {
      if (!alive(proc)) return resolve('exited');
      const s = net.connect({ port, host: '127.0.0.1' });
      s.once('connect', () => { s.destroy(); resolve('up'); });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) resolve('timeout');
        else setTimeout(once, 50);
      });
    };
    once();
  });
}

/** Per-CPU [steal, total] jiffies from /proc/stat (empty where there is none). */
function cpuTimes() {
  try {
    return fs.readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d+ /.test(l)).map((l) => {
      const v = l.trim().split(/\s+/).slice(1).map(Number);
      return [v[7] ?? 0, v.reduce((a, b) => a + b, 0)];
    });
  } catch { return []; }
}
/** Per-CPU [busy, total] jiffies from /proc/stat (busy = all but idle and iowait). */
function busyTimes() {
  try {
    return fs.readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d+ /.test(l)).map((l) => {
      const v = l.trim().split(/\s+/).slice(1).map(Number);
      const total = v.reduce((a, b) => a + b, 0);
      return [total - (v[3] ?? 0) - (v[4] ?? 0), total];
    });
  } catch { return []; }
}
/** Hypervisor steal % per CPU between two cpuTimes() samples. */
const stealPct = (a, b) => a.map(([s0, t0], i) => { const [s1, t1] = b[i] ?? [s0, t0]; return t1 > t0 ? +((100 * (s1 - s0)) / (t1 - t0)).toFixed(1) : 0; });

/** [cpu0, cpu1] % busy beyond the server (cpu0) and netload (cpu1) over the window, or null. */
function foreignPct(j) {
  if (!(j?.cpus?.length >= 2)) return null;
  return [j.cpus[0].busy - Math.max(0, j.server_cpu_pct), j.cpus[1].busy - j.gen_cpu_pct].map((v) => +Math.max(0, v).toFixed(1));
}

// ------------------------------------------------------------------ one case
let PIN = true;
const pinned = (cpu, argvList) => (PIN ? ['taskset', '-c', String(cpu), ...argvList] : argvList);

async function runCase(k) {
  const port = await freePort();
  const metricsPort = k.server === 'gamewire-metrics' ? await freePort() : 0;
  const srvArgv = pinned(0, SERVERS[k.server](port, k.config.mode, metricsPort).map(String));
  const srv = track(spawn(srvArgv[0], srvArgv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO }));
  const srvOut = tail(srv.stdout), srvErr = tail(srv.stderr);
  let spawnError = null;
  srv.once('error', (e) => { spawnError = String(e); });
  const base = { port, server_argv: srvArgv };
  const state = await waitPort(port, srv, PORT_WAIT_MS);
  if (state !== 'up') {
    await stopServer(srv);
    const why = spawnError ?? (state === 'exited'
      ? `server exited (code ${srv.exitCode}${srv.signalCode ? `, ${srv.signalCode}` : ''}) before listening`
      : `server did not accept connections within ${PORT_WAIT_MS / 1000} s`);
    const output = `${srvErr.text}\n${srvOut.text}`.trim().split('\n').filter(Boolean).slice(-6);
    const first = output.find((l) => !l.startsWith('{')) ?? output[0];
    return { ...base, unavailable: true, error: first ? `${why}: ${first.slice(0, 160)}` : why, server_output: output.join('\n') };
  }
  await sleep(100);
  const resume = RESUME_SERVERS.has(k.server);
  const nlArgv = pinned(1, [path.join(BIN, resume ? 'netload-resume' : 'netload'), '--port', port, '--mode', k.config.mode, ...k.config.args,
    '--warmup', WARMUP, '--duration', DURATION, '--json', '--server-pid', srv.pid, ...(resume ? ['--resume'] : [])].map(String));
  const cpu0 = cpuTimes();
  const scraper = metricsPort ? startScraper(metricsPort) : null;
  const r = await run(nlArgv[0], nlArgv.slice(1), NETLOAD_TIMEOUT_S(k.config) * 1000);
  const scrapes = scraper?.stop();
  const steal = stealPct(cpu0, cpuTimes());
  const serverAlive = alive(srv);
  await stopServer(srv);
  const lines = r.out.trim().split('\n');
  let json = null;
  try { json = JSON.parse(lines[lines.length - 1]); } catch { /* no result */ }
  const rec = { ...base, netload_argv: nlArgv, rc: r.code, json, steal_pct: steal, server_alive_after: serverAlive, ...(scrapes ? { scrapes } : {}),
    human: lines.filter((l) => !l.startsWith('{')).join('\n') };
  if (!json) {
    rec.error = r.timedOut ? `netload killed after ${NETLOAD_TIMEOUT_S(k.config)} s timeout` : `netload gave no JSON (exit ${r.code ?? r.sig})`;
    rec.netload_stderr = r.err.trim().slice(-2000);
  }
  // CPU on the two pinned cores not used by the server / netload themselves (their softirq is
  // charged to them): other processes on the machine disturbing the measurement.
  if (PIN) rec.foreign_pct = foreignPct(json);
  if (!serverAlive) rec.server_output = `${srvErr.text}\n${srvOut.text}`.trim().split('\n').slice(-6).join('\n');
  return rec;
}

/**
 * GETs /metrics once halfway through netload's warm-up, then every SCRAPE_MS; stop() returns { ok, failed }
 * counts (the warm-up scrape included). The warm-up scrape is there because a real server has been scraped
 * long before any 4 s window: the first HTTP request and the first scrape of a process pay one-time costs
 * (the scrape's code compiled, code it shares with the game recompiled) that do not belong in the steady
 * cost of scraping. The scraper runs in this process, unpinned: that disturbs neither CPU measurably
 * (bench/README.md, "Metrics cost").
 */
function startScraper(port) {
  const counts = { ok: 0, failed: 0 };
  const scrape = () => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
      res.resume();
      res.on('end', () => { if (res.statusCode === 200) counts.ok++; else counts.failed++; });
    });
    req.on('error', () => counts.failed++);
  };
  const warm = setTimeout(scrape, (WARMUP * 1000) / 2);
  const timer = setInterval(scrape, SCRAPE_MS);
  return { stop: () => { clearTimeout(warm); clearInterval(timer); return counts; } };
}

// ------------------------------------------------------------------ report
const median = (a) => { const s = [...a].sort((x, y) => x - y); const n = s.length; return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : NaN; };
const fmtN = (v) => (!Number.isFinite(v) ? 'n/a' : v >= 100 ? Math.round(v).toLocaleString('en-US') : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const mmm = (a, f = fmtN) => (a.length > 1 ? `${f(median(a))} (${f(Math.min(...a))}–${f(Math.max(...a))})` : a.length ? f(a[0]) : 'n/a');
const us = (v) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)} s` : v >= 1e5 ? `${Math.round(v / 1000)} ms` : v >= 1e4 ? `${(v / 1000).toFixed(1)} ms`
  : v >= 1000 ? `${(v / 1000).toFixed(2)} ms` : `${Math.round(v)} µs`);
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');
const shq = (s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${String(s).replace(/'/g, `'\\''`)}'`);

/** True when a gamewire run is not clean (errors, loss, disconnects, connect failures, or no result). */
function badRun(r) {
  const j = r.json;
  if (r.unavailable) return false;
  if (!j) return true;
  return j.errors !== 0 || j.lost !== 0 || j.disconnects !== 0 || j.connect_fail !== 0;
}

function report(meta, recs) {
  const L = [];
  const row = (cells) => L.push(`| ${cells.join(' | ')} |`);
  L.push('# gamewire vs reference servers (netload)', '');
  L.push(`* **Date:** ${meta.date}`);
  const serverNode = meta.serverNode && meta.serverNode !== meta.node ? `; servers on Node ${meta.serverNode} (\`${meta.serverNodePath}\`), harness on Node ${meta.node}` : `; Node ${meta.node}`;
  L.push(`* **Machine:** ${meta.cpuModel}, ${meta.cpuCount} CPUs, ${meta.platform}${serverNode}`);
  L.push(`* **Pinning:** ${meta.pinned ? 'server `taskset -c 0`, netload `taskset -c 1`' : `**unpinned** (${meta.pinNote})`}`);
  L.push(`* **Command:** \`${meta.command}\``);
  L.push(`* **Runs:** ${meta.reps} rep(s) per case, rep-major, servers rotated per rep; ${meta.warmup} s warmup + ${meta.duration} s window each; fresh server and port per run.`
    + ` Cells: median over runs (min–max); latency = median of each run's percentile. Ratios = ratio of median throughputs.`);
  L.push(`* **Wall time:** ${meta.elapsed != null ? `${meta.elapsed.toFixed(0)} s` : 'n/a'} (estimated ${meta.estimate.toFixed(0)} s, worst case ${meta.worst.toFixed(0)} s)`);
  L.push(`* **Raw results:** \`${meta.jsonl}\` (run id \`${meta.runId}\`)`, '');

  const configs = CONFIGS.filter((c) => recs.some((r) => r.config === c.name));
  const verdict = [];
  for (const c of configs) {
    const byServer = new Map();
    for (const s of Object.keys(SERVERS)) {
      const rs = recs.filter((r) => r.config === c.name && r.server === s);
      if (rs.length) byServer.set(s, rs);
    }
    const med = (s) => { const J = (byServer.get(s) ?? []).filter((r) => r.json).map((r) => r.json); return J.length ? median(J.map((j) => j.recv_per_s)) : NaN; };
    const bcast = c.mode === 'bcast';
    L.push(`## ${c.name}`, '');
    row(['server', bcast ? 'deliveries/s median (min–max), % of wanted' : 'msgs/s median (min–max)', 'p50', 'p99', 'p99.9',
      'errors / lost / disconnects', 'server CPU %', 'netload CPU %', ...REF_ORDER.map((s) => `vs ${s}`), 'runs']);
    row(Array(10 + REF_ORDER.length - 1).fill('---'));
    for (const [s, rs] of byServer) {
      const ok = rs.filter((r) => r.json), J = ok.map((r) => r.json);
      const failed = rs.length - ok.length;
      if (!J.length) {
        const na = rs.every((r) => r.unavailable);
        const reason = (rs.find((r) => r.error)?.error ?? 'failed').replace(/\|/g, '\\|');
        row([s, na ? `**not available**: ${reason}` : `**FAILED**: ${reason}`, '', '', '', '', '', '', ...REF_ORDER.map(() => ''), `0/${rs.length}`]);
        continue;
      }
      const sum = (f) => J.map(f).reduce((a, b) => a + b, 0);
      let thr = mmm(J.map((j) => j.recv_per_s));
      if (bcast) thr += `, ${mmm(J.map((j) => (100 * j.recv_per_s) / j.wanted_per_s), (v) => v.toFixed(1))} %`;
      const cf = sum((j) => j.connect_fail);
      const eld = `${sum((j) => j.errors)} / ${sum((j) => j.lost)} / ${sum((j) => j.disconnects)}${cf ? ` (+${cf} connect fail)` : ''}`;
      const mine = med(s);
      row([s, thr, mmm(J.map((j) => j.lat_us.p50), us), mmm(J.map((j) => j.lat_us.p99), us), mmm(J.map((j) => j.lat_us.p999), us), eld,
        mmm(J.map((j) => j.server_cpu_pct), (v) => v.toFixed(0)), mmm(J.map((j) => j.gen_cpu_pct), (v) => v.toFixed(0)),
        ...REF_ORDER.map((ref) => (ref === s ? '—' : ratio(mine, med(ref)))),
        `${ok.length}${failed ? ` (+${failed} failed)` : ''}`]);
    }
    L.push('');

    // verdict line for this config
    const gw = byServer.get('gamewire');
    if (!gw) continue;
    const gwJ = gw.filter((r) => r.json).map((r) => r.json);
    if (!gwJ.length) {
      const na = gw.every((r) => r.unavailable);
      verdict.push(`* **${c.name}:** gamewire ${na ? 'not available' : 'FAILED'} (${gw.find((r) => r.error)?.error ?? '?'})`);
      continue;
    }
    const best = BEST_NODE.filter((s) => Number.isFinite(med(s))).sort((a, b) => med(b) - med(a))[0];
    const unit = bcast ? 'deliveries/s' : 'msgs/s';
    // Paired: `server` (gamewire unless said) over `other` within each rep (servers rotate per rep, so
    // no pair has a position bias); the median and range of those ratios say more than a ratio of
    // medians when runs vary.
    const paired = (other, server = 'gamewire') => {
      const at = (srv, rep) => byServer.get(srv)?.find((r) => r.rep === rep && r.json)?.json.recv_per_s;
      const rs = [...new Set(gw.map((r) => r.rep))].map((rep) => at(server, rep) / at(other, rep)).filter(Number.isFinite);
      return rs.length < 2 ? '' : ` (paired per rep: median ${median(rs).toFixed(2)}x, ${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)}, ${rs.length} reps)`;
    };
    let line = `* **${c.name}:** gamewire / best of (ref-node-batch, ref-node-batch-imm) = `;
    line += best ? `**${ratio(med('gamewire'), med(best))}** (${fmtN(med('gamewire'))} vs ${best} ${fmtN(med(best))} ${unit})${paired(best)}` : 'n/a (no batched ref-node run)';
    if (bcast && best) {
      const p = (s) => median((byServer.get(s) ?? []).filter((r) => r.json).map((r) => r.json.lat_us.p99));
      line += `; p99 ${us(p('gamewire'))} vs ${us(p(best))}`;
    }
    const bad = gw.filter(badRun);
    line += bad.length ? `; **gamewire NOT clean in ${bad.length}/${gw.length} run(s)**` : `; gamewire clean (0 errors / lost / disconnects in ${gwJ.length} run(s))`;
    if (Number.isFinite(med('gamewire-base'))) line += `; gamewire / gamewire-base = **${ratio(med('gamewire'), med('gamewire-base'))}**${paired('gamewire-base')}`;
    if (Number.isFinite(med('gamewire-resume'))) {
      line += `; resume on / off = **${ratio(med('gamewire-resume'), med('gamewire'))}**${paired('gamewire', 'gamewire-resume')}`;
    }
    if (Number.isFinite(med('gamewire-resume-base'))) {
      line += `; resume on, gamewire-resume / gamewire-resume-base = **${ratio(med('gamewire-resume'), med('gamewire-resume-base'))}**${paired('gamewire-resume-base', 'gamewire-resume')}`;
    }
    if (Number.isFinite(med('gamewire-metrics'))) {
      line += `; metrics on (scraped every ${SCRAPE_MS / 1000} s) / off = **${ratio(med('gamewire-metrics'), med('gamewire'))}**`;
    }
    verdict.push(line);
  }
  if (verdict.length) L.push('## Verdict', '', ...verdict, '');
  const notes = [];
  if (recs.some((r) => r.json && r.json.gen_cpu_pct >= 90)) notes.push('netload used >= 90 % of its core in some runs: those numbers may be (co-)limited by the generator.');
  if (recs.some((r) => r.json && r.json.mode === 'bcast' && r.json.recv_per_s < 0.98 * r.json.wanted_per_s)) notes.push('bcast below ~98 % of wanted = the server fell behind (open loop: latency grows for the whole run).');
  const steals = recs.filter((r) => r.json && r.steal_pct?.length);
  if (steals.length) {
    const per = steals[0].steal_pct.map((_, i) => steals.map((r) => r.steal_pct[i] ?? 0));
    const worstRun = Math.max(...steals.map((r) => Math.max(...r.steal_pct)));
    notes.push(`Hypervisor CPU steal during the netload runs: ${per.map((a, i) => `cpu${i} median ${median(a).toFixed(1)} % (max ${Math.max(...a).toFixed(1)} %)`).join(', ')}`
      + (worstRun >= 5 ? ' — **noisy sitting**: CPU time was taken by the host; compare with care or re-run.' : '.'));
  }
  const FOREIGN = 15;
  const foreign = (r) => (meta.pinned ? r.foreign_pct ?? foreignPct(r.json) : null);
  const disturbed = recs.filter((r) => foreign(r) && Math.max(...foreign(r)) > FOREIGN);
  if (disturbed.length) {
    notes.push(`**${disturbed.length} of ${recs.filter((r) => r.json).length} runs were disturbed by other load** (> ${FOREIGN} % of a pinned core busy outside the server / netload: other processes or hypervisor steal): `
      + disturbed.map((r) => `${r.server}/${r.config} rep ${r.rep} (cpu0 ${foreign(r)[0]} %, cpu1 ${foreign(r)[1]} %)`).join('; ')
      + '. Their throughput is understated; re-run on a quiet machine before drawing conclusions.');
  }
  notes.push('Numbers are comparable only within this report (same sitting); see ../shared/bench/README.md "Caveats".');
  L.push('Notes:', '', ...notes.map((n) => `* ${n}`), '');
  return L.join('\n');
}

// ------------------------------------------------------------------ main
function build() {
  const script = path.join(SHARED, 'build.sh');
  if (!fs.existsSync(script)) throw new Error(`no build.sh in ${SHARED} (use --shared DIR)`);
  const out = execFileSync(script, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 180_000 });
  const bin = out.trim().split('\n').pop();
  for (const b of ['netload', 'ref-epoll-server']) {
    if (!fs.existsSync(path.join(bin, b))) throw new Error(`build.sh said ${bin}, but ${b} is not there`);
  }
  buildNetloadResume(bin);
  return bin;
}

/**
 * netload-resume: the shared netload.c with bench/netload-resume.patch applied (a `--resume` flag: it
 * says HELLO on connect, skips resume packets, and acknowledges every 32 packets in its next write,
 * as gamewire's own clients do), built beside netload with the same flags. The shared kit stays as
 * it is; the patch is small enough to read in one sitting.
 */
function buildNetloadResume(bin) {
  const target = path.join(bin, 'netload-resume');
  const patchFile = path.join(HERE, 'netload-resume.patch');
  const source = path.join(SHARED, 'netload.c');
  const fresh = fs.existsSync(target) && [patchFile, source].every((f) => fs.statSync(f).mtimeMs < fs.statSync(target).mtimeMs);
  if (fresh) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netload-resume-'));
  try {
    fs.copyFileSync(source, path.join(dir, 'netload.c'));
    execFileSync('patch', ['--quiet', '-p0', '-i', patchFile], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync(process.env.CC ?? 'gcc', ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-Werror', '-o', `${target}.tmp`, 'netload.c', '-lm'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    fs.renameSync(`${target}.tmp`, target);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function checkPinning() {
  if (os.cpus().length < 2) return 'fewer than 2 CPUs';
  const r = spawnSync('taskset', ['-c', '1', 'true'], { stdio: 'ignore', timeout: 5000 });
  if (r.error) return 'taskset not found';
  if (r.status !== 0) return 'taskset -c 1 failed';
  return null;
}

async function main() {
  if (opts.report) {
    const recs = fs.readFileSync(path.resolve(opts.report), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const metaRec = [...recs].reverse().find((r) => r.type === 'meta');
    if (!metaRec) throw new Error(`${opts.report}: no meta record`);
    const mine = recs.filter((r) => r.type === 'run' && r.run_id === metaRec.runId);
    const end = [...recs].reverse().find((r) => r.type === 'end' && r.run_id === metaRec.runId);
    process.stdout.write(report({ ...metaRec, elapsed: end?.elapsed ?? null }, mine));
    return 0;
  }
  const SERVER_NODE = nodeVersion();
  const list = selectCases();
  if (!list.length) usageExit('no case matches --configs/--servers/--only');
  const estimate = REPS * list.reduce((a, k) => a + runSeconds(k.config, false), 0);
  const worst = REPS * list.reduce((a, k) => a + runSeconds(k.config, true), 0);
  const total = list.length * REPS;
  console.error(`run-netload: ${list.length} cases x ${REPS} rep(s) = ${total} runs, ${WARMUP} s warmup + ${DURATION} s window; `
    + `estimated ${(estimate / 60).toFixed(1)} min (worst case ${(worst / 60).toFixed(1)} min)`);
  for (const k of list) console.error(`  ${k.server}/${k.config.name}`);
  console.error(`run-netload: Node servers run on Node ${SERVER_NODE} (${NODE}); this harness on Node ${process.version}`);
  if (opts['dry-run']) return 0;

  if (!fs.existsSync(GAMEWIRE_MAIN) && list.some((k) => k.server === 'gamewire')) {
    console.error(`run-netload: warning: ${path.relative(process.cwd(), GAMEWIRE_MAIN)} missing (run 'npx tsc -p .'); gamewire cases will be "not available"`);
  }
  BIN = build();
  const pinNote = checkPinning();
  PIN = !pinNote;
  if (!PIN) console.error(`run-netload: WARNING: running unpinned (${pinNote}); numbers are not comparable with pinned runs`);

  const q0 = busyTimes(); await sleep(1000); const q1 = busyTimes();
  const idleBusy = q0.map(([b0, t0], i) => (q1[i] && q1[i][1] > t0 ? (100 * (q1[i][0] - b0)) / (q1[i][1] - t0) : 0));
  if (idleBusy.some((b) => b > 20)) {
    console.error(`run-netload: WARNING: the machine is not idle before the run (${idleBusy.map((b, i) => `cpu${i} ${b.toFixed(0)} % busy`).join(', ')}); results will be noisy`);
  }

  // whole-run watchdog on top of the per-child timeouts
  const budgetMs = (worst + total * 70 + 60) * 1000;
  setTimeout(() => { console.error(`run-netload: watchdog: exceeded ${Math.round(budgetMs / 1000)} s, giving up`); killAll('SIGKILL'); process.exit(2); }, budgetMs).unref();

  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  const jsonl = `${OUT}.jsonl`;
  const runId = `${new Date().toISOString()}-${process.pid}`;
  const cpus = os.cpus();
  const meta = {
    type: 'meta', runId, date: new Date().toISOString(), cpuModel: cpus[0]?.model?.trim() ?? 'unknown', cpuCount: cpus.length,
    platform: `${os.type()} ${os.release()} ${os.arch()}`, node: process.version, serverNode: SERVER_NODE, serverNodePath: NODE, pinned: PIN, pinNote,
    command: ['node', path.relative(process.cwd(), fileURLToPath(import.meta.url)) || 'run-netload.mjs', ...argv].map(shq).join(' '),
    cwd: process.cwd(), reps: REPS, duration: DURATION, warmup: WARMUP, estimate, worst, bin: BIN, shared: SHARED,
    jsonl: path.relative(REPO, jsonl).startsWith('..') ? jsonl : path.relative(REPO, jsonl),
  };
  fs.appendFileSync(jsonl, JSON.stringify(meta) + '\n');

  const t0 = Date.now();
  const recs = [];
  let i = 0;
  for (let rep = 1; rep <= REPS; rep++) {
    for (const k of rotatedForRep(list, rep)) {
      if (interrupted) return interrupted === 'SIGINT' ? 130 : 143;
      i++;
      const t1 = Date.now();
      const res = await runCase(k);
      if (interrupted) return interrupted === 'SIGINT' ? 130 : 143;
      const rec = { type: 'run', run_id: runId, server: k.server, config: k.config.name, mode: k.config.mode, rep, ts: new Date().toISOString(),
        secs: (Date.now() - t1) / 1000, ...res };
      recs.push(rec);
      fs.appendFileSync(jsonl, JSON.stringify(rec) + '\n');
      const j = res.json;
      console.error(`[${i}/${total}] ${k.server.padEnd(18)} ${k.config.name.padEnd(24)} rep ${rep}: `
        + (j ? `recv/s ${Math.round(j.recv_per_s)}${j.mode === 'bcast' ? ` (${((100 * j.recv_per_s) / j.wanted_per_s).toFixed(1)}% of wanted)` : ''}`
          + `  p50 ${us(j.lat_us.p50)} p99 ${us(j.lat_us.p99)}  err ${j.errors} lost ${j.lost} disc ${j.disconnects} cfail ${j.connect_fail}`
          + `  srv ${j.server_cpu_pct}% gen ${j.gen_cpu_pct}%`
          + (res.foreign_pct && Math.max(...res.foreign_pct) > 15 ? `  OTHER LOAD cpu0 ${res.foreign_pct[0]}% cpu1 ${res.foreign_pct[1]}%` : '')
          : res.unavailable ? `not available: ${res.error}` : `FAILED: ${res.error}`)
        + `  (${rec.secs.toFixed(1)} s)`);
      await sleep(PAUSE_S * 1000);
    }
  }
  const elapsed = (Date.now() - t0) / 1000;
  fs.appendFileSync(jsonl, JSON.stringify({ type: 'end', run_id: runId, elapsed }) + '\n');
  const md = report({ ...meta, elapsed }, recs);
  fs.writeFileSync(`${OUT}.md`, md);
  console.log(md);
  console.error(`run-netload: done in ${elapsed.toFixed(0)} s (estimated ${estimate.toFixed(0)} s); wrote ${OUT}.md and appended to ${jsonl}`);
  const bad = recs.filter((r) => r.server === 'gamewire' && badRun(r));
  if (bad.length) console.error(`run-netload: ${bad.length} gamewire run(s) had errors / lost / disconnects / connect failures -> exit 1`);
  return bad.length ? 1 : 0;
}

main().then(
  (code) => { killAll('SIGKILL'); process.exit(code); },
  (e) => { console.error('run-netload:', e instanceof Error ? e.message : e); killAll('SIGKILL'); process.exit(2); },
);
