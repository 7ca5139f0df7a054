import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { zeroResilienceCounts, type WorkerSnapshot } from '../../../src/loadtest/harness/ipc-messages.js';
import { encodeLatency, newLatencyHistogram, recordLatency, type EncodedLatency } from '../../../src/loadtest/harness/latency-histogram.js';
import { errorCount, RunAggregator } from '../../../src/loadtest/harness/run-aggregator.js';
import { planWorkers, resolveLoadTestConfig } from '../../../src/loadtest/harness/load-test-config.js';
import { echoBot } from '../../../src/loadtest/bots/echo-bot.js';

function histogramOf(values: readonly number[]): EncodedLatency {
  const histogram = newLatencyHistogram();
  for (const value of values) recordLatency(histogram, value);
  const encoded = encodeLatency(histogram);
  histogram.destroy();
  return encoded;
}

function snapshot(seq: number, fields: Partial<WorkerSnapshot> = {}): WorkerSnapshot {
  return {
    seq,
    endMs: seq * 1000,
    durationMs: 1000,
    connects: 0,
    connectFailures: {},
    reconnects: 0,
    disconnects: {},
    unexpectedDisconnects: {},
    packetsSent: 0,
    packetsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    requests: 0,
    roundTrips: 0,
    unanswered: 0,
    counters: {},
    latency: histogramOf([]),
    sessions: 0,
    connecting: 0,
    inFlight: 0,
    ...zeroResilienceCounts(),
    ...fields,
  };
}

describe('RunAggregator', () => {
  it('keeps time going forward when a worker that started later ends an earlier second after a later one', () => {
    const aggregator = new RunAggregator(2);
    try {
      aggregator.add(0, snapshot(1, { endMs: 1000 }));
      aggregator.add(1, snapshot(1, { endMs: 1000 }));
      aggregator.add(1, snapshot(2, { endMs: 2100 })); // started 100 ms after worker 0
      aggregator.add(0, snapshot(2, { endMs: 2000 }));
      aggregator.add(0, snapshot(3, { endMs: 2050, durationMs: 50 })); // worker 0's short last interval
      aggregator.finishWorker(0);
      aggregator.finishWorker(1);
      aggregator.flush();
      assert.deepEqual(aggregator.series.map((point) => point.t), [1, 2.1, 2.1]);
    } finally {
      aggregator.destroy();
    }
  });

  it('releases a second once every worker reported it, adding their counts, gauges and histograms', () => {
    const aggregator = new RunAggregator(2);
    try {
      assert.deepEqual(
        aggregator.add(0, snapshot(1, { packetsSent: 10, sessions: 5, counters: { hits: 2 }, latency: histogramOf([100, 200]) })),
        [],
      );
      assert.deepEqual(aggregator.add(0, snapshot(2, { packetsSent: 7, sessions: 5 })), [], 'worker 1 has not reported second 1');
      const first = aggregator.add(1, snapshot(1, { packetsSent: 4, sessions: 3, endMs: 1010, counters: { hits: 1, misses: 1 }, latency: histogramOf([300]) }));
      assert.equal(first.length, 1);
      const point = first[0];
      assert.ok(point !== undefined);
      assert.equal(point.seq, 1);
      assert.equal(point.t, 1.01);
      assert.equal(point.packetsSent, 14);
      assert.equal(point.sessions, 8);
      assert.deepEqual(point.counters, { hits: 3, misses: 1 });
      assert.equal(point.latency.count, 3);
      assert.equal(point.latency.p50, 200);
      assert.equal(point.latency.max, 300);

      // Worker 1 finishes without a second 2: second 2 is released with worker 0's part only.
      const second = aggregator.finishWorker(1);
      assert.deepEqual(second.map((p) => [p.seq, p.packetsSent, p.sessions]), [[2, 7, 5]]);
      assert.equal(aggregator.totals.packetsSent, 21);
      assert.equal(aggregator.totals.peakSessions, 8);
      assert.equal(aggregator.latency.summary().count, 3);
      assert.deepEqual(aggregator.series.map((p) => p.seq), [1, 2]);
    } finally {
      aggregator.destroy();
    }
  });

  it('adds connect failures, disconnects and unexpected disconnects by code; errors are their sum with unanswered and failed workers', () => {
    const aggregator = new RunAggregator(2);
    try {
      aggregator.add(0, snapshot(1, {
        connectFailures: { ECONNREFUSED: 2 },
        disconnects: { PEER_CLOSED: 1, SERVICE_CLOSING: 3 },
        unexpectedDisconnects: { PEER_CLOSED: 1 },
        unanswered: 1,
      }));
      const points = aggregator.add(1, snapshot(1, {
        connectFailures: { ECONNREFUSED: 1, GW_ERR_CONNECT_TIMEOUT: 1 },
        disconnects: { SERVICE_CLOSING: 2 },
      }));
      assert.equal(points[0]?.connectFailures, 4);
      assert.equal(points[0]?.disconnects, 6);
      assert.equal(points[0]?.unexpectedDisconnects, 1);
      const totals = aggregator.totals;
      assert.deepEqual(totals.connectFailuresByCode, { ECONNREFUSED: 3, GW_ERR_CONNECT_TIMEOUT: 1 });
      assert.equal(totals.connectFailures, 4);
      assert.deepEqual(totals.disconnectsByCause, { PEER_CLOSED: 1, SERVICE_CLOSING: 5 });
      assert.equal(totals.unexpectedDisconnects, 1);
      totals.workerFailures = 1;
      assert.equal(errorCount(totals), 4 + 1 + 1 + 1);
      assert.deepEqual(aggregator.flush(), []);
    } finally {
      aggregator.destroy();
    }
  });

  it('flush() releases what is pending when a worker never finished', () => {
    const aggregator = new RunAggregator(2);
    try {
      aggregator.add(0, snapshot(1, { packetsReceived: 3 }));
      aggregator.add(0, snapshot(2, { packetsReceived: 4 }));
      assert.deepEqual(aggregator.flush().map((p) => p.packetsReceived), [3, 4]);
    } finally {
      aggregator.destroy();
    }
  });
});

describe('planWorkers', () => {
  it('splits sessions evenly (the first workers get the remainder) and the ramp in proportion', () => {
    const config = resolveLoadTestConfig({ port: 7777, sessions: 2001, workers: 2, rampPerSecond: 500 }, echoBot);
    const plans = planWorkers(config, 'echo');
    assert.deepEqual(plans.map((p) => p.sessions), [1001, 1000]);
    assert.equal(plans.reduce((sum, p) => sum + p.rampPerSecond, 0), 500);
    assert.deepEqual(plans.map((p) => p.workerIndex), [0, 1]);
    assert.equal(config.botOptions.intervalMs, 100, "the echo bot's own default interval");
  });

  it('never runs more workers than sessions, and rejects options out of range', () => {
    assert.equal(resolveLoadTestConfig({ port: 1, sessions: 3, workers: 8 }, echoBot).workers, 3);
    assert.throws(() => resolveLoadTestConfig({ port: 1, sessions: 0 }, echoBot), /sessions/);
    assert.throws(() => resolveLoadTestConfig({ port: 70000 }, echoBot), /port/);
    assert.throws(() => resolveLoadTestConfig({ port: 1, rampPerSecond: -1 }, echoBot), /rampPerSecond/);
  });
});
