/**
 * Which packages a piece of code loads: an ES module script, run with `node --input-type=module -e`,
 * that runs `body` (top-level `await import(...)` allowed), then prints one line `LOADED end <json>`
 * with the packages under node_modules loaded so far; `body` may print such a line itself at any
 * point with `loaded('label')`. Both ways in are seen: every URL an ES import
 * resolved (a resolve hook registered with module.register, which writes to a temp file from its own
 * thread before the import goes on), and every CommonJS file in require.cache (ioredis and ws are
 * CommonJS behind their ES entry points).
 */

/** The script; `body` runs after the hook is registered, so every import it makes is seen. */
export function loadedPackagesScript(body: string): string {
  return `
import { createRequire, register } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const loadedDir = mkdtempSync(join(tmpdir(), 'gamewire-loaded-'));
const loadedFile = join(loadedDir, 'resolved');
const hooks = 'import { appendFileSync } from "node:fs";' +
  'export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(' +
  JSON.stringify(loadedFile) + ', r.url + "\\\\n"); return r; }';
register('data:text/javascript,' + encodeURIComponent(hooks));
const loaded = (label) => {
  const urls = readFileSync(loadedFile, { encoding: 'utf8', flag: 'a+' }).split('\\n');
  const packages = new Set();
  for (const file of [...urls, ...Object.keys(createRequire(import.meta.url).cache)]) {
    if (!file.includes('/node_modules/')) continue;
    const [scope = '', name = ''] = file.split('/node_modules/').pop().split('/');
    packages.add(scope.startsWith('@') ? scope + '/' + name : scope);
  }
  console.log('LOADED ' + label + ' ' + JSON.stringify([...packages].sort()));
};
try {
${body}
  loaded('end');
} finally {
  rmSync(loadedDir, { recursive: true, force: true });
}
`;
}

/** The packages of the `LOADED label` line in `stdout` (default: the one printed at the end). */
export function parseLoadedPackages(stdout: string, label = 'end'): string[] {
  const prefix = `LOADED ${label} `;
  const line = stdout.split('\n').find((l) => l.startsWith(prefix));
  if (line === undefined) throw new Error(`no '${prefix}' line in:\n${stdout}`);
  return JSON.parse(line.slice(prefix.length)) as string[];
}
