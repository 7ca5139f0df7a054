/** Paths of the sample protocol, and temp folders of .proto files for generator tests. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cleanup } from './wait.js';

/** The repository root: this file is compiled to dist/test/helpers/. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const PROTO_DIR = join(REPO_ROOT, 'proto');
export const COMMITTED_PACKETS = join(REPO_ROOT, 'src', 'samples', 'protocol', 'packets.ts');
/** The runtime import the committed sample was generated with. */
export const SAMPLE_RUNTIME = '../../packet/protocol-runtime.js';

/** A fresh temp dir holding `files` (name → text), removed after the test. */
export function protoDir(cleanup: Cleanup, files: Readonly<Record<string, string>>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gamewire-proto-'));
  cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** A proto3 file of package `game` with the given MsgId values and messages. */
export function proto(ids: string, messages: string, extra = ''): string {
  return `syntax = "proto3";\npackage game;\n${extra}\nenum MsgId {\n${ids}\n}\n${messages}\n`;
}
