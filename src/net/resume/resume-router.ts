import type { Socket } from 'node:net';

/** What a handed-over connection was when it left: a TCP connection that sent RESUME, or a WebSocket upgrade request. */
export type HandedKind = 'tcp' | 'ws';

/** Takes a connection another process handed to this one: `bytes` are what that process had read of it. */
export type HandedConnectionSink = (socket: Socket, kind: HandedKind, bytes: Buffer) => void;

/**
 * How a server process of several (a cluster worker) reaches the others about resumes
 * (docs/resume.md, "Workers and machines"). Installed by the process's runner (the cluster worker)
 * before the game's setup makes its ServerService; a service made with `resume` reads it once, at
 * construction. Without one (a single process) the route is 0 and every resume is local.
 *
 * Each process of a server has its own route (≥ 1, unique among the processes of the server for as long
 * as a session could hold it) and every process of one server shares its `server` number, so a token
 * says which server and which process issued it.
 */
export interface ResumeRouter {
  /** This process's route (token bytes 0..1). */
  readonly route: number;
  /** This server's number (token bytes 2..3), the same in every process of the server. */
  readonly server: number;
  /** True when another live process of this server has `route`. */
  serves(route: number): boolean;
  /**
   * Hands `socket` (plain TCP, its reading stopped, no listener of gamewire's left on it but an error
   * guard) to the process of `route`, with the `bytes` read from it so far. The socket is this call's:
   * it is closed here once sent (or if it cannot be). False when `route` has no live process (the
   * socket is not taken then).
   */
  handOver(route: number, kind: HandedKind, socket: Socket, bytes: Buffer): boolean;
  /** Connections handed to this process that arrived on `port` go to `sink`; returns the detach. */
  attach(port: number, sink: HandedConnectionSink): () => void;
}

let installed: ResumeRouter | undefined;

/** Installs the router of this process (undefined removes it). Called by the cluster worker before the game's setup. */
export function useResumeRouter(router: ResumeRouter | undefined): void {
  installed = router;
}

/** The router of this process, if it is one of several. */
export function currentResumeRouter(): ResumeRouter | undefined {
  return installed;
}

/**
 * Makes `socket` (a plain `net.Socket`) ready to leave this process: no more events reach gamewire, an
 * error meanwhile is ignored, whatever was read but not yet handed on is taken (to travel with it),
 * and the descriptor is no longer read here. Returns those bytes.
 */
export function releaseSocket(socket: Socket): Buffer {
  socket.removeAllListeners('data');
  socket.removeAllListeners('end');
  socket.removeAllListeners('close');
  socket.removeAllListeners('readable');
  socket.removeAllListeners('error');
  socket.on('error', ignoreError);
  socket.pause();
  const left: Buffer[] = [];
  for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) left.push(chunk);
  stopReading(socket);
  return left.length === 0 ? Buffer.alloc(0) : Buffer.concat(left);
}

/** Node's stream handle (libuv's), as far as its reading goes. */
interface ReadingHandle {
  reading?: boolean;
  readStop?(): number;
}

/**
 * Stops libuv reading `socket`'s descriptor in this process, now. A socket sent to another process
 * stays open here until the receiver acknowledges it, and `pause()` only stops the 'data' events: libuv
 * would go on reading, and Node throws away what a sent socket reads, so bytes the client sends once
 * the new owner has answered it could be lost. Node's own `pauseOnConnect`, made for sockets passed
 * between processes, stops the handle the same way.
 */
export function stopReading(socket: Socket): void {
  const handle = (socket as unknown as { _handle?: ReadingHandle | null })._handle;
  if (handle === undefined || handle === null || typeof handle.readStop !== 'function') return;
  handle.reading = false;
  handle.readStop();
}

function ignoreError(): void {}
