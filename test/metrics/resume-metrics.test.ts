/** The resume series, read from a resume-enabled server while a client is cut, resumes, and later expires. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { GamewireMetrics } from '../../src/metrics/gamewire-metrics.js';
import { parseSamples, sampleKey, waitForSample } from '../helpers/scrape.js';
import { ResumePeer } from '../helpers/resume-peer.js';
import { startServer } from '../helpers/services.js';
import { cleanupAfter } from '../helpers/wait.js';
import { ResumeTestSession } from '../net/resume/resume-fixtures.js';

it('counts suspended sessions, resumes by result, replayed packets and bytes, and the bytes held', async (t) => {
  const cleanup = cleanupAfter(t);
  const { service, collector } = await startServer(cleanup, () => new ResumeTestSession(), { resume: { graceMs: 1000 } });
  const metrics = new GamewireMetrics({ services: [service], defaultMetrics: false });
  const read = async (): Promise<Map<string, number>> => parseSamples(await metrics.registry.metrics());
  const peer = new ResumePeer(cleanup);
  await peer.open({ tcp: service.port });
  await peer.welcomed();
  const session = await collector.nth(0);
  session.burst(10);
  await peer.until(() => peer.received.length === 10, '10 packets');
  assert.equal((await read()).get('gamewire_resume_replay_buffer_bytes'), 80, '10 packets of 8 bytes, not acknowledged');
  peer.drop();
  await waitForSample(read, 'gamewire_resume_suspended_sessions', (n) => n === 1);
  session.burst(5);
  assert.equal(await peer.resume({ tcp: service.port }), 'RESUMED');
  const resumed = await read();
  assert.equal(resumed.get('gamewire_resume_suspended_sessions'), 0);
  assert.equal(resumed.get(sampleKey('gamewire_resumes_total', { result: 'ok', reason: '' })), 1);
  assert.equal(resumed.get('gamewire_resume_replayed_packets_total'), 5);
  assert.equal(resumed.get('gamewire_resume_replayed_bytes_total'), 40);
  const forged = new ResumePeer(cleanup);
  // This server's number and route, a wrong secret (a token of another server would be NOT_HERE).
  const wrongSecret = Buffer.from(peer.token as Buffer);
  wrongSecret[23] = (wrongSecret[23] as number) ^ 1;
  await forged.resume({ tcp: service.port }, wrongSecret, 0);
  peer.drop();
  await waitForSample(read, sampleKey('gamewire_resumes_total', { result: 'expired', reason: '' }), (n) => n === 1, 5000);
  const end = await read();
  assert.equal(end.get(sampleKey('gamewire_resumes_total', { result: 'refused', reason: 'UNKNOWN_SESSION' })), 1);
  assert.equal(end.get('gamewire_resume_sessions'), 0);
  assert.equal(end.get('gamewire_resume_replay_buffer_bytes'), 0, 'nothing held once the session ended');
});
