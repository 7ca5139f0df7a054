#!/usr/bin/env node
// The session hot path of two builds, A/B in one process, without sockets (so a busy machine moves
// both alike): a fake socket feeds reads of 16 packets of 32 B to 100 sessions of one class; each read
// is echoed and flushed. Rounds alternate between the builds; prints CPU ns per packet and the ratio.
// It drives internals (kAttach, flushSendQueue) of both builds, which must have them.
//
//   npm run build && node bench/session-hot-path.mjs --base OTHER/dist/src [--class PacketEchoSession]
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    head: { type: 'string', default: path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'src') },
    class: { type: 'string', default: 'EchoSession' },
  },
});
if (values.base === undefined) {
  console.error('usage: node bench/session-hot-path.mjs --base OTHER/dist/src [--head DIR] [--class EchoSession|PacketEchoSession]');
  process.exit(2);
}
const builds = { base: path.resolve(values.base), head: path.resolve(values.head) };
const SIZE = 32, DEPTH = 16, READS = 200_000, ROUNDS = 16;
class FakeSocket extends EventEmitter {
  remoteAddress = '127.0.0.1'; remotePort = 5000; writableLength = 0; destroyed = false;
  write(_b, cb) { if (cb) cb(); return true; }
  cork() {} uncork() {} pause() {} resume() {} end() {} destroy() { this.destroyed = true; }
}
const packet = Buffer.alloc(SIZE); packet.writeUInt16LE(SIZE, 0); packet.writeUInt16LE(1, 2);
const read = Buffer.concat(Array.from({ length: DEPTH }, () => packet));
const setups = {};
for (const [name, dir] of Object.entries(builds)) {
  const EchoSession = (await import(`${dir}/samples/echo-session.js`))[values.class];
  const { kAttach } = await import(`${dir}/net/session-owner.js`);
  const { silentLogger } = await import(`${dir}/core/logger.js`);
  const settings = { recvBufferSize: 65536, disconnectTimeoutMs: 5000, logger: silentLogger, sendHighWaterMark: 65536, sendLowWaterMark: 32768,
    maxSendQueueBytes: 1 << 20, pauseReadingWhenUnwritable: true, idleTimeoutMs: 0, maxBytesPerSecond: 0, maxPacketsPerSecond: 0, rateLimitAction: 'disconnect' };
  const host = { type: 'server', host: '127.0.0.1', port: 1, sessionCount: 1, maxSessionCount: 100, closing: false };
  const sockets = []; const sessions = [];
  for (let i = 0; i < 100; i++) { const s = new EchoSession(); const sock = new FakeSocket(); s[kAttach](sock, host, settings); sockets.push(sock); sessions.push(s); }
  setups[name] = { sockets, sessions };
}
function round({ sockets, sessions }) {
  const c0 = process.cpuUsage();
  for (let i = 0; i < READS; i++) {
    const k = i % 100;
    sockets[k].emit('data', read);
    sessions[k].flushSendQueue();
  }
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1000) / (READS * DEPTH);
}
const res = { base: [], head: [] };
for (let r = 0; r < ROUNDS; r++) for (const name of r % 2 ? ['head', 'base'] : ['base', 'head']) res[name].push(round(setups[name]));
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const min = (a) => Math.min(...a);
for (const n of ['base', 'head']) console.log(n, res[n].map((v) => v.toFixed(1)).join(' '), `min ${min(res[n]).toFixed(1)} median ${med(res[n]).toFixed(1)} ns/packet`);
// The minimum is the least disturbed round; the median shows how much the machine moved.
console.log(`${values.class}: head/base CPU per packet, min ${(min(res.head) / min(res.base)).toFixed(3)}, median ${(med(res.head) / med(res.base)).toFixed(3)}`);
process.exit(0);
