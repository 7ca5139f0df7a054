import { Counter, Gauge, type Registry } from 'prom-client';
import type { ResumeRefusal } from '../core/resume/resume-wire.js';
import type { ResumeCountersView } from '../net/resume/resume-registry.js';
import type { Service } from '../net/service.js';
import type { Session } from '../net/session.js';

const REFUSALS: readonly ResumeRefusal[] = ['UNKNOWN_SESSION', 'BAD_POSITION', 'RETRY_LATER', 'NOT_HERE', 'UNSUPPORTED'];

/** The resume counts of every service given `resume` (ServerService), summed; undefined when none has it. */
function resumeTotals(services: Iterable<Service<Session>>): ResumeCountersView | undefined {
  let total: (ResumeCountersView & { refused: Record<ResumeRefusal, number> }) | undefined;
  for (const service of services) {
    const view = (service as { readonly resumeCounters?: ResumeCountersView }).resumeCounters;
    if (view === undefined) continue;
    if (total === undefined) {
      total = { ...view, refused: { ...view.refused } };
      continue;
    }
    total = {
      suspended: total.suspended + view.suspended,
      resumed: total.resumed + view.resumed,
      routed: total.routed + view.routed,
      expired: total.expired + view.expired,
      refused: total.refused,
      replayedPackets: total.replayedPackets + view.replayedPackets,
      replayedBytes: total.replayedBytes + view.replayedBytes,
      replayBufferBytes: total.replayBufferBytes + view.replayBufferBytes,
      resumableSessions: total.resumableSessions + view.resumableSessions,
    };
    for (const reason of REFUSALS) total.refused[reason] += view.refused[reason];
  }
  return total;
}

/**
 * The resume series (docs/metrics.md, docs/resume.md), read at scrape time from the counters of the
 * services given `resume`: one pass over their resumable sessions per scrape, nothing per packet.
 * A server without `resume` shows them at 0 (the labelled counter with no sample).
 */
export function registerResumeSeries(registry: Registry, services: () => Iterable<Service<Session>>): void {
  const registers = [registry];
  // One read per scrape: the first series collected reads, the others reuse it until the loop turns.
  let cached: ResumeCountersView | undefined;
  let fresh = false;
  const read = (): ResumeCountersView | undefined => {
    if (!fresh) {
      cached = resumeTotals(services());
      fresh = true;
      setImmediate(() => (fresh = false)).unref();
    }
    return cached;
  };
  const gauge = (name: string, help: string, value: (view: ResumeCountersView) => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const view = read();
        if (view !== undefined) this.set(value(view));
      },
    });
  };
  const counter = (name: string, help: string, value: (view: ResumeCountersView) => number): void => {
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        const view = read();
        if (view !== undefined) this.inc(value(view));
      },
    });
  };
  gauge('gamewire_resume_sessions', 'Resumable sessions now (connected or suspended).', (v) => v.resumableSessions);
  gauge('gamewire_resume_suspended_sessions', 'Resumable sessions suspended now: connection lost, client not back yet.', (v) => v.suspended);
  gauge('gamewire_resume_replay_buffer_bytes', 'Bytes held for resumable clients, sent and not acknowledged.', (v) => v.replayBufferBytes);
  new Counter({
    name: 'gamewire_resumes_total',
    help: 'Resumes by result: ok, expired (grace period over), refused (by reason), routed (handed to the worker that holds the session).',
    labelNames: ['result', 'reason'],
    registers,
    collect() {
      this.reset();
      const view = read();
      if (view === undefined) return;
      this.inc({ result: 'ok', reason: '' }, view.resumed);
      this.inc({ result: 'expired', reason: '' }, view.expired);
      this.inc({ result: 'routed', reason: '' }, view.routed);
      for (const reason of REFUSALS) this.inc({ result: 'refused', reason }, view.refused[reason]);
    },
  });
  counter('gamewire_resume_replayed_packets_total', 'Packets sent again to resumed clients.', (v) => v.replayedPackets);
  counter('gamewire_resume_replayed_bytes_total', 'Bytes sent again to resumed clients.', (v) => v.replayedBytes);
}
