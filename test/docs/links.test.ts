/**
 * The documentation holds together: every relative link of every page resolves to a file of the
 * repository, and every `#anchor` to a heading of the page it points at.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { it } from 'node:test';
import { headings, links } from '../helpers/markdown.js';
import { REPO_ROOT } from '../helpers/protos.js';

/** The pages: the root's, docs/, bench/ and the source folders' READMEs. */
function pages(): string[] {
  const found = ['README.md', 'DEVELOPERS.md', join('bench', 'README.md'), join('bench', 'protobuf-libs', 'README.md')];
  for (const folder of ['docs', 'src', 'examples']) {
    for (const name of readdirSync(join(REPO_ROOT, folder), { recursive: true, encoding: 'utf8' })) {
      if (name.endsWith('.md')) found.push(join(folder, name));
    }
  }
  return found;
}

it('every relative link of the documentation resolves to a file, and every #anchor to a heading', () => {
  const broken: string[] = [];
  let checked = 0;
  for (const page of pages()) {
    const markdown = readFileSync(join(REPO_ROOT, page), 'utf8');
    for (const target of links(markdown)) {
      if (/^[a-z]+:/i.test(target)) continue;
      const [path = '', anchor] = target.split('#');
      const file = path === '' ? join(REPO_ROOT, page) : join(REPO_ROOT, dirname(page), path);
      checked++;
      if (!existsSync(file)) {
        broken.push(`${page} -> ${target}: no such file`);
        continue;
      }
      if (anchor === undefined || statSync(file).isDirectory() || !file.endsWith('.md')) continue;
      const anchors = headings(readFileSync(file, 'utf8')).map((h) => h.anchor);
      if (!anchors.includes(anchor)) broken.push(`${page} -> ${target}: no heading #${anchor} in ${relative(REPO_ROOT, file)}`);
    }
  }
  assert.deepEqual(broken, []);
  assert.ok(checked > 100, `only ${checked} links checked`);
});
