import { DEFAULTS } from '../../core/defaults.js';
import { kFanoutPaused, kFlowState } from '../symbols.js';

/**
 * Fan-out flow control: the bytes one session's reads cause to be queued for others are charged to
 * that session. When they push a member above its `sendHighWaterMark`, the member holds the feeding
 * session (its reading pauses: TCP pushes back on its peer) until the member drains to its
 * `sendLowWaterMark` or is gone. A member is cut off only when it is stuck: no write progress for
 * `stallTimeoutMs` while above its high mark (`SEND_STALLED`), or past `maxSendQueueBytes` with bytes
 * nothing can slow down, or while making no progress (`SEND_QUEUE_OVERFLOW`).
 *
 * Sessions own a {@link FanoutFlow} only once they are involved (made on first use); this file knows
 * nothing of sockets, so the policy is tested alone. The session whose read is being handled comes
 * from `src/core/read-source.ts`.
 */

/** What the policy needs of a session. */
export interface FlowParty {
  /** This session's flow state, made on first use. */
  [kFlowState](): FanoutFlow;
  /** Stop (true) or start again (false) reading: members this session fed are above their high mark. */
  [kFanoutPaused](paused: boolean): void;
}

/** Default `stallTimeoutMs`: a member above its high mark with no write progress this long is cut off. */
export const DEFAULT_STALL_TIMEOUT_MS = DEFAULTS.stallTimeoutMs;

/** One session's part in fan-out flow control, as a source (it feeds others) and as a member (it is fed). */
export class FanoutFlow {
  /** The session. */
  readonly party: FlowParty;
  /** As a source: members holding it (above their high mark since its reads fed them). */
  waitingOn = 0;
  /** As a member: performance.now() of its last write progress, or of going above its high mark. */
  progressAt = 0;
  /** As a member: the sources it holds. Reused; empty while the member is below its high mark. */
  #held: Set<FanoutFlow> | undefined;

  constructor(party: FlowParty) {
    this.party = party;
  }

  /** As a member: how many sources it holds. */
  get holdingCount(): number {
    return this.#held?.size ?? 0;
  }

  /** As a member above its high mark: `source`'s reads fed it, so `source` waits until it drains. */
  hold(source: FanoutFlow): void {
    const held = (this.#held ??= new Set());
    if (held.has(source)) return;
    held.add(source);
    if (source.waitingOn++ === 0) source.party[kFanoutPaused](true);
  }

  /** As a member that drained to its low mark, or is gone: every source it holds may read again. */
  releaseAll(): void {
    const held = this.#held;
    if (held === undefined || held.size === 0) return;
    for (const source of held) {
      if (--source.waitingOn === 0) source.party[kFanoutPaused](false);
    }
    held.clear();
  }
}

/**
 * Whether a member whose queue just went past `maxSendQueueBytes` is cut off (`SEND_QUEUE_OVERFLOW`).
 * `paced`: the bytes come from reads that flow control slows down (another session's, or the
 * member's own while `pauseReadingWhenUnwritable`); such bytes cut off only a member making no
 * progress. Bytes from timers or ticks have nothing to slow down, and the cap bounds the memory.
 */
export function cutsOffOverCap(paced: boolean, msSinceProgress: number, stallTimeoutMs: number): boolean {
  return !paced || msSinceProgress >= stallTimeoutMs;
}

/** Milliseconds until a member above its high mark counts as stalled; 0 when it is stalled now. */
export function msUntilStalled(msSinceProgress: number, stallTimeoutMs: number): number {
  return msSinceProgress >= stallTimeoutMs ? 0 : stallTimeoutMs - msSinceProgress;
}
