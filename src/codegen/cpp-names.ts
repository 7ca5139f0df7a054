import { readFileSync } from 'node:fs';
import { PacketGenerationError, type ProtoModel } from './proto-model.js';

/**
 * What C++ cannot say that TypeScript can: names that protobufjs accepts but that would not compile
 * (or that protoc refuses) once the protocol is C++. Each problem names the file and line.
 *
 * - A package component that is a C++ keyword (`package class;`: protoc writes `namespace class`),
 *   or `std`/`gamewire`, whose namespaces are not ours to add to.
 * - Two declarations of one name in one C++ scope. C++ puts an enum's values beside the enum, not
 *   inside it, so `enum A { X = 0; } enum B { X = 0; }` declares `X` twice in the package.
 * - A top-level message, enum or enum value named like what the generated header declares in the
 *   package's namespace (`PacketId`, `ServerPacketHandler`, `MakeSendBuffer`).
 */

/** Names the generated header declares in the protocol's namespace. */
export const CPP_GENERATED_NAMES: readonly string[] = ['PacketId', 'ServerPacketHandler', 'MakeSendBuffer'];

const CPP_KEYWORDS = new Set(
  (
    'alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t char32_t class ' +
    'compl concept const consteval constexpr constinit const_cast continue co_await co_return co_yield decltype ' +
    'default delete do double dynamic_cast else enum explicit export extern false float for friend goto if inline ' +
    'int long mutable namespace new noexcept not not_eq nullptr operator or or_eq private protected public ' +
    'register reinterpret_cast requires return short signed sizeof static static_assert static_cast struct switch ' +
    'template this thread_local throw true try typedef typeid typename union unsigned using virtual void volatile ' +
    'wchar_t while xor xor_eq'
  ).split(' '),
);

/** Namespaces a protocol may not be put in. */
const TAKEN_NAMESPACES = new Set(['std', 'gamewire']);

interface SourceFile {
  readonly path: string;
  /** The text with comments blanked out (line breaks kept, so line numbers hold). */
  readonly code: string;
}

/** A place in the .proto files: `path:line`. */
type Place = string;

/** Finds declarations in the .proto sources, in file order; the k-th call for one pattern gives the k-th match. */
class DeclarationFinder {
  readonly #files: readonly SourceFile[];
  readonly #seen = new Map<string, number>();

  constructor(paths: readonly string[]) {
    this.#files = paths.map((path) => ({ path, code: blankComments(readFileSync(path, 'utf8')) }));
  }

  /** Where the next declaration matching `pattern` is (the file names when no line is found). */
  next(pattern: RegExp): Place {
    const key = pattern.source;
    const skip = this.#seen.get(key) ?? 0;
    this.#seen.set(key, skip + 1);
    let count = 0;
    for (const file of this.#files) {
      for (const match of file.code.matchAll(pattern)) {
        if (count++ < skip) continue;
        const line = file.code.slice(0, match.index + match[0].length).split('\n').length;
        return `${file.path}:${line}`;
      }
    }
    return this.#files.map((f) => f.path).join(', ');
  }
}

function blankComments(text: string): string {
  return text.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, ' '));
}

function escape(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

type Json = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null;
}

/**
 * Checks that `model` can be written as C++ (see the module comment).
 * @throws PacketGenerationError listing every problem, each with its file and line.
 */
export function checkCppNames(model: ProtoModel): void {
  const finder = new DeclarationFinder(model.sourcePaths);
  const problems: string[] = [];
  const parts = model.packageName === '' ? [] : model.packageName.split('.');
  for (const part of parts) {
    if (CPP_KEYWORDS.has(part) || TAKEN_NAMESPACES.has(part)) {
      const place = finder.next(/^\s*package\s+[\w.]+\s*;/gm);
      const what = CPP_KEYWORDS.has(part) ? 'a C++ keyword' : 'a namespace that is not ours to add to';
      problems.push(`${place}: package ${model.packageName}: '${part}' is ${what}, so the C++ namespace cannot be named after it; rename the package`);
    }
  }
  let scope: unknown = model.descriptor;
  for (const part of parts) scope = isObject(scope) && isObject(scope['nested']) ? scope['nested'][part] : undefined;
  if (isObject(scope)) checkScope(scope, model.packageName === '' ? '(no package)' : model.packageName, true, finder, problems);
  if (problems.length > 0) throw new PacketGenerationError(problems);
}

/** Checks one C++ scope (the package's namespace or a message's class) and the messages in it. */
function checkScope(scope: Json, scopeName: string, isPackage: boolean, finder: DeclarationFinder, problems: string[]): void {
  const declared = new Map<string, string>();
  const declare = (name: string, what: string, pattern: RegExp): void => {
    const place = finder.next(pattern);
    const earlier = declared.get(name);
    if (earlier !== undefined) {
      const why = what.startsWith('enum value') || earlier.includes('enum value')
        ? '; C++ puts enum values beside their enum, not inside it, so they must be unique in the enclosing scope'
        : '';
      problems.push(`${place}: ${what} ${name} is declared twice in ${scopeName} for C++ (first as ${earlier})${why}; rename one`);
      return;
    }
    declared.set(name, `${what} at ${place}`);
    if (isPackage && CPP_GENERATED_NAMES.includes(name)) {
      problems.push(`${place}: ${what} ${name} takes a name the generated C++ header declares in ${scopeName}; rename it`);
    }
  };
  const nested = isObject(scope['nested']) ? scope['nested'] : {};
  for (const [name, child] of Object.entries(nested)) {
    if (!isObject(child)) continue;
    if (isObject(child['values'])) {
      declare(name, 'enum', new RegExp(`\\benum\\s+${escape(name)}\\b`, 'g'));
      for (const value of Object.keys(child['values'])) {
        declare(value, `enum value (of ${name})`, new RegExp(`(^|[{;])\\s*${escape(value)}\\s*=\\s*-?\\w`, 'gm'));
      }
    } else if (isObject(child['fields'])) {
      declare(name, 'message', new RegExp(`\\bmessage\\s+${escape(name)}\\b`, 'g'));
      checkScope(child, `${scopeName}.${name}`, false, finder, problems);
    }
  }
}
