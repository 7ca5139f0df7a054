// The hand-written baseline for WebSocket echo: the least a Node programmer would write with `ws`:
// every binary message goes straight back. No framing, no limits, no batching.
//   node bench/ref-ws-server.mjs --port 9100
import { WebSocketServer } from 'ws';

const at = process.argv.indexOf('--port');
const port = at > 0 ? Number(process.argv[at + 1]) : 9100;
const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false, clientTracking: false });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
wss.on('listening', () => console.log(`ref-ws listening on 127.0.0.1:${wss.address().port}`));
const stop = () => wss.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
