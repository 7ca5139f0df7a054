#!/usr/bin/env node
// bench/fanout-flow.mjs - three fan-out scenarios (a flood, senders sharing, stuck peers) against the real CLI servers:
//
//   chat    chat-server, 19 players that read continuously and 1 that floods C_MOVE as fast as its
//           socket takes it: readers cut off, what they got, how fast the flood went through;
//   senders broadcast-server, 10 peers that all flood and all read: each one's share, per second;
//   stuck   broadcast-server, 200 peers that never read and 20 that read (10 of them flood): readers
//           cut off, stuck peers cut off (and when), server RSS.
//
//   npm run build && node bench/fanout-flow.mjs [--scenario chat|senders|stuck|all] [--seconds S]
//   GAMEWIRE_MAIN=path/to/cli/main.js node bench/fanout-flow.mjs    # another build of gamewire
//
// The server runs with its defaults (plus --max-sessions) and GAMEWIRE_LOG_LEVEL=debug, so every
// session's cause is read from its log; the peers are raw node:net sockets in one child process.
// Every child has a hard timeout and is killed on exit. Plain ESM, node built-ins only.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MAIN = path.resolve(process.env.GAMEWIRE_MAIN ?? path.join(HERE, '../dist/src/cli/main.js'));
const args = process.argv.slice(2);
function option(name, fallback) {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
}
const ROLE = option('role', 'main');
const SCENARIO = option('scenario', 'all');
const SECONDS = Number(option('seconds', '8'));
/** Readers pause this long after each read: slower than a flood, but always reading. */
const READER_PAUSE_MS = Number(option('reader-pause-ms', '20'));

const children = new Set();
function killChildren() {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
process.on('exit', killChildren);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { killChildren(); process.exit(signal === 'SIGINT' ? 130 : 143); });

// ------------------------------------------------------------------ the peers (child process)
function packet(id, body) {
  const out = Buffer.alloc(4 + body.length);
  out.writeUInt16LE(4 + body.length, 0);
  out.writeUInt16LE(id, 2);
  body.copy(out, 4);
  return out;
}

/** protobuf by hand (a few fields of the sample protocol), so the peers need nothing from gamewire. */
function pbString(field, text) {
  const bytes = Buffer.from(text);
  return Buffer.concat([Buffer.from([(field << 3) | 2, bytes.length]), bytes]);
}
function pbVarint(field, value) {
  const out = [(field << 3) | 0];
  do { let b = value & 0x7f; value >>>= 7; if (value) b |= 0x80; out.push(b); } while (value);
  return Buffer.from(out);
}
const C_LOGIN = 1000, S_LOGIN = 1001, C_ENTER_GAME = 1002, S_ENTER_GAME = 1003, C_MOVE = 1006, S_MOVE = 1007;
function cMove(seq) {
  const position = Buffer.from([0x0d, 0, 0, 0x80, 0x3f, 0x15, 0, 0, 0, 0x40, 0x1d, 0, 0, 0x40, 0x40]); // x=1 y=2 z=3
  return packet(C_MOVE, Buffer.concat([Buffer.from([0x0a, position.length]), position, Buffer.from([0x15, 0, 0, 0x80, 0x3f]), pbVarint(3, seq)]));
}

/** A peer socket that counts what it reads, per packet id, and when it closed. */
function openPeer(port, { read = true } = {}) {
  return new Promise((resolve) => {
    const net = globalThis.__net;
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    const peer = { pauseMs: 0, countOnly: false, socket, bytes: 0, written: 0, closedAt: 0, ids: new Map(), waiters: [], tail: Buffer.alloc(0), secondBytes: [] };
    if (!read) socket.pause();
    socket.on('error', () => {});
    socket.on('close', () => { peer.closedAt = performance.now(); });
    socket.on('data', (chunk) => {
      peer.bytes += chunk.length;
      if (peer.pauseMs > 0) {
        // A reader slower than the flood (a phone, a busy client): one read, then a pause.
        socket.pause();
        setTimeout(() => socket.resume(), peer.pauseMs);
      }
      if (peer.countOnly) return;
      let data = peer.tail.length === 0 ? chunk : Buffer.concat([peer.tail, chunk]);
      let at = 0;
      while (data.length - at >= 4) {
        const size = data.readUInt16LE(at);
        if (size < 4 || data.length - at < size) break;
        const id = data.readUInt16LE(at + 2);
        peer.ids.set(id, (peer.ids.get(id) ?? 0) + 1);
        at += size;
      }
      peer.tail = at === data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(at));
      for (const w of peer.waiters.splice(0)) w();
    });
    socket.once('connect', () => resolve(peer));
  });
}
async function waitFor(peer, id) {
  while ((peer.ids.get(id) ?? 0) === 0) await new Promise((resolve) => peer.waiters.push(resolve));
}
async function login(peer, name) {
  peer.socket.write(packet(C_LOGIN, Buffer.concat([pbString(1, name), pbString(2, '')])));
  await waitFor(peer, S_LOGIN);
  peer.socket.write(packet(C_ENTER_GAME, Buffer.alloc(0))); // playerIndex 0
  await waitFor(peer, S_ENTER_GAME);
}

/** Writes `chunk` over and over as fast as the socket takes it, until `end`; counts bytes per second. */
async function flood(peer, chunk, start, end) {
  const socket = peer.socket;
  while (performance.now() < end && !socket.destroyed) {
    const more = socket.write(chunk);
    peer.written += chunk.length;
    const second = Math.floor((performance.now() - start) / 1000);
    peer.secondBytes[second] = (peer.secondBytes[second] ?? 0) + chunk.length;
    if (!more) {
      await new Promise((resolve) => {
        const t = setTimeout(done, Math.max(1, end - performance.now()));
        function done() { clearTimeout(t); socket.off('drain', done); socket.off('close', done); resolve(); }
        socket.once('drain', done);
        socket.once('close', done);
      });
    } else {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

async function peersRole(cfg) {
  globalThis.__net = await import('node:net');
  const seconds = cfg.seconds;
  const report = {};
  if (cfg.scenario === 'chat' && cfg.part === 'readers') {
    // 19 players that read continuously (counting bytes only, so that they keep up).
    const readers = [];
    for (let i = 0; i < 19; i++) {
      const p = await openPeer(cfg.port);
      await login(p, `reader${i}`);
      p.countOnly = true;
      p.pauseMs = cfg.readerPauseMs;
      readers.push(p);
    }
    process.send({ type: 'ready' });
    await new Promise((resolve) => process.once('message', resolve));
    report.readersCut = readers.filter((r) => r.closedAt > 0).length;
    report.readers = readers.length;
    report.readerMB = readers.map((r) => r.bytes / 1e6);
  } else if (cfg.scenario === 'chat') {
    // The flooder, in a process of its own: C_MOVE, ~1 MB per write, as fast as its socket takes it.
    const flooder = await openPeer(cfg.port);
    await login(flooder, 'flooder');
    flooder.countOnly = true;
    const moves = Buffer.concat(Array.from({ length: 32768 }, (_, i) => cMove(i))); // ~1 MB per write, as a sendall would
    const start = performance.now();
    process.send({ type: 'start' });
    await flood(flooder, moves, start, start + seconds * 1000);
    const elapsed = (performance.now() - start) / 1000;
    report.flooderConnected = flooder.closedAt === 0;
    report.flooderWrittenMB = flooder.written / 1e6;
    report.flooderMBps = flooder.written / 1e6 / elapsed;
    report.moveSize = cMove(1).length;
    report.seconds = elapsed;
  } else if (cfg.scenario === 'senders') {
    const peers = [];
    for (let i = 0; i < 10; i++) { const p = await openPeer(cfg.port); p.countOnly = true; peers.push(p); }
    const body = Buffer.alloc(60, 0x61);
    const chunk = Buffer.concat(Array.from({ length: 1024 }, () => packet(7, body)));
    const start = performance.now();
    process.send({ type: 'start' });
    await Promise.all(peers.map((p) => flood(p, chunk, start, start + seconds * 1000)));
    const elapsed = (performance.now() - start) / 1000;
    report.seconds = elapsed;
    report.writtenMB = peers.map((p) => +(p.written / 1e6).toFixed(0));
    report.readMB = peers.map((p) => +(p.bytes / 1e6).toFixed(0));
    report.cut = peers.filter((p) => p.closedAt > 0).length;
    let zero = 0;
    for (const p of peers) for (let s = 1; s < Math.floor(elapsed); s++) if (!(p.secondBytes[s] > 0)) zero++;
    report.zeroSeconds = zero;
    report.minOverMax = Math.min(...peers.map((p) => p.written)) / Math.max(...peers.map((p) => p.written));
  } else if (cfg.scenario === 'stuck') {
    const stuck = [];
    for (let i = 0; i < 200; i++) stuck.push(await openPeer(cfg.port, { read: false }));
    const readers = [];
    for (let i = 0; i < 20; i++) { const p = await openPeer(cfg.port); p.countOnly = true; readers.push(p); }
    const body = Buffer.alloc(60, 0x62);
    const chunk = Buffer.concat(Array.from({ length: 1024 }, () => packet(7, body)));
    const start = performance.now();
    process.send({ type: 'start' });
    const timeline = [];
    const sampler = setInterval(() => timeline.push(Math.round(readers.reduce((a, r) => a + r.bytes, 0) / 20 / 1e6)), 1000);
    await Promise.all(readers.slice(0, 10).map((p) => flood(p, chunk, start, start + seconds * 1000)));
    clearInterval(sampler);
    report.timeline = timeline;
    const elapsed = (performance.now() - start) / 1000;
    report.seconds = elapsed;
    report.readersCut = readers.filter((r) => r.closedAt > 0).length;
    report.readerMBMin = Math.min(...readers.map((r) => r.bytes)) / 1e6;
    report.readerMBMax = Math.max(...readers.map((r) => r.bytes)) / 1e6;
    report.writtenMB = readers.slice(0, 10).map((p) => +(p.written / 1e6).toFixed(0));
  }
  process.send({ type: 'result', report });
  // Stays connected until the parent has read the server's last log lines and kills it.
}

// ------------------------------------------------------------------ main
function startServer(command) {
  return new Promise((resolve, reject) => {
    const server = spawn(process.execPath, [MAIN, command, '--host', '127.0.0.1', '--port', '0', '--max-sessions', '400'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, GAMEWIRE_LOG_LEVEL: 'debug' },
    });
    children.add(server);
    const log = { causes: {}, causeTimes: {}, stuckCauses: {}, stuckTimes: [], port: 0, peakRssMiB: 0, start: 0, counting: false, stuckIds: 0 };
    let buffered = '';
    server.stdout.on('data', (chunk) => {
      buffered += chunk.toString();
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let entry;
        try { entry = JSON.parse(line); } catch { continue; }
        if (entry.msg?.startsWith('listening on')) { log.port = entry.port; resolve({ server, log }); }
        if (entry.msg === 'session closed' && log.counting) {
          const at = performance.now() - log.start;
          if (entry.sessionId <= log.stuckIds) {
            // The never-reading peers connect first, so they have the lowest session ids.
            log.stuckCauses[entry.cause] = (log.stuckCauses[entry.cause] ?? 0) + 1;
            log.stuckTimes.push(at);
          } else {
            log.causes[entry.cause] = (log.causes[entry.cause] ?? 0) + 1;
            (log.causeTimes[entry.cause] ??= []).push(at);
          }
        }
      }
    });
    const rss = setInterval(() => {
      try {
        const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[1] ?? 0);
        log.peakRssMiB = Math.max(log.peakRssMiB, Math.round(kb / 1024));
      } catch { /* gone */ }
    }, 100);
    server.once('exit', (code) => { clearInterval(rss); reject(new Error(`server exited (${code})`)); });
  });
}

function spawnPeers(config) {
  const peers = spawn(process.execPath, [fileURLToPath(import.meta.url), '--role', 'peers', '--seconds', String(SECONDS), '--config', JSON.stringify(config)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(peers);
  const next = (type) => new Promise((resolve, reject) => {
    const onMessage = (m) => { if (m?.type === type) { peers.off('message', onMessage); resolve(m); } };
    peers.on('message', onMessage);
    peers.once('exit', (code) => code !== 0 && reject(new Error(`peers exited (${code})`)));
  });
  return { peers, next };
}

async function runScenario(scenario) {
  const command = scenario === 'chat' ? 'chat-server' : 'broadcast-server';
  const { server, log } = await startServer(command);
  log.stuckIds = scenario === 'stuck' ? 200 : 0;
  log.counting = true;
  const timeout = setTimeout(() => { console.error(`${scenario}: timed out`); killChildren(); process.exit(2); }, (SECONDS + 60) * 1000);
  let report;
  if (scenario === 'chat') {
    const readers = spawnPeers({ scenario, part: 'readers', port: log.port, seconds: SECONDS, readerPauseMs: READER_PAUSE_MS });
    await readers.next('ready');
    const flooder = spawnPeers({ scenario, part: 'flooder', port: log.port, seconds: SECONDS });
    flooder.next('start').then(() => { log.start = performance.now(); });
    const flood = (await flooder.next('result')).report;
    const read = readers.next('result');
    readers.peers.send('report');
    report = { ...flood, ...(await read).report };
  } else {
    const peers = spawnPeers({ scenario, port: log.port, seconds: SECONDS });
    peers.next('start').then(() => { log.start = performance.now(); });
    report = (await peers.next('result')).report;
  }
  clearTimeout(timeout);
  await new Promise((resolve) => setTimeout(resolve, 500)); // the server's last log lines
  log.counting = false;
  killChildren();
  await new Promise((resolve) => setTimeout(resolve, 200));
  return { report, causes: log.causes, causeTimes: log.causeTimes, stuckCauses: log.stuckCauses, stuckTimes: log.stuckTimes, peakRssMiB: log.peakRssMiB };
}

const fmt = (x, d = 1) => Number(x).toFixed(d);
function range(times) {
  if (!times || times.length === 0) return '';
  const s = [...times].sort((a, b) => a - b);
  return ` (${fmt(s[0] / 1000)}–${fmt(s.at(-1) / 1000)} s into the flood)`;
}

async function main() {
  console.log('# gamewire fan-out flow figures');
  console.log(`node ${process.version}, ${os.cpus().length} CPUs, ${new Date().toISOString()}; gamewire: ${path.relative(process.cwd(), MAIN)}; ${SECONDS} s per scenario, server defaults\n`);
  const causes = (c) => Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  if (SCENARIO === 'all' || SCENARIO === 'chat') {
    const { report: r, causes: c, peakRssMiB } = await runScenario('chat');
    const readMin = Math.min(...r.readerMB);
    const readMax = Math.max(...r.readerMB);
    console.log(`chat flood (chat-server, 19 readers pausing ${READER_PAUSE_MS} ms after each read + 1 C_MOVE flooder, ${fmt(r.seconds)} s): ${r.readersCut} of ${r.readers} readers cut off; ` +
      `flooder ${r.flooderConnected ? 'still connected' : 'cut off'}, held to ${fmt(r.flooderMBps)} MB/s ` +
      `(${fmt(r.flooderWrittenMB)} MB of C_MOVE taken by its socket); each reader read ${fmt(readMin)}–${fmt(readMax)} MB ` +
      `(${fmt(readMin / r.seconds)}–${fmt(readMax / r.seconds)} MB/s); server causes: ${causes(c)}; peak RSS ${peakRssMiB} MiB`);
  }
  if (SCENARIO === 'all' || SCENARIO === 'senders') {
    const { report: r, causes: c, peakRssMiB } = await runScenario('senders');
    console.log(`senders (broadcast-server, 10 peers flood and read): sent MB ${r.writtenMB.join(' / ')}; min/max ${fmt(r.minOverMax, 2)}; ` +
      `sender-seconds at 0 B/s after second 1: ${r.zeroSeconds}; read MB ${r.readMB.join(' / ')}; cut off ${r.cut}; server causes: ${causes(c)}; peak RSS ${peakRssMiB} MiB`);
  }
  if (SCENARIO === 'all' || SCENARIO === 'stuck') {
    const { report: r, causes: c, causeTimes: t, stuckCauses: sc, stuckTimes: st, peakRssMiB } = await runScenario('stuck');
    const stuckCut = Object.values(sc).reduce((a, b) => a + b, 0);
    console.log(`stuck (broadcast-server, 200 never-reading + 20 readers, 10 of them flood, ${fmt(r.seconds)} s): ${r.readersCut} of 20 readers cut off ` +
      `(server causes of readers: ${causes(c)}${range(t.SEND_QUEUE_OVERFLOW)}); ${stuckCut} of 200 stuck peers cut off (${causes(sc)}${range(st)}); ` +
      `readers read ${fmt(r.readerMBMin, 0)}–${fmt(r.readerMBMax, 0)} MB (mean MB read by second ${r.timeline.join(' ')}); senders sent MB ${r.writtenMB.join(' / ')}; peak RSS ${peakRssMiB} MiB`);
  }
}

if (ROLE === 'peers') {
  process.on('disconnect', () => process.exit(0));
  const watchdog = setTimeout(() => process.exit(2), (SECONDS + 50) * 1000);
  watchdog.unref();
  peersRole(JSON.parse(option('config', '{}'))).catch((error) => { console.error(error); process.exit(2); });
} else {
  main().then(() => { killChildren(); process.exit(0); }, (error) => { console.error(error); killChildren(); process.exit(2); });
}
