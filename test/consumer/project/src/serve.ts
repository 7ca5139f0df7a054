// The arena server as a program: prints its address when ready, closes on SIGTERM or SIGINT.
import { startArena } from './arena.js';

const { service, arena } = await startArena(Number(process.argv[2] ?? '0'));
console.log(`arena listening on 127.0.0.1:${service.port}`);
const stop = (): void => {
  void service.close().then(() => arena.close());
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
