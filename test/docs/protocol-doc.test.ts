/**
 * docs/protocol.md is all a third-party client has: its id table must list every message of
 * proto/protocol.proto with its id and direction, and its conversation section must say when each
 * message is sent.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { PacketId } from '../../src/samples/protocol/packets.js';

const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');

it("docs/protocol.md's id table lists every message of the .proto, with its id and direction", () => {
  const rows = new Map<string, { id: number; direction: string }>();
  for (const match of doc.matchAll(/^\| (\d+) \| `([CS]_[A-Z_]+)` \| (client → server|server → client) \|$/gm)) {
    rows.set(match[2] as string, { id: Number(match[1]), direction: match[3] as string });
  }
  const expected = new Map(
    Object.entries(PacketId).map(([name, id]) => [name, { id, direction: name.startsWith('C_') ? 'client → server' : 'server → client' }]),
  );
  assert.deepEqual(rows, expected);
});

it("docs/protocol.md's conversation section says when each message is sent", () => {
  const section = /## The sample game's conversation\n([\s\S]*?)\n## /.exec(doc)?.[1];
  assert.ok(section !== undefined, 'the conversation section');
  const missing = Object.keys(PacketId).filter((name) => !section.includes(`\`${name} `) && !section.includes(`\`${name}\``));
  assert.deepEqual(missing, []);
});
