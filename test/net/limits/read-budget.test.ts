/** The per-turn read budget on its own, without sockets. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReadBudget, resumeNextTurn, type BudgetReader } from '../../../src/net/limits/read-budget.js';
import { kBudgetResume } from '../../../src/net/symbols.js';

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

class Reader implements BudgetReader {
  resumed = 0;
  constructor(readonly log: Reader[]) {}
  [kBudgetResume](): void {
    this.resumed++;
    this.log.push(this);
  }
}

describe('ReadBudget', () => {
  it('is used up once a turn has read `limit` bytes, and starts over after the turn ends', async () => {
    const budget = new ReadBudget(1000);
    const reader = new Reader([]);
    assert.equal(budget.charge(400), false);
    assert.equal(budget.charge(599), false);
    assert.equal(budget.charge(1), true, '1000 bytes this turn');
    resumeNextTurn(reader);
    await nextTurn();
    assert.equal(reader.resumed, 1);
    assert.equal(budget.charge(999), false, 'a new turn counts from zero');
  });

  it('bytes of earlier turns do not count: 50 turns of 999 bytes never use up a 1000-byte budget', async () => {
    const budget = new ReadBudget(1000);
    for (let i = 0; i < 50; i++) {
      assert.equal(budget.charge(999), false, `turn ${i}`);
      await nextTurn();
    }
  });

  it('one read larger than the budget uses it up at once', () => {
    assert.equal(new ReadBudget(64 * 1024).charge(64 * 1024), true);
  });

  it('limit 0 is unlimited', () => {
    const budget = new ReadBudget(0);
    for (let i = 0; i < 100; i++) assert.equal(budget.charge(1 << 20), false);
  });

  it('paused readers resume together in the next turn, in the order they used their budget', async () => {
    const log: Reader[] = [];
    const readers = [new Reader(log), new Reader(log), new Reader(log)];
    resumeNextTurn(readers[2] as Reader);
    resumeNextTurn(readers[0] as Reader);
    resumeNextTurn(readers[1] as Reader);
    assert.equal(log.length, 0, 'not in this turn');
    await nextTurn();
    assert.deepEqual(log, [readers[2], readers[0], readers[1]]);
  });

  it('a reader paused again while the others resume waits for the turn after', async () => {
    const log: Reader[] = [];
    const again = new (class extends Reader {
      override [kBudgetResume](): void {
        super[kBudgetResume]();
        if (this.resumed === 1) resumeNextTurn(this);
      }
    })(log);
    resumeNextTurn(again);
    await nextTurn();
    assert.equal(again.resumed, 1);
    await nextTurn();
    assert.equal(again.resumed, 2);
  });
});
