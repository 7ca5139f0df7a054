/**
 * gamewire's own WebSocket clients against chat-server --workers 2 --resume: a ClientService session
 * and a browser GameClient, cut by a proxy, reconnect by themselves with the route hint in their URL
 * (`?route=N`), so a reconnect that lands on the worker not holding the session is moved to the one
 * that does, before its upgrade, and resumes. Each is cut until a reconnect was handed over (the
 * workers take the port's connections in turn; a probe before the reconnect picks which).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { GameClient, type WebSocketConstructor } from '../../../src/client/index.js';
import type { DisconnectCause } from '../../../src/core/disconnect-cause.js';
import { PacketSession } from '../../../src/packet/packet-session.js';
import { CutProxy } from '../../helpers/cut-proxy.js';
import { pollUntil } from '../../helpers/limits.js';
import { probeRoute, routedCount, startWorkers, type WorkersServer } from '../../helpers/resume-workers.js';
import { makeClient } from '../../helpers/services.js';
import { cleanupAfter, type Cleanup } from '../../helpers/wait.js';

/** What both clients tell the test. */
interface Watched {
  readonly events: string[];
}

class Player extends PacketSession implements Watched {
  readonly events: string[] = [];
  protected override onConnectionLost(cause: DisconnectCause): void {
    this.events.push(`lost:${cause.code}`);
  }
  protected override onResumed(): void {
    this.events.push('resumed');
  }
  protected override onDisconnected(cause: DisconnectCause): void {
    this.events.push(`disconnected:${cause.code}`);
  }
}

class Game extends GameClient implements Watched {
  readonly events: string[] = [];
  protected override onConnectionLost(cause: { code: string }): void {
    this.events.push(`lost:${cause.code}`);
  }
  protected override onResumed(): void {
    this.events.push('resumed');
  }
  protected override onDisconnected(cause: { code: string }): void {
    this.events.push(`disconnected:${cause.code}`);
  }
}

/** Cuts `client` until one of its reconnects was handed to the other worker; every cut is resumed. */
async function cutUntilRouted(server: WorkersServer, proxy: CutProxy, client: Watched): Promise<number> {
  for (let cut = 0; cut < 6; cut++) {
    const before = await routedCount(server);
    const resumed = client.events.filter((e) => e === 'resumed').length;
    proxy.reset();
    await pollUntil(() => client.events.at(-1)?.startsWith('lost:') === true, 'the cut seen', 5000);
    // One probe, or two: the reconnect after them lands on one worker, then on the other.
    for (let i = 0; i <= cut % 2; i++) await probeRoute({ ws: server.ws });
    await pollUntil(() => client.events.filter((e) => e === 'resumed').length === resumed + 1, `resumed after cut ${cut}: ${client.events.join(' ')}`, 5000);
    if ((await routedCount(server)) > before) return cut + 1;
  }
  throw new Error('no reconnect was handed over');
}

describe("gamewire's WebSocket clients resume across workers", () => {
  let server: WorkersServer;
  const start = async (cleanup: Cleanup): Promise<CutProxy> => {
    server = await startWorkers(cleanup);
    return CutProxy.start(server.ws, cleanup);
  };
  // The first delay is 150..300 ms: the probes run in it.
  const resume = { reconnectDelayMs: 300, maxReconnectDelayMs: 600 };

  it('ClientService (ws): its reconnect names its route and is moved to the worker holding the session', async (t) => {
    const cleanup = cleanupAfter(t);
    const proxy = await start(cleanup);
    const client = makeClient(cleanup, () => new Player(), { port: proxy.port, ws: {}, resume });
    const player = await client.service.connect();
    await pollUntil(() => player.resumable, 'WELCOME');
    const cuts = await cutUntilRouted(server, proxy, player);
    assert.ok(!player.events.some((e) => e.startsWith('disconnected')), player.events.join(' '));
    assert.equal(player.events.filter((e) => e === 'resumed').length, cuts);
  });

  it('GameClient: its reconnect names its route and is moved to the worker holding the session', async (t) => {
    const cleanup = cleanupAfter(t);
    const proxy = await start(cleanup);
    const game = new Game(`ws://127.0.0.1:${proxy.port}/ws`, { WebSocket: WebSocket as unknown as WebSocketConstructor, resume });
    cleanup.add(() => game.disconnect());
    await pollUntil(() => game.resumable, 'WELCOME');
    const cuts = await cutUntilRouted(server, proxy, game);
    assert.ok(!game.events.some((e) => e.startsWith('disconnected')), game.events.join(' '));
    assert.equal(game.events.filter((e) => e === 'resumed').length, cuts);
  });
});
