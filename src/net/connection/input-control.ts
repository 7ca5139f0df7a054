import { IdleTimeoutError, RateLimitedError, type GamewireError } from '../../core/errors.js';
import { kFanoutPaused } from '../limits/fanout-flow.js';
import { isIdle, isKeepaliveDue, kIdleTick, kKeepalive, nextSilentTicks, type IdleWatched } from '../limits/idle-watch.js';
import { IngressThrottle } from '../limits/ingress-throttle.js';
import { kBudgetResume, ReadBudget, resumeNextTurn, type BudgetReader } from '../limits/read-budget.js';
import { kPauseOwnInput } from '../limits/send-pressure.js';
import type { SessionSettings } from '../session-owner.js';
import { ConnectionIdentity } from './connection-identity.js';

/** Why reading is paused, as bits: the peer is behind on its own replies (`pauseReadingWhenUnwritable`). */
export const PAUSE_UNWRITABLE = 1;
/** Throttled by `maxBytesPerSecond` ('drop'). */
export const PAUSE_THROTTLED = 2;
/** Read its `readBudgetBytes` this turn; resumes next turn. */
export const PAUSE_BUDGET = 4;
/** Its input pushed other sessions above their high mark; resumes when they drain (fanout-flow.ts). */
export const PAUSE_FANOUT = 8;

/** Internal members between the input control and the connection core. */
export const kSettings: unique symbol = Symbol('gamewire.settings');
export const kEndWith: unique symbol = Symbol('gamewire.endWith');
export const kPauseTransport: unique symbol = Symbol('gamewire.pauseTransport');
export const kReceive: unique symbol = Symbol('gamewire.receive');
export const kSetPaused: unique symbol = Symbol('gamewire.setPaused');
export const kInputOpened: unique symbol = Symbol('gamewire.inputOpened');
export const kAdmitInput: unique symbol = Symbol('gamewire.admitInput');
export const kInputRead: unique symbol = Symbol('gamewire.inputRead');
export const kPeerAlive: unique symbol = Symbol('gamewire.peerAlive');
export const kStopPausing: unique symbol = Symbol('gamewire.stopPausing');
const kEndThrottle: unique symbol = Symbol('gamewire.endThrottle');

/**
 * Internal: the input side of a connection, below the connection core. Reading is paused for a set
 * of reasons (a bit each; the transport pauses with the first and resumes with the last) by the
 * policies: the read budget (read-budget.ts), the ingress throttle (ingress-throttle.ts), fan-out flow
 * control (fanout-flow.ts) and the connection's own unwritable replies (send-pressure.ts). The idle
 * watch (idle-watch.ts) asks it whether the peer showed a sign of life.
 */
export abstract class InputControl extends ConnectionIdentity implements IdleWatched, BudgetReader {
  #pauseReasons = 0;
  /**
   * Idle-watch ticks since the peer last showed it is alive (a read, or a write completion while it is
   * behind): a sign of life sets it to 0, so counting costs one store per read.
   */
  #silentTicks = 0;
  #throttle: IngressThrottle | undefined;
  #readBudget: ReadBudget | undefined;

  /** True while the connection is open. */
  abstract get connected(): boolean;
  /** Ends the connection with `error` (its `disconnectCode`). */
  abstract [kEndWith](error: GamewireError): void;
  /** Pauses (true) or resumes (false) the transport's reading. */
  abstract [kPauseTransport](paused: boolean): void;
  /** Presents `chunk` to the receive loop. */
  abstract [kReceive](chunk: Buffer): void;

  /** Internal: the settings the owner gave, once attached (kept by the connection core). */
  abstract get [kSettings](): SessionSettings | undefined;

  /** Internal: the connection opened with `settings`; the policies it has are made. */
  [kInputOpened](settings: SessionSettings): void {
    if (settings.maxBytesPerSecond > 0) {
      this.#throttle = new IngressThrottle(settings.maxBytesPerSecond, settings.rateLimitAction === 'drop', performance.now());
    }
  }

  /** Internal: `chunk` was read; true to receive it now, false when the throttle held it or ended the connection. */
  [kAdmitInput](chunk: Buffer): boolean {
    this.#silentTicks = 0;
    const throttle = this.#throttle;
    if (throttle === undefined) return true;
    const verdict = throttle.admit(chunk, performance.now());
    if (verdict === 'pass') return true;
    if (verdict === 'over') {
      this[kEndWith](new RateLimitedError('bytes', (this[kSettings] as SessionSettings).maxBytesPerSecond));
    } else if (verdict > 0) {
      this[kSetPaused](PAUSE_THROTTLED, true);
      setTimeout(endThrottle, verdict, this).unref();
    }
    return false;
  }

  /** Internal: `bytes` were received; past the read budget, reading waits for the next turn (fairness). */
  [kInputRead](bytes: number): void {
    const limit = (this[kSettings] as SessionSettings).readBudgetBytes;
    if (limit === 0) return;
    // Made on the first bytes: an idle connection holds none.
    if ((this.#readBudget ??= new ReadBudget(limit)).charge(bytes) && this.connected) {
      this[kSetPaused](PAUSE_BUDGET, true);
      resumeNextTurn(this);
    }
  }

  /** Internal: a write completed while the peer is behind: it is alive. */
  [kPeerAlive](): void {
    this.#silentTicks = 0;
  }

  /** Sets or clears one pause reason. */
  [kSetPaused](reason: number, paused: boolean): void {
    const before = this.#pauseReasons;
    const after = paused ? before | reason : before & ~reason;
    this.#pauseReasons = after;
    if (before === 0 && after !== 0) this[kPauseTransport](true);
    else if (before !== 0 && after === 0 && this.connected) this[kPauseTransport](false);
  }

  /** Internal: a closing connection reads (and drops) again, so that the peer's FIN is seen. */
  [kStopPausing](): void {
    this.#throttle?.release();
    if (this.#pauseReasons === 0) return;
    this.#pauseReasons = 0;
    this[kPauseTransport](false);
  }

  /** Internal: members this connection's input fed are above their high mark (true), or drained (false). */
  [kFanoutPaused](paused: boolean): void {
    if (this.connected) this[kSetPaused](PAUSE_FANOUT, paused);
  }

  /** Internal (read-budget.ts): a new turn began; this connection may read again. */
  [kBudgetResume](): void {
    this[kSetPaused](PAUSE_BUDGET, false);
  }

  /** Internal (send-pressure.ts): its own input fills its queue; stop reading until it drains. */
  [kPauseOwnInput](): void {
    this[kSetPaused](PAUSE_UNWRITABLE, true);
  }

  /** Internal (idle-watch.ts): one tick; silence past the timeout ends the connection. */
  [kIdleTick](): void {
    if (!this.connected) return;
    // While throttled or held by fan-out flow control, silence is ours, not the peer's. While paused
    // because the peer is behind, write completions (kPeerAlive) show it is alive.
    const excused = (this.#pauseReasons & (PAUSE_THROTTLED | PAUSE_FANOUT)) !== 0;
    const silentTicks = (this.#silentTicks = nextSilentTicks(this.#silentTicks, excused));
    if (isIdle(silentTicks)) {
      this[kEndWith](new IdleTimeoutError((this[kSettings] as SessionSettings).idleTimeoutMs));
    } else if (isKeepaliveDue(silentTicks)) {
      this[kKeepalive]();
    }
  }

  /**
   * Internal (idle watch): the peer has been quiet for a quarter to half of `idleTimeoutMs`; prompt it
   * to answer. Nothing here: a raw byte stream has no packet of its own to send (PacketSession pings).
   */
  [kKeepalive](): void {}

  /** Internal: the throttle's debt is paid: deliver what it held and read again. */
  [kEndThrottle](): void {
    for (const chunk of this.#throttle?.release() ?? []) {
      if (!this.connected) break;
      this[kReceive](chunk);
    }
    this[kSetPaused](PAUSE_THROTTLED, false);
  }
}

function endThrottle(control: InputControl): void {
  control[kEndThrottle]();
}
