import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { REPO_ROOT } from '../helpers/protos.js';
import { withTimeout } from '../helpers/wait.js';

const packageJson = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const bin = join(REPO_ROOT, packageJson.bin['gamewire'] ?? 'missing bin entry');

// tsc writes files without the execute bit; the build sets it again, or `npx gamewire` in this
// repository fails with "Permission denied" after every build. Windows has no execute bit.
it('the build leaves the gamewire bin executable, and it runs as a program', { skip: process.platform === 'win32' ? 'no execute bit on Windows' : false }, async () => {
  const mode = statSync(bin).mode;
  assert.equal(mode & 0o111, 0o111, `${bin} has mode ${(mode & 0o777).toString(8)}`);
  const child = spawn(bin, ['--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await withTimeout(new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) => resolve(exitCode));
  }), 'gamewire --help', 10_000);
  assert.equal(code, 0, output);
  assert.match(output, /^gamewire <command> \[options\]/);
});
