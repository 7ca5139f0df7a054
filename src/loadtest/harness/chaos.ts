import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import type { ChaosMethod } from './ipc-messages.js';
import type { WorkerMetrics } from './worker-metrics.js';

/** How often chaos cuts, ms: `cutPercent` is a share per second. */
const CHAOS_TICK_MS = 1_000;

/** Node publishes every socket `net.connect` makes here (WebSocket connections too: ws uses it). */
const CLIENT_SOCKET_CHANNEL = 'net.client.socket';

/**
 * Hands a connection to a process that keeps it open without reading or writing (the load test's
 * parent, over the IPC channel); resolves true once the handle is on its way.
 */
export type HoldConnection = (socket: Socket) => Promise<boolean>;

/** What {@link Chaos} needs. */
export interface ChaosOptions {
  /** Only connections to this port are cut (the server's). */
  readonly port: number;
  /** Share of the live connections cut every second, percent (0..100). */
  readonly cutPercent: number;
  readonly method: ChaosMethod;
  /** Needed for silent drops; without it they are RSTs. */
  readonly hold: HoldConnection | undefined;
  /** Cuts are counted here (`cutsRst`, `cutsSilent`). */
  readonly metrics: WorkerMetrics;
}

/** Where a connection finds its chaos: module-level listeners, no closure per socket. */
const kChaos: unique symbol = Symbol('gamewire.loadtest.chaos');

interface Tracked extends Socket {
  [kChaos]?: Chaos;
}

/**
 * Chaos in one worker: every second it cuts `cutPercent` % of the worker's live connections to the
 * server (a fraction carries over to the next second), chosen at random, the way a network does:
 *
 * - **RST** (`socket.resetAndDestroy()`): the connection is reset. The server reads ECONNRESET at
 *   once and the bot's session sees its connection close: a NAT or a middlebox giving up on a flow.
 * - **silent drop**: the bot's side closes, and the server is told nothing, ever: no FIN, no RST, no
 *   more bytes. The socket is handed over the IPC channel to the load test's parent, which holds it
 *   open without reading or writing until the run ends, so closing the worker's copy sends nothing
 *   (the kernel sends a FIN only when the last descriptor of a socket closes). It is a phone that
 *   moved from Wi-Fi to LTE: the client knows at once and reconnects, the server learns only from a
 *   resume on the new connection, or from silence (its idle timeout). Unlike a vanished host, the
 *   load tester's kernel still acknowledges what the server sends, until its receive buffer fills.
 *
 * Connections are found as Node makes them (the `net.client.socket` diagnostics channel) and may be
 * cut once connected to `port` and the server's first bytes came: every connection a bot session
 * uses, reconnects and resumes included, but not one still in its WebSocket upgrade (cutting that
 * would fail a connect, not drop a session).
 */
export class Chaos {
  readonly #options: ChaosOptions;
  readonly #live = new Set<Tracked>();
  #timer: NodeJS.Timeout | undefined;
  /** The share of a cut not done yet (the rounding of earlier seconds). */
  #carry = 0;
  /** Which method `mixed` uses next. */
  #silentNext = false;
  /** Cuts whose socket has not closed yet (a silent drop first sends its handle to the holder). */
  readonly #dropping = new Set<Promise<void>>();

  constructor(options: ChaosOptions) {
    this.#options = options;
  }

  /** Connections live now that chaos may cut. */
  get liveCount(): number {
    return this.#live.size;
  }

  /** Starts watching connections and cutting them every second. */
  start(): void {
    if (this.#timer !== undefined) return;
    watching.add(this);
    if (watching.size === 1) subscribe(CLIENT_SOCKET_CHANNEL, onClientSocket);
    this.#timer = setInterval(tick, CHAOS_TICK_MS, this);
  }

  /**
   * Stops cutting (the run is ending); connections cut so far stay cut. Resolves once the silent
   * drops under way are done and their connections closed on this side, so every cut counted has
   * reached its session before the run drains.
   */
  async stop(): Promise<void> {
    if (this.#timer === undefined) return;
    await this.#stopCutting();
  }

  async #stopCutting(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    watching.delete(this);
    if (watching.size === 0) unsubscribe(CLIENT_SOCKET_CHANNEL, onClientSocket);
    for (const socket of this.#live) socket[kChaos] = undefined;
    this.#live.clear();
    if (this.#dropping.size === 0) return;
    await Promise.all(this.#dropping);
    // The sessions hear of the close in the same turn or the next: let them.
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** Internal (socket listener): `socket` connected. */
  connected(socket: Tracked): void {
    if (socket.remotePort === this.#options.port && !socket.destroyed) this.#live.add(socket);
  }

  /** Internal (socket listener): `socket` closed. */
  closed(socket: Tracked): void {
    this.#live.delete(socket);
  }

  /** Cuts this second's share of the live connections. */
  cut(): void {
    const live = [...this.#live];
    const wanted = (live.length * this.#options.cutPercent) / 100 + this.#carry;
    const count = Math.min(live.length, Math.floor(wanted));
    this.#carry = wanted - count;
    // A partial Fisher-Yates shuffle: the first `count` are a uniform random choice.
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(Math.random() * (live.length - i));
      const chosen = live[j] as Tracked;
      live[j] = live[i] as Tracked;
      this.#cutOne(chosen);
    }
  }

  #cutOne(socket: Tracked): void {
    this.#live.delete(socket);
    socket[kChaos] = undefined;
    // Listened for before the cut: a destroyed socket reads `closed` at once but emits 'close' only
    // after the loop's close phase, and its session hears of the cut in that event, not before.
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const { method, hold, metrics } = this.#options;
    const silent = hold !== undefined && (method === 'silent' || (method === 'mixed' && (this.#silentNext = !this.#silentNext)));
    if (!silent) {
      metrics.resilience.cutsRst++;
      socket.resetAndDestroy();
      this.#untilClosed(closed);
      return;
    }
    this.#untilClosed(
      hold(socket)
        .catch(() => false)
        .then((held) => {
          if (!held) {
            metrics.resilience.cutsRst++; // the holder is gone: reset instead
            socket.resetAndDestroy();
          } else {
            metrics.resilience.cutsSilent++;
            socket.destroy();
          }
          return closed;
        }),
    );
  }

  /**
   * Keeps a cut in `#dropping` until its socket has emitted 'close', RST or silent alike, so a run
   * stopping in this turn waits for it: otherwise the session would hear of its cut only after the
   * drain, and the cut would never be counted as a lost connection and a resume.
   */
  #untilClosed(closed: Promise<void>): void {
    const dropping = closed.finally(() => this.#dropping.delete(dropping));
    this.#dropping.add(dropping);
  }
}

/** The chaos instances watching connections in this process (one per worker; several in tests). */
const watching = new Set<Chaos>();

function onClientSocket(message: unknown): void {
  const socket = (message as { socket?: unknown }).socket as Tracked | undefined;
  if (socket === undefined || watching.size === 0) return;
  socket.once('connect', socketOnConnect);
  socket.once('close', socketOnClose);
}

function socketOnConnect(this: Tracked): void {
  // Listened for during the 'connect' event, when whoever made the socket listens for data too (a
  // 'data' listener starts the flow): so the first bytes reach both.
  this.once('data', socketOnFirstData);
}

function socketOnFirstData(this: Tracked): void {
  // Each chaos keeps the connections to its own server's port.
  for (const chaos of watching) {
    const before = chaos.liveCount;
    chaos.connected(this);
    if (chaos.liveCount > before) {
      this[kChaos] = chaos;
      return;
    }
  }
}

function socketOnClose(this: Tracked): void {
  this[kChaos]?.closed(this);
  this[kChaos] = undefined;
}

function tick(chaos: Chaos): void {
  chaos.cut();
}
