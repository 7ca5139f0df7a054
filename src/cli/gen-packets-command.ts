import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CPP_GENERATED_FILE_NAME, writeCppPacketSource } from '../codegen/cpp-packet-writer.js';
import { DEFAULT_RUNTIME_IMPORT, writePacketSource } from '../codegen/packet-source-writer.js';
import { loadProtoModel, PacketGenerationError } from '../codegen/proto-model.js';
import { UsageError, type Command } from './command.js';

/** File name the generator writes into `--out` for TypeScript. */
export const GENERATED_FILE_NAME = 'packets.ts';

const usage = `gamewire gen-packets <proto dir | file.proto> --out <dir> [--lang ts|cpp] [--runtime MODULE]

Reads every .proto file in <proto dir> (one package), or the one file given, and writes into <dir>:

  --lang ts (default)  ${GENERATED_FILE_NAME}: the PacketId enum, message types, a MessageType per C_*/S_* message
                       (send, makeSendBuffer, decode) and the typed handler tables createServerHandlers
                       (C_*) and createClientHandlers (S_*).
  --lang cpp           ${CPP_GENERATED_FILE_NAME}, for the C++ client library (clients/cpp): enum class
                       PacketId, MakeSendBuffer(const C_CHAT&) and the like for every packet, and the
                       ServerPacketHandler<Session> table (one Handle_S_* per server packet, HandlePacket).
                       Compile it with 'protoc --cpp_out' output for the same files.

Packet ids come from enum MsgId: value ID_<NAME> = <id> is the id of message <NAME>, 1..65519, unique
(65520..65535 are gamewire's own: heartbeat ping 65534 and pong 65535); both languages get the same ids.
A C_*/S_* message without an id, a duplicate id or an id out of range is an error (exit 1). With
--lang cpp, so is a name C++ cannot represent (a package named after a C++ keyword, enum values
repeated in one scope): the message names the file and line.

Options:
  --out DIR            folder to write into (created if missing)
  --lang ts|cpp        the language to write (default ts)
  --runtime MODULE     TypeScript only: module the generated code imports from (default
                       '${DEFAULT_RUNTIME_IMPORT}', which runs in Node and in browsers; 'gamewire/client' works too)
  -h, --help           show this help`;

export const genPacketsCommand: Command = {
  name: 'gen-packets',
  summary: 'generates typed packets and handler tables (TypeScript or C++) from .proto files',
  usage,
  async run(args) {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { out: { type: 'string' }, lang: { type: 'string', default: 'ts' }, runtime: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
    const [protoDir] = positionals;
    if (protoDir === undefined || positionals.length !== 1) throw new UsageError('give exactly one <proto dir>');
    if (values.out === undefined) throw new UsageError('--out is required');
    const lang = values.lang;
    if (lang !== 'ts' && lang !== 'cpp') throw new UsageError(`--lang must be ts or cpp, got '${lang}'`);
    if (lang === 'cpp' && values.runtime !== undefined) throw new UsageError('--runtime is for --lang ts only');
    try {
      const model = loadProtoModel(protoDir);
      const [fileName, text] =
        lang === 'cpp'
          ? [CPP_GENERATED_FILE_NAME, writeCppPacketSource(model)]
          : [GENERATED_FILE_NAME, writePacketSource(model, values.runtime ?? DEFAULT_RUNTIME_IMPORT)];
      mkdirSync(values.out, { recursive: true });
      const target = join(values.out, fileName);
      writeFileSync(target, text);
      console.log(`gen-packets: ${model.packets.length} packets from ${model.sources.join(', ')} -> ${target}`);
      return 0;
    } catch (error) {
      if (!(error instanceof PacketGenerationError)) throw error;
      console.error(error.message);
      return 1;
    }
  },
};
