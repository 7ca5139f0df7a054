// Bundles the browser pages (web/*) with esbuild into dist/web, for browsers with no bundler of their
// own: one ES module per page, the generated packets and protobufjs included. `platform: 'browser'`
// makes any Node built-in reachable from a page a build error, so the browser client stays browser-safe.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pages = ['chat-demo'];

for (const page of pages) {
  const outDir = join(root, 'dist', 'web', page);
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(root, 'web', page, 'main.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: false, // the page is a demo: a 700 KB map would double the package
    legalComments: 'linked',
    logLevel: 'warning',
  });
  copyFileSync(join(root, 'web', page, 'index.html'), join(outDir, 'index.html'));
}
