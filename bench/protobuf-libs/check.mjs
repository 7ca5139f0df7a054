#!/usr/bin/env node
// bench/protobuf-libs/check.mjs - correctness side of the comparison:
//   1. the three encoders produce byte-identical output for the same fixture instances;
//   2. each library decodes the other's bytes to the same values;
//   3. a few edge values (defaults, -0, uint64 above 2^53, bigint into protobufjs);
//   4. encoding straight into a caller-provided buffer region (protobufjs writer reuse, protobufjs
//      Writer subclass with a custom static alloc, @bufbuild/protobuf BinaryWriter).
//
//   PBBENCH_DIR=/tmp/pbbench node bench/protobuf-libs/check.mjs
// Exit status 0 when every "must" check holds; the findings are printed either way.
import { LIBS, MESSAGES, loadLib, protoType } from './libs.mjs';
import { COUNT, makeInstances } from './fixtures.mjs';

const hex = (b) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
let failures = 0;
const must = (ok, what) => { console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`); if (!ok) failures++; };
const note = (what) => console.log(`note ${what}`);

const libs = Object.fromEntries(await Promise.all(LIBS.map(async (n) => [n, await loadLib(n)])));
const pbjs = libs['pbjs-reflect'], stat = libs['pbjs-static'], es = libs.es;
console.log(`protobufjs ${pbjs.version}, @bufbuild/protobuf ${es.version}, node ${process.version}\n`);

// Canonical view of a decoded message of either library: uint64 as decimal strings, enums as
// numbers, keys sorted.
const sortKeys = (v) => (Array.isArray(v) ? v.map(sortKeys) : v && typeof v === 'object'
  ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])])) : v);
const canonPbjs = (msg, m) => JSON.stringify(sortKeys(pbjs.types[protoType(msg)].toObject(m, { longs: String, enums: Number, defaults: true })));
const canonEs = (msg, m) => JSON.stringify(sortKeys(es.pb.toJson(es.schemas[protoType(msg)], m, { alwaysEmitImplicit: true, enumAsInteger: true })));

console.log('1-2. byte identity and cross-decoding on the benchmark fixtures');
for (const msg of MESSAGES) {
  const ins = Object.fromEntries(LIBS.map((l) => [l, makeInstances(libs[l], msg)]));
  let same = 0, cross = 0;
  for (let i = 0; i < COUNT; i++) {
    const b = Object.fromEntries(LIBS.map((l) => [l, libs[l].encode[msg](ins[l][i])]));
    if (hex(b['pbjs-reflect']) === hex(b['pbjs-static']) && hex(b['pbjs-static']) === hex(b.es)) same++;
    // protobufjs decodes es's bytes, es decodes protobufjs's bytes; compare canonical values.
    const a1 = canonPbjs(msg, pbjs.decode[msg](b.es)), a2 = canonEs(msg, es.decode[msg](b['pbjs-reflect']));
    const a3 = canonPbjs(msg, stat.decode[msg](b.es));
    const want = canonEs(msg, ins.es[i]);
    if (a1 === want && a2 === want && a3 === JSON.stringify(sortKeys(stat.types[protoType(msg)].toObject(ins['pbjs-static'][i], { longs: String, enums: Number, defaults: true })))) cross++;
    else if (cross === i) console.log(`     first mismatch ${msg}#${i}:\n       pbjs<-es ${a1}\n       es<-pbjs ${a2}\n       want     ${want}`);
  }
  must(same === COUNT, `${msg}: ${same}/${COUNT} instances byte-identical across pbjs-reflect, pbjs-static, es`);
  must(cross === COUNT, `${msg}: ${cross}/${COUNT} instances decode to the same values across libraries`);
}
const sample = makeInstances(es, 'S_LOGIN')[0];
console.log(`     e.g. S_LOGIN#0 = ${hex(es.encode.S_LOGIN(sample))}`);

console.log('\n3. edge values');
{
  const T = pbjs.types.S_MOVE, S = es.schemas.S_MOVE;
  const cases = [
    ['all defaults', { }, { }],
    ['yaw -0', { yaw: -0 }, { yaw: -0 }],
    ['uint64 2^64-1', { playerId: '18446744073709551615' }, { playerId: 18446744073709551615n }],
    ['position present but all-zero', { position: { x: 0, y: 0, z: 0 } }, { position: {} }],
  ];
  for (const [what, p, e] of cases) {
    const bp = hex(T.encode(p).finish()), be = hex(es.pb.toBinary(S, es.pb.create(S, e)));
    if (bp === be) console.log(`ok   S_MOVE ${what}: both ${bp || '(empty)'}`);
    else note(`S_MOVE ${what}: protobufjs ${bp || '(empty)'} vs es ${be || '(empty)'}`);
  }
  // The protobufjs API types uint64 as number|Long|string; a bigint is not supported and is
  // silently written as 0 (LongBits.from reads value.low/value.high, undefined on a bigint).
  const big = hex(T.encode({ playerId: 123456789n }).finish());
  note(`protobufjs encode({ playerId: 123456789n }) = ${big} (field 1 = 0: a bigint is silently encoded as 0; verify() says: ${T.verify({ playerId: 123456789n })})`);
  const d = pbjs.decode.S_MOVE(es.encode.S_MOVE(es.make('S_MOVE', { playerId: 1767225600000n })));
  note(`protobufjs decodes uint64 as ${d.playerId?.constructor?.name} (the 'long' package); es as ${typeof es.decode.S_MOVE(es.encode.S_MOVE(es.make('S_MOVE', { playerId: 5n }))).playerId}`);
}

console.log('\n4. encoding into a caller-provided buffer');
{
  const { protobuf } = pbjs;
  const T = pbjs.types.S_LOGIN;
  const msg = makeInstances(pbjs, 'S_LOGIN')[0];
  const want = hex(T.encode(msg).finish());
  const slab = Buffer.alloc(4096);

  // (a) reuse one writer, point its public `buf` at the region: Type.encode(m, writer) writes there.
  const w = protobuf.Writer.create();
  const region = slab.subarray(100, 100 + 1024);
  w.buf = region; w.view = null; w.pos = 0;
  T.encode(msg, w);
  must(w.buf === region && hex(slab.subarray(100, 100 + w.pos)) === want,
    `protobufjs (a) writer.buf = region; T.encode(m, writer): ${w.pos} bytes written in place at slab offset 100, no copy`);
  must(w.finish(true).buffer === slab.buffer, 'protobufjs (a) writer.finish(true) is a view of the slab (finish() without true copies)');

  // (a') region too small: the writer silently grows into a NEW buffer (constructor.alloc + copy).
  const tiny = slab.subarray(2000, 2010);
  w.buf = tiny; w.view = null; w.pos = 0;
  T.encode(msg, w);
  must(w.buf !== tiny, `protobufjs (a') a 10-byte region is outgrown: writer.buf is a new ${w.buf.length}-byte buffer, so callers must check writer.buf === region`);

  // (b) subclass with a custom static alloc: the constructor (this.constructor.alloc(128)),
  // _reserve and finish() all allocate through it.
  let next = null;
  class RegionWriter extends protobuf.BufferWriter {}
  RegionWriter.alloc = (size) => {
    if (next && size <= next.length) { const r = next; next = null; return r; }
    return Buffer.allocUnsafe(size);
  };
  next = slab.subarray(200, 200 + 1024);
  const rw = new RegionWriter();
  const got = T.encode(msg, rw);
  must(got === rw && rw.buf.buffer === slab.buffer && rw.buf.byteOffset === slab.byteOffset + 200 &&
    hex(slab.subarray(200, 200 + rw.pos)) === want,
  'protobufjs (b) subclass whose static alloc returns the region: encode writes straight into it');
  note('protobufjs (b) but finish() calls the same alloc again and copies: use finish(true) or rw.pos; and each message needs a new writer (the constructor is the only place that takes the region), so (a) is the simpler form');

  // (c) a plain Uint8Array region with BufferWriter: strings of >= 40 chars go through
  // Buffer#utf8Write, which a plain Uint8Array lacks.
  const chat = makeInstances(pbjs, 'C_CHAT').find((m) => m.msg.length >= 40);
  const w2 = protobuf.Writer.create();
  w2.buf = new Uint8Array(256); w2.pos = 0;
  let err = null;
  try { pbjs.types.C_CHAT.encode(chat, w2); } catch (e) { err = e; }
  note(`protobufjs (c) BufferWriter over a plain Uint8Array region, 40+ char string: ${err ? `throws ${err.constructor.name}: ${err.message}` : 'works'} -> use a Buffer region (Buffer#subarray) in node`);


  // @bufbuild/protobuf: toBinary() makes its own BinaryWriter and returns finish() = slice (a copy).
  const { BinaryWriter } = es.wire;
  const bw = new BinaryWriter();
  const fields = Object.getOwnPropertyNames(bw);
  note(`@bufbuild/protobuf BinaryWriter instance fields: ${fields.join(', ')} (TypeScript: all private); no toBinary(schema, msg, writer) overload, no finishInto`);
  const esMsg = makeInstances(es, 'S_LOGIN')[0];
  const b = es.pb.toBinary(es.schemas.S_LOGIN, esMsg);
  slab.set(b, 300);
  must(hex(slab.subarray(300, 300 + b.length)) === want, '@bufbuild/protobuf: only toBinary() then region.set(bytes, off), one extra allocation + copy');
}

console.log(failures ? `\n${failures} check(s) failed` : '\nall checks passed');
process.exit(failures ? 1 : 0);
