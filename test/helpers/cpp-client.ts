/**
 * The C++ client (clients/cpp) for tests: whether the toolchain is here, and its build. Without g++,
 * cmake, protoc, the protobuf headers or Asio, the tests that need them print one `# SKIP` line,
 * unless GAMEWIRE_REQUIRE_CPP=1 (set by .ci/run), which makes a missing toolchain a failure.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CliProcess } from './cli.js';
import { REPO_ROOT } from './protos.js';
import { withTimeout, type Cleanup } from './wait.js';

/** The C++ client's source folder. */
export const CPP_DIR = join(REPO_ROOT, 'clients', 'cpp');

const INCLUDE_DIRS = ['/usr/include', '/usr/local/include'];

function missingTools(): string[] {
  const missing: string[] = [];
  for (const [tool, pkg] of [['g++', 'g++'], ['cmake', 'cmake'], ['make', 'make'], ['protoc', 'protobuf-compiler']] as const) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) missing.push(pkg);
  }
  const header = (path: string): boolean => INCLUDE_DIRS.some((dir) => existsSync(join(dir, path)));
  if (!header('google/protobuf/message_lite.h')) missing.push('libprotobuf-dev');
  if (!header('asio.hpp')) missing.push('libasio-dev');
  return missing;
}

const missing = missingTools();

/** Why the C++ tests skip here, or false when they run. A missing toolchain fails under GAMEWIRE_REQUIRE_CPP=1. */
export function cppSkip(): string | false {
  if (missing.length === 0) return false;
  if (process.env['GAMEWIRE_REQUIRE_CPP'] === '1') {
    throw new Error(`GAMEWIRE_REQUIRE_CPP=1 but the C++ toolchain is incomplete: apt-get install ${missing.join(' ')}`);
  }
  const why = `the C++ client's toolchain is missing (apt-get install ${missing.join(' ')}): the C++ tests are skipped`;
  console.log(`# SKIP ${why}`);
  return why;
}

/** A build variant of scripts/build-cpp.mjs. */
export type CppVariant = 'release' | 'asan' | 'tsan';

/**
 * Builds `variant` (warnings as errors) with scripts/build-cpp.mjs, or finds it up to date, and
 * resolves with its build folder. The first build of a variant takes a minute or two.
 */
export async function buildCpp(variant: CppVariant): Promise<string> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'scripts', 'build-cpp.mjs'), variant], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await withTimeout(new Promise<number | null>((resolve) => child.on('close', resolve)), `the ${variant} C++ build`, 600_000);
  const line = stdout.split('\n').find((l) => l.startsWith(`${variant} `));
  if (code !== 0 || line === undefined) throw new Error(`the ${variant} C++ build failed (exit ${code}):\n${stderr}${stdout}`);
  return line.slice(variant.length + 1);
}

/** Runs a built C++ program; `cleanup` kills it (SIGKILL) if it is still running. */
export function runCpp(cleanup: Cleanup, program: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(program, [...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const cli = new CliProcess(child);
  cleanup.add(async () => {
    if (!cli.exited) {
      child.kill('SIGKILL');
      await cli.waitForExit();
    }
  });
  return cli;
}
