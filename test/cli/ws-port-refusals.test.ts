/**
 * Refused WebSocket upgrades, from a client that never closes its side: a wrong path (404), a full
 * server (503) and a browser page from another origin (403) are answered and the server lets go of
 * the socket at once (its descriptor is closed, whatever the client does), and each is counted and
 * warned about with the option to change.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { fdCount, startUnderUlimit } from '../helpers/flood.js';
import { WebSocket } from 'ws';
import { Condition, cleanupAfter, waitForEvent, type Cleanup } from '../helpers/wait.js';

const PER_KIND = 300;
const ADDRESSES = 100;
/** Upgrade requests at once: within --max-pending-handshakes, so none is pushed out before it is read. */
const BATCH = 50;

/** A raw upgrade request that keeps its side open after the answer (allowHalfOpen) and never closes. */
class HeldUpgrade {
  response = '';
  ended = false;
  closed = false;
  readonly socket: Socket;

  constructor(port: number, path: string, localAddress: string, changed: Condition, origin?: string) {
    this.socket = connect({ host: '127.0.0.1', port, localAddress, allowHalfOpen: true });
    this.socket.on('connect', () => {
      this.socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
          `${origin === undefined ? '' : `Origin: ${origin}\r\n`}\r\n`,
      );
    });
    this.socket.on('data', (chunk: Buffer) => {
      this.response += chunk.toString('latin1');
      changed.notify();
    });
    this.socket.on('end', () => {
      this.ended = true;
      changed.notify();
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
      changed.notify();
    });
  }

  get status(): number {
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(this.response)?.[1] ?? 0);
  }
}

/** Opens PER_KIND upgrade requests in batches within the server's pending budget; resolves once each is answered or closed. */
async function hold(cleanup: Cleanup, port: number, path: string, changed: Condition, origin?: string): Promise<HeldUpgrade[]> {
  const held: HeldUpgrade[] = [];
  cleanup.add(() => held.forEach((h) => h.socket.destroy()));
  while (held.length < PER_KIND) {
    for (let i = 0; i < BATCH; i++) held.push(new HeldUpgrade(port, path, `127.0.1.${1 + (held.length % ADDRESSES)}`, changed, origin));
    await changed.until(() => held.every((h) => h.ended || h.closed), `${path} upgrades to be answered`, 20_000);
  }
  return held;
}

describe('refused WebSocket upgrades', () => {
  it(`${PER_KIND} each to a wrong path, while full and from another origin, held open by the client: answered, no descriptor kept, counted and warned`, async (t) => {
    if (process.platform !== 'linux') return t.skip('needs /proc and 127.0.0.0/8 source addresses (Linux)');
    const cleanup = cleanupAfter(t);
    const { cli, pid, wsPort } = await startUnderUlimit(cleanup, 4096, ['--ws-port', '0', '--max-sessions', '1', '--max-pending-handshakes', '64']);
    assert.ok(wsPort !== undefined, cli.output());
    const player = new WebSocket(`ws://127.0.0.1:${wsPort}/ws`);
    cleanup.add(() => player.terminate());
    await waitForEvent(player, 'open');
    const baseFds = fdCount(pid);
    const changed = new Condition();
    let maxFds = baseFds;
    const kinds: Array<[string, HeldUpgrade[], number]> = [];
    for (const [name, path, origin, status] of [
      ['wrong path', '/elsewhere', undefined, 404],
      ['full', '/ws', undefined, 503],
      ['other origin', '/ws', 'https://evil.example', 403],
    ] as const) {
      const held = await hold(cleanup, wsPort, path, changed, origin);
      maxFds = Math.max(maxFds, fdCount(pid));
      kinds.push([name, held, status]);
    }
    const fds = fdCount(pid);
    const summary = kinds
      .map(([name, held, status]) => `${name}: ${held.filter((h) => h.status === status).length}/${PER_KIND} answered ${status}, ${held.filter((h) => h.ended).length} got the server's FIN`)
      .join('; ');
    t.diagnostic(`${summary}; server fds ${baseFds} before, ${fds} after (max ${maxFds} while answering), client sockets still open: ${kinds.reduce((n, [, held]) => n + held.filter((h) => !h.closed).length, 0)}`);
    for (const [name, held, status] of kinds) {
      assert.equal(held.filter((h) => h.status === status).length, PER_KIND, `${name}: every upgrade answered ${status}`);
    }
    assert.ok(fds <= baseFds + 2, `the server keeps no descriptor of the ${3 * PER_KIND} refused upgrades: ${baseFds} -> ${fds}`);
    for (const pattern of [
      /"level":40.*refusing connections: a WebSocket upgrade to another path.*ws\.path/,
      /"level":40.*refusing connections: at maxSessionCount.*--max-sessions/,
      /"level":40.*refusing connections: a WebSocket upgrade from an origin not allowed.*--ws-allowed-origins/,
    ]) {
      assert.ok(cli.stdoutLines.some((line) => pattern.test(line)), `a warning matching ${pattern}\n${cli.output()}`);
    }
    player.terminate();
    cli.child.kill('SIGTERM');
    assert.equal(await cli.waitForExit(15_000), 0, cli.output());
    const closed = cli.stdoutLines.find((line) => line.includes('"msg":"closed"')) ?? '';
    assert.equal(Number(/"refused":(\d+)/.exec(closed)?.[1]), 3 * PER_KIND, closed);
  });
});
