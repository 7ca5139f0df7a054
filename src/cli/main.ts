#!/usr/bin/env node
import { broadcastServerCommand } from './broadcast-server-command.js';
import { chatServerCommand } from './chat-server-command.js';
import { dummyClientCommand } from './dummy-client-command.js';
import { echoServerCommand } from './echo-server-command.js';
import { genPacketsCommand } from './gen-packets-command.js';
import { loadtestCommand } from './loadtest-command.js';
import { setLogFormat } from './cli-logger.js';
import { UsageError, type Command } from './command.js';

const commands: readonly Command[] = [
  echoServerCommand,
  broadcastServerCommand,
  chatServerCommand,
  dummyClientCommand,
  loadtestCommand,
  genPacketsCommand,
];

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'gamewire <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Global options (before or after the command):',
    '  --log-format pretty|json  log lines for a person or a machine (default: pretty on a terminal,',
    '                            json when piped; or set GAMEWIRE_LOG_FORMAT)',
    '',
    "Run 'gamewire <command> --help' for a command's options.",
  ].join('\n');
}

/** Takes the global `--log-format X` / `--log-format=X` out of `argv`; returns an error text or the rest. */
function takeLogFormat(argv: readonly string[]): string[] | string {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    let value: string | undefined;
    if (arg === '--log-format') value = argv[++i] ?? '';
    else if (arg.startsWith('--log-format=')) value = arg.slice('--log-format='.length);
    else {
      rest.push(arg);
      continue;
    }
    if (!setLogFormat(value)) return `--log-format must be 'pretty' or 'json', got '${value}'`;
  }
  return rest;
}

async function main(argv: readonly string[]): Promise<number> {
  const rest = takeLogFormat(argv);
  if (typeof rest === 'string') {
    console.error(`gamewire: ${rest}`);
    return 2;
  }
  const [name, ...args] = rest;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    console.error(`gamewire: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(args);
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      console.error(`gamewire ${name}: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    console.error(`gamewire ${name}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
