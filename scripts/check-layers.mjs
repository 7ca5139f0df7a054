// Fails when a file imports from a layer above its own. madge (check:cycles) only finds cycles; an
// upward import that happens not to close one would pass it, and the layer order is what lets a
// reader take each layer as a whole. Checks every relative import under src/:
// - between the top folders, in the order core → net → packet → jobs → room → cluster → samples →
//   metrics → loadtest → codegen → cli;
// - inside net/, between its folders: transport/ → listen/ and limits/ (which never import each
//   other) → connection/ → resume/ → the files at the top of net/. symbols.ts and session-owner.ts sit at the
//   top but import nothing of net/ themselves, so every folder may import them.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
const LAYERS = ['core', 'net', 'packet', 'jobs', 'room', 'cluster', 'samples', 'metrics', 'loadtest', 'codegen', 'cli'];
const NET_FOLDERS = { transport: 1, listen: 2, limits: 2, connection: 3, resume: 3.5 };
const NET_SHARED = new Set(['net/symbols.ts', 'net/session-owner.ts']);
const IMPORT = /(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

/** The rank of a file of net/ (a file imports only lower ranks, or its own folder); undefined outside net/. */
function netRank(file) {
  const parts = file.split('/');
  if (parts[0] !== 'net') return undefined;
  if (NET_SHARED.has(file)) return 0;
  return parts.length === 2 ? 4 : NET_FOLDERS[parts[1]];
}

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const upward = [];
for (const path of filesUnder(src)) {
  const from = relative(src, path);
  for (const [, spec] of readFileSync(path, 'utf8').matchAll(IMPORT)) {
    const to = relative(src, resolve(dirname(path), spec).replace(/\.js$/, '.ts'));
    const [fromLayer, toLayer] = [from.split('/')[0], to.split('/')[0]];
    if (LAYERS.indexOf(toLayer) > LAYERS.indexOf(fromLayer) && LAYERS.includes(fromLayer)) {
      upward.push(`${from} imports ${to}: ${toLayer}/ is above ${fromLayer}/`);
    }
    const [fromRank, toRank] = [netRank(from), netRank(to)];
    if (fromRank !== undefined && toRank !== undefined && dirname(from) !== dirname(to) && toRank >= fromRank) {
      upward.push(`${from} imports ${to}: ${dirname(to)}/ is not below ${dirname(from)}/ (see docs/architecture.md)`);
    }
  }
}
if (upward.length > 0) {
  console.error(`${upward.length} upward import(s):\n  ${upward.join('\n  ')}`);
  process.exit(1);
}
console.log('✔ No upward import found');
