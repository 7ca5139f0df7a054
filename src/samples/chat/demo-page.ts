import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

/** The bundled demo page, built by `npm run build` into dist/web/chat-demo (shipped in the package). */
const PAGE_DIR = fileURLToPath(new URL('../../../web/chat-demo/', import.meta.url));

/** The files of the page, by request path: nothing else is served, so no path can leave the folder. */
const FILES: Readonly<Record<string, readonly [file: string, type: string]>> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/app.js.map': ['app.js.map', 'application/json'],
};

/**
 * Serves the chat demo page (`GET /`): the sample game in a browser, which connects back over
 * WebSocket to `/ws` on the same port. Everything it loads comes from this server; nothing from the
 * network. Files are read once and kept.
 */
export function serveDemoPage(request: IncomingMessage, response: ServerResponse): void {
  const path = (request.url ?? '/').split('?', 1)[0] ?? '/';
  const entry = FILES[path];
  if (entry === undefined || (request.method !== 'GET' && request.method !== 'HEAD')) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  const [file, type] = entry;
  load(file).then(
    (body) => {
      response.writeHead(200, { 'content-type': type, 'content-length': body.length, 'cache-control': 'no-cache' });
      response.end(request.method === 'HEAD' ? undefined : body);
    },
    () => {
      response.writeHead(500, { 'content-type': 'text/plain' }).end('the demo page is not built: run npm run build\n');
    },
  );
}

const cache = new Map<string, Promise<Buffer>>();

function load(file: string): Promise<Buffer> {
  let body = cache.get(file);
  if (body === undefined) {
    body = readFile(PAGE_DIR + file);
    body.catch(() => cache.delete(file));
    cache.set(file, body);
  }
  return body;
}
