/**
 * `gamewire gen-packets --lang cpp`: the committed header of the sample is what it writes, its ids are
 * the TypeScript ids, the header compiles with protoc's output under -Werror and a handler missing a
 * method does not, and what C++ cannot represent is refused with the file and line.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PacketId } from '../../src/samples/protocol/packets.js';
import { runCli } from '../helpers/cli.js';
import { CPP_DIR, cppSkip } from '../helpers/cpp-client.js';
import { COMMITTED_PACKETS, protoDir, PROTO_DIR, SAMPLE_RUNTIME } from '../helpers/protos.js';
import { cleanupAfter, withTimeout, type Cleanup } from '../helpers/wait.js';

const COMMITTED_CPP = join(CPP_DIR, 'dummy-client', 'generated', 'ServerPacketHandler.h');

function tempDir(cleanup: Cleanup): string {
  const dir = mkdtempSync(join(tmpdir(), 'gamewire-gen-cpp-'));
  cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs a program to its end; resolves with its exit code and output. */
async function run(cleanup: Cleanup, command: string, args: readonly string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  cleanup.add(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await closed;
  });
  return { code: await withTimeout(closed, `${command} to finish`, 120_000), output };
}

/** Generates `ServerPacketHandler.h` for the protocol in `dir` into `out`; returns its text. */
async function generate(cleanup: Cleanup, dir: string, out: string): Promise<string> {
  const cli = runCli(cleanup, ['gen-packets', dir, '--lang', 'cpp', '--out', out]);
  assert.equal(await cli.waitForExit(10_000), 0, cli.output());
  return readFileSync(join(out, 'ServerPacketHandler.h'), 'utf8');
}

const RICH_PROTO = `syntax = "proto3";
package game.v1;
enum MsgId { ID_NONE = 0; ID_C_HELLO = 10; ID_S_STATE = 11; ID_S_BYE = 12; }
enum Color { COLOR_NONE = 0; COLOR_RED = 1; }
message Item { string name = 1; bytes blob = 2; }
message C_HELLO { int64 big = 1; repeated Color colors = 2; map<string, int32> scores = 3; Item item = 4; }
message S_STATE {
  message Inner { uint64 v = 1; }
  enum Mode { MODE_NONE = 0; }
  Inner inner = 1;
  repeated Item items = 2;
  oneof pick { string a = 3; uint32 b = 4; }
}
message S_BYE {}
`;

/** A client of the rich protocol: every S_* method defined (or, with `omit`, one left out). */
function richUse(omit: boolean): string {
  return `#include "ServerPacketHandler.h"
class Client;
class Handler final : public game::v1::ServerPacketHandler<Client> {
 protected:
  void Handle_S_STATE(Client&, const game::v1::S_STATE& pkt) override { (void)pkt.inner().v(); (void)pkt.items_size(); }
${omit ? '' : '  void Handle_S_BYE(Client&, const game::v1::S_BYE&) override {}\n'}};
class Client final : public gamewire::PacketSession {
 protected:
  void OnRecvPacket(std::uint16_t id, const std::uint8_t* body, std::size_t len) override { _handler.HandlePacket(*this, id, body, len); }
 private:
  Handler _handler;
};
static_assert(static_cast<std::uint16_t>(game::v1::PacketId::S_STATE) == 11, "the ids of enum MsgId");
gamewire::SendBuffer Hello() {
  game::v1::C_HELLO hello;
  hello.set_big(1);
  hello.add_colors(game::v1::COLOR_RED);
  (*hello.mutable_scores())["x"] = 1;
  return MakeSendBuffer(hello);  // found by argument-dependent lookup, as in the course
}
`;
}

const skip = cppSkip();

describe('gamewire gen-packets --lang cpp', () => {
  it('writes the committed ServerPacketHandler.h of the sample, with the ids of the TypeScript output', async (t) => {
    const cleanup = cleanupAfter(t);
    const out = join(tempDir(cleanup), 'generated');
    const cli = runCli(cleanup, ['gen-packets', PROTO_DIR, '--lang', 'cpp', '--out', out]);
    assert.equal(await cli.waitForExit(10_000), 0, cli.output());
    assert.match(cli.stdoutLines.join('\n'), /gen-packets: 11 packets from protocol\.proto -> .*ServerPacketHandler\.h/);
    const text = readFileSync(join(out, 'ServerPacketHandler.h'), 'utf8');
    assert.ok(text === readFileSync(COMMITTED_CPP, 'utf8'), 'differs from clients/cpp/dummy-client/generated: regenerate it');
    const cppIds = Object.fromEntries([...text.matchAll(/^ {2}([CS]_\w+) = (\d+),$/gm)].map((m) => [m[1], Number(m[2])]));
    assert.deepEqual(cppIds, { ...PacketId });
    // One pure virtual method per server packet, none for the client's own.
    const methods = [...text.matchAll(/virtual void Handle_(\w+)\(/g)].map((m) => m[1]);
    assert.deepEqual(methods, Object.keys(PacketId).filter((name) => name.startsWith('S_')));
    assert.match(text, /inline gamewire::SendBuffer MakeSendBuffer\(const C_CHAT& pkt\)/);
  });

  it('leaves the TypeScript output as it was (--lang ts is the default)', async (t) => {
    const cleanup = cleanupAfter(t);
    const out = tempDir(cleanup);
    const cli = runCli(cleanup, ['gen-packets', PROTO_DIR, '--lang', 'ts', '--out', out, '--runtime', SAMPLE_RUNTIME]);
    assert.equal(await cli.waitForExit(10_000), 0, cli.output());
    assert.ok(readFileSync(join(out, 'packets.ts'), 'utf8') === readFileSync(COMMITTED_PACKETS, 'utf8'));
  });

  it('exits 2 for an unknown --lang, or --runtime with cpp', async (t) => {
    const cleanup = cleanupAfter(t);
    const java = runCli(cleanup, ['gen-packets', PROTO_DIR, '--lang', 'java', '--out', tempDir(cleanup)]);
    const runtime = runCli(cleanup, ['gen-packets', PROTO_DIR, '--lang', 'cpp', '--runtime', 'x', '--out', tempDir(cleanup)]);
    assert.equal(await java.waitForExit(10_000), 2, java.output());
    assert.match(java.stderrLines.join('\n'), /--lang must be ts or cpp, got 'java'/);
    assert.equal(await runtime.waitForExit(10_000), 2, runtime.output());
    assert.match(runtime.stderrLines.join('\n'), /--runtime is for --lang ts only/);
  });

  const refusals: Array<[string, string, RegExp]> = [
    [
      'enum values repeated in one scope (protobufjs accepts them, C++ does not)',
      'syntax = "proto3";\npackage game;\nenum MsgId { ID_NONE = 0; ID_C_PING = 1; }\nenum Color { NONE = 0; RED = 1; }\nenum Shape {\n  NONE = 0;\n}\nmessage C_PING {}\n',
      /p\.proto:6: enum value \(of Shape\) NONE is declared twice in game for C\+\+ \(first as enum value \(of Color\) at .*p\.proto:4\); C\+\+ puts enum values beside their enum/,
    ],
    [
      'a package named after a C++ keyword',
      'syntax = "proto3";\n\npackage net.class;\nenum MsgId { ID_NONE = 0; ID_C_PING = 1; }\nmessage C_PING {}\n',
      /p\.proto:3: package net\.class: 'class' is a C\+\+ keyword/,
    ],
    [
      'a message named like what the header declares',
      'syntax = "proto3";\npackage game;\nenum MsgId { ID_NONE = 0; ID_C_PING = 1; }\nmessage C_PING {}\n// a comment: message PacketId\nmessage PacketId {}\n',
      /p\.proto:6: message PacketId takes a name the generated C\+\+ header declares in game/,
    ],
  ];
  for (const [what, text, problem] of refusals) {
    it(`refuses ${what} with the file and line, writing nothing; TypeScript takes it`, async (t) => {
      const cleanup = cleanupAfter(t);
      const dir = protoDir(cleanup, { 'p.proto': text });
      const out = join(tempDir(cleanup), 'out');
      const cli = runCli(cleanup, ['gen-packets', dir, '--lang', 'cpp', '--out', out]);
      assert.equal(await cli.waitForExit(10_000), 1, cli.output());
      assert.match(cli.stderrLines.join('\n'), problem);
      assert.throws(() => readFileSync(join(out, 'ServerPacketHandler.h')));
      const ts = runCli(cleanup, ['gen-packets', dir, '--out', out]);
      assert.equal(await ts.waitForExit(10_000), 0, ts.output());
    });
  }

  it('compiles with protoc --cpp_out output under -Werror; a handler missing a method does not', { skip, timeout: 240_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const dir = protoDir(cleanup, { 'game.proto': RICH_PROTO });
    const out = tempDir(cleanup);
    const pb = join(out, 'pb');
    mkdirSync(pb);
    await generate(cleanup, dir, out);
    const protoc = await run(cleanup, 'protoc', ['--cpp_out', pb, '-I', dir, join(dir, 'game.proto')]);
    assert.equal(protoc.code, 0, protoc.output);
    const flags = ['-std=c++17', '-fsyntax-only', '-Wall', '-Wextra', '-Wpedantic', '-Wshadow', '-Wconversion', '-Werror'];
    const includes = ['-I', out, '-I', join(CPP_DIR, 'include'), '-isystem', pb];
    writeFileSync(join(out, 'use.cpp'), richUse(false));
    writeFileSync(join(out, 'omit.cpp'), richUse(true));
    const good = await run(cleanup, 'g++', [...flags, ...includes, join(out, 'use.cpp')]);
    assert.equal(good.code, 0, good.output);
    const omitted = await run(cleanup, 'g++', [...flags, ...includes, join(out, 'omit.cpp')]);
    assert.notEqual(omitted.code, 0, 'a handler without Handle_S_BYE compiled');
    assert.match(omitted.output, /abstract/);
    assert.match(omitted.output, /Handle_S_BYE/);
  });
});
