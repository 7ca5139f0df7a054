/**
 * The C++ client under AddressSanitizer + UndefinedBehaviorSanitizer and under ThreadSanitizer: its
 * unit tests (4 Dispatch threads, sends from hooks and from a game thread, misbehaving peers) and the
 * DummyClient with several Dispatch threads against the real chat-server. A sanitizer report, a leak
 * or a non-zero exit fails the test. Needs the C++ toolchain (skips with a line, or fails under
 * GAMEWIRE_REQUIRE_CPP=1).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { buildCpp, cppSkip, runCpp, type CppVariant } from '../helpers/cpp-client.js';
import { cleanupAfter } from '../helpers/wait.js';

const skip = cppSkip();
const REPORT = /ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|WARNING: ThreadSanitizer|ThreadSanitizer: reported/;

const SANITIZER_ENV: Record<Exclude<CppVariant, 'release'>, NodeJS.ProcessEnv> = {
  asan: {
    ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1',
    UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
  },
  tsan: { TSAN_OPTIONS: 'halt_on_error=1:second_deadlock_stack=1' },
};

for (const variant of ['asan', 'tsan'] as const) {
  const name = variant === 'asan' ? 'AddressSanitizer + UndefinedBehaviorSanitizer' : 'ThreadSanitizer';
  describe(`the C++ client under ${name}`, { skip, timeout: 900_000 }, () => {
    let built: Promise<string> | undefined;
    const build = (): Promise<string> => (built ??= buildCpp(variant));
    const env = SANITIZER_ENV[variant];

    it('its unit tests run clean', async (t) => {
      const cleanup = cleanupAfter(t);
      const tests = runCpp(cleanup, join(await build(), 'gamewire-unit-tests'), [], env);
      const code = await tests.waitForExit(300_000);
      assert.doesNotMatch(tests.stderrLines.join('\n'), REPORT, tests.output());
      assert.equal(code, 0, tests.output());
      assert.match(tests.stdoutLines.join('\n'), /^PASS: 0 failed$/m);
    });

    it('the DummyClient, 4 Dispatch threads, 40 sessions chatting and moving against chat-server, runs clean', async (t) => {
      const cleanup = cleanupAfter(t);
      const dir = await build();
      const server = runCli(cleanup, ['chat-server', '--port', '0']);
      const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(await server.waitForLine(/listening on 127\.0\.0\.1:\d+/, 15_000))?.[1]);
      const run = runCpp(cleanup, join(dir, 'gamewire-dummy-client'), [
        '--port', String(port), '--sessions', '40', '--threads', '4', '--interval-ms', '50', '--duration-s', '3', '--move', '--json',
      ], env);
      const code = await run.waitForExit(120_000);
      assert.doesNotMatch(run.stderrLines.join('\n'), REPORT, run.output());
      assert.equal(code, 0, run.output());
      const summary = JSON.parse((run.stdoutLines.find((l) => l.startsWith('summary ')) as string).slice(8)) as { roundTrips: number; errors: number };
      assert.equal(summary.errors, 0);
      assert.ok(summary.roundTrips > 40 * 10, `${summary.roundTrips} round trips`);
      server.child.kill('SIGTERM');
      assert.equal(await server.waitForExit(15_000), 0, server.output());
    });
  });
}
