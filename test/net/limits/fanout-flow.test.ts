/** The fan-out flow-control policy on its own, without sockets: who holds whom, and who is cut off. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cutsOffOverCap, FanoutFlow, msUntilStalled, type FlowParty } from '../../../src/net/limits/fanout-flow.js';
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

describe('cutsOffOverCap and msUntilStalled', () => {
  it('bytes nothing can slow down (timers, ticks) cut off at the cap at once', () => {
    assert.equal(cutsOffOverCap(false, 0, 5_000), true);
  });

  it('bytes from paced input cut off only a member that made no progress for stallTimeoutMs', () => {
    assert.equal(cutsOffOverCap(true, 0, 5_000), false);
    assert.equal(cutsOffOverCap(true, 4_999, 5_000), false);
    assert.equal(cutsOffOverCap(true, 5_000, 5_000), true);
  });

  it('a member is stalled once stallTimeoutMs passed without progress; before, the rest is returned', () => {
    assert.equal(msUntilStalled(0, 300), 300);
    assert.equal(msUntilStalled(200, 300), 100);
    assert.equal(msUntilStalled(300, 300), 0);
    assert.equal(msUntilStalled(1_000, 300), 0);
  });
});
