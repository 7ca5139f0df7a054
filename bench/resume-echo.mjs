#!/usr/bin/env node
// bench/resume-echo.mjs - echo throughput with resume on vs off, in one sitting, with the same client.
//
//   npm run build && node bench/resume-echo.mjs [--reps 3] [--duration 5] [--warmup 1]
//                                               [--conns 100] [--pipeline 16] [--size 28] [--out NAME]
//
// netload cannot say HELLO, so the load client is gamewire's own load tester: `gamewire loadtest` with
// the echo bot (`--bot-option pipeline=N` packets in flight per session, a closed loop), one worker,
// with `--resume` for the "on" runs. The server is `gamewire echo-server`, with `--resume` for "on".
// Server pinned to CPU 0 and the load tester (its parent and its worker) to CPU 1 when `taskset` is
// there and the machine has 2 CPUs or more. Each rep runs both modes, their order rotated per rep.
//
// Per run: echoes per second over the measured window (the load tester's per-second points after the
// warm-up, the last partial second left out), and the server's CPU time per echo (utime + stime from
// /proc over the whole run, idle included: a ratio between modes, not an absolute cost). The client
// pays for resume too (it acknowledges what it receives and keeps what it sent), so when the client is
// the bottleneck msgs/s says less about the server than CPU per echo does: both are printed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, appendFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.join(HERE, '../dist/src/cli/main.js');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
};
const REPS = Number(option('reps', '3'));
const DURATION_S = Number(option('duration', '5'));
const WARMUP_S = Number(option('warmup', '1'));
const CONNS = Number(option('conns', '100'));
const PIPELINE = Number(option('pipeline', '16'));
const SIZE = Number(option('size', '28'));
const OUT = option('out', undefined);

const pinned = availableParallelism() >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const onCpu = (cpu, argv) => (pinned ? ['taskset', ['-c', String(cpu), ...argv]] : [argv[0], argv.slice(1)]);
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || '100');

/** utime + stime of `pid`, seconds. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function startServer(resume) {
  const [command, argv] = onCpu(0, [process.execPath, MAIN, 'echo-server', '--port', '0', '--max-sessions', String(CONNS + 100), ...(resume ? ['--resume'] : [])]);
  const server = spawn(command, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on [\d.]+:(\d+)/.exec(out);
      if (match) resolve({ server, port: Number(match[1]) });
    });
    server.once('exit', (code) => reject(new Error(`echo-server exited (${code}): ${out}`)));
  });
}

async function runOnce(resume, dir) {
  const { server, port } = await startServer(resume);
  try {
    const json = path.join(dir, `run-${resume ? 'on' : 'off'}.json`);
    const cpuBefore = cpuSeconds(server.pid);
    const [command, argv] = onCpu(1, [
      process.execPath, MAIN, 'loadtest', '--port', String(port), '--sessions', String(CONNS), '--workers', '1',
      '--interval-ms', '0', '--bot-option', `pipeline=${PIPELINE}`, '--size', String(SIZE),
      '--duration-s', String(WARMUP_S + DURATION_S), '--json', json, ...(resume ? ['--resume'] : []),
    ]);
    const load = spawnSync(command, argv, { encoding: 'utf8' });
    const cpu = cpuSeconds(server.pid) - cpuBefore;
    if (load.status !== 0) throw new Error(`loadtest exited ${load.status}:\n${load.stdout}\n${load.stderr}`);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    const window = report.series.filter((p) => p.t > WARMUP_S + 0.5 && p.durationMs >= 900 && p.t <= WARMUP_S + DURATION_S + 0.5);
    const echoes = window.reduce((sum, p) => sum + p.packetsReceived, 0);
    const seconds = window.reduce((sum, p) => sum + p.durationMs, 0) / 1000;
    const t = report.totals;
    if (t.messagesLost + t.messagesDuplicated + t.messagesOutOfOrder + t.unexpectedDisconnects > 0) {
      throw new Error(`a run with errors: ${JSON.stringify(t)}`);
    }
    return {
      msgsPerSecond: seconds > 0 ? echoes / seconds : 0,
      cpuMicrosPerEcho: t.packetsReceived > 0 ? (cpu * 1e6) / t.packetsReceived : 0,
      p99: report.latency.p99,
      echoes: t.packetsReceived,
    };
  } finally {
    server.kill('SIGKILL');
    await new Promise((resolve) => (server.exitCode !== null ? resolve() : server.once('exit', resolve)));
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const dir = mkdtempSync(path.join(tmpdir(), 'gamewire-resume-echo-'));
const runs = { off: [], on: [] };
const lines = [];
const say = (line) => {
  lines.push(line);
  console.log(line);
};
say(`# echo, resume on vs off (${new Date().toISOString()})`);
say('');
say(`Node ${process.version}; ${CONNS} sessions x pipeline ${PIPELINE}, ${SIZE + 4}-byte packets; ${REPS} reps x ${DURATION_S} s (+${WARMUP_S} s warm-up); ` +
  (pinned ? 'server on CPU 0, load tester on CPU 1.' : 'not pinned (no taskset or 1 CPU).'));
say('');
say('| rep | mode | echoes/s | server CPU us/echo | rtt p99 us |');
say('| --- | --- | --- | --- | --- |');
try {
  for (let rep = 1; rep <= REPS; rep++) {
    const order = rep % 2 === 1 ? ['off', 'on'] : ['on', 'off'];
    for (const mode of order) {
      const result = await runOnce(mode === 'on', dir);
      runs[mode].push(result);
      say(`| ${rep} | ${mode} | ${Math.round(result.msgsPerSecond)} | ${result.cpuMicrosPerEcho.toFixed(2)} | ${Math.round(result.p99)} |`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const off = median(runs.off.map((r) => r.msgsPerSecond));
const on = median(runs.on.map((r) => r.msgsPerSecond));
const offCpu = median(runs.off.map((r) => r.cpuMicrosPerEcho));
const onCpu2 = median(runs.on.map((r) => r.cpuMicrosPerEcho));
const paired = runs.on.map((r, i) => r.msgsPerSecond / runs.off[i].msgsPerSecond);
say('');
say(`Medians: off ${Math.round(off)} echoes/s, on ${Math.round(on)} echoes/s: **on/off ${(on / off).toFixed(3)}x** ` +
  `(paired per rep: ${paired.map((r) => r.toFixed(3)).join(', ')}); server CPU per echo on/off ${(onCpu2 / offCpu).toFixed(3)}x ` +
  `(${offCpu.toFixed(2)} -> ${onCpu2.toFixed(2)} us).`);
if (OUT !== undefined) {
  const file = OUT.includes('/') ? OUT : path.join(HERE, 'results', `${OUT}.md`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${lines.join('\n')}\n`);
  appendFileSync(file.replace(/\.md$/, '.jsonl'), `${JSON.stringify({ date: new Date().toISOString(), conns: CONNS, pipeline: PIPELINE, size: SIZE, runs })}\n`);
  console.log(`wrote ${file}`);
}
