import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter } from 'prom-client';
import { GamewireMetrics } from '../../src/metrics/gamewire-metrics.js';
import { Session } from '../../src/net/session.js';
import { PacketSession } from '../../src/packet/packet-session.js';
import { Room } from '../../src/room/room.js';
import { EchoSession } from '../../src/samples/echo-session.js';
import { packet } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { parseSamples, sampleKey, waitForSample } from '../helpers/scrape.js';
import { makeClient, startServer } from '../helpers/services.js';
import { cleanupAfter } from '../helpers/wait.js';

const tcp = { transport: 'tcp' };

function reader(metrics: GamewireMetrics): () => Promise<Map<string, number>> {
  return async () => parseSamples(await metrics.registry.metrics());
}

describe('GamewireMetrics', () => {
  it('reads sessions, traffic, refusals by reason and causes from the services at scrape time', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service } = await startServer(cleanup, () => new EchoSession(), { maxSessionCount: 3, maxSessionsPerAddress: 2 });
    const metrics = new GamewireMetrics({ services: [service], defaultMetrics: false });
    const read = reader(metrics);
    const before = await read();
    assert.equal(before.get(sampleKey('gamewire_sessions', tcp)), 0);
    assert.equal(before.get(sampleKey('gamewire_sessions_limit', tcp)), 3);
    assert.equal(before.get(sampleKey('gamewire_disconnects_total', { ...tcp, cause: 'PEER_CLOSED' })), 0, 'every cause starts at 0');

    const a = await RawClient.connect(service.port, { cleanup });
    const b = await RawClient.connect(service.port, { cleanup });
    await waitForSample(read, sampleKey('gamewire_sessions', tcp), (n) => n === 2);
    // Both from 127.0.0.1: a third is past maxSessionsPerAddress.
    const c = await RawClient.connect(service.port, { cleanup });
    await c.waitForClose();
    await waitForSample(read, sampleKey('gamewire_sessions_refused_total', { ...tcp, reason: 'per_address' }), (n) => n === 1);

    // 3 packets in one write: counted as 3 received and 3 sent although they go back in one send.
    const three = Buffer.concat([packet(1, 'x'), packet(2, 'yy'), packet(3, 'zzz')]);
    assert.equal((await a.roundTrip(three)).length, three.length);
    await b.roundTrip(packet(4, 'b'));
    const live = await read();
    assert.equal(live.get(sampleKey('gamewire_packets_received_total', tcp)), 4);
    assert.equal(live.get(sampleKey('gamewire_packets_sent_total', tcp)), 4);
    assert.equal(live.get(sampleKey('gamewire_bytes_received_total', tcp)), three.length + 5);
    assert.equal(live.get(sampleKey('gamewire_bytes_sent_total', tcp)), three.length + 5);
    assert.equal(live.get(sampleKey('gamewire_sessions_accepted_total', tcp)), 2);
    assert.equal(live.get(sampleKey('gamewire_send_queue_depth_bytes_count', tcp)), 2, 'one observation per live session');
    assert.equal(live.get(sampleKey('gamewire_send_queue_depth_bytes_bucket', { le: '0', ...tcp })), 2);

    a.end();
    await b.reset();
    await waitForSample(read, sampleKey('gamewire_sessions', tcp), (n) => n === 0);
    const after = await read();
    assert.equal(after.get(sampleKey('gamewire_disconnects_total', { ...tcp, cause: 'PEER_CLOSED' })), 1);
    assert.equal(after.get(sampleKey('gamewire_disconnects_total', { ...tcp, cause: 'CONNECTION_RESET' })), 1);
    // Closed sessions' traffic stays in the totals.
    assert.equal(after.get(sampleKey('gamewire_packets_received_total', tcp)), 4);
    assert.equal(after.get(sampleKey('gamewire_bytes_sent_total', tcp)), three.length + 5);
    assert.equal(after.get(sampleKey('gamewire_send_queue_depth_bytes_count', tcp)), 0);
  });

  it('counts a slow consumer cut off by maxSendQueueBytes as an eviction', async (t) => {
    const cleanup = cleanupAfter(t);
    class Flooder extends Session {
      protected override onConnected(): void {
        this.send(Buffer.alloc(4096));
      }
    }
    const { service } = await startServer(cleanup, () => new Flooder(), { sendHighWaterMark: 1024, maxSendQueueBytes: 1024 });
    const metrics = new GamewireMetrics({ services: [service], defaultMetrics: false });
    const client = await RawClient.connect(service.port, { cleanup });
    await client.waitForClose();
    const read = reader(metrics);
    await waitForSample(read, sampleKey('gamewire_evictions_total', { ...tcp, cause: 'SEND_QUEUE_OVERFLOW' }), (n) => n === 1);
    const samples = await read();
    assert.equal(samples.get(sampleKey('gamewire_disconnects_total', { ...tcp, cause: 'SEND_QUEUE_OVERFLOW' })), 1);
    assert.equal(samples.get(sampleKey('gamewire_bytes_sent_total', tcp)), 0, 'the refused send is not counted');
  });

  it("observes live sessions' heartbeat round trips, and counts rooms and their members", async (t) => {
    const cleanup = cleanupAfter(t);
    class Pinger extends PacketSession {
      protected override onRecvPacket(): void {}
    }
    class Quiet extends PacketSession {
      protected override onRecvPacket(): void {}
    }
    const { service, collector } = await startServer(cleanup, () => new Pinger(), { packet: { heartbeatIntervalMs: 10 } });
    const room = new Room<Pinger>();
    cleanup.add(() => room.close());
    const metrics = new GamewireMetrics({ services: [service], rooms: [room], defaultMetrics: false });
    const { service: client } = makeClient(cleanup, () => new Quiet(), { port: service.port, maxSessionCount: 2 });
    await client.start();
    const read = reader(metrics);
    await waitForSample(read, sampleKey('gamewire_heartbeat_rtt_seconds_count', tcp), (n) => n === 2);
    const samples = await read();
    assert.equal(samples.get(sampleKey('gamewire_heartbeat_rtt_seconds_bucket', { le: '+Inf', ...tcp })), 2);
    assert.ok((samples.get(sampleKey('gamewire_heartbeat_rtt_seconds_sum', tcp)) ?? -1) >= 0);
    // Pings and pongs are packets too.
    assert.ok((samples.get(sampleKey('gamewire_packets_sent_total', tcp)) ?? 0) >= 2);
    assert.ok((samples.get(sampleKey('gamewire_packets_received_total', tcp)) ?? 0) >= 2);
    assert.equal(samples.get('gamewire_rooms'), 1);
    assert.equal(samples.get('gamewire_room_members'), 0);
    assert.ok(room.enter(await collector.nth(0)));
    assert.equal((await read()).get('gamewire_room_members'), 1);
  });

  it("lets game code add its own series to the same registry, beside prom-client's default Node metrics", async () => {
    const metrics = new GamewireMetrics();
    const logins = new Counter({ name: 'game_logins_total', help: 'Logins.', registers: [metrics.registry] });
    logins.inc(3);
    const samples = parseSamples(await metrics.registry.metrics());
    assert.equal(samples.get('game_logins_total'), 3);
    assert.ok(samples.has('nodejs_eventloop_lag_seconds'), 'default metrics are registered');
    assert.ok(samples.has('process_cpu_user_seconds_total'));
    assert.ok(samples.has('gamewire_rooms'));
  });
});
