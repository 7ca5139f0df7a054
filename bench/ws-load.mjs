// WebSocket echo load generator: C connections, each keeping P packets [size u16 LE][id u16 LE][body]
// of S bytes in flight. Every message received is answered at once with one message holding as many
// packets as it carried, so the load is a closed loop like netload's TCP echo. Prints one JSON line.
//   node bench/ws-load.mjs --url ws://127.0.0.1:9100/ws -c 100 -p 16 -s 32 --warmup 1 --duration 4
import { WebSocket } from 'ws';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : fallback;
};
const url = opt('--url', 'ws://127.0.0.1:9100/ws');
const connections = Number(opt('-c', '100'));
const pipeline = Number(opt('-p', '16'));
const size = Math.max(4, Number(opt('-s', '32')));
const warmupS = Number(opt('--warmup', '1'));
const durationS = Number(opt('--duration', '4'));

const one = Buffer.alloc(size, 0x61);
one.writeUInt16LE(size, 0);
one.writeUInt16LE(1, 2);
const batches = [];
for (let k = 0; k <= Math.max(pipeline, 64); k++) batches.push(Buffer.concat(Array.from({ length: k }, () => one)));
const batchOf = (k) => batches[k] ?? Buffer.concat(Array.from({ length: k }, () => one));

let received = 0;
let errors = 0;
let measuring = false;
let open = 0;
const sockets = [];

function start(ws) {
  ws.binaryType = 'nodebuffer';
  ws.on('message', (data) => {
    // Whole packets per message: count them by the size fields and send as many back.
    let packets = 0;
    for (let at = 0; at + 4 <= data.length; at += data.readUInt16LE(at)) {
      if (data.readUInt16LE(at) < 4) break;
      packets++;
    }
    if (measuring) received += packets;
    if (ws.readyState === WebSocket.OPEN) ws.send(batchOf(packets), { binary: true, compress: false });
  });
  ws.on('error', () => errors++);
  ws.on('close', () => {
    if (measuring) errors++;
  });
  for (let i = 0; i < pipeline; i++) ws.send(one, { binary: true, compress: false });
}

await new Promise((resolve) => {
  let pending = connections;
  for (let i = 0; i < connections; i++) {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    sockets.push(ws);
    ws.once('open', () => {
      open++;
      start(ws);
      if (--pending === 0) resolve();
    });
    ws.once('error', () => {
      errors++;
      if (--pending === 0) resolve();
    });
  }
});
await new Promise((resolve) => setTimeout(resolve, warmupS * 1000));
measuring = true;
const began = performance.now();
await new Promise((resolve) => setTimeout(resolve, durationS * 1000));
measuring = false;
const seconds = (performance.now() - began) / 1000;
console.log(JSON.stringify({ url, connections, open, pipeline, size, seconds, received, msgsPerSecond: Math.round(received / seconds), errors }));
for (const ws of sockets) ws.terminate();
process.exit(0);
