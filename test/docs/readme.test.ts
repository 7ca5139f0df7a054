import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { it } from 'node:test';
import { headings, links } from '../helpers/markdown.js';

const root = new URL('../../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');

it('the README server is examples/echo-server.ts, which the build type-checks', () => {
  const example = readFileSync(new URL('examples/echo-server.ts', root), 'utf8');
  const block = /## A server in 15 lines\s+```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README has the 15-line server block');
  assert.equal(block[1], example);
  assert.ok((block[1] ?? '').trimEnd().split('\n').length <= 20, 'still a short server');
});

it('the README opens with its table of contents, which links every section in the order they come', () => {
  const sections = headings(readme).filter((h) => h.level >= 2 && h.level <= 3 && h.anchor !== 'contents');
  const contentsAt = readme.indexOf('**Contents**');
  const firstSection = readme.indexOf('\n## ');
  assert.ok(contentsAt > 0 && contentsAt < firstSection, 'the contents come before the first section');
  const contents = links(readme.slice(contentsAt, firstSection)).filter((l) => l.startsWith('#')).map((l) => l.slice(1));
  // Every section is listed, except the subsections of Installing (read with it).
  const expected = sections.filter((h) => h.anchor !== 'supported-node-versions').map((h) => h.anchor);
  assert.deepEqual(contents, expected);
});

it("the README's entry-point table lists every entry of package.json exports, and no other", () => {
  const { exports } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { exports: Record<string, unknown> };
  const entries = Object.keys(exports).filter((key) => key !== './package.json').map((key) => `gamewire${key.slice(1)}`);
  const rows = [...readme.matchAll(/^\| `(gamewire(?:\/[\w-]+)?)` \|/gm)].map((m) => m[1]);
  assert.deepEqual([...rows].sort(), [...entries].sort());
});

it('the README links every page of docs/', () => {
  const pages = readdirSync(new URL('docs/', root)).filter((name) => name.endsWith('.md'));
  const linked = new Set(links(readme).map((l) => l.split('#')[0]));
  assert.deepEqual(pages.filter((page) => !linked.has(`docs/${page}`)), []);
});
