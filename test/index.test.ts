/**
 * The root entry point as a user sees it: what it exports (every documented error, one way to read
 * defaults, no internal hook), and what it costs to import (no Redis client, no ws until a service
 * asks for WebSocket).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import * as errors from '../src/core/errors.js';
import * as root from '../src/index.js';
import { loadedPackagesScript, parseLoadedPackages } from './helpers/loaded-packages.js';
import { REPO_ROOT } from './helpers/protos.js';

const INDEX_URL = new URL('../src/index.js', import.meta.url).href;
const CLUSTER_URL = new URL('../src/cluster/index.js', import.meta.url).href;

/** Runs `body` (see loadedPackagesScript) in a fresh Node process in the repository; returns its stdout. */
function run(body: string): string {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', loadedPackagesScript(body)], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

describe("the root entry point, 'gamewire'", () => {
  it('exports every error class of core/errors.ts, WebSocketProtocolError included', () => {
    const exported = new Set(Object.values(root));
    const missing = Object.entries(errors)
      .filter(([, value]) => typeof value === 'function' && (value === errors.GamewireError || value.prototype instanceof errors.GamewireError))
      .filter(([, value]) => !exported.has(value))
      .map(([name]) => name);
    assert.deepEqual(missing, []);
    assert.equal(root.WebSocketProtocolError, errors.WebSocketProtocolError);
  });

  it('has one way to read a default: the frozen DEFAULTS, and no DEFAULT_* constant', () => {
    assert.deepEqual(Object.keys(root).filter((name) => name.startsWith('DEFAULT_')), []);
    assert.ok(Object.isFrozen(root.DEFAULTS));
    assert.equal(root.DEFAULTS.wsPath, '/ws');
    assert.equal(root.DEFAULTS.wsMaxMessageBytes, 262_144);
  });

  it('keeps the listener machinery internal: ServerService has no addListener', () => {
    assert.equal('addListener' in root.ServerService.prototype, false);
  });

  it('loads neither ioredis nor ws; protobufjs (the typed messages) is all it loads', () => {
    const packages = parseLoadedPackages(run(`await import(${JSON.stringify(INDEX_URL)});`));
    assert.ok(packages.includes('protobufjs'), packages.join(', '));
    for (const heavy of ['ioredis', 'ws', 'pino', 'prom-client', 'hdr-histogram-js']) {
      assert.equal(packages.includes(heavy), false, `import('gamewire') loaded ${heavy}: ${packages.join(', ')}`);
    }
  });

  it('loads ws when a service given `ws` starts or connects, not when it is made; a TCP-only one never', () => {
    const result = run(`
      const { ClientService, ServerService, Session } = await import(${JSON.stringify(INDEX_URL)});
      const sessionFactory = () => new Session();
      const tcp = new ServerService({ port: 0, sessionFactory });
      await tcp.start();
      const tcpClient = new ClientService({ port: tcp.port, sessionFactory });
      await tcpClient.start();
      await tcpClient.close();
      await tcp.close();
      const server = new ServerService({ port: 0, ws: { port: 0 }, sessionFactory });
      loaded('made');
      await server.start();
      loaded('started');
      const client = new ClientService({ port: server.wsPort, ws: {}, sessionFactory });
      await client.start();
      console.log('ws sessions', server.sessionCount, client.sessionCount);
      await client.close();
      await server.close();
    `);
    assert.equal(parseLoadedPackages(result, 'made').includes('ws'), false, 'made a TCP service, a TCP client and a ws service');
    assert.equal(parseLoadedPackages(result, 'started').includes('ws'), true);
    assert.match(result, /^ws sessions 1 1$/m);
  });
});

describe("the cluster entry point, 'gamewire/cluster'", () => {
  it('is where runWorkers, ClusterRoom and the Redis bus are, and the root has none of them', async () => {
    const cluster = (await import(CLUSTER_URL)) as Record<string, unknown>;
    for (const name of ['runWorkers', 'ClusterRoom', 'RoomDirectory', 'RedisRoomBus', 'RedisPresence', 'useIdBlock']) {
      assert.equal(typeof cluster[name], 'function', name);
      assert.equal(name in root, false, `the root exports ${name}`);
    }
  });
});
