/** docs/cli.md and docs/load-testing.md list every option the `gamewire` command's help prints. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { MAIN_JS } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/protos.js';

/** Where each command's options are documented. */
const PAGES: Record<string, string> = {
  'echo-server': 'cli.md',
  'broadcast-server': 'cli.md',
  'chat-server': 'cli.md',
  'dummy-client': 'cli.md',
  'gen-packets': 'cli.md',
  loadtest: 'load-testing.md',
};

/** What `gamewire [command] --help` prints. */
function help(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [MAIN_JS, ...args, '--help'], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(new Error(`gamewire ${args.join(' ')} --help: ${error.message}\n${stderr}`));
    });
  });
}

it('lists every command of `gamewire --help`', async () => {
  const commands = [...(await help()).matchAll(/^ {2}([a-z][a-z-]+) {2,}/gm)].map((m) => m[1] ?? '');
  assert.deepEqual([...commands].sort(), Object.keys(PAGES).sort());
  const page = readFileSync(join(REPO_ROOT, 'docs', 'cli.md'), 'utf8');
  for (const command of commands) assert.ok(page.includes(`\`gamewire ${command}\``), `docs/cli.md names gamewire ${command}`);
  assert.ok(page.includes('--log-format'), 'docs/cli.md has the global --log-format');
});

it("documents every option of each command's --help on the command's page", async () => {
  const helps = await Promise.all(Object.keys(PAGES).map((command) => help(command)));
  const missing: string[] = [];
  for (const [i, [command, page]] of Object.entries(PAGES).entries()) {
    const text = readFileSync(join(REPO_ROOT, 'docs', page), 'utf8');
    const options = new Set([...(helps[i] ?? '').matchAll(/(?<![\w-])(--[a-z][a-z_-]*)/g)].map((m) => m[1] ?? ''));
    options.delete('--help');
    assert.ok(options.size > 0, `${command} --help lists options`);
    for (const option of options) {
      if (!new RegExp(`(?<![\\w-])${option}(?![\\w-])`).test(text)) missing.push(`${command} ${option} (docs/${page})`);
    }
  }
  assert.deepEqual(missing, []);
});
