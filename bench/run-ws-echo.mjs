// WebSocket echo: gamewire's echo-server over --ws-port against the hand-written `ws` server
// (bench/ref-ws-server.mjs), driven by the same generator (bench/ws-load.mjs). Server pinned to one
// core, load to another (taskset), as bench/run-netload.mjs does for TCP. Writes a ratio table.
//   node bench/run-ws-echo.mjs [--reps 2] [--duration 4] [--warmup 1] [--server-cpu 0] [--load-cpu 1]
//                              [--configs 'c100 p16 s32,c1000 p4 s64'] [--out ws-echo]
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const REPO = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : fallback;
};
const reps = Number(opt('reps', '2'));
const duration = opt('duration', '4');
const warmup = opt('warmup', '1');
const serverCpu = opt('server-cpu', '0');
const loadCpu = opt('load-cpu', '1');
const out = opt('out', 'ws-echo');
const configs = opt('configs', 'c100 p16 s32,c1000 p4 s64').split(',').map((text) => {
  const [c, p, s] = text.trim().split(/\s+/).map((part) => Number(part.slice(1)));
  return { name: text.trim(), c, p, s };
});

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

const SERVERS = {
  gamewire: async () => {
    const [tcp, ws] = [await freePort(), await freePort()];
    const main = path.join(REPO, 'dist', 'src', 'cli', 'main.js');
    return { command: [process.execPath, main, 'echo-server', '--port', String(tcp), '--ws-port', String(ws), '--no-stats'], ready: /websocket listening/, port: ws };
  },
  'ref-ws': async () => {
    const port = await freePort();
    return { command: [process.execPath, path.join(REPO, 'bench', 'ref-ws-server.mjs'), '--port', String(port)], ready: /ref-ws listening/, port };
  },
};

function startServer({ command, ready }) {
  const child = spawn('taskset', ['-c', serverCpu, ...command], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GAMEWIRE_LOG_FORMAT: 'json' } });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error(`server not ready: ${command.join(' ')}`)), 15_000);
    lines.on('line', (line) => {
      if (ready.test(line)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${command.join(' ')}`)));
  });
}

function runLoad(port, config) {
  const load = ['-c', loadCpu, process.execPath, path.join(REPO, 'bench', 'ws-load.mjs'), '--url', `ws://127.0.0.1:${port}/ws`,
    '-c', String(config.c), '-p', String(config.p), '-s', String(config.s), '--warmup', warmup, '--duration', duration];
  const child = spawn('taskset', load, { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  child.stdout.on('data', (chunk) => (text += chunk));
  return new Promise((resolve) => child.on('close', () => resolve(JSON.parse(text.trim().split('\n').pop()))));
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const results = {};
for (const config of configs) {
  for (const [name, make] of Object.entries(SERVERS)) {
    for (let rep = 0; rep < reps; rep++) {
      const spec = await make();
      const server = await startServer(spec);
      const result = await runLoad(spec.port, config);
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('close', resolve));
      (results[config.name] ??= {})[name] ??= [];
      results[config.name][name].push(result);
      console.log(`${config.name} ${name} rep ${rep + 1}: ${result.msgsPerSecond} msgs/s, ${result.errors} errors, ${result.open}/${config.c} open`);
    }
  }
}

const lines = [
  `# WebSocket echo (node ${process.version}, server on CPU ${serverCpu}, load on CPU ${loadCpu}, ${reps} reps x ${duration} s, medians)`,
  '',
  '| config | gamewire msgs/s | ref-ws msgs/s | gamewire / ref-ws | errors (gamewire, ref-ws) |',
  '| --- | --- | --- | --- | --- |',
];
for (const config of configs) {
  const row = results[config.name];
  const g = median(row.gamewire.map((r) => r.msgsPerSecond));
  const r = median(row['ref-ws'].map((x) => x.msgsPerSecond));
  const errors = (list) => list.reduce((sum, x) => sum + x.errors, 0);
  lines.push(`| ${config.name} | ${g} | ${r} | ${(g / r).toFixed(2)}x | ${errors(row.gamewire)}, ${errors(row['ref-ws'])} |`);
}
const text = `${lines.join('\n')}\n`;
mkdirSync(path.join(REPO, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(REPO, 'bench', 'results', `${out}.md`), text);
console.log(`\n${text}wrote bench/results/${out}.md`);
