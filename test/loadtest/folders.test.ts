/**
 * The load tester's folders import one way: bots ← harness ← report (each folder's README.md), and
 * report/ only the harness's types, so a bot never depends on how it is run or shown.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { REPO_ROOT } from '../helpers/protos.js';

const LOADTEST = join(REPO_ROOT, 'src', 'loadtest');

/** `[importing file, imported folder, type-only]` for every import of a sibling folder. */
function siblingImports(folder: string): Array<[string, string, boolean]> {
  const found: Array<[string, string, boolean]> = [];
  for (const file of readdirSync(join(LOADTEST, folder)).filter((name) => name.endsWith('.ts'))) {
    const source = readFileSync(join(LOADTEST, folder, file), 'utf8');
    for (const match of source.matchAll(/^(?:import|export)(\s+type)?\s[^;]*?from '\.\.\/(\w+)\//gm)) {
      found.push([`${folder}/${file}`, match[2] ?? '', match[1] !== undefined]);
    }
  }
  return found;
}

it('bots/ imports nothing of harness/ or report/', () => {
  assert.deepEqual(siblingImports('bots'), []);
});

it('harness/ imports bots/ and nothing of report/', () => {
  const imports = siblingImports('harness');
  assert.ok(imports.some(([, folder]) => folder === 'bots'), 'the harness runs bots');
  assert.deepEqual(imports.filter(([, folder]) => folder !== 'bots'), []);
});

it("report/ imports only the harness's types", () => {
  const imports = siblingImports('report');
  assert.ok(imports.length > 0);
  assert.deepEqual(imports.filter(([, folder, typeOnly]) => folder !== 'harness' || !typeOnly), []);
});
