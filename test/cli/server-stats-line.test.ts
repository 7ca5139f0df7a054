import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localStatsSource, ServerStatsLine } from '../../src/cli/server-stats-line.js';
import { EchoSession } from '../../src/samples/echo-session.js';
import { packet } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer } from '../helpers/services.js';
import { cleanupAfter, Condition } from '../helpers/wait.js';

describe('ServerStatsLine', () => {
  it('on a TTY rewrites one line in place with sessions, packets/s each way and the last interval\'s causes', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service } = await startServer(cleanup, () => new EchoSession(), { maxSessionCount: 1 });
    const writes: string[] = [];
    const changed = new Condition();
    const out = {
      isTTY: true,
      write(text: string): boolean {
        writes.push(text);
        changed.notify();
        return true;
      },
    };
    const line = new ServerStatsLine(localStatsSource([service]), out, 50);
    cleanup.add(() => line.stop());
    const written = (pattern: RegExp, label: string): Promise<void> =>
      changed.until(() => writes.some((text) => pattern.test(text)), label);

    const client = await RawClient.connect(service.port, { cleanup });
    await client.roundTrip(packet(1, 'hello'));
    await written(/^\x1b\[K\[stats\] sessions 1 \| in [1-9]\d* pkt\/s \| out [1-9]\d* pkt\/s \| refused 0 \| disconnects 0\r$/, 'a line with traffic');
    const second = await RawClient.connect(service.port, { cleanup });
    await second.waitForClose();
    await written(/refused 1 \|/, 'the refusal past maxSessionCount');
    client.end();
    await written(/sessions 0 .*\| disconnects PEER_CLOSED 1\r$/, 'the disconnect by cause');
    await written(/sessions 0 \| in 0 pkt\/s \| out 0 pkt\/s \| refused 0 \| disconnects 0\r$/, 'a quiet interval after it');
    line.stop();
    assert.equal(writes.at(-1), '\x1b[K', 'stop clears the line');
  });
});
