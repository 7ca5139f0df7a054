import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BotDefinition } from './bot.js';
import { chatBot } from './chat-bot.js';
import { echoBot } from './echo-bot.js';

/** The bots that come with gamewire, by name. */
export const BUILT_IN_BOTS: Readonly<Record<string, BotDefinition>> = Object.freeze({
  echo: echoBot,
  chat: chatBot,
});

/** A `--bot` value that names no built-in bot and no loadable bot module. */
export class BotLoadError extends Error {
  override readonly name = 'BotLoadError';
}

/**
 * Turns a `--bot` value into what every worker can load the same way: a built-in bot's name as is,
 * anything else as the `file:` URL of a module path resolved against `cwd`.
 * @throws BotLoadError for a bare name that is neither a built-in bot nor a file.
 */
export function resolveBotSpec(spec: string, cwd: string = process.cwd()): string {
  if (Object.hasOwn(BUILT_IN_BOTS, spec)) return spec;
  if (spec.startsWith('file:')) return spec;
  const path = resolve(cwd, spec);
  // A bare word that is no file is a mistyped built-in name far more often than a module path.
  if (!/[./\\]/.test(spec) && !existsSync(path)) {
    throw new BotLoadError(
      `unknown bot '${spec}': the built-in bots are ${Object.keys(BUILT_IN_BOTS).join(', ')}; ` +
        `for a bot of your own give the path of its module, e.g. --bot ./my-bot.js`,
    );
  }
  return pathToFileURL(path).href;
}

/**
 * Loads the bot of a resolved spec (see {@link resolveBotSpec}): a built-in one, or the default
 * export of a module (an object with a string `name` and a `createSession` function).
 * @throws BotLoadError when the module cannot be imported or exports no bot.
 */
export async function loadBot(spec: string): Promise<BotDefinition> {
  const builtIn = Object.hasOwn(BUILT_IN_BOTS, spec) ? BUILT_IN_BOTS[spec] : undefined;
  if (builtIn !== undefined) return builtIn;
  let loaded: unknown;
  try {
    loaded = await import(spec);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BotLoadError(`cannot load bot module ${spec}: ${reason}`);
  }
  const candidate = isRecord(loaded) ? loaded['default'] : undefined;
  if (!isBotDefinition(candidate)) {
    throw new BotLoadError(
      `bot module ${spec} must default-export { name: string, createSession(context): Session } ` +
        `(built-in bots: ${Object.keys(BUILT_IN_BOTS).join(', ')})`,
    );
  }
  return candidate;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isBotDefinition(value: unknown): value is BotDefinition {
  return isRecord(value) && typeof value['name'] === 'string' && typeof value['createSession'] === 'function';
}
