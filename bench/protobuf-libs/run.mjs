#!/usr/bin/env node
// bench/protobuf-libs/run.mjs - encode/decode speed of protobufjs (reflection and static code) and
// @bufbuild/protobuf v2 (protoc-gen-es code) on the sample messages of proto/protocol.proto.
//
//   PBBENCH_DIR=/tmp/pbbench taskset -c 1 node bench/protobuf-libs/run.mjs [options]
//
//   --reps N       processes per library (default 3); the reported figure is the median of the
//                  per-process medians, and the min..max of those is shown as the spread
//   --rounds N     timed rounds per case in each process (default 5; the process reports the median)
//   --n N          ops per timed round (default 1000000)
//   --warmup N     untimed ops per case before the rounds (default 200000)
//   --libs A,B     subset of pbjs-reflect,pbjs-static,es
//   --only REGEX   cases "MSG/op" to run, e.g. 'S_LOGIN|C_MOVE/encode$'
//   --no-alloc     skip the allocation pass
//   --out FILE     raw results as JSON (default $PBBENCH_DIR/results.json)
//
// Each library runs in its own child process (`node run.mjs --child ...`, same node flags for
// all), libraries interleaved in a rotating order per rep. Children inherit the CPU affinity, so
// run the whole thing under `taskset -c 1`. Ops per case:
//   encode      Type.encode(m).finish()          | toBinary(Schema, m)      -> fresh Uint8Array
//   encodeInto  Type.encode(m, reusedWriter)     | region.set(toBinary(...)) -> bytes in a caller Buffer
//   decode      Type.decode(buf)                 | fromBinary(Schema, buf)
// The allocation pass runs one more child per library with --expose-gc and a fixed 64 MiB
// semi-space, and reads process.memoryUsage() around batches of ops that trigger no GC.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { LIBS, MESSAGES, loadLib, scratchDir } from './libs.mjs';
import { PROBES, makeInstances } from './fixtures.mjs';

const SELF = fileURLToPath(import.meta.url);
const OPS = ['encode', 'encodeInto', 'decode'];
const ALLOC_FLAGS = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'];

function parseArgs(argv) {
  const o = { reps: 3, rounds: 5, n: 1_000_000, warmup: 200_000, libs: LIBS, only: null, alloc: true, out: null,
    child: false, lib: null, mode: 'time' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = () => argv[++i];
    if (a === '--reps') o.reps = +v();
    else if (a === '--rounds') o.rounds = +v();
    else if (a === '--n') o.n = +v();
    else if (a === '--warmup') o.warmup = +v();
    else if (a === '--libs') o.libs = v().split(',');
    else if (a === '--only') o.only = v();
    else if (a === '--no-alloc') o.alloc = false;
    else if (a === '--out') o.out = v();
    else if (a === '--child') o.child = true;
    else if (a === '--lib') o.lib = v();
    else if (a === '--mode') o.mode = v();
    else { console.error(`unknown option ${a}; see the header of ${SELF}`); process.exit(2); }
  }
  return o;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const tick = () => new Promise((r) => setTimeout(r, 0));

// One loop function per case (fresh type feedback each time, so no case sees call sites made
// megamorphic by another). The sink keeps every result alive and is returned.
const makeLoop = () => new Function('fn', 'inputs', 'probe', 'n', 'region', `
  const mask = inputs.length - 1; let sink = 0;
  for (let i = 0; i < n; i++) sink = (sink + probe(fn(inputs[i & mask], region))) | 0;
  return sink;`);

function cases(lib, only) {
  const re = only ? new RegExp(only) : null;
  const out = [];
  for (const msg of MESSAGES) {
    const instances = makeInstances(lib, msg);
    // Decode input: this library's own bytes, each in a Buffer from node's pool (as a recv buffer
    // slice would be). check.mjs shows the bytes are identical across the libraries.
    const bytes = instances.map((m) => Buffer.from(lib.encode[msg](m)));
    for (const op of OPS) {
      if (re && !re.test(`${msg}/${op}`)) continue;
      const c = { msg, op, avgBytes: bytes.reduce((s, b) => s + b.length, 0) / bytes.length };
      if (op === 'encode') Object.assign(c, { fn: lib.encode[msg], inputs: instances, probe: (b) => b.length });
      else if (op === 'encodeInto') Object.assign(c, { fn: lib.encodeInto[msg], inputs: instances, probe: (n) => n });
      else Object.assign(c, { fn: lib.decode[msg], inputs: bytes, probe: PROBES[msg] });
      out.push(c);
    }
  }
  return out;
}

async function childTime(o) {
  const lib = await loadLib(o.lib);
  // The caller's send buffer: a Buffer slab, body at offset 4 after the packet header.
  const region = Buffer.allocUnsafe(64 * 1024).subarray(4);
  let gcCount = 0, gcMs = 0;
  const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) { gcCount++; gcMs += e.duration; } });
  obs.observe({ entryTypes: ['gc'] });
  const results = [];
  let sink = 0;
  // Warm every case first, so each one is timed in the steady state of a process that handles all
  // the message types (as a server does), whatever its place in the order.
  const all = cases(lib, o.only);
  for (const c of all) { c.loop = makeLoop(); sink ^= c.loop(c.fn, c.inputs, c.probe, o.warmup, region); }
  for (const c of all) {
    const loop = c.loop;
    const opsPerSec = [], gcs = [], gcTimes = [];
    for (let r = 0; r < o.rounds; r++) {
      await tick();
      const c0 = gcCount, m0 = gcMs;
      const t0 = process.hrtime.bigint();
      sink ^= loop(c.fn, c.inputs, c.probe, o.n, region);
      const t1 = process.hrtime.bigint();
      await tick(); await tick();
      opsPerSec.push(o.n / (Number(t1 - t0) / 1e9));
      gcs.push(gcCount - c0); gcTimes.push(gcMs - m0);
    }
    results.push({ lib: o.lib, version: lib.version, msg: c.msg, op: c.op, bytes: c.avgBytes,
      opsPerSec: median(opsPerSec), rounds: opsPerSec.map(Math.round),
      gcPerMop: median(gcs) * 1e6 / o.n, gcMsPerMop: median(gcTimes) * 1e6 / o.n });
  }
  obs.disconnect();
  process.stdout.write(JSON.stringify({ results, sink }) + '\n');
}

async function childAlloc(o) {
  if (typeof globalThis.gc !== 'function') throw new Error('alloc mode needs --expose-gc');
  const lib = await loadLib(o.lib);
  const region = Buffer.allocUnsafe(64 * 1024).subarray(4);
  const K = 5000, BATCHES = 7;
  let sink = 0;
  const measure = (loop, c) => {
    const heap = [], ab = [];
    for (let b = 0; b < BATCHES; b++) {
      globalThis.gc();
      const m0 = process.memoryUsage();
      sink ^= loop(c.fn, c.inputs, c.probe, K, region);
      const m1 = process.memoryUsage();
      heap.push((m1.heapUsed - m0.heapUsed) / K);
      ab.push((m1.arrayBuffers - m0.arrayBuffers) / K);
    }
    return { heap: median(heap), ab: median(ab) };
  };
  // Baseline: the same loop around a function that allocates nothing.
  const base = measure(makeLoop(), { fn: (x) => x, inputs: new Array(64).fill(1), probe: (x) => x });
  const results = [];
  const all = cases(lib, o.only);
  for (const c of all) { c.loop = makeLoop(); sink ^= c.loop(c.fn, c.inputs, c.probe, o.warmup, region); }
  for (const c of all) {
    const m = measure(c.loop, c);
    results.push({ lib: o.lib, msg: c.msg, op: c.op,
      heapBytesPerOp: Math.max(0, m.heap - base.heap), arrayBufferBytesPerOp: Math.max(0, m.ab - base.ab) });
  }
  process.stdout.write(JSON.stringify({ results, sink, base }) + '\n');
}

function runChild(lib, o, mode) {
  const args = [...(mode === 'alloc' ? ALLOC_FLAGS : []), SELF, '--child', '--lib', lib, '--mode', mode,
    '--rounds', String(o.rounds), '--n', String(o.n), '--warmup', String(o.warmup)];
  if (o.only) args.push('--only', o.only);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: process.env, maxBuffer: 64 << 20, timeout: 30 * 60e3 });
  if (r.status !== 0) throw new Error(`child ${lib}/${mode} failed (status ${r.status}, signal ${r.signal}):\n${r.stderr}`);
  process.stderr.write(`  ${mode} ${lib}: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return JSON.parse(r.stdout.trim().split('\n').pop()).results;
}

const fmtOps = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(0)} k`);
const fmtRatio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : '-');

function report(o, timed, alloc) {
  const key = (r) => `${r.lib}|${r.msg}|${r.op}`;
  const byKey = new Map();
  for (const r of timed) { if (!byKey.has(key(r))) byKey.set(key(r), []); byKey.get(key(r)).push(r); }
  const agg = (lib, msg, op) => {
    const rs = byKey.get(`${lib}|${msg}|${op}`);
    if (!rs) return null;
    const xs = rs.map((r) => r.opsPerSec);
    return { med: median(xs), min: Math.min(...xs), max: Math.max(...xs), bytes: rs[0].bytes,
      gc: median(rs.map((r) => r.gcPerMop)), gcMs: median(rs.map((r) => r.gcMsPerMop)) };
  };
  const libs = o.libs;
  const lines = [];
  const has = (l) => libs.includes(l);
  const cmp = has('es') && has('pbjs-reflect') ? ['es', 'pbjs-reflect'] : null;
  lines.push(`| message | bytes | op | ${libs.map((l) => `${l} ops/s (spread)`).join(' | ')}${cmp ? ' | es ÷ pbjs-reflect' : ''}${has('es') && has('pbjs-static') ? ' | es ÷ pbjs-static' : ''} |`);
  lines.push(`|${' --- |'.repeat(3 + libs.length + (cmp ? 1 : 0) + (has('es') && has('pbjs-static') ? 1 : 0))}`);
  for (const msg of MESSAGES) for (const op of OPS) {
    const cells = libs.map((l) => agg(l, msg, op));
    if (cells.every((c) => !c)) continue;
    const bytes = cells.find(Boolean).bytes;
    const row = [msg, bytes.toFixed(1), op, ...cells.map((c) => (c ? `${fmtOps(c.med)} (${fmtOps(c.min)}–${fmtOps(c.max)})` : '-'))];
    if (cmp) row.push(fmtRatio(agg('es', msg, op)?.med, agg('pbjs-reflect', msg, op)?.med));
    if (has('es') && has('pbjs-static')) row.push(fmtRatio(agg('es', msg, op)?.med, agg('pbjs-static', msg, op)?.med));
    lines.push(`| ${row.join(' | ')} |`);
  }
  lines.push('');
  lines.push('GC during the timed rounds (median per 1M ops: collections / ms of GC pause) and bytes allocated per op (V8 heap + ArrayBuffer backing stores):');
  lines.push('');
  lines.push(`| message | op | ${libs.map((l) => `${l} GCs/ms`).join(' | ')} | ${libs.map((l) => `${l} B/op`).join(' | ')} |`);
  lines.push(`|${' --- |'.repeat(2 + 2 * libs.length)}`);
  const allocOf = (lib, msg, op) => alloc.find((r) => r.lib === lib && r.msg === msg && r.op === op);
  for (const msg of MESSAGES) for (const op of OPS) {
    const cells = libs.map((l) => agg(l, msg, op));
    if (cells.every((c) => !c)) continue;
    const gcCells = cells.map((c) => (c ? `${c.gc.toFixed(0)} / ${c.gcMs.toFixed(1)}` : '-'));
    const allocCells = libs.map((l) => { const a = allocOf(l, msg, op); return a ? `${Math.round(a.heapBytesPerOp)} + ${Math.round(a.arrayBufferBytesPerOp)}` : '-'; });
    lines.push(`| ${msg} | ${op} | ${gcCells.join(' | ')} | ${allocCells.join(' | ')} |`);
  }
  return lines.join('\n');
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.child) return o.mode === 'alloc' ? childAlloc(o) : childTime(o);
  const dir = scratchDir();
  const out = o.out || path.join(dir, 'results.json');
  let affinity = '?';
  try { affinity = spawnSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8' }).stdout.trim(); } catch { /* no taskset */ }
  process.stderr.write(`node ${process.version}, ${affinity}, PBBENCH_DIR=${dir}\n`);
  const timed = [];
  for (let rep = 0; rep < o.reps; rep++) {
    const order = o.libs.map((_, i) => o.libs[(i + rep) % o.libs.length]);
    process.stderr.write(`rep ${rep + 1}/${o.reps}: ${order.join(', ')}\n`);
    for (const lib of order) timed.push(...runChild(lib, o, 'time').map((r) => ({ ...r, rep })));
  }
  const alloc = [];
  if (o.alloc) for (const lib of o.libs) alloc.push(...runChild(lib, o, 'alloc'));
  fs.writeFileSync(out, JSON.stringify({ node: process.version, affinity, options: o, timed, alloc }, null, 1));
  process.stderr.write(`raw results: ${out}\n`);
  process.stdout.write(report(o, timed, alloc) + '\n');
}

main().catch((e) => { console.error(e); process.exit(2); });
