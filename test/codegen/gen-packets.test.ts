import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { COMMITTED_PACKETS, proto, protoDir, PROTO_DIR, REPO_ROOT, SAMPLE_RUNTIME } from '../helpers/protos.js';
import { cleanupAfter, withTimeout, type Cleanup } from '../helpers/wait.js';

/** A fresh, empty temp dir, removed after the test. */
function tempDir(cleanup: Cleanup): string {
  const dir = mkdtempSync(join(tmpdir(), 'gamewire-gen-'));
  cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Type-checks `files` with the project's TypeScript and strict flags; resolves with exit code and output. */
async function typeCheck(cleanup: Cleanup, files: readonly string[]): Promise<{ code: number | null; output: string }> {
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const flags = ['--noEmit', '--strict', '--noUncheckedIndexedAccess', '--noImplicitReturns', '--verbatimModuleSyntax'];
  const target = ['--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck'];
  const types = ['--types', 'node', '--typeRoots', join(REPO_ROOT, 'node_modules', '@types')];
  const child = spawn(process.execPath, [tsc, ...flags, ...target, ...types, ...files], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  cleanup.add(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await closed;
  });
  return { code: await withTimeout(closed, 'tsc to finish', 60_000), output };
}

const RICH_PROTO = `syntax = "proto3";
package game.v1;
enum MsgId { ID_NONE = 0; ID_C_HELLO = 10; ID_S_STATE = 11; }
enum Color { COLOR_NONE = 0; COLOR_RED = 1; }
message Item { string name = 1; bytes blob = 2; }
message C_HELLO { int64 big = 1; repeated Color colors = 2; map<string, int32> scores = 3; Item item = 4; }
message S_STATE {
  message Inner { uint64 v = 1; }
  Inner inner = 1;
  repeated Item items = 2;
  oneof pick { string a = 3; uint32 b = 4; }
}
`;

const RICH_USE = `import { C_HELLO, Color, createClientHandlers, createServerHandlers, PacketId, S_STATE, type S_STATE_Inner } from './packets.js';
import type { PacketPeer } from './runtime.js';
export const server = createServerHandlers<PacketPeer>({
  C_HELLO: (_s, m) => void [m.big, m.colors.length, m.scores['x'], m.item?.name, m.item?.blob],
});
export const client = createClientHandlers<PacketPeer>({
  S_STATE: (_s, m) => void [m.inner?.v, m.items.map((i) => i.name), m.a.length, m.b.toFixed()],
});
const inner: S_STATE_Inner = { v: 1 };
export const bytes = [
  C_HELLO.makeSendBuffer({ big: 5, colors: [Color.COLOR_RED], scores: { x: 1 }, item: { name: 'n' } }),
  S_STATE.makeSendBuffer({ inner, items: [{ blob: new Uint8Array(2) }], b: 3 }),
];
export const id: PacketId = PacketId.S_STATE;
`;

describe('gamewire gen-packets (CLI)', () => {
  it('writes packets.ts into a new --out folder and exits 0; with the sample runtime it is the committed file', async (t) => {
    const cleanup = cleanupAfter(t);
    const out = join(tempDir(cleanup), 'nested', 'generated');
    const cli = runCli(cleanup, ['gen-packets', PROTO_DIR, '--out', out, '--runtime', SAMPLE_RUNTIME]);
    assert.equal(await cli.waitForExit(10_000), 0, cli.output());
    const target = join(out, 'packets.ts');
    assert.match(cli.stdoutLines.join('\n'), /gen-packets: 11 packets from protocol\.proto -> .*packets\.ts/);
    assert.ok(readFileSync(target, 'utf8') === readFileSync(COMMITTED_PACKETS, 'utf8'), 'differs from the committed sample');
  });

  it('imports from gamewire by default', async (t) => {
    const cleanup = cleanupAfter(t);
    const out = tempDir(cleanup);
    const cli = runCli(cleanup, ['gen-packets', PROTO_DIR, '--out', out]);
    assert.equal(await cli.waitForExit(10_000), 0, cli.output());
    const text = readFileSync(join(out, 'packets.ts'), 'utf8');
    assert.match(text, /^\} from 'gamewire\/protocol';$/m);
    assert.match(text, /export function createServerHandlers</);
  });

  it('exits 1 and prints the problem for an invalid protocol, writing nothing', async (t) => {
    const cleanup = cleanupAfter(t);
    const dir = protoDir(cleanup, {
      'p.proto': proto('  ID_NONE = 0;\n  ID_C_PING = 70000;', 'message C_PING { }\nmessage S_PONG { }'),
    });
    const out = join(tempDir(cleanup), 'out');
    const cli = runCli(cleanup, ['gen-packets', dir, '--out', out]);
    assert.equal(await cli.waitForExit(10_000), 1, cli.output());
    const stderr = cli.stderrLines.join('\n');
    assert.match(stderr, /2 problem\(s\)/);
    assert.match(stderr, /ID_C_PING = 70000: ids must be 1\.\.65519/);
    assert.match(stderr, /message S_PONG has no id/);
    assert.equal(existsSync(join(out, 'packets.ts')), false);
  });

  it('exits 1 for a proto that protobufjs cannot parse', async (t) => {
    const cleanup = cleanupAfter(t);
    const dir = protoDir(cleanup, { 'p.proto': proto('  ID_NONE = 0;\n  ID_C_PING = 1;\n  ID_C_PONG = 1;', 'message C_PING { }\nmessage C_PONG { }') });
    const cli = runCli(cleanup, ['gen-packets', dir, '--out', tempDir(cleanup)]);
    assert.equal(await cli.waitForExit(10_000), 1, cli.output());
    assert.match(cli.stderrLines.join('\n'), /duplicate/i);
  });

  it('exits 2 with the usage when --out or the proto folder is missing', async (t) => {
    const cleanup = cleanupAfter(t);
    const noOut = runCli(cleanup, ['gen-packets', PROTO_DIR]);
    const noDir = runCli(cleanup, ['gen-packets', '--out', tempDir(cleanup)]);
    assert.equal(await noOut.waitForExit(10_000), 2, noOut.output());
    assert.match(noOut.stderrLines.join('\n'), /--out is required/);
    assert.equal(await noDir.waitForExit(10_000), 2, noDir.output());
    assert.match(noDir.stderrLines.join('\n'), /proto dir/);
  });

  it('generates code that type-checks under strict TypeScript for a rich protocol', async (t) => {
    const cleanup = cleanupAfter(t);
    const dir = protoDir(cleanup, { 'game.proto': RICH_PROTO });
    const out = tempDir(cleanup);
    // The generated module imports its runtime from ./runtime.js, which re-exports gamewire's.
    const runtime = join(REPO_ROOT, 'src', 'packet', 'protocol-runtime.js');
    writeFileSync(join(out, 'runtime.ts'), `export * from ${JSON.stringify(runtime)};\n`);
    writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(out, 'use.ts'), RICH_USE);
    const cli = runCli(cleanup, ['gen-packets', dir, '--out', out, '--runtime', './runtime.js']);
    assert.equal(await cli.waitForExit(10_000), 0, cli.output());
    const result = await typeCheck(cleanup, [join(out, 'packets.ts'), join(out, 'use.ts')]);
    assert.equal(result.code, 0, result.output);
  });

  it('exits 1 naming the folder when the proto folder does not exist', async (t) => {
    const cleanup = cleanupAfter(t);
    const missing = join(tempDir(cleanup), 'no-such-dir');
    const cli = runCli(cleanup, ['gen-packets', missing, '--out', tempDir(cleanup)]);
    assert.equal(await cli.waitForExit(10_000), 1, cli.output());
    assert.match(cli.stderrLines.join('\n'), /no-such-dir/);
  });

  it('--help states the id range the code enforces', async (t) => {
    const cli = runCli(cleanupAfter(t), ['gen-packets', '--help']);
    assert.equal(await cli.waitForExit(10_000), 0, cli.output());
    assert.match(cli.stdoutLines.join('\n'), /1\.\.65519, unique/);
    assert.doesNotMatch(cli.stdoutLines.join('\n'), /1\.\.65535/);
  });

  it('takes one .proto file as well as a folder', async (t) => {
    const cleanup = cleanupAfter(t);
    const out = tempDir(cleanup);
    const cli = runCli(cleanup, ['gen-packets', join(PROTO_DIR, 'protocol.proto'), '--out', out]);
    assert.equal(await cli.waitForExit(10_000), 0, cli.output());
    assert.match(cli.stdoutLines.join('\n'), /gen-packets: 11 packets from protocol\.proto/);
    assert.equal(existsSync(join(out, 'packets.ts')), true);
  });

  it('names the file and the line of a syntax error, and says what to do', async (t) => {
    const cleanup = cleanupAfter(t);
    const dir = protoDir(cleanup, { 'broken.proto': 'syntax = "proto3";\nmessage C_X { int32 a = 1 }\n' });
    const cli = runCli(cleanup, ['gen-packets', dir, '--out', tempDir(cleanup)]);
    assert.equal(await cli.waitForExit(10_000), 1, cli.output());
    const stderr = cli.stderrLines.join('\n');
    assert.match(stderr, /broken\.proto: .*line 2/);
    assert.match(stderr, /fix the \.proto/);
  });
});
