#!/usr/bin/env node
// bench/cluster-ipc.mjs - the two ways a room could span worker processes, measured on this machine:
//   relay    a broadcast crosses to another worker as one IPC message (advanced serialization, the
//            bytes of the packet): messages/s one way, and round-trip latency
//   handoff  a session moves to the worker that owns its room: the socket handle is passed to it
//            (child.send(msg, socket)): handoffs/s, and the time from accept to the new owner having it
//
//   node bench/cluster-ipc.mjs [--messages 200000] [--size 64] [--handoffs 2000] [--cpus 0-1]
//
// Plain ESM, node built-ins only. The parent re-runs this file as the child.
import { fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const args = Object.fromEntries(process.argv.slice(2).reduce((p, a, i, all) => (a.startsWith('--') ? [...p, [a.slice(2), all[i + 1]]] : p), []));

if (process.env.CLUSTER_IPC_CHILD === '1') {
  let count = 0;
  process.on('message', (m, handle) => {
    if (m === 'sock') {
      handle.destroy();
      process.send({ t: 'got', at: performance.timeOrigin + performance.now() });
    } else if (m.t === 'ping') process.send({ t: 'pong', b: m.b });
    else if (m.t === 'bytes') { if (++count === m.n) process.send({ t: 'done' }); }
    else if (m.t === 'exit') process.disconnect();
  });
} else {
  const MESSAGES = Number(args.messages ?? 200_000);
  const SIZE = Number(args.size ?? 64);
  const HANDOFFS = Number(args.handoffs ?? 2000);
  const child = fork(fileURLToPath(import.meta.url), [], { serialization: 'advanced', env: { ...process.env, CLUSTER_IPC_CHILD: '1' } });
  const next = (t) => new Promise((resolve) => { const on = (m) => { if (m.t === t) { child.off('message', on); resolve(m); } }; child.on('message', on); });
  await new Promise((r) => setTimeout(r, 200));
  // relay: one-way throughput
  const bytes = Buffer.alloc(SIZE, 7);
  let t0 = performance.now();
  const done = next('done');
  for (let i = 0; i < MESSAGES; i++) child.send({ t: 'bytes', n: MESSAGES, b: bytes });
  await done;
  const perSec = MESSAGES / ((performance.now() - t0) / 1000);
  // relay: round trips
  const rtts = [];
  for (let i = 0; i < 2000; i++) {
    t0 = performance.now();
    const pong = next('pong');
    child.send({ t: 'ping', b: bytes });
    await pong;
    rtts.push(performance.now() - t0);
  }
  rtts.sort((a, b) => a - b);
  // handoff
  const lat = [];
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    const at = performance.timeOrigin + performance.now();
    next('got').then((m) => lat.push(m.at - at));
    child.send('sock', socket);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  t0 = performance.now();
  for (let i = 0; i < HANDOFFS; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    while (lat.length <= i) await new Promise((r) => setImmediate(r));
    s.destroy();
  }
  const handoffsPerSec = HANDOFFS / ((performance.now() - t0) / 1000);
  lat.sort((a, b) => a - b);
  server.close();
  child.send({ t: 'exit' });
  const q = (a, p) => a[Math.min(a.length - 1, Math.floor(a.length * p))].toFixed(3);
  console.log(`relay   ${SIZE} B messages one way: ${Math.round(perSec)} msgs/s; round trip p50 ${q(rtts, 0.5)} ms p99 ${q(rtts, 0.99)} ms`);
  console.log(`handoff connect+pass+ack: ${Math.round(handoffsPerSec)} /s; accept -> owner has it p50 ${q(lat, 0.5)} ms p99 ${q(lat, 0.99)} ms`);
}
