import type { Worker } from 'node:cluster';
import { logSafely, type Logger } from '../core/logger.js';
import type { ToPrimary, ToWorkerBody } from './cluster-messages.js';

/** A move in progress, by session id. */
interface Move {
  readonly from: Worker;
  readonly to: Worker;
  /** `move-out` was sent: the session has left (or is leaving) the old worker; there is no way back. */
  out: boolean;
  /** `move-in` was sent: waiting for the new worker's `move-done`. */
  in: boolean;
  readonly timer: NodeJS.Timeout;
}

/** What the coordinator needs of the primary. */
export interface MoveHost {
  /** Workers that can take the sessions of draining worker `from` now, in a stable order. */
  targets(from: Worker): readonly Worker[];
  /** The bus origin of `worker` (its id block). */
  originOf(worker: Worker): number | undefined;
  /** Sends through `worker`'s ordered channel (the room frames' channel). */
  send(worker: Worker, body: ToWorkerBody): void;
}

/** Counts of the primary's moves (metrics: gamewire_cluster_session_moves_total). */
export interface MoveStats {
  /** Sessions moved: the new worker made them (suspended until their client is back). */
  readonly ok: number;
  /** Moves that failed after the client was told MOVE (the new worker died, could not make the session, or was late): those clients log in again. */
  readonly failed: number;
  /** Moves that did not start (no new worker, one refused, the session ended): those sessions drain where they are. */
  readonly declined: number;
}

/** How long a move may take from ask to move-in, ms, before it is given up. */
const MOVE_TIMEOUT_MS = 10_000;

/**
 * The primary's side of sessions that move between workers (docs/cluster.md, "Sessions that move"):
 * it picks the new worker (spread over those that can take sessions), and passes the messages
 * between old and new in the one place that orders every room frame: it writes `move-out` to the old
 * worker and the `move-cut` (with the new worker's last publish number it has) to the new one in the
 * same turn, so each frame it relays is on the same side of the cut for both.
 */
export class MoveCoordinator {
  readonly #host: MoveHost;
  readonly #logger: Logger;
  readonly #moves = new Map<number, Move>();
  /** Each worker's last publish number the primary received. */
  readonly #lastSeq = new Map<Worker, number>();
  #next = 0;
  #ok = 0;
  #failed = 0;
  #declined = 0;

  constructor(host: MoveHost, logger: Logger) {
    this.#host = host;
    this.#logger = logger;
  }

  get stats(): MoveStats {
    return { ok: this.#ok, failed: this.#failed, declined: this.#declined };
  }

  /** `worker` published its number `seq` (every publish goes through here first). */
  published(worker: Worker, seq: number | undefined): void {
    if (seq !== undefined) this.#lastSeq.set(worker, seq);
  }

  /** A move message from `worker`. */
  receive(worker: Worker, message: ToPrimary): void {
    switch (message.type) {
      case 'move-ask':
        return this.#ask(worker, message.session, message.rooms);
      case 'move-prepared': {
        const move = this.#moves.get(message.session);
        if (move === undefined || move.to !== worker || move.out) return;
        move.out = true;
        // Both in this turn: a frame relayed before is before the cut for both, one after, after.
        this.#host.send(move.from, { type: 'move-out', session: message.session, token: message.token });
        this.#host.send(move.to, { type: 'move-cut', session: message.session, seq: this.#lastSeq.get(move.to) ?? 0 });
        return;
      }
      case 'move-refused': {
        const move = this.#moves.get(message.session);
        if (move === undefined || move.to !== worker) return;
        this.#end(message.session, move, 'declined');
        this.#host.send(move.from, { type: 'move-cancel', session: message.session });
        return;
      }
      case 'moved': {
        const move = this.#moves.get(message.session);
        if (move === undefined || move.from !== worker) return;
        // After every frame the old worker published before it let go: the channel to the primary is ordered.
        this.#host.send(move.to, { type: 'move-in', session: message.session, state: message.state });
        move.in = true;
        return;
      }
      case 'move-done': {
        const move = this.#moves.get(message.session);
        if (move === undefined || move.to !== worker || !move.in) return;
        this.#end(message.session, move, message.reason === undefined ? 'ok' : 'failed');
        return;
      }
      case 'move-failed': {
        const move = this.#moves.get(message.session);
        if (move === undefined || move.from !== worker) return;
        this.#host.send(move.to, { type: 'move-cancel', session: message.session });
        this.#end(message.session, move, 'declined');
        return;
      }
      default:
        return;
    }
  }

  /** `worker` exited: the moves it was part of end. */
  workerGone(worker: Worker): void {
    this.#lastSeq.delete(worker);
    for (const [session, move] of this.#moves) {
      if (move.from !== worker && move.to !== worker) continue;
      const other = move.from === worker ? move.to : move.from;
      if (!other.isDead()) this.#host.send(other, { type: 'move-cancel', session });
      this.#end(session, move, move.out ? 'failed' : 'declined');
    }
  }

  #ask(from: Worker, session: number, rooms: readonly string[]): void {
    const targets = this.#host.targets(from).filter((worker) => worker !== from && !worker.isDead());
    const fromOrigin = this.#host.originOf(from);
    if (targets.length === 0 || fromOrigin === undefined || this.#moves.has(session)) {
      this.#declined++;
      this.#host.send(from, { type: 'move-cancel', session });
      return;
    }
    const to = targets[this.#next++ % targets.length] as Worker;
    const timer = setTimeout(() => this.#timedOut(session), MOVE_TIMEOUT_MS);
    timer.unref();
    this.#moves.set(session, { from, to, out: false, in: false, timer });
    this.#host.send(to, { type: 'move-prepare', session, from: fromOrigin, rooms });
  }

  #timedOut(session: number): void {
    const move = this.#moves.get(session);
    if (move === undefined) return;
    logSafely(this.#logger, 'warn', { sessionId: session, out: move.out }, `moving session ${session} took over ${MOVE_TIMEOUT_MS} ms; given up`);
    for (const worker of [move.from, move.to]) if (!worker.isDead()) this.#host.send(worker, { type: 'move-cancel', session });
    this.#end(session, move, move.out ? 'failed' : 'declined');
  }

  #end(session: number, move: Move, how: 'ok' | 'failed' | 'declined'): void {
    clearTimeout(move.timer);
    this.#moves.delete(session);
    if (how === 'ok') this.#ok++;
    else if (how === 'failed') this.#failed++;
    else this.#declined++;
  }
}
