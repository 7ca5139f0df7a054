import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import { GamewireError } from '../core/errors.js';
import { MAX_MESSAGE_ID } from '../packet/packet-header.js';

/** Name of the enum that gives every packet message its id. */
export const MSG_ID_ENUM = 'MsgId';
/** Prefix of a `MsgId` value naming a message: `ID_C_CHAT` is the id of message `C_CHAT`. */
export const MSG_ID_PREFIX = 'ID_';

/** The `.proto` files could not be turned into packet code; `problems` lists every reason. */
export class PacketGenerationError extends GamewireError {
  /** One line per problem found. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('GW_ERR_INVALID_OPTION', `gen-packets: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/** An enum of the protocol, for a `const` object and a union type. */
export interface EnumModel {
  readonly tsName: string;
  readonly values: ReadonlyArray<readonly [string, number]>;
}

/** A message of the protocol, for an interface. */
export interface MessageModel {
  readonly tsName: string;
  readonly fields: ReadonlyArray<{ readonly name: string; readonly tsType: string }>;
}

/** A packet: a `C_*` or `S_*` message with its id. */
export interface PacketModel {
  readonly name: string;
  readonly fullName: string;
  readonly id: number;
  /** `C` = client to server (the server handles it); `S` = server to client. */
  readonly direction: 'C' | 'S';
}

/** Everything the code writer needs, in `.proto` order. */
export interface ProtoModel {
  /** The .proto file names read, in order. */
  readonly sources: readonly string[];
  /** The same files with their folder, for reading them again (the C++ checks name file and line). */
  readonly sourcePaths: readonly string[];
  /** The package every file declares ('' for none), e.g. `protocol` or `game.v1`. */
  readonly packageName: string;
  readonly descriptor: protobuf.INamespace;
  readonly enums: readonly EnumModel[];
  readonly messages: readonly MessageModel[];
  readonly packets: readonly PacketModel[];
  readonly usesInt64: boolean;
}

const SCALARS: Readonly<Record<string, string>> = {
  double: 'number', float: 'number', int32: 'number', uint32: 'number', sint32: 'number',
  fixed32: 'number', sfixed32: 'number', int64: 'Int64', uint64: 'Int64', sint64: 'Int64',
  fixed64: 'Int64', sfixed64: 'Int64', bool: 'boolean', string: 'string',
  // protobufjs decodes an unset bytes field as an empty array, not an empty Uint8Array.
  bytes: 'Uint8Array | readonly []',
};

function tsNameOf(object: protobuf.ReflectionObject, packageName: string): string {
  // fullName is '.pkg.Name', or '.Name' for a file without a package.
  const prefix = packageName === '' ? 1 : packageName.length + 2;
  return object.fullName.slice(prefix).replaceAll('.', '_');
}

/**
 * Reads every `.proto` file in the folder `protoPath` (sorted by name), or the one `.proto` file it
 * names, and checks the packet rules: an enum `MsgId` whose `ID_<NAME>` values give each `C_*`/`S_*`
 * message a unique id in 1..65519 (65520..65535 are reserved for gamewire's own packets).
 * @throws PacketGenerationError listing every problem found.
 */
export function loadProtoModel(protoPath: string): ProtoModel {
  const { dir: protoDir, files } = protoFiles(protoPath);
  const root = new protobuf.Root();
  const packages = new Set<string>();
  for (const file of files) {
    const path = join(protoDir, file);
    try {
      const parsed = protobuf.parse(readFileSync(path, 'utf8'), root, { keepCase: false });
      packages.add(parsed.package ?? '');
    } catch (error) {
      throw new PacketGenerationError([`${path}: ${describeParseError(error)}; fix the .proto and run gen-packets again`]);
    }
  }
  try {
    root.resolveAll();
  } catch (error) {
    throw new PacketGenerationError([`${files.map((f) => join(protoDir, f)).join(', ')}: ${describeParseError(error)}`]);
  }
  if (packages.size !== 1) {
    throw new PacketGenerationError([`all .proto files must share one package, found: ${[...packages].join(', ')}`]);
  }
  const packageName = [...packages][0] as string;
  const scope = packageName === '' ? root : root.lookup(packageName);
  if (!(scope instanceof protobuf.Namespace)) throw new PacketGenerationError([`package ${packageName} not found`]);

  const enums: EnumModel[] = [];
  const messages: MessageModel[] = [];
  const messageTypes = new Map<string, protobuf.Type>();
  let usesInt64 = false;
  const visit = (ns: protobuf.Namespace): void => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Enum) {
        enums.push({ tsName: tsNameOf(nested, packageName), values: Object.entries(nested.values) });
      } else if (nested instanceof protobuf.Type) {
        const fields = nested.fieldsArray.map((field) => {
          let tsType = SCALARS[field.type];
          if (tsType === undefined) {
            const resolved = field.resolvedType;
            if (resolved === null) throw new PacketGenerationError([`${nested.fullName}.${field.name}: unresolved type ${field.type}`]);
            tsType = tsNameOf(resolved, packageName);
            if (resolved instanceof protobuf.Type && !field.repeated && !field.map) tsType += ' | null';
          }
          if (tsType === 'Int64') usesInt64 = true;
          if (field.map) tsType = `{ [key: string]: ${tsType} }`;
          else if (field.repeated) tsType = tsType.includes('|') ? `Array<${tsType}>` : `${tsType}[]`;
          // proto3 `optional` fields decode as null when unset (other oneof members as their default).
          else if (field.options?.['proto3_optional'] === true && !tsType.endsWith('| null')) tsType += ' | null';
          return { name: field.name, tsType };
        });
        messages.push({ tsName: tsNameOf(nested, packageName), fields });
        messageTypes.set(nested.name, nested);
        visit(nested);
      } else if (nested instanceof protobuf.Namespace) {
        visit(nested);
      }
    }
  };
  visit(scope);

  const problems: string[] = [];
  const idEnum = scope.nestedArray.find((n) => n instanceof protobuf.Enum && n.name === MSG_ID_ENUM) as protobuf.Enum | undefined;
  if (idEnum === undefined) problems.push(`no enum ${MSG_ID_ENUM} in package ${packageName}: packet ids must be explicit`);
  const ids = new Map<string, number>();
  const seen = new Map<number, string>();
  for (const [valueName, id] of Object.entries(idEnum?.values ?? {})) {
    if (id === 0 && !messageTypes.has(valueName.slice(MSG_ID_PREFIX.length))) continue; // proto3's required zero
    if (!valueName.startsWith(MSG_ID_PREFIX)) {
      problems.push(`${MSG_ID_ENUM}.${valueName} = ${id}: values other than 0 must be named ${MSG_ID_PREFIX}<MESSAGE>`);
      continue;
    }
    const messageName = valueName.slice(MSG_ID_PREFIX.length);
    if (id < 1 || id > MAX_MESSAGE_ID) problems.push(`${MSG_ID_ENUM}.${valueName} = ${id}: ids must be 1..${MAX_MESSAGE_ID}`);
    const other = seen.get(id);
    if (other !== undefined) problems.push(`${MSG_ID_ENUM}.${valueName} = ${id}: duplicate of ${other}`);
    seen.set(id, valueName);
    if (!messageTypes.has(messageName)) problems.push(`${MSG_ID_ENUM}.${valueName}: no message ${messageName}`);
    ids.set(messageName, id);
  }
  for (const messageName of ids.keys()) {
    if (messageTypes.has(messageName) && !/^[CS]_/.test(messageName)) {
      problems.push(`${MSG_ID_ENUM}.${MSG_ID_PREFIX}${messageName}: packet messages must be named C_* (client to server) or S_* (server to client)`);
    }
  }
  const packets: PacketModel[] = [];
  for (const [name, type] of messageTypes) {
    const direction = name.startsWith('C_') ? 'C' : name.startsWith('S_') ? 'S' : undefined;
    if (direction === undefined) continue;
    if (type.parent !== scope) {
      problems.push(`${type.fullName}: packet messages must be top-level`);
      continue;
    }
    const id = ids.get(name);
    if (id === undefined) problems.push(`message ${name} has no id: add ${MSG_ID_PREFIX}${name} = <id> to enum ${MSG_ID_ENUM}`);
    else packets.push({ name, fullName: type.fullName.slice(1), id, direction });
  }
  if (problems.length > 0) throw new PacketGenerationError(problems);
  const sourcePaths = files.map((f) => join(protoDir, f));
  return { sources: files, sourcePaths, packageName, descriptor: root.toJSON(), enums, messages, packets, usesInt64 };
}

/** The .proto files to read: every one in a folder, or the one file given. */
function protoFiles(protoPath: string): { dir: string; files: string[] } {
  let stats;
  try {
    stats = statSync(protoPath);
  } catch {
    throw new PacketGenerationError([`${protoPath} does not exist; give the folder that holds your .proto files`]);
  }
  if (stats.isFile()) {
    if (!protoPath.endsWith('.proto')) throw new PacketGenerationError([`${protoPath} is not a .proto file`]);
    return { dir: dirname(protoPath), files: [basename(protoPath)] };
  }
  const files = readdirSync(protoPath).filter((f) => f.endsWith('.proto')).sort();
  if (files.length === 0) throw new PacketGenerationError([`no .proto files in ${protoPath}`]);
  return { dir: protoPath, files };
}

function describeParseError(error: unknown): string {
  return error instanceof Error ? error.message : 'unreadable .proto';
}
