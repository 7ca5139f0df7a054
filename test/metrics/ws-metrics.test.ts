import assert from 'node:assert/strict';
import { it } from 'node:test';
import { WebSocket } from 'ws';
import { GamewireMetrics } from '../../src/metrics/gamewire-metrics.js';
import { packet } from '../helpers/packets.js';
import { PacketRecorder } from '../helpers/packet-recorder.js';
import { RawClient } from '../helpers/raw-client.js';
import { parseSamples, sampleKey, waitForSample } from '../helpers/scrape.js';
import { startServer } from '../helpers/services.js';
import { cleanupAfter, waitForEvent } from '../helpers/wait.js';

it('one service on TCP and WebSocket: every session, packet and byte series is split by transport', async (t) => {
  const cleanup = cleanupAfter(t);
  const { service } = await startServer(cleanup, () => new PacketRecorder((s, id, body) => void s.sendPacket(id, body)), {
    ws: { port: 0 },
    maxSessionCount: 3,
  });
  const metrics = new GamewireMetrics({ services: [service], defaultMetrics: false });
  const read = async (): Promise<Map<string, number>> => parseSamples(await metrics.registry.metrics());
  const tcp = await RawClient.connect(service.port, { cleanup });
  const ws = new WebSocket(`ws://127.0.0.1:${service.wsPort}/ws`);
  cleanup.add(() => ws.terminate());
  await waitForEvent(ws, 'open');
  await waitForSample(read, sampleKey('gamewire_sessions', { transport: 'ws' }), (n) => n === 1);
  assert.equal((await read()).get(sampleKey('gamewire_sessions', { transport: 'tcp' })), 1);

  const echoed = waitForEvent(ws, 'message');
  ws.send(Buffer.concat([packet(1, 'a'), packet(2, 'b')]));
  await echoed;
  await tcp.roundTrip(packet(3, 'c'));
  const samples = await read();
  assert.equal(samples.get(sampleKey('gamewire_packets_received_total', { transport: 'ws' })), 2);
  assert.equal(samples.get(sampleKey('gamewire_packets_received_total', { transport: 'tcp' })), 1);
  assert.equal(samples.get(sampleKey('gamewire_sessions_accepted_total', { transport: 'ws' })), 1);

  ws.close();
  await waitForSample(read, sampleKey('gamewire_disconnects_total', { transport: 'ws', cause: 'PEER_CLOSED' }), (n) => n === 1);
  assert.equal((await read()).get(sampleKey('gamewire_sessions', { transport: 'ws' })), 0);
});
