// The reference: a minimal node:net echo server holding connections, nothing else.
import { createServer } from 'node:net';

const server = createServer({ noDelay: true }, (socket) => {
  socket.on('data', (chunk) => socket.write(chunk));
  socket.on('error', () => {});
});
server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
  console.log(`listening on 127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
