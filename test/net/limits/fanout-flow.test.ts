/** The fan-out flow-control policy on its own, without sockets: who holds whom, and who is cut off. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cutsOffOverCap, FANOUT_SHARE_BURST_SECONDS, FanoutFlow, msUntilStalled, shareOf, type FlowParty } from '../../../src/net/limits/fanout-flow.js';
import { kFanoutPaused, kFlowState } from '../../../src/net/symbols.js';

/** A party that records every pause and resume it is told. */
class Party implements FlowParty {
  readonly calls: boolean[] = [];
  readonly flow = new FanoutFlow(this);
  [kFlowState](): FanoutFlow {
    return this.flow;
  }
  [kFanoutPaused](paused: boolean): void {
    this.calls.push(paused);
  }
}

describe('FanoutFlow', () => {
  it('a source fed into a member above its high mark is paused once, however often it feeds it', () => {
    const source = new Party();
    const member = new Party();
    for (let i = 0; i < 100; i++) member.flow.hold(source.flow);
    assert.deepEqual(source.calls, [true]);
    assert.equal(source.flow.waitingOn, 1);
    assert.equal(member.flow.holdingCount, 1);
  });

  it('a source held by several members resumes only when the last of them drains', () => {
    const source = new Party();
    const members = [new Party(), new Party(), new Party()];
    for (const member of members) member.flow.hold(source.flow);
    assert.deepEqual(source.calls, [true]);
    assert.equal(source.flow.waitingOn, 3);
    members[0]?.flow.releaseAll();
    members[2]?.flow.releaseAll();
    assert.deepEqual(source.calls, [true], 'still held by one member');
    members[1]?.flow.releaseAll();
    assert.deepEqual(source.calls, [true, false]);
    assert.equal(source.flow.waitingOn, 0);
  });

  it('a member that drains releases every source it holds, and can hold them again later', () => {
    const sources = [new Party(), new Party()];
    const member = new Party();
    for (const source of sources) member.flow.hold(source.flow);
    member.flow.releaseAll();
    member.flow.releaseAll(); // a second release (drained, then closed) changes nothing
    for (const source of sources) assert.deepEqual(source.calls, [true, false]);
    assert.equal(member.flow.holdingCount, 0);
    member.flow.hold(sources[0]?.flow as FanoutFlow);
    assert.deepEqual(sources[0]?.calls, [true, false, true]);
  });
});

describe('FanoutFlow shares', () => {
  const share = 4096;

  it('a source feeding a member above its high mark within its share is not held; past it, it is, until the member drains', () => {
    const chatter = new Party();
    const flooder = new Party();
    const member = new Party();
    member.flow.aboveHighAt = performance.now();
    const burst = share * FANOUT_SHARE_BURST_SECONDS;
    assert.equal(member.flow.feed(chatter.flow, 1_000, share), false, 'one chat');
    assert.equal(member.flow.feed(flooder.flow, burst, share), false, 'a burst of the whole share');
    assert.equal(member.flow.feed(flooder.flow, 1_000, share), true, 'one chat past it');
    assert.deepEqual(flooder.calls, [true]);
    assert.deepEqual(chatter.calls, []);
    assert.equal(member.flow.feed(flooder.flow, 1, share), true, 'held until the member drains');
    assert.equal(member.flow.holdingCount, 1);
    member.flow.releaseAll();
    assert.deepEqual(flooder.calls, [true, false]);
    assert.equal(member.flow.feed(flooder.flow, burst, share), false, 'shares start over once the member drained');
  });

  it('the share grows with the time the member has been above its high mark', () => {
    assert.equal(shareOf(share, 0), share * FANOUT_SHARE_BURST_SECONDS);
    assert.equal(shareOf(share, 10_000), share * (FANOUT_SHARE_BURST_SECONDS + 10));
    const source = new Party();
    const member = new Party();
    member.flow.aboveHighAt = performance.now() - 10_000;
    // 1 KB every 0.25 s for 10 s is 40 KB: a fast chatter, within 4 KiB/s + the burst.
    assert.equal(member.flow.feed(source.flow, 40_000, share), false);
    assert.equal(member.flow.feed(source.flow, shareOf(share, 10_000), share), true);
    assert.deepEqual(source.calls, [true]);
  });

  it('a share of 0 holds every source at its first byte, as before shares', () => {
    const source = new Party();
    const member = new Party();
    member.flow.aboveHighAt = performance.now();
    assert.equal(member.flow.feed(source.flow, 1, 0), true);
    assert.deepEqual(source.calls, [true]);
  });
});

describe('cutsOffOverCap and msUntilStalled', () => {
  const cap = 1000;

  it('bytes nothing holds back (a source within its share, timers, ticks) past the cap cut off at once', () => {
    assert.equal(cutsOffOverCap(false, cap + 1, 0, cap, 0, 5_000), true);
    assert.equal(cutsOffOverCap(false, cap, 0, cap, 0, 5_000), false);
  });

  it("... but not while the queue is past the cap only by what held floods queued since the member went above its mark", () => {
    assert.equal(cutsOffOverCap(false, cap + 500, 500, cap, 0, 5_000), false);
    assert.equal(cutsOffOverCap(false, cap + 501, 500, cap, 0, 5_000), true);
  });

  it('bytes from held input cut off only a member whose peer took no byte for stallTimeoutMs', () => {
    assert.equal(cutsOffOverCap(true, 10 * cap, 0, cap, 0, 5_000), false);
    assert.equal(cutsOffOverCap(true, 10 * cap, 0, cap, 4_999, 5_000), false);
    assert.equal(cutsOffOverCap(true, cap + 1, 0, cap, 5_000, 5_000), true);
    assert.equal(cutsOffOverCap(false, cap + 500, 500, cap, 5_000, 5_000), true, 'any send, once it took nothing');
  });

  it('a member is stalled once stallTimeoutMs passed without progress; before, the rest is returned', () => {
    assert.equal(msUntilStalled(0, 300), 300);
    assert.equal(msUntilStalled(200, 300), 100);
    assert.equal(msUntilStalled(300, 300), 0);
    assert.equal(msUntilStalled(1_000, 300), 0);
  });
});
