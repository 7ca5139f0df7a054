#!/usr/bin/env node
// What the metrics endpoint's HTTP requests do to a busy echo server, counted rather than timed (so a
// busy machine blurs it less than throughput): the server runs with --trace-deopt --trace-opt under a
// netload echo load (100 conns x 16 in flight x 64 B), and GETs are sent at fixed seconds. For each
// request it prints the round trip, and the V8 deoptimizations and recompilations (count and compile
// ms; of every isolate, the endpoint thread's included) that follow it until the next request; for the
// whole run, the CPU time of the main thread and of the other threads (V8's compiler and GC helpers,
// the endpoint thread), which on one pinned core is taken from the main thread.
//
//   npm run build && node bench/metrics-first-contact.mjs [--main F] [--base F] [--plan '/healthz@3,/metrics@6,/metrics@8']
//
// --base runs the same plan against another build afterwards (e.g. main before a change). Server
// pinned to CPU 0, netload to CPU 1 (taskset, when present); BIN = the shared kit's bin folder.
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
    main: { type: 'string', default: path.join(HERE, '..', 'dist', 'src', 'cli', 'main.js') },
    base: { type: 'string' },
    plan: { type: 'string', default: '/healthz@3,/healthz@4.5,/metrics@6,/metrics@7.5,/metrics@9' },
    shared: { type: 'string', default: path.resolve(HERE, '../../shared/bench') },
  },
});
const BIN = spawnSync(path.join(values.shared, 'build.sh'), { encoding: 'utf8' }).stdout.trim().split('\n').pop();
const TASKSET = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const pinned = (cpu, argv) => (TASKSET ? ['taskset', '-c', String(cpu), ...argv] : argv);
const PLAN = values.plan.split(',').map((step) => {
  const [p, at] = step.split('@');
  return { path: p, at: Number(at) };
});
const LAST = Math.max(...PLAN.map((s) => s.at));
// The last request's effects are counted until LAST + 1.5 s, before netload's end closes the connections
// (which deoptimizes other code).
const DURATION = Math.ceil(LAST + 3);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const freePort = () =>
  new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** CPU ms per thread of `pid`: { main, others }. */
function threadCpu(pid) {
  const cpu = { main: 0, others: 0 };
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpu[tid === String(pid) ? 'main' : 'others'] += (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms
    } catch { /* the thread ended */ }
  }
  return cpu;
}

function get(port, p) {
  const start = performance.now();
  return new Promise((resolve) => {
    http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - start));
    }).on('error', () => resolve(NaN));
  });
}

/** Deopts and compiles in trace lines [from, to). */
function summarize(lines) {
  let compiles = 0, compileMs = 0;
  const deopts = [];
  for (const line of lines) {
    const took = /took ([\d.]+), ([\d.]+), ([\d.]+) ms/.exec(line);
    if (took) { compiles++; compileMs += Number(took[1]) + Number(took[2]) + Number(took[3]); }
    const bailout = /bailout \(kind: [\w-]+, reason: ([^)]*)\).*?<JSFunction (\S*)/.exec(line);
    if (bailout) deopts.push(`${bailout[2] || '(anonymous)'} (${bailout[1]})`);
    const dependent = /marking dependent code.*?<SharedFunctionInfo ([^>]*)>/.exec(line);
    if (dependent) deopts.push(`${dependent[1] || '(anonymous)'} (code dependencies)`);
  }
  return { compiles, compileMs, deopts };
}

async function runBuild(label, main) {
  const port = await freePort(), metricsPort = await freePort();
  const trace = [];
  let partial = '';
  const argv = pinned(0, [process.execPath, '--trace-deopt', '--trace-opt', main, 'echo-server', '--port', String(port),
    '--max-sessions', '5000', '--metrics-port', String(metricsPort), '--no-stats']);
  const server = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, GAMEWIRE_LOG_FORMAT: 'json' } });
  server.stdout.on('data', (chunk) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop();
    trace.push(...parts);
  });
  for (let i = 0; !trace.some((l) => l.includes('listening on')); i++) {
    if (i > 200 || server.exitCode !== null) throw new Error(`${label}: the server did not start`);
    await sleep(50);
  }
  const loadArgv = pinned(1, [path.join(BIN, 'netload'), '--port', String(port), '--mode', 'echo', '--conns', '100', '--pipeline', '16',
    '--size', '64', '--warmup', '0', '--duration', String(DURATION), '--json']);
  const load = spawn(loadArgv[0], loadArgv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  let loadOut = '';
  load.stdout.on('data', (d) => { loadOut += d; });
  const loaded = new Promise((resolve) => load.on('close', resolve));
  const t0 = performance.now();
  const cpu0 = threadCpu(server.pid);
  const marks = [];
  for (const step of PLAN) {
    await sleep(t0 + step.at * 1000 - performance.now());
    marks.push({ ...step, line: trace.length, ms: await get(metricsPort, step.path) });
  }
  await sleep(t0 + (LAST + 1.5) * 1000 - performance.now());
  marks.push({ line: trace.length });
  const cpu1 = threadCpu(server.pid);
  const seconds = (performance.now() - t0) / 1000;
  await loaded;
  server.kill('SIGTERM');
  await new Promise((resolve) => server.on('exit', resolve));
  const result = JSON.parse(loadOut.trim().split('\n').pop());
  console.log(`\n## ${label}: ${main}`);
  console.log(`echo ${Math.round(result.recv_per_s)} msg/s over ${DURATION} s; CPU ms over the first ${seconds.toFixed(1)} s: main thread ${cpu1.main - cpu0.main}, other threads ${cpu1.others - cpu0.others}`);
  for (let i = 0; i < PLAN.length; i++) {
    const s = summarize(trace.slice(marks[i].line, marks[i + 1].line));
    console.log(`${marks[i].path} at ${marks[i].at} s: ${marks[i].ms.toFixed(1)} ms round trip; ${s.deopts.length} deopts, ` +
      `${s.compiles} recompiles (${s.compileMs.toFixed(1)} ms)${s.deopts.length ? `: ${s.deopts.join(', ')}` : ''}`);
  }
}

await runBuild('build', path.resolve(values.main));
if (values.base) await runBuild('base', path.resolve(values.base));
