// Builds the C++ client (clients/cpp) for the tests, with warnings as errors, in one or more variants:
//   release  the library, the DummyClient, the unit tests and the probe, optimized
//   asan     the same under AddressSanitizer and UndefinedBehaviorSanitizer
//   tsan     the same under ThreadSanitizer
// Each variant has its own CMake build folder under GAMEWIRE_CPP_BUILD_DIR (default: a folder of the
// system temp dir named after this checkout), configured once and then built incrementally, so a
// second run (another Node line in CI, a rerun of the tests) only checks that nothing changed.
// Prints `<variant> <folder>` per variant built; exits non-zero with CMake's output on a failure.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'clients', 'cpp');
const VARIANTS = {
  release: ['-DCMAKE_BUILD_TYPE=Release'],
  // -O1: sanitizer builds stay quick to compile and fast enough to run.
  asan: ['-DCMAKE_BUILD_TYPE=Debug', '-DCMAKE_CXX_FLAGS=-O1', '-DGAMEWIRE_SANITIZE=address,undefined'],
  tsan: ['-DCMAKE_BUILD_TYPE=Debug', '-DCMAKE_CXX_FLAGS=-O1', '-DGAMEWIRE_SANITIZE=thread'],
};

const buildRoot =
  process.env.GAMEWIRE_CPP_BUILD_DIR ??
  join(tmpdir(), `gamewire-cpp-${createHash('sha256').update(root).digest('hex').slice(0, 12)}`);

function run(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    process.stderr.write(`${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}):\n`);
    process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}\n`);
    process.exit(1);
  }
}

const wanted = process.argv.slice(2);
for (const variant of wanted) {
  if (!(variant in VARIANTS)) {
    process.stderr.write(`unknown variant ${variant}: use ${Object.keys(VARIANTS).join(', ')}\n`);
    process.exit(2);
  }
}
for (const variant of wanted) {
  const dir = join(buildRoot, variant);
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, 'CMakeCache.txt'))) {
    run('cmake', ['-S', source, '-B', dir, '-DGAMEWIRE_WERROR=ON', ...VARIANTS[variant]]);
  }
  run('cmake', ['--build', dir, '-j', String(availableParallelism())]);
  console.log(`${variant} ${dir}`);
}
