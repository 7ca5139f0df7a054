import type { Session } from './session.js';

/**
 * The game's two hooks that let a resumable session move to another process of the server (a worker
 * replaced in a rolling reload: docs/deploying.md, "Sessions that move"). A Session subclass that
 * implements both can be moved; one that lacks either is never moved (it drains where it is).
 *
 * ```ts
 * class Player extends PacketSession implements SessionStateHooks {
 *   name = ''; x = 0; score = 0;
 *   serializeState(): Uint8Array { return new TextEncoder().encode(JSON.stringify({ name: this.name, x: this.x, score: this.score })); }
 *   restoreState(bytes: Uint8Array): void { Object.assign(this, JSON.parse(new TextDecoder().decode(bytes))); }
 * }
 * ```
 */
export interface SessionStateHooks {
  /**
   * The game state of this session, as bytes, taken on the old process at the moment it moves (after
   * its last packet there was handled; its timers and queued jobs stay behind). The bytes cross to
   * the new process as they are (an IPC message: keep them small, a few KiB).
   * A throw cancels the move before anything was told to the client: the session stays and drains.
   */
  serializeState(): Uint8Array;
  /**
   * On the new process: the bytes `serializeState` returned, given to a new session made by the
   * session factory, which already has the moved session's `id`. Runs instead of `onConnected`; the
   * session is then suspended until its client resumes (`onResumed`). Re-arm here the timers the game
   * needs. A throw fails the move: the client's resume is refused and it logs in again.
   */
  restoreState(bytes: Uint8Array): void;
}

/** True when `session`'s class implements both hooks of {@link SessionStateHooks}: it can move. */
export function isMovable(session: Session): session is Session & SessionStateHooks {
  const hooks = session as Partial<SessionStateHooks>;
  return typeof hooks.serializeState === 'function' && typeof hooks.restoreState === 'function';
}
