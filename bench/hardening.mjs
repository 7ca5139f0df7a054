#!/usr/bin/env node
// bench/hardening.mjs - what the hardening limits buy, measured on loopback:
//
//   1. server RSS while a Room broadcasts to 1,000 peers that never read, with the defaults
//      (maxSendQueueBytes 1 MiB) and with the cap effectively off (2 GiB: the behaviour before it);
//   2. p50/p99 round trip of 50 well-behaved echo clients, alone and beside 50 faulty peers
//      (never-reading, slowloris, garbage-and-reconnect);
//   3. how long close() takes with 1,000 busy sessions.
//
//   npm run build && node bench/hardening.mjs [--part 1|2|3] [--seconds S] [--burst K] [--peers N] [--window S]
//
//   --seconds S  part 1 broadcast time (default 25: loopback kernel buffers take 1.5-4 MB per
//                never-reading peer before anything queues in the server)
//   --burst K    part 1 packets of 64 bytes broadcast per 1 ms tick (default 256: 1,000 socket writes
//                per tick already cap the tick rate far below 1 kHz on a 2-core VM)
//   --peers N    part 1 and 3 peer count (default 1000);  --window S  part 2 window (default 5)
//
// Imports gamewire from ../dist/src/index.js (GAMEWIRE_DIST=path/to/index.js overrides it). Each
// measurement runs in a fresh node process (so RSS starts clean) with its peers in further child
// processes; every process has a hard timeout and everything is killed on exit. Plain ESM, node
// built-ins only; not compiled by tsc. See bench/README.md, section "Hardening".
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.resolve(process.env.GAMEWIRE_DIST ?? path.join(HERE, '../dist/src/index.js'));

// ------------------------------------------------------------------ options
const args = process.argv.slice(2);
function option(name, fallback) {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
}
const ROLE = option('role', 'main');
const PART = option('part', 'all');
/** Part 1 broadcast duration. Loopback kernel buffers absorb 1.5-4 MB per never-reading peer first. */
const SECONDS = Number(option('seconds', '25'));
/** Part 2 measuring window, each phase. */
const WINDOW = Number(option('window', '5'));
const PEERS = Number(option('peers', '1000'));
/** Packets of 64 bytes broadcast per 1 ms tick in part 1. */
const BURST = Number(option('burst', '256'));

// ------------------------------------------------------------------ child processes
const children = new Set();
function killChildren() {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
process.on('exit', killChildren);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killChildren();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

/** Spawns node with `argv` and an IPC channel; `onMessage` gets its messages. */
function spawnNode(argv, onMessage) {
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  child.on('message', onMessage);
  child.on('exit', () => children.delete(child));
  return child;
}

/** Waits for the first message of `child` matching `predicate` (or rejects after `ms`). */
function nextMessage(child, predicate, ms, label) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`timed out after ${ms} ms waiting for ${label}`)), ms);
    const onMessage = (message) => {
      if (predicate(message)) done(undefined, message);
    };
    const onExit = (code, signal) => done(new Error(`child exited (${code ?? signal}) before ${label}`));
    function done(error, message) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(message);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

// The peers: raw sockets in a child process (no gamewire in them). argv[1] is a JSON config.
const PEER_SOURCE = String.raw`
import net from 'node:net';
const cfg = JSON.parse(process.argv[1]);
setInterval(() => {}, 1 << 30); // paused sockets do not keep the loop alive; the parent kills us
const send = (m) => process.send(m);
function packet(id, bodyLength) {
  const b = Buffer.alloc(4 + bodyLength, 0x61);
  b.writeUInt16LE(4 + bodyLength, 0);
  b.writeUInt16LE(id, 2);
  return b;
}
function open(onConnect) {
  const s = net.connect({ host: '127.0.0.1', port: cfg.port, noDelay: true });
  s.on('error', () => {});
  if (onConnect) s.once('connect', () => onConnect(s));
  return s;
}
async function openAll(n, setup) {
  const sockets = [];
  for (let i = 0; i < n; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => new Promise((resolve) => {
      const s = open(() => resolve());
      s.once('close', resolve);
      setup(s);
      sockets.push(s);
    })));
  }
  return sockets;
}

if (cfg.mode === 'sink') {
  // Never read: pause at once.
  await openAll(cfg.n, (s) => s.pause());
  send({ type: 'ready' });
} else if (cfg.mode === 'echo') {
  // Closed loop per client, one packet every intervalMs, RTT recorded in microseconds.
  let rtts = [];
  const probe = packet(1, 32);
  await openAll(cfg.n, (s) => {
    let sentAt = 0n;
    let got = 0;
    const fire = () => { sentAt = process.hrtime.bigint(); s.write(probe); };
    s.once('connect', fire);
    s.on('data', (d) => {
      got += d.length;
      while (got >= probe.length) {
        got -= probe.length;
        rtts.push(Number(process.hrtime.bigint() - sentAt) / 1000);
        setTimeout(fire, cfg.intervalMs);
      }
    });
  });
  process.on('message', (m) => {
    if (m === 'reset') rtts = [];
    if (m === 'report') {
      const sorted = Float64Array.from(rtts).sort();
      const at = (q) => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
      send({ type: 'report', count: sorted.length, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: sorted[sorted.length - 1] ?? NaN });
    }
  });
  send({ type: 'ready' });
} else if (cfg.mode === 'faulty') {
  const counts = { neverReading: 0, slowloris: 0, garbage: 0 };
  const echoLoad = Buffer.concat(Array.from({ length: 16 }, () => packet(2, 1020)));
  const neverReading = () => open((s) => {
    counts.neverReading++;
    s.pause();
    const t = setInterval(() => s.write(echoLoad), 10);
    s.once('close', () => { clearInterval(t); setTimeout(neverReading, 10); });
  });
  const slowloris = () => open((s) => {
    counts.slowloris++;
    s.write(packet(3, 200).subarray(0, 2));
    const t = setInterval(() => s.write(Buffer.from([0x61])), 5_000);
    s.once('close', () => { clearInterval(t); setTimeout(slowloris, 10); });
  });
  const garbage = () => open((s) => {
    counts.garbage++;
    const junk = Buffer.alloc(64);
    for (let i = 0; i < junk.length; i++) junk[i] = (Math.random() * 256) | 0;
    junk[0] = 1; junk[1] = 0; // size 1: MALFORMED_HEADER
    s.write(junk);
    s.once('close', () => setImmediate(garbage));
  });
  const kinds = [neverReading, slowloris, garbage];
  for (let i = 0; i < cfg.n; i++) kinds[i % 3]();
  process.on('message', (m) => { if (m === 'report') send({ type: 'report', counts }); });
  send({ type: 'ready' });
} else if (cfg.mode === 'busy') {
  // Each socket sends a small packet every intervalMs and reads the echoes; ends when the server does.
  const probe = packet(1, 28);
  let closed = 0;
  await openAll(cfg.n, (s) => {
    const t = setInterval(() => { if (s.writable) s.write(probe); }, cfg.intervalMs);
    s.on('data', () => {});
    s.once('close', () => { clearInterval(t); closed++; });
  });
  process.on('message', (m) => { if (m === 'report') send({ type: 'report', closed }); });
  send({ type: 'ready' });
}
`;

function spawnPeers(config) {
  const child = spawnNode(['--input-type=module', '-e', PEER_SOURCE, JSON.stringify(config)], () => {});
  return child;
}

async function askReport(child) {
  const reply = nextMessage(child, (m) => m?.type === 'report', 10_000, 'a report');
  child.send('report');
  return reply;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function pollUntil(check, ms, label, detail) {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${label}${detail ? ` (${detail()})` : ''}`);
    await sleep(10);
  }
}

function tally(map, key) {
  map[key] = (map[key] ?? 0) + 1;
}

// ------------------------------------------------------------------ roles (each in its own process)
async function loadGamewire() {
  return import(pathToFileURL(DIST).href);
}

/** Part 1: broadcast to never-reading peers; RSS and queued bytes. */
async function roleRss(maxSendQueueBytes) {
  const { ServerService, Session, Room } = await loadGamewire();
  const room = new Room({ maxMembers: PEERS });
  const causes = {};
  class Member extends Session {
    onConnected() {
      room.enter(this);
    }
    onDisconnected(cause) {
      tally(causes, cause.code);
    }
  }
  const service = new ServerService({
    port: 0,
    maxSessionCount: PEERS + 10,
    backlog: 4096,
    maxSendQueueBytes,
    // "Cap off" also turns off the stall check (stallTimeoutMs), which would cut the peers too.
    ...(maxSendQueueBytes > 1024 ** 3 ? { stallTimeoutMs: 2 ** 31 - 1 } : {}),
    closeGraceMs: 1_000,
    sessionFactory: () => new Member(),
  });
  await service.start();
  const sink = spawnPeers({ mode: 'sink', port: service.port, n: PEERS });
  await nextMessage(sink, (m) => m?.type === 'ready', 30_000, 'the sink peers');
  await pollUntil(() => service.sessionCount === PEERS, 10_000, `${PEERS} sessions`, () => `live ${service.sessionCount}, accepted ${service.acceptedCount}, refused ${service.refusedCount}, causes ${JSON.stringify(causes)}`);
  const rssStart = process.memoryUsage().rss;
  let peakRss = rssStart;
  let peakQueued = 0;
  let ticks = 0;
  let queuedPackets = 0;
  const start = performance.now();
  const broadcaster = setInterval(() => {
    ticks++;
    for (let k = 0; k < BURST; k++) {
      const p = Buffer.alloc(64, 0x62);
      p.writeUInt16LE(64, 0);
      p.writeUInt16LE(7, 2);
      queuedPackets += room.broadcast(p);
    }
  }, 1);
  const timeline = [];
  const sampler = setInterval(() => {
    const rss = process.memoryUsage().rss;
    let queued = 0;
    for (const s of service.sessions) queued += s.queuedSendBytes + s.socketBufferedBytes;
    peakRss = Math.max(peakRss, rss);
    peakQueued = Math.max(peakQueued, queued);
    const second = Math.round((performance.now() - start) / 1000);
    if (second > (timeline.at(-1)?.s ?? 0)) timeline.push({ s: second, rssMiB: +(rss / 2 ** 20).toFixed(0), queuedMiB: +(queued / 2 ** 20).toFixed(1), live: service.sessionCount });
  }, 100);
  await sleep(SECONDS * 1000);
  clearInterval(broadcaster);
  clearInterval(sampler);
  const elapsed = (performance.now() - start) / 1000;
  const result = {
    maxSendQueueBytes,
    seconds: +elapsed.toFixed(1),
    peers: PEERS,
    ticksPerSecond: Math.round(ticks / elapsed),
    bytesOfferedPerPeerPerSecond: Math.round((queuedPackets * 64) / PEERS / elapsed),
    rssStartMiB: +(rssStart / 2 ** 20).toFixed(0),
    peakRssMiB: +(peakRss / 2 ** 20).toFixed(0),
    peakQueuedMiB: +(peakQueued / 2 ** 20).toFixed(1),
    rssEndMiB: +(process.memoryUsage().rss / 2 ** 20).toFixed(0),
    overflowed: causes.SEND_QUEUE_OVERFLOW ?? 0,
    stalled: causes.SEND_STALLED ?? 0,
    liveAtEnd: service.sessionCount,
    timeline,
  };
  sink.kill('SIGKILL');
  await Promise.race([service.close(), sleep(5_000)]);
  return result;
}

/** Part 2: echo round trips with and without faulty peers. */
async function roleLatency() {
  const { ServerService, EchoSession } = await loadGamewire();
  const causes = {};
  let counting = false;
  class Echo extends EchoSession {
    onDisconnected(cause) {
      if (counting) tally(causes, cause.code);
    }
  }
  const service = new ServerService({
    port: 0,
    maxSessionCount: 500,
    idleTimeoutMs: 2_000,
    disconnectTimeoutMs: 1_000,
    sessionFactory: () => new Echo(),
  });
  await service.start();
  const good = spawnPeers({ mode: 'echo', port: service.port, n: 50, intervalMs: 5 });
  await nextMessage(good, (m) => m?.type === 'ready', 20_000, 'the echo clients');
  const window = WINDOW * 1000;
  await sleep(1_000);
  good.send('reset');
  await sleep(window);
  const alone = await askReport(good);

  counting = true;
  const faulty = spawnPeers({ mode: 'faulty', port: service.port, n: 50 });
  await nextMessage(faulty, (m) => m?.type === 'ready', 20_000, 'the faulty peers');
  await sleep(1_000);
  good.send('reset');
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  await sleep(window);
  clearInterval(sampler);
  const beside = await askReport(good);
  const faults = await askReport(faulty);
  faulty.kill('SIGKILL');
  good.kill('SIGKILL');
  await Promise.race([service.close(), sleep(5_000)]);
  return {
    windowSeconds: window / 1000,
    alone,
    beside,
    faultyConnections: faults.counts,
    serverCausesWhileFaulty: causes,
    peakRssMiB: +(peakRss / 2 ** 20).toFixed(0),
  };
}

/** Part 3: close() with 1,000 busy sessions. */
async function roleClose() {
  const { ServerService, EchoSession } = await loadGamewire();
  const causes = {};
  class Echo extends EchoSession {
    onDisconnected(cause) {
      tally(causes, cause.code);
    }
  }
  const service = new ServerService({
    port: 0,
    maxSessionCount: PEERS + 10,
    backlog: 4096,
    sessionFactory: () => new Echo(),
  });
  await service.start();
  const busy = spawnPeers({ mode: 'busy', port: service.port, n: PEERS, intervalMs: 10 });
  await nextMessage(busy, (m) => m?.type === 'ready', 30_000, 'the busy peers');
  await pollUntil(() => service.sessionCount === PEERS, 10_000, `${PEERS} sessions`);
  await sleep(2_000);
  const live = service.sessionCount;
  const start = performance.now();
  await service.close();
  const closeMs = performance.now() - start;
  await sleep(200);
  const peers = await askReport(busy);
  busy.kill('SIGKILL');
  return { sessions: live, closeMs: +closeMs.toFixed(0), causes, peersClosed: peers.closed };
}

// ------------------------------------------------------------------ main
async function runRole(role, extra = [], timeoutMs = 120_000) {
  const passed = ['--seconds', String(SECONDS), '--window', String(WINDOW), '--peers', String(PEERS), '--burst', String(BURST)];
  const child = spawnNode([fileURLToPath(import.meta.url), '--role', role, ...passed, ...extra], () => {});
  const result = await nextMessage(child, (m) => m?.type === 'result', timeoutMs, `the ${role} run`);
  child.kill('SIGKILL');
  return result.value;
}

function fmtUs(us) {
  return Number.isFinite(us) ? (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(0)} µs`) : '—';
}

async function main() {
  const watchdog = setTimeout(() => {
    console.error('hardening: watchdog (10 min) fired; killing everything');
    killChildren();
    process.exit(2);
  }, 600_000);
  watchdog.unref();
  console.log(`# gamewire hardening figures`);
  console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${new Date().toISOString()}`);
  console.log(`gamewire: ${path.relative(process.cwd(), DIST)}`);

  if (PART === 'all' || PART === '1') {
    console.log(`\n## 1. Broadcast to ${PEERS} peers that never read (${BURST} × 64-byte packet per 1 ms tick, ${SECONDS} s)\n`);
    const rows = [];
    for (const [label, cap] of [['defaults (maxSendQueueBytes 1 MiB, stallTimeoutMs 2 s)', 1024 * 1024], ['cap and stall check off (2 GiB, 2^31-1 ms) = before', 2 * 1024 ** 3]]) {
      const r = await runRole('rss', ['--cap', String(cap)], (SECONDS + 90) * 1000);
      rows.push([label, r]);
    }
    console.log('| configuration | ticks/s | offered B/s per peer | RSS at start | peak RSS | RSS at end | peak queued (all sessions) | SEND_QUEUE_OVERFLOW | SEND_STALLED | live at end |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const [label, r] of rows) {
      console.log(`| ${label} | ${r.ticksPerSecond} | ${r.bytesOfferedPerPeerPerSecond} | ${r.rssStartMiB} MiB | ${r.peakRssMiB} MiB | ${r.rssEndMiB} MiB | ${r.peakQueuedMiB} MiB | ${r.overflowed} | ${r.stalled ?? 0} | ${r.liveAtEnd} |`);
    }
    console.log('\n(ticks/s and offered B/s are averages over the run: a tick costs one write per live session, so they rise once sessions are gone.)');
    for (const [label, r] of rows) {
      console.log(`\n${label}, per second: ${r.timeline.map((p) => `${p.s}s ${p.rssMiB} MiB/${p.queuedMiB} MiB q/${p.live} live`).join(' · ')}`);
    }
  }

  if (PART === 'all' || PART === '2') {
    console.log(`\n## 2. Round trip of 50 echo clients (one 36-byte packet per client every 5 ms), alone and beside 50 faulty peers\n`);
    const r = await runRole('latency', [], (2 * WINDOW + 90) * 1000);
    console.log(`server: EchoSession, defaults + idleTimeoutMs 2000; window ${r.windowSeconds} s each\n`);
    console.log('| | round trips | p50 | p99 | p99.9 | max |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const [label, x] of [['alone', r.alone], ['beside 50 faulty peers', r.beside]]) {
      console.log(`| ${label} | ${x.count} | ${fmtUs(x.p50)} | ${fmtUs(x.p99)} | ${fmtUs(x.p999)} | ${fmtUs(x.max)} |`);
    }
    const c = r.faultyConnections;
    console.log(`\nfaulty connections made (whole faulty phase): never-reading ${c.neverReading}, slowloris ${c.slowloris}, garbage ${c.garbage}`);
    console.log(`server-side causes while faulty: ${Object.entries(r.serverCausesWhileFaulty).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}; peak RSS ${r.peakRssMiB} MiB`);
  }

  if (PART === 'all' || PART === '3') {
    console.log(`\n## 3. close() with ${PEERS} busy sessions (each peer sends a 32-byte packet every 10 ms and reads the echoes)\n`);
    console.log('| run | sessions | close() took | causes | peers that saw the end |');
    console.log('| ---: | ---: | ---: | --- | ---: |');
    for (let run = 1; run <= 3; run++) {
      const r = await runRole('close', [], 90_000);
      console.log(`| ${run} | ${r.sessions} | ${r.closeMs} ms | ${Object.entries(r.causes).map(([k, v]) => `${k} ${v}`).join(', ')} | ${r.peersClosed} |`);
    }
  }
  clearTimeout(watchdog);
}

async function role() {
  const watchdog = setTimeout(() => {
    console.error(`hardening ${ROLE}: timed out`);
    killChildren();
    process.exit(2);
  }, (SECONDS + 2 * WINDOW + 80) * 1000);
  watchdog.unref();
  let value;
  if (ROLE === 'rss') value = await roleRss(Number(option('cap', String(1024 * 1024))));
  else if (ROLE === 'latency') value = await roleLatency();
  else if (ROLE === 'close') value = await roleClose();
  else throw new Error(`unknown role ${ROLE}`);
  process.send({ type: 'result', value });
  killChildren();
  setTimeout(() => process.exit(0), 100);
}

(ROLE === 'main' ? main() : role()).catch((error) => {
  console.error(error);
  killChildren();
  process.exit(2);
});
