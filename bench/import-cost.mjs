#!/usr/bin/env node
// bench/import-cost.mjs - what importing each entry point of package.json costs a user: the time of
// `await import(entry)` in a fresh process, the JS heap it adds (after a full GC), the modules it
// loads (gamewire's own and which packages), and the symbols the entry exports (from its .d.ts).
//
//   npm run build && node bench/import-cost.mjs            # every entry, 7 fresh processes each
//   node bench/import-cost.mjs --runs 15 --entry gamewire  # one entry
//
// Modules are listed by an ES module resolve hook (module.register) that appends every resolved URL
// to a file; CommonJS files loaded under an ES import (ioredis, ws, protobufjs are CommonJS) are read
// from require.cache. Time and heap come from separate processes without the hook.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : args[at + 1];
};
const runs = Number(option('--runs', '7'));
const only = option('--entry', undefined);

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const entries = Object.keys(pkg.exports)
  .filter((key) => key !== './package.json')
  .map((key) => `gamewire${key.slice(1)}`)
  .filter((entry) => only === undefined || entry === only);

// Runs in a fresh process inside the repository, where `gamewire` resolves to this package itself.
const TIMING = `
globalThis.gc(); const before = process.memoryUsage().heapUsed;
const t0 = performance.now(); await import(process.argv[1]); const ms = performance.now() - t0;
globalThis.gc(); console.log(JSON.stringify({ ms, heap: process.memoryUsage().heapUsed - before }));`;
const LISTING = `
import { register, createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const dir = mkdtempSync(join(tmpdir(), 'gamewire-import-cost-'));
const file = join(dir, 'resolved');
const hooks = 'import { appendFileSync } from "node:fs";' +
  'export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(' + JSON.stringify(file) + ', r.url + "\\\\n"); return r; }';
register('data:text/javascript,' + encodeURIComponent(hooks));
await import(process.argv[1]);
const esm = [...new Set(readFileSync(file, 'utf8').split('\\n').filter((u) => u.startsWith('file:')))];
rmSync(dir, { recursive: true, force: true });
const cjs = Object.keys(createRequire(import.meta.url).cache);
console.log(JSON.stringify({ esm, cjs }));`;

function node(flags, script, entry) {
  const result = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', script, entry], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${entry}: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop());
}

function packageOf(file) {
  const rest = file.split('/node_modules/').pop().split('/');
  return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
}

async function exportCounts() {
  const ts = (await import('typescript')).default;
  const files = Object.fromEntries(
    Object.entries(pkg.exports)
      .filter(([key]) => key !== './package.json')
      .map(([key, value]) => [`gamewire${key.slice(1)}`, path.join(ROOT, value.types)]),
  );
  const program = ts.createProgram(Object.values(files), { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const counts = {};
  for (const [entry, file] of Object.entries(files)) {
    const source = program.getSourceFile(file);
    const symbols = source === undefined ? [] : checker.getExportsOfModule(checker.getSymbolAtLocation(source));
    let values = 0;
    for (const symbol of symbols) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      if (target.flags & ts.SymbolFlags.Value) values++;
    }
    counts[entry] = { all: symbols.length, values, defaults: symbols.filter((s) => s.name.startsWith('DEFAULT_')).length };
  }
  return counts;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const counts = await exportCounts();
console.log(`# import cost per entry (node ${process.version}, ${runs} fresh processes each, medians)\n`);
console.log('| entry | import ms | heap MiB | own modules | packages loaded | exports (values + types; DEFAULT_*) |');
console.log('| --- | ---: | ---: | ---: | --- | --- |');
for (const entry of entries) {
  const timings = Array.from({ length: runs }, () => node(['--expose-gc'], TIMING, entry));
  const { esm, cjs } = node([], LISTING, entry);
  const own = esm.filter((url) => url.includes('/dist/src/')).length;
  const packages = [...new Set([...esm, ...cjs.map((file) => `file://${file}`)].filter((u) => u.includes('/node_modules/')).map(packageOf))].sort();
  const c = counts[entry];
  console.log(
    `| \`${entry}\` | ${median(timings.map((t) => t.ms)).toFixed(0)} | ${(median(timings.map((t) => t.heap)) / 2 ** 20).toFixed(2)} | ${own} | ` +
      `${packages.join(', ') || '–'} | ${c.all} (${c.values} + ${c.all - c.values}; ${c.defaults}) |`,
  );
}
