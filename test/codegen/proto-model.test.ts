import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { writePacketSource } from '../../src/codegen/packet-source-writer.js';
import { loadProtoModel, PacketGenerationError, type ProtoModel } from '../../src/codegen/proto-model.js';
import { defineMessage, loadProtocolSchema } from '../../src/packet/message-type.js';
import { COMMITTED_PACKETS, proto, protoDir, PROTO_DIR, SAMPLE_RUNTIME } from '../helpers/protos.js';
import { cleanupAfter } from '../helpers/wait.js';

/** Loads `dir` expecting a PacketGenerationError; returns its problems. */
function problemsOf(dir: string): readonly string[] {
  let caught: unknown;
  try {
    loadProtoModel(dir);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof PacketGenerationError, `expected PacketGenerationError, got ${String(caught)}`);
  assert.equal(caught.code, 'GW_ERR_INVALID_OPTION');
  for (const problem of caught.problems) assert.ok(caught.message.includes(problem), 'the message lists every problem');
  return caught.problems;
}

function assertProblem(dir: string, pattern: RegExp): void {
  const problems = problemsOf(dir);
  assert.ok(
    problems.some((p) => pattern.test(p)),
    `no problem matches ${pattern}:\n  ${problems.join('\n  ')}`,
  );
}

/** Does `value` (what decode gave for an unset field) fit the generated TypeScript type `tsType`? */
function fitsType(model: ProtoModel, value: unknown, tsType: string): boolean {
  if (tsType.endsWith('[]') || tsType.startsWith('Array<')) return Array.isArray(value);
  if (tsType.startsWith('{ [key: string]')) return typeof value === 'object' && value !== null && !Array.isArray(value);
  if (tsType.endsWith(' | null')) return value === null || (typeof value === 'object' && !Array.isArray(value));
  if (model.enums.some((e) => e.tsName === tsType)) return typeof value === 'number';
  switch (tsType) {
    case 'number':
      return typeof value === 'number';
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'Uint8Array':
      return value instanceof Uint8Array;
    case 'Int64':
      return typeof value === 'number' || (typeof value === 'object' && value !== null && '__isLong__' in value);
    default:
      return false;
  }
}

/**
 * Decodes an empty body of every packet of `model` the way generated code does (defineMessage over
 * the descriptor) and returns the fields whose value does not fit their generated type.
 */
function misfitsOfEmptyDecode(model: ProtoModel): string[] {
  const schema = loadProtocolSchema(model.descriptor);
  const misfits: string[] = [];
  for (const p of model.packets) {
    const decoded = defineMessage<Record<string, unknown>, string>(schema, p.fullName, p.id, p.name).decode(new Uint8Array(0));
    for (const field of model.messages.find((m) => m.tsName === p.name)?.fields ?? []) {
      const value = decoded[field.name];
      if (!fitsType(model, value, field.tsType)) {
        misfits.push(`${p.name}.${field.name}: typed ${field.tsType}, decoded as ${Array.isArray(value) ? 'an Array' : String(value)}`);
      }
    }
  }
  return misfits;
}

const GOOD_MESSAGES = 'message C_PING { uint32 seq = 1; }\nmessage S_PONG { uint32 seq = 1; }';
const GOOD_IDS = '  ID_NONE = 0;\n  ID_C_PING = 1;\n  ID_S_PONG = 2;';

describe('loadProtoModel: the sample protocol', () => {
  it('reads the packets, their ids and directions from proto/', () => {
    const model = loadProtoModel(PROTO_DIR);
    assert.deepEqual(model.sources, ['protocol.proto']);
    assert.deepEqual(
      model.packets.map((p) => [p.name, p.id, p.direction, p.fullName]),
      [
        ['C_LOGIN', 1000, 'C', 'protocol.C_LOGIN'],
        ['S_LOGIN', 1001, 'S', 'protocol.S_LOGIN'],
        ['C_ENTER_GAME', 1002, 'C', 'protocol.C_ENTER_GAME'],
        ['S_ENTER_GAME', 1003, 'S', 'protocol.S_ENTER_GAME'],
        ['C_CHAT', 1004, 'C', 'protocol.C_CHAT'],
        ['S_CHAT', 1005, 'S', 'protocol.S_CHAT'],
        ['S_CHAT_REJECTED', 1008, 'S', 'protocol.S_CHAT_REJECTED'],
        ['C_MOVE', 1006, 'C', 'protocol.C_MOVE'],
        ['S_MOVE', 1007, 'S', 'protocol.S_MOVE'],
        ['S_SPAWN', 1009, 'S', 'protocol.S_SPAWN'],
        ['S_DESPAWN', 1010, 'S', 'protocol.S_DESPAWN'],
      ],
    );
    assert.equal(model.usesInt64, false);
  });

  it('regenerating from proto/ gives the committed src/samples/protocol/packets.ts byte for byte', () => {
    const generated = writePacketSource(loadProtoModel(PROTO_DIR), SAMPLE_RUNTIME);
    const committed = readFileSync(COMMITTED_PACKETS, 'utf8');
    assert.ok(generated === committed, 'packets.ts is stale or the generator is not reproducible: regenerate it');
  });

  it('is reproducible: two runs give identical output', () => {
    const a = writePacketSource(loadProtoModel(PROTO_DIR));
    const b = writePacketSource(loadProtoModel(PROTO_DIR));
    assert.equal(a, b);
    assert.match(a, /from 'gamewire\/protocol';/, 'the default runtime import');
  });

  it('reads every .proto of a folder in name order, and notes int64 use', (t) => {
    const dir = protoDir(cleanupAfter(t), {
      'b.proto': 'syntax = "proto3";\npackage game;\nmessage S_PONG { int64 at = 1; }\n',
      'a.proto': proto('  ID_NONE = 0;\n  ID_C_PING = 1;\n  ID_S_PONG = 2;', 'message C_PING { uint32 seq = 1; }'),
      'notes.txt': 'not a proto',
    });
    const model = loadProtoModel(dir);
    assert.deepEqual(model.sources, ['a.proto', 'b.proto']);
    assert.deepEqual(
      model.packets.map((p) => [p.name, p.id]),
      [
        ['C_PING', 1],
        ['S_PONG', 2],
      ],
    );
    assert.equal(model.usesInt64, true);
    assert.match(writePacketSource(model), /type Int64,/);
  });

  it('a protocol without a package statement keeps its names (there is no package prefix to strip)', (t) => {
    const text = `syntax = "proto3";\nenum MsgId {\n${GOOD_IDS}\n}\nenum Color { COLOR_NONE = 0; }\n${GOOD_MESSAGES}\n`;
    const model = loadProtoModel(protoDir(cleanupAfter(t), { 'p.proto': text }));
    assert.deepEqual(
      model.packets.map((p) => p.fullName),
      ['C_PING', 'S_PONG'],
    );
    assert.deepEqual(
      model.messages.map((m) => m.tsName),
      ['C_PING', 'S_PONG'],
    );
    assert.deepEqual(
      model.enums.map((e) => e.tsName),
      ['MsgId', 'Color'],
    );
    const source = writePacketSource(model);
    assert.match(source, /^export interface C_PING \{$/m);
    assert.match(source, /^export const Color = \{$/m);
  });
});

describe('loadProtoModel: generated types match what decode gives', () => {
  it('for the sample protocol', () => {
    assert.deepEqual(misfitsOfEmptyDecode(loadProtoModel(PROTO_DIR)), []);
  });

  it('for scalars, int64, enums, nested and repeated messages, maps and oneofs', (t) => {
    const messages = [
      'enum Color { COLOR_NONE = 0; COLOR_RED = 1; }',
      'message Item { string name = 1; }',
      'message C_ALL { double d = 1; float f = 2; int32 i = 3; uint32 u = 4; sint32 s = 5; fixed32 x = 6;',
      '  int64 l = 7; uint64 ul = 8; bool b = 9; string str = 10; Color color = 11; Item item = 12;',
      '  repeated Item items = 13; repeated Color colors = 14; repeated uint32 nums = 15; map<string, int32> scores = 16;',
      '  oneof pick { string a = 17; uint32 n = 18; } }',
    ].join('\n');
    const dir = protoDir(cleanupAfter(t), { 'p.proto': proto('  ID_NONE = 0;\n  ID_C_ALL = 1;', messages) });
    assert.deepEqual(misfitsOfEmptyDecode(loadProtoModel(dir)), []);
  });

  it('for an unset bytes field (typed Uint8Array)', (t) => {
    const dir = protoDir(cleanupAfter(t), { 'p.proto': proto('  ID_NONE = 0;\n  ID_C_BLOB = 1;', 'message C_BLOB { bytes blob = 1; }') });
    assert.deepEqual(misfitsOfEmptyDecode(loadProtoModel(dir)), []);
  });

  it('for an unset proto3 optional field', (t) => {
    const dir = protoDir(cleanupAfter(t), {
      'p.proto': proto('  ID_NONE = 0;\n  ID_C_OPT = 1;', 'message C_OPT { optional uint32 level = 1; optional string nick = 2; }'),
    });
    assert.deepEqual(misfitsOfEmptyDecode(loadProtoModel(dir)), []);
  });
});

describe('loadProtoModel: invalid protocols give PacketGenerationError', () => {
  it('a C_ message with no ID_ value', (t) => {
    const dir = protoDir(cleanupAfter(t), { 'p.proto': proto(GOOD_IDS, `${GOOD_MESSAGES}\nmessage C_FORGOTTEN { string a = 1; }`) });
    assertProblem(dir, /C_FORGOTTEN has no id/);
  });

  it('an S_ message with no ID_ value', (t) => {
    const dir = protoDir(cleanupAfter(t), { 'p.proto': proto(GOOD_IDS, `${GOOD_MESSAGES}\nmessage S_FORGOTTEN { }`) });
    assertProblem(dir, /S_FORGOTTEN has no id/);
  });

  it('a duplicate id (protobufjs itself refuses duplicate enum values)', (t) => {
    const dir = protoDir(cleanupAfter(t), { 'p.proto': proto('  ID_NONE = 0;\n  ID_C_PING = 1;\n  ID_S_PONG = 1;', GOOD_MESSAGES) });
    assertProblem(dir, /duplicate/i);
  });

  it('a duplicate id allowed by allow_alias is still refused by our check', (t) => {
    const ids = '  option allow_alias = true;\n  ID_NONE = 0;\n  ID_C_PING = 7;\n  ID_S_PONG = 7;';
    const dir = protoDir(cleanupAfter(t), { 'p.proto': proto(ids, GOOD_MESSAGES) });
    assertProblem(dir, /ID_S_PONG = 7: duplicate of ID_C_PING/);
  });

  for (const id of [70000, 65536, 65520, -5]) {
    it(`an id of ${id}, outside 1..65519`, (t) => {
      const dir = protoDir(cleanupAfter(t), { 'p.proto': proto(`  ID_NONE = 0;\n  ID_C_PING = ${id};\n  ID_S_PONG = 2;`, GOOD_MESSAGES) });
      assertProblem(dir, new RegExp(`ID_C_PING = ${id}: ids must be 1\\.\\.65519`));
    });
  }

  it('a message given the reserved id 0', (t) => {
    const dir = protoDir(cleanupAfter(t), { 'p.proto': proto('  ID_C_PING = 0;\n  ID_S_PONG = 2;', GOOD_MESSAGES) });
    assertProblem(dir, /ID_C_PING = 0: ids must be 1\.\.65519/);
  });

  it('an ID_ value naming no message', (t) => {
    const dir = protoDir(cleanupAfter(t), { 'p.proto': proto(`${GOOD_IDS}\n  ID_C_GHOST = 3;`, GOOD_MESSAGES) });
    assertProblem(dir, /ID_C_GHOST: no message C_GHOST/);
  });

  it('a MsgId value not named ID_<MESSAGE>', (t) => {
    const dir = protoDir(cleanupAfter(t), { 'p.proto': proto(`${GOOD_IDS}\n  PING = 3;`, GOOD_MESSAGES) });
    assertProblem(dir, /MsgId\.PING = 3/);
  });

  it('no MsgId enum at all', (t) => {
    const dir = protoDir(cleanupAfter(t), {
      'p.proto': `syntax = "proto3";\npackage game;\nenum Other { OTHER_NONE = 0; }\n${GOOD_MESSAGES}\n`,
    });
    const problems = problemsOf(dir);
    assert.ok(problems.some((p) => /no enum MsgId in package game/.test(p)), problems.join('\n'));
    // And each packet message is reported as lacking an id.
    assert.ok(problems.some((p) => /C_PING has no id/.test(p)));
    assert.ok(problems.some((p) => /S_PONG has no id/.test(p)));
  });

  it('lists every problem at once', (t) => {
    const ids = '  ID_NONE = 0;\n  ID_C_PING = 70000;\n  ID_C_GHOST = 3;';
    const dir = protoDir(cleanupAfter(t), { 'p.proto': proto(ids, GOOD_MESSAGES) });
    const problems = problemsOf(dir);
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.ok(problems.some((p) => /70000/.test(p)));
    assert.ok(problems.some((p) => /no message C_GHOST/.test(p)));
    assert.ok(problems.some((p) => /S_PONG has no id/.test(p)));
  });

  it('a packet message nested inside another message', (t) => {
    const messages = `${GOOD_MESSAGES}\nmessage Outer { message C_INNER { } }`;
    const dir = protoDir(cleanupAfter(t), { 'p.proto': proto(`${GOOD_IDS}\n  ID_C_INNER = 3;`, messages) });
    assertProblem(dir, /C_INNER: packet messages must be top-level/);
  });

  it('a syntax error, files of two packages, or no .proto file at all', (t) => {
    const cleanup = cleanupAfter(t);
    assertProblem(protoDir(cleanup, { 'p.proto': 'syntax = "proto3";\npackage game;\nmessage {' }), /./);
    const twoPackages = protoDir(cleanup, {
      'a.proto': proto(GOOD_IDS, GOOD_MESSAGES),
      'b.proto': 'syntax = "proto3";\npackage other;\nmessage X { }\n',
    });
    assertProblem(twoPackages, /one package/);
    assertProblem(protoDir(cleanup, { 'readme.txt': 'nothing here' }), /no \.proto files/);
  });
});
