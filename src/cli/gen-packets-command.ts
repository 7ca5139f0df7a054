import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_RUNTIME_IMPORT, writePacketSource } from '../codegen/packet-source-writer.js';
import { loadProtoModel, PacketGenerationError } from '../codegen/proto-model.js';
import { UsageError, type Command } from './command.js';

/** File name the generator writes into `--out`. */
export const GENERATED_FILE_NAME = 'packets.ts';

const usage = `gamewire gen-packets <proto dir | file.proto> --out <dir> [--runtime MODULE]

Reads every .proto file in <proto dir> (one package), or the one file given, and writes <dir>/${GENERATED_FILE_NAME}: the PacketId
enum, message types, a MessageType per C_*/S_* message (send, makeSendBuffer, decode) and the typed
handler tables createServerHandlers (C_*) and createClientHandlers (S_*).

Packet ids come from enum MsgId: value ID_<NAME> = <id> is the id of message <NAME>, 1..65519, unique
(65520..65535 are gamewire's own: heartbeat ping 65534 and pong 65535).
A C_*/S_* message without an id, a duplicate id or an id out of range is an error (exit 1).

Options:
  --out DIR            folder to write ${GENERATED_FILE_NAME} into (created if missing)
  --runtime MODULE     module the generated code imports from (default '${DEFAULT_RUNTIME_IMPORT}', which
                       runs in Node and in browsers; 'gamewire/client' works too)
  -h, --help           show this help`;

export const genPacketsCommand: Command = {
  name: 'gen-packets',
  summary: 'generates typed packets and handler tables from .proto files',
  usage,
  async run(args) {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { out: { type: 'string' }, runtime: { type: 'string', default: DEFAULT_RUNTIME_IMPORT } },
      allowPositionals: true,
      strict: true,
    });
    const [protoDir] = positionals;
    if (protoDir === undefined || positionals.length !== 1) throw new UsageError('give exactly one <proto dir>');
    if (values.out === undefined) throw new UsageError('--out is required');
    try {
      const model = loadProtoModel(protoDir);
      mkdirSync(values.out, { recursive: true });
      const target = join(values.out, GENERATED_FILE_NAME);
      writeFileSync(target, writePacketSource(model, values.runtime));
      console.log(`gen-packets: ${model.packets.length} packets from ${model.sources.join(', ')} -> ${target}`);
      return 0;
    } catch (error) {
      if (!(error instanceof PacketGenerationError)) throw error;
      console.error(error.message);
      return 1;
    }
  },
};
