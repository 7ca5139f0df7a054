#!/usr/bin/env node
// The session hot path of two builds, without sockets: SESSIONS sessions of one class, each given one
// read of DEPTH packets of SIZE bytes per event-loop turn through a stand-in socket; the library's
// own per-turn flush writes the echoes, and a write completes on the next tick as Node's does. What is
// measured is the library's JavaScript per read: no kernel, no netload, so a busy machine moves both
// builds alike. Rounds alternate between the builds in one process; prints CPU ns per packet.
//
// It drives internals (kAttach and the session settings) and works with builds from before the
// Transport redesign (kAttach(socket, host, settings)) and after it (kAttach(transport, settings)).
//
//   npm run build && node bench/session-hot-path.mjs --base OTHER/dist/src [--class PacketEchoSession]
//       [--sessions 1000] [--depth 4] [--size 64]
//
// Instructions instead of time (this VM has no hardware counters): run one build under callgrind,
//   valgrind --tool=callgrind node bench/session-hot-path.mjs --only head --rounds 2
// and divide the total by the packets it prints.
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    head: { type: 'string', default: path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'src') },
    only: { type: 'string' },
    class: { type: 'string', default: 'EchoSession' },
    sessions: { type: 'string', default: '1000' },
    depth: { type: 'string', default: '4' },
    size: { type: 'string', default: '64' },
    turns: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '12' },
  },
});
if (values.base === undefined && values.only !== 'head') {
  console.error('usage: node bench/session-hot-path.mjs --base OTHER/dist/src [--head DIR] [--only head] [--class EchoSession|PacketEchoSession]');
  process.exit(2);
}
const builds = { head: path.resolve(values.head) };
if (values.only !== 'head') builds.base = path.resolve(values.base);
const SESSIONS = Number(values.sessions), DEPTH = Number(values.depth), SIZE = Number(values.size);
const TURNS = Number(values.turns), ROUNDS = Number(values.rounds);

class FakeSocket extends EventEmitter {
  remoteAddress = '127.0.0.1'; remotePort = 5000; writableLength = 0; destroyed = false; written = 0;
  write(bytes, done) { this.written += bytes.length; if (done) process.nextTick(done); return true; }
  cork() {} uncork() {} pause() {} resume() {} end() {} destroy() { this.destroyed = true; }
  setNoDelay() {}
}

const read = Buffer.alloc(SIZE * DEPTH);
for (let p = 0; p < DEPTH; p++) { read.writeUInt16LE(SIZE, p * SIZE); read.writeUInt16LE(1, p * SIZE + 2); }

/** The first of `paths` (newest layout first) that exists under `dir`: the trees compared may predate a move. */
async function importFirst(dir, ...paths) {
  for (const file of paths) {
    try {
      return await import(`${dir}/${file}`);
    } catch (error) {
      if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    }
  }
  return {};
}

async function setup(dir) {
  const Sessions = await import(`${dir}/samples/echo-session.js`);
  const { kAttach } = await importFirst(dir, 'net/symbols.js', 'net/session-owner.js');
  const { silentLogger } = await import(`${dir}/core/logger.js`);
  // undefined before the Transport layer
  const { TcpTransport } = await importFirst(dir, 'net/transport/tcp-transport.js', 'net/tcp-transport.js');
  let defaults = {};
  try { ({ DEFAULTS: defaults } = await import(`${dir}/core/defaults.js`)); } catch { /* before one DEFAULTS object */ }
  const host = { type: 'server', host: '127.0.0.1', port: 1, sessionCount: SESSIONS, maxSessionCount: SESSIONS, closing: false };
  const settings = Object.freeze({
    host, logger: silentLogger, recvBufferSize: 65536, disconnectTimeoutMs: 5000, sendHighWaterMark: 65536, sendLowWaterMark: 32768,
    maxSendQueueBytes: 1 << 20, maxSendQueuePieces: 1024, stallTimeoutMs: 2000, readBudgetBytes: defaults.readBudgetBytes ?? 65536,
    pauseReadingWhenUnwritable: true, idleTimeoutMs: 0, maxBytesPerSecond: 0, maxPacketsPerSecond: 0, rateLimitAction: 'disconnect',
    packet: { maxPacketSize: 65535, maxPacketsPerSecond: 0, heartbeatIntervalMs: 0 },
  });
  const sockets = [];
  for (let i = 0; i < SESSIONS; i++) {
    const session = new Sessions[values.class]();
    const socket = new FakeSocket();
    if (TcpTransport !== undefined) session[kAttach](new TcpTransport(socket), settings);
    else session[kAttach](socket, host, settings);
    sockets.push(socket);
  }
  return sockets;
}

const immediate = () => new Promise((resolve) => setImmediate(resolve));
/** TURNS turns of one read per session; CPU ns per packet. Each read is a fresh buffer, as Node's are. */
async function round(sockets) {
  const c0 = process.cpuUsage();
  for (let t = 0; t < TURNS; t++) {
    for (let i = 0; i < SESSIONS; i++) sockets[i].emit('data', Buffer.from(read));
    await immediate(); // after the library's flush, registered earlier in this turn
  }
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1000) / (TURNS * SESSIONS * DEPTH);
}

const setups = {};
for (const [name, dir] of Object.entries(builds)) setups[name] = await setup(dir);
const names = Object.keys(setups);
const res = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < ROUNDS; r++) for (const name of r % 2 ? [...names].reverse() : names) res[name].push(await round(setups[name]));
for (const name of names) {
  const echoed = setups[name].reduce((sum, s) => sum + s.written, 0);
  if (echoed !== ROUNDS * TURNS * SESSIONS * DEPTH * SIZE) throw new Error(`${name} echoed ${echoed} bytes, not every packet`);
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const min = (a) => Math.min(...a);
for (const n of names) console.log(n, res[n].map((v) => v.toFixed(1)).join(' '), `min ${min(res[n]).toFixed(1)} median ${med(res[n]).toFixed(1)} ns/packet`);
console.log(`packets per build: ${ROUNDS * TURNS * SESSIONS * DEPTH}`);
// The minimum is the least disturbed round; the median shows how much the machine moved.
if (res.base) console.log(`${values.class}: head/base CPU per packet, min ${(min(res.head) / min(res.base)).toFixed(3)}, median ${(med(res.head) / med(res.base)).toFixed(3)}`);
process.exit(0);
