import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';

const root = new URL('../../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

it('package.json engines, .ci/run and the README name the same supported Node lines', () => {
  const lines = /^NODE_LINES=\(([\d ]+)\)$/m.exec(read('.ci/run'))?.[1]?.split(' ').map(Number);
  assert.ok(lines !== undefined && lines.length > 0, '.ci/run has NODE_LINES=(...)');
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
  assert.equal(engines, `>=${Math.min(...lines)}`);
  const section = /### Supported Node versions\n([\s\S]*?)\n##/.exec(read('README.md'))?.[1];
  assert.ok(section !== undefined, 'README has a "Supported Node versions" section');
  assert.ok(section.includes(`\`engines\` says \`${engines}\``), 'the README quotes engines');
  for (const line of lines) assert.ok(section.includes(`**${line}**`), `the README names Node ${line}`);
});
