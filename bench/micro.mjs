// Micro-benchmarks of gamewire's packet layer (run after `npm run build`):
//   node bench/micro.mjs [--rounds 5] [--only NAME]
//  - scan:        packets/s cut from one large buffer by PacketScanner vs a hand-written loop
//  - sendbuffer:  packets/s built with SendBufferManager.open/close vs Buffer.allocUnsafe per packet
//  - messages:    makeSendBuffer (encode into a SendBuffer) and decode per sample message
// Each case: warm-up, then `rounds` timed rounds; prints the median. Pin it: taskset -c 1 node bench/micro.mjs
import { parseArgs } from 'node:util';
import { PacketScanner, SendBufferManager, writePacketHeader } from '../dist/src/internals.js';
import * as P from '../dist/src/samples/protocol/packets.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, only: { type: 'string' } } });
const ROUNDS = Number(values.rounds);
let sink = 0; // keeps results alive

function measure(name, opsPerCall, fn, minMs = 300) {
  if (values.only && !name.includes(values.only)) return undefined;
  for (let i = 0; i < 20; i++) fn(); // warm-up
  const rates = [];
  for (let r = 0; r < ROUNDS; r++) {
    let calls = 0;
    const start = performance.now();
    let now = start;
    while (now - start < minMs) {
      fn();
      calls++;
      now = performance.now();
    }
    rates.push((calls * opsPerCall) / ((now - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)];
  console.log(`${name.padEnd(48)} ${Math.round(median).toLocaleString('en-US').padStart(14)} ops/s`);
  return median;
}

// --- scan: 10,000 packets of 32 bytes in one buffer
const COUNT = 10_000;
const SIZE = 32;
const stream = Buffer.alloc(COUNT * SIZE);
for (let i = 0; i < COUNT; i++) writePacketHeader(stream, i * SIZE, SIZE, 1 + (i % 7));
const scanner = new PacketScanner();
const countingSink = { onPacketBytes(_b, _o, size, id) { sink += size + id; return true; } };
const scan = measure('scan: PacketScanner.scan', COUNT, () => { sink += scanner.scan(stream, countingSink); });
const hand = measure('scan: hand-written loop', COUNT, () => {
  let off = 0;
  while (stream.length - off >= 4) {
    const size = stream.readUInt16LE(off);
    if (size < 4 || stream.length - off < size) break;
    sink += size + stream.readUInt16LE(off + 2);
    off += size;
  }
});
if (scan && hand) console.log(`  scanner / hand-written = ${(scan / hand).toFixed(2)}x`);

// --- sendbuffer: build 1,000 packets per call, small (24 B) and large (2 KB, 8 KB) ones
const manager = new SendBufferManager();
for (const size of [24, 2048, 8192]) {
  const body = Buffer.alloc(size - 4, 7);
  const pooled = measure(`sendbuffer ${size} B: SendBufferManager open/close`, 1000, () => {
    for (let i = 0; i < 1000; i++) {
      const at = manager.open(size);
      writePacketHeader(at.bytes, at.offset, size, 1);
      at.bytes.set(body, at.offset + 4);
      sink += manager.close(size).length;
    }
  });
  const plain = measure(`sendbuffer ${size} B: Buffer.allocUnsafe per packet`, 1000, () => {
    for (let i = 0; i < 1000; i++) {
      const packet = Buffer.allocUnsafe(size);
      writePacketHeader(packet, 0, size, 1);
      packet.set(body, 4);
      sink += packet.length;
    }
  });
  if (pooled && plain) console.log(`  pooled / allocUnsafe = ${(pooled / plain).toFixed(2)}x`);
}

// --- messages: encode into a SendBuffer, and decode
const samples = {
  C_MOVE: { position: { x: 12.5, y: 0, z: -3.25 }, yaw: 1.57, seq: 4711 },
  S_MOVE: { playerId: 42, position: { x: 12.5, y: 0, z: -3.25 }, yaw: 1.57, seq: 4711 },
  C_CHAT: { msg: 'Hello World, this is a chat line of ~40 chars', sentAtMs: 1795746635024.5 },
  S_CHAT: { playerId: 42, msg: 'Hello World, this is a chat line of ~40 chars', sentAtMs: 1795746635024.5 },
  S_LOGIN: {
    success: true,
    players: [1, 2, 3].map((i) => ({ id: i, name: `player-${i}`, playerType: i, position: { x: i, y: i, z: i } })),
  },
  S_ENTER_GAME: { success: true, player: { id: 7, name: 'kim', playerType: 2, position: { x: 1, y: 2, z: 3 } }, roomId: 1 },
};
for (const [name, message] of Object.entries(samples)) {
  const type = P[name];
  const packet = type.makeSendBuffer(message);
  const encodedBody = packet.subarray(4);
  measure(`messages: ${name} makeSendBuffer (${packet.length} B)`, 1000, () => {
    for (let i = 0; i < 1000; i++) sink += type.makeSendBuffer(message).length;
  });
  measure(`messages: ${name} decode`, 1000, () => {
    for (let i = 0; i < 1000; i++) sink += type.decode(encodedBody) ? 1 : 0;
  });
}
if (sink === 42) console.log('');
