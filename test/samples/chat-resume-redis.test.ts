/**
 * Two chat servers sharing a Redis (two machines of one deployment), with --resume: a resume that
 * reaches the other server is refused NOT_HERE, saying it crosses servers, and the client logs in
 * there as a new session; each server's tokens carry its own number, given by Redis, so they cannot
 * be confused; the session still resumes on its own server.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { RedisServer, redisSkip } from '../helpers/redis-server.js';
import { ResumePeer } from '../helpers/resume-peer.js';
import { Cleanup } from '../helpers/wait.js';

describe('chat-server --redis --resume: a resume does not cross servers', { skip: redisSkip() }, () => {
  it("a token of server A is refused NOT_HERE at server B (one process or workers), then logs in there; A resumes it", async () => {
    const cleanup = new Cleanup();
    try {
      const redis = await RedisServer.start(cleanup);
      const start = async (extra: readonly string[]): Promise<number> => {
        const cli = runCli(cleanup, ['chat-server', '--port', '0', '--resume', '--redis', redis.url, ...extra]);
        return (JSON.parse(await cli.waitForLine(/listening on/, 20_000)) as { port: number }).port;
      };
      const a = await start([]);
      const b = await start(['--workers', '2']);
      const peer = new ResumePeer(cleanup);
      await peer.open({ tcp: a });
      await peer.welcomed();
      const token = peer.token as Buffer;
      assert.equal(token.readUInt16LE(0), 0, 'a server of one process has route 0');
      const other = new ResumePeer(cleanup);
      await other.open({ tcp: b });
      await other.welcomed();
      const serverA = token.readUInt16LE(2);
      const serverB = (other.token as Buffer).readUInt16LE(2);
      assert.notEqual(serverA, serverB, 'two servers of one Redis have different numbers in their tokens');
      assert.ok(serverA >= 1 && serverB >= 1);
      other.bye_();
      peer.drop();
      // Whichever worker of B reads it, the same answer.
      for (let i = 0; i < 2; i++) {
        assert.equal(await peer.resume({ tcp: b }), 'REFUSED');
        assert.equal(peer.refusal?.reason, 'NOT_HERE');
        assert.match(peer.refusal?.text ?? '', /another server/);
      }
      // The client's fallback: a fresh session at B.
      const fresh = new ResumePeer(cleanup);
      await fresh.open({ tcp: b });
      await fresh.welcomed();
      fresh.bye_();
      // Its own server still has the session.
      assert.equal(await peer.resume({ tcp: a }), 'RESUMED', JSON.stringify(peer.refusal));
      peer.bye_();
    } finally {
      await cleanup.run();
    }
  });
});
