import { kFanoutPaused, kFlowState } from '../symbols.js';

/**
 * Fan-out flow control: the bytes one session's reads cause to be queued for others are charged to
 * that session (its read source). While a member is above its `sendHighWaterMark`, each source that
 * feeds it more than its share (`fanoutShareBytesPerSecond`, with a burst of
 * {@link FANOUT_SHARE_BURST_SECONDS} seconds' worth) is held: its reading pauses, TCP pushes back on its
 * peer, until the member drains to its `sendLowWaterMark` or is gone. Sources within their share (a
 * player chatting or moving at an ordinary pace) are never held: a slow member does not slow the room
 * down, only the floods.
 *
 * A member is cut off when it is stuck or too slow for the traffic nobody holds: its peer took no byte
 * for `stallTimeoutMs` while it was above its high mark (`SEND_STALLED`), or its queue is past
 * `maxSendQueueBytes` with bytes nothing holds back (a source within its share, a timer, a tick) even
 * without what held sources queued, or while its peer takes nothing (`SEND_QUEUE_OVERFLOW`). The rule,
 * with measured figures, is docs/flow-control.md.
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

/** A source's share starts with this many seconds' worth, so a burst of ordinary messages is not held. */
export const FANOUT_SHARE_BURST_SECONDS = 4;

/** In {@link FanoutFlow}'s map of sources: this source is held. */
const HELD = -1;

/** One session's part in fan-out flow control, as a source (it feeds others) and as a member (it is fed). */
export class FanoutFlow {
  /** The session. */
  readonly party: FlowParty;
  /** As a source: members holding it (above their high mark since its reads fed them past its share). */
  waitingOn = 0;
  /** As a member: performance.now() of the last time its peer was seen to take bytes, or of going above its high mark. */
  progressAt = 0;
  /** As a member: performance.now() of going above its high mark; each source's share counts from it. */
  aboveHighAt = 0;
  /** As a member: bytes of held sources queued for it since it went above its high mark. */
  heldBytes = 0;
  /**
   * As a member above its high mark: the bytes each source fed it since then, or HELD. Reused; empty
   * while the member is below its high mark.
   */
  #fed: Map<FanoutFlow, number> | undefined;

  constructor(party: FlowParty) {
    this.party = party;
  }

  /** As a member: how many sources it holds. */
  get holdingCount(): number {
    let count = 0;
    if (this.#fed !== undefined) for (const bytes of this.#fed.values()) if (bytes === HELD) count++;
    return count;
  }

  /**
   * As a member above its high mark: `source`'s input fed it `bytes`. The source is held once what it
   * fed since the member went above its high mark is more than its share by then: `sharePerSecond` ×
   * ({@link FANOUT_SHARE_BURST_SECONDS} + seconds above the high mark). True when the source is held
   * (its bytes are paced); false when they are within its share.
   */
  feed(source: FanoutFlow, bytes: number, sharePerSecond: number): boolean {
    const fed = (this.#fed ??= new Map());
    const before = fed.get(source) ?? 0;
    if (before === HELD) return true;
    const total = before + bytes;
    // The clock is read only past the burst: most sources that feed a member above its mark are
    // either well within it (a chat) or held already (a flood).
    if (total <= sharePerSecond * FANOUT_SHARE_BURST_SECONDS || total <= shareOf(sharePerSecond, performance.now() - this.aboveHighAt)) {
      fed.set(source, total);
      return false;
    }
    this.hold(source);
    return true;
  }

  /** As a member above its high mark: `source` waits until this member drains, whatever its share. */
  hold(source: FanoutFlow): void {
    const fed = (this.#fed ??= new Map());
    if (fed.get(source) === HELD) return;
    fed.set(source, HELD);
    if (source.waitingOn++ === 0) source.party[kFanoutPaused](true);
  }

  /**
   * As a member: `source` may read again, whatever it fed (the member is not behind with it any
   * more). Its share starts over. Used where a member holds sources for someone else (a room that
   * holds its local feeders for a process that asked); a member that drains uses {@link releaseAll}.
   */
  release(source: FanoutFlow): void {
    const fed = this.#fed;
    if (fed === undefined) return;
    const bytes = fed.get(source);
    if (bytes === undefined) return;
    fed.delete(source);
    if (bytes === HELD && --source.waitingOn === 0) source.party[kFanoutPaused](false);
  }

  /** As a member that drained to its low mark, or is gone: every source it holds may read again, and shares start over. */
  releaseAll(): void {
    this.heldBytes = 0;
    const fed = this.#fed;
    if (fed === undefined || fed.size === 0) return;
    for (const [source, bytes] of fed) {
      if (bytes === HELD && --source.waitingOn === 0) source.party[kFanoutPaused](false);
    }
    fed.clear();
  }
}

/** The bytes a source may feed a member that has been above its high mark for `msAboveHigh`. */
export function shareOf(sharePerSecond: number, msAboveHigh: number): number {
  return sharePerSecond * (FANOUT_SHARE_BURST_SECONDS + Math.max(0, msAboveHigh) / 1000);
}

/**
 * Whether a member whose queue (`queued` bytes) is past `maxSendQueueBytes` is cut off
 * (`SEND_QUEUE_OVERFLOW`) by a send that is `paced` (its source is held) or not. A member whose peer
 * took no byte for `stallTimeoutMs` is. Otherwise held bytes never cut it off: their sources are
 * paused, and they can overshoot the cap by what each read in the turn before it was held. A send
 * nothing holds back (a source within its share, a timer, a tick) cuts it off once the queue less
 * `heldBytes` (what held sources queued since it went above its high mark) is past the cap: the
 * member is too slow for what its room sends at an ordinary pace, and the cap bounds the memory.
 */
export function cutsOffOverCap(
  paced: boolean,
  queued: number,
  heldBytes: number,
  maxSendQueueBytes: number,
  msSinceProgress: number,
  stallTimeoutMs: number,
): boolean {
  if (msSinceProgress >= stallTimeoutMs) return true;
  return !paced && queued - heldBytes > maxSendQueueBytes;
}

/** Milliseconds until a member above its high mark counts as stalled; 0 when it is stalled now. */
export function msUntilStalled(msSinceProgress: number, stallTimeoutMs: number): number {
  return msSinceProgress >= stallTimeoutMs ? 0 : stallTimeoutMs - msSinceProgress;
}
