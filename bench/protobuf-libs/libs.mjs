// bench/protobuf-libs/libs.mjs - loads the protobuf libraries under test from the scratch folder
// (PBBENCH_DIR, default /tmp/pbbench; see README.md) and wraps each one behind the same adapter:
//
//   { name, version, u64(n), make(msgName, init), encode[msg](m) -> Uint8Array,
//     encodeInto[msg](m, region) -> length written at region[0..], decode[msg](bytes) -> message }
//
// Nothing here is installed into gamewire: every import is resolved from PBBENCH_DIR.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

export const MESSAGES = ['C_MOVE', 'S_MOVE', 'C_CHAT', 'C_CHAT_UTF8', 'S_CHAT', 'S_LOGIN', 'S_ENTER_GAME'];
// C_CHAT_UTF8 is a C_CHAT whose text is Hangul (non-ASCII); every other name is its own message.
export const protoType = (msg) => (msg === 'C_CHAT_UTF8' ? 'C_CHAT' : msg);

export const LIBS = ['pbjs-reflect', 'pbjs-static', 'es'];

export function scratchDir() {
  const dir = path.resolve(process.env.PBBENCH_DIR || '/tmp/pbbench');
  if (!fs.existsSync(path.join(dir, 'node_modules'))) {
    throw new Error(`PBBENCH_DIR=${dir} has no node_modules: run bench/protobuf-libs/setup.sh ${dir} first`);
  }
  return dir;
}

function pkgVersion(dir, name) {
  return JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')).version;
}

/** Import an ESM file of the scratch folder by absolute path. */
const importFile = (file) => import(pathToFileURL(file).href);

export async function loadLib(name) {
  const dir = scratchDir();
  const require = createRequire(path.join(dir, 'package.json'));
  const wanted = new Set(MESSAGES.map(protoType));

  if (name === 'pbjs-reflect' || name === 'pbjs-static') {
    const protobuf = require('protobufjs');
    let types;
    if (name === 'pbjs-reflect') {
      // Runtime reflection: parse the .proto, Type.encode/decode are code-generated on first use.
      const root = protobuf.loadSync(path.join(dir, 'proto', 'protocol.proto'));
      types = Object.fromEntries([...wanted].map((t) => [t, root.lookupType(`protocol.${t}`)]));
    } else {
      // Static code from `pbjs -t static-module -w es6` (gen/pbjs/protocol.js).
      const { protocol } = await importFile(path.join(dir, 'gen', 'pbjs', 'protocol.js'));
      types = Object.fromEntries([...wanted].map((t) => [t, protocol[t]]));
    }
    // One reusable writer for encodeInto: its public `buf` is pointed at the caller's region, so
    // Type.encode(m, writer) writes straight into it (see README, "Encoding into an existing buffer").
    const w = protobuf.Writer.create();
    let wRegion = null;
    const encode = {}, encodeInto = {}, decode = {};
    for (const msg of MESSAGES) {
      const T = types[protoType(msg)];
      encode[msg] = (m) => T.encode(m).finish();
      encodeInto[msg] = (m, region) => {
        if (wRegion !== region) { wRegion = region; w.buf = region; w.view = null; }
        w.pos = 0;
        T.encode(m, w);
        if (w.buf !== region) {        // the region was too small: the writer grew into a new buffer
          const n = w.pos;
          w.buf = region; w.view = null;
          throw new RangeError(`message of ${n} bytes does not fit the ${region.length}-byte region`);
        }
        return w.pos;
      };
      decode[msg] = (bytes) => T.decode(bytes);
    }
    return {
      name, version: pkgVersion(dir, 'protobufjs'), protobuf, types,
      u64: (n) => n,                   // protobufjs takes number|Long for uint64 (NOT bigint, see README)
      make: (_msg, init) => init,      // plain objects, as the docs' `encode(IMessage)` allows
      encode, encodeInto, decode,
    };
  }

  if (name === 'es') {
    const pkgJson = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules/@bufbuild/protobuf/package.json'), 'utf8'));
    const esm = (sub) => path.join(dir, 'node_modules/@bufbuild/protobuf', pkgJson.exports[sub].import);
    const pb = await importFile(esm('.'));
    const wire = await importFile(esm('./wire'));
    const gen = await importFile(path.join(dir, 'gen', 'es', 'protocol_pb.js'));
    const schemas = Object.fromEntries([...wanted].map((t) => [t, gen[`${t}Schema`]]));
    const { toBinary, fromBinary, create } = pb;
    const encode = {}, encodeInto = {}, decode = {};
    for (const msg of MESSAGES) {
      const S = schemas[protoType(msg)];
      encode[msg] = (m) => toBinary(S, m);
      // No public API writes a message into a caller's buffer: encode, then copy.
      encodeInto[msg] = (m, region) => {
        const b = toBinary(S, m);
        if (b.length > region.length) throw new RangeError('message does not fit the region');
        region.set(b, 0);
        return b.length;
      };
      decode[msg] = (bytes) => fromBinary(S, bytes);
    }
    return {
      name, version: pkgVersion(dir, '@bufbuild/protobuf'), pb, wire, schemas,
      u64: (n) => BigInt(n),           // protobuf-es: uint64 is bigint by default
      make: (msg, init) => create(schemas[protoType(msg)], init),
      encode, encodeInto, decode,
    };
  }
  throw new Error(`unknown lib ${name} (known: ${LIBS.join(', ')})`);
}
