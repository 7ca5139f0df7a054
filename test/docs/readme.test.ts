import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';

const root = new URL('../../../', import.meta.url);

it('the README server is examples/echo-server.ts, which the build type-checks', () => {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const example = readFileSync(new URL('examples/echo-server.ts', root), 'utf8');
  const block = /## A server in 15 lines\s+```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README has the 15-line server block');
  assert.equal(block[1], example);
});

it("the README's entry-point table lists every entry of package.json exports, and no other", () => {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const { exports } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { exports: Record<string, unknown> };
  const entries = Object.keys(exports).filter((key) => key !== './package.json').map((key) => `gamewire${key.slice(1)}`);
  const rows = [...readme.matchAll(/^\| `(gamewire(?:\/[\w-]+)?)` \|/gm)].map((m) => m[1]);
  assert.deepEqual([...rows].sort(), [...entries].sort());
});
