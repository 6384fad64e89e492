import type { ArgsDef, CommandDef, Resolvable, SubCommandsDef } from 'citty';
import { nearest } from './edit-distance.js';

/** A command path that names no command: what was typed, under which parent, and the nearest real name. */
export interface UnknownCommand {
  /** The command path up to and including the unknown word (`tokens lst`). */
  typed: string;
  /** The path of the group it was looked up in (`openclaw-mt tokens`). */
  parent: string;
  /** The nearest known path (`tokens list`), when one is close. */
  suggestion?: string;
}

const resolve = async <T>(value: Resolvable<T> | undefined): Promise<T | undefined> =>
  typeof value === 'function' ? await (value as () => T | Promise<T>)() : await value;

/** Where the first word that is not a flag is, as citty finds it (groups take no flags of their own); -1 after `--`. */
function firstWord(args: readonly string[]): number {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--') return -1;
    if (!args[i]!.startsWith('-')) return i;
  }
  return -1;
}

/**
 * Walks the command words of `args` (`tokns`, `tokens lst`) through the command tree and reports the
 * first that names no command. Only the groups the words pass through are loaded; `--help` and
 * `--version` are left to citty.
 */
export async function findUnknownCommand(
  args: readonly string[],
  commands: SubCommandsDef,
  program = 'openclaw-mt',
): Promise<UnknownCommand | undefined> {
  let level: SubCommandsDef | undefined = commands;
  let rest = args;
  const path: string[] = [];
  while (level !== undefined && Object.keys(level).length > 0) {
    const at = firstWord(rest);
    if (at === -1) return undefined;
    const word = rest[at]!;
    const command = (await resolve(level[word])) as CommandDef<ArgsDef> | undefined;
    if (command === undefined) {
      const parent = [program, ...path].join(' ');
      const near = nearest(word, Object.keys(level));
      return { typed: [...path, word].join(' '), parent, ...(near === undefined ? {} : { suggestion: [...path, near].join(' ') }) };
    }
    // A leaf (it runs) takes the remaining words as its own arguments.
    if (command.run !== undefined) return undefined;
    path.push(word);
    rest = rest.slice(at + 1);
    level = await resolve(command.subCommands);
  }
  return undefined;
}

/** The short message for an unknown command: the nearest name when one is close, and where to see them all. */
export function unknownCommandText(unknown: UnknownCommand): string {
  const guess = unknown.suggestion === undefined ? '' : ` Did you mean \`${unknown.suggestion}\`?`;
  return `Unknown command \`${unknown.typed}\`.${guess}\nRun \`${unknown.parent} --help\` to see the commands.\n`;
}
