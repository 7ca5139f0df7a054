// A client written from docs/protocol.md and proto/protocol.proto alone: Node's `net` and the
// protobufjs library, no gamewire code. It logs in, enters the game, chats, and waits for its chat
// to come back from the room. With --idle-ms it then only listens that long (answering the server's
// heartbeat pings, which is all that keeps it connected) and chats once more before it leaves.
//   node examples/interop/raw-client.mjs [--host 127.0.0.1] [--port 7777] [--message "hi"] [--idle-ms 0]
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import protobuf from 'protobufjs';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '7777' },
    message: { type: 'string', default: 'hello from a client without gamewire' },
    'idle-ms': { type: 'string', default: '0' },
  },
});
const idleMs = Number(values['idle-ms']);
// Heartbeat packets (docs/protocol.md, "Heartbeats and keepalive"): not messages of the .proto.
const PING = 65534;
const PONG = 65535;
const root = protobuf.loadSync(fileURLToPath(new URL('../../proto/protocol.proto', import.meta.url)));
const MsgId = root.lookupEnum('protocol.MsgId').values;
const typeOf = new Map(); // id -> protobuf Type
for (const [valueName, id] of Object.entries(MsgId)) {
  if (id !== 0) typeOf.set(id, root.lookupType(`protocol.${valueName.slice(3)}`));
}

const socket = net.connect({ host: values.host, port: Number(values.port) });
const timeout = setTimeout(() => fail(`no answer within ${5 + idleMs / 1000} s`), 5000 + idleMs);

let idleTimer;
function fail(why) {
  console.error(`raw-client: ${why}`);
  process.exitCode = 1;
  socket.destroy();
  clearTimeout(timeout);
  clearTimeout(idleTimer);
}

function writePacket(id, body) {
  const header = Buffer.alloc(4);
  header.writeUInt16LE(4 + body.length, 0); // size: the whole packet, header included
  header.writeUInt16LE(id, 2);
  socket.write(Buffer.concat([header, body]));
}

function send(name, fields) {
  const type = root.lookupType(`protocol.${name}`);
  writePacket(MsgId[`ID_${name}`], type.encode(type.create(fields)).finish());
  console.log(`-> ${name} ${JSON.stringify(fields)}`);
}

let me;
let chatsBack = 0;
let pingsAnswered = 0;
function onPacket(id, body) {
  // Heartbeats first: a ping is answered with its own body, and neither is a message to look up.
  if (id === PING) {
    writePacket(PONG, body);
    pingsAnswered++;
    return;
  }
  if (id === PONG) return;
  const type = typeOf.get(id);
  if (type === undefined) return fail(`unknown packet id ${id}`);
  const message = type.toObject(type.decode(body), { defaults: true });
  console.log(`<- ${type.name} ${JSON.stringify(message)}`);
  if (type.name === 'S_LOGIN') {
    if (!message.success || message.players.length === 0) return fail('login refused');
    send('C_ENTER_GAME', { playerIndex: 0 });
  } else if (type.name === 'S_ENTER_GAME') {
    if (!message.success) return fail('enter game refused');
    me = message.player.id;
    send('C_CHAT', { msg: values.message, sentAtMs: Date.now() });
  } else if (type.name === 'S_CHAT' && message.playerId === me && message.msg === values.message) {
    chatsBack++;
    if (chatsBack === 1 && idleMs > 0) {
      console.log(`raw-client: listening only, for ${idleMs} ms`);
      idleTimer = setTimeout(() => send('C_CHAT', { msg: values.message, sentAtMs: Date.now() }), idleMs);
      return;
    }
    if (idleMs > 0) console.log(`raw-client: still connected after ${idleMs} ms of listening; answered ${pingsAnswered} pings`);
    console.log('raw-client: logged in, entered the game, and chatted: OK');
    clearTimeout(timeout);
    socket.end();
  }
}

let pending = Buffer.alloc(0);
socket.on('data', (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  while (pending.length >= 4) {
    const size = pending.readUInt16LE(0);
    if (size < 4) return fail(`malformed header (size ${size})`);
    if (pending.length < size) break;
    onPacket(pending.readUInt16LE(2), pending.subarray(4, size));
    pending = pending.subarray(size);
  }
});
socket.on('connect', () => send('C_LOGIN', { account: 'interop', token: 'secret' }));
socket.on('error', (error) => fail(error.message));
socket.on('end', () => {
  if (chatsBack < (idleMs > 0 ? 2 : 1)) fail(`the server closed the connection (after ${pingsAnswered} pings answered)`);
});
