/**
 * Internal: the HTTP side of `serveMetrics`, run in its own worker thread (never imported). It parses
 * the requests and writes the answers; `/metrics` and `/healthz` are answered by the game's thread
 * over the worker's message port.
 *
 * Why a thread of its own: in the game's thread the first HTTP connection reaches Node's stream and
 * socket functions (Readable.read, Writable.write, onStreamRead, Socket._write …) with an object
 * shape they had not seen, after the game's sockets had made them hot and optimized for one shape.
 * V8 throws that code away and compiles it again: about 80 ms of CPU on a busy server at the first
 * scrape or health check, and polymorphic code from then on. A worker thread is another V8 isolate:
 * its HTTP sockets share no code, feedback or heap with the game's.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { EndpointConfig, EndpointPath, FromEndpoint, ToEndpoint } from './metrics-endpoint-messages.js';

const port = parentPort as MessagePort;
const config = workerData as EndpointConfig;
const send = (message: FromEndpoint): void => port.postMessage(message);
/** Requests waiting for the game's thread, by id. */
const pending = new Map<number, ServerResponse>();
let nextId = 0;

const server = createServer((request, response) => {
  const path = (request.url ?? '/').split('?')[0];
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    reply(response, 405, 'text/plain', 'method not allowed\n');
  } else if (path === '/metrics' || path === '/healthz') {
    const id = nextId++;
    pending.set(id, response);
    response.once('close', () => pending.delete(id)); // the client left before the answer
    send({ type: 'request', id, path: path satisfies EndpointPath });
  } else {
    reply(response, 404, 'text/plain', 'not found: try /metrics or /healthz\n');
  }
});
server.keepAliveTimeout = 5_000;

port.on('message', (message: ToEndpoint) => {
  if (message.type === 'reply') {
    const response = pending.get(message.id);
    pending.delete(message.id);
    if (response !== undefined) reply(response, message.status, message.contentType, message.body);
  } else {
    server.close(() => port.close()); // the thread ends once its port closes
    server.closeAllConnections();
  }
});

server.once('error', (error: NodeJS.ErrnoException) => {
  send({ type: 'listen-error', code: error.code, message: error.message });
  port.close();
});
server.listen({ host: config.host, port: config.port }, () => {
  server.removeAllListeners('error');
  server.on('error', (error) => send({ type: 'error', message: String(error) }));
  send({ type: 'listening', port: (server.address() as AddressInfo).port });
});

function reply(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  response.end(body);
}
