import type { ArgsDef, CommandDef, CommandMeta, Resolvable, SubCommandsDef } from 'citty';

/** What the top-level command knows about a subcommand before loading its module. */
export interface LazyCommandSpec {
  /** Name and description, shown by `openclaw-mt --help` without loading anything. */
  meta: CommandMeta;
  /** The command groups subcommands of its own (and has no `run`). */
  group?: boolean;
  /** Imports the command's module and returns its definition. */
  load: () => Promise<AnyCommand>;
}

/** A command with any arguments, as citty's own subcommand map holds them. */
type AnyCommand = SubCommandsDef[string];

const resolve = async <T>(value: Resolvable<T> | undefined): Promise<T | undefined> =>
  typeof value === 'function' ? await (value as () => T | Promise<T>)() : await value;

/**
 * A command whose module (and everything it imports: the stores, the gateway, its dependencies) loads
 * only when that command runs or shows its own help, so `openclaw-mt --help` and every other command
 * start without paying for it.
 */
export function lazyCommand(spec: LazyCommandSpec): CommandDef<ArgsDef> & { readonly load: () => Promise<CommandDef<ArgsDef>> } {
  let loading: Promise<CommandDef<ArgsDef>> | undefined;
  const real = () => {
    loading ??= spec.load().then(async (command) => (await resolve(command)) as CommandDef<ArgsDef>);
    return loading;
  };
  return {
    meta: spec.meta,
    load: real,
    args: async () => (await resolve((await real()).args)) ?? {},
    setup: async (context) => {
      await (await real()).setup?.(context);
    },
    cleanup: async (context) => {
      await (await real()).cleanup?.(context);
    },
    // citty tells a group from a leaf by whether `run` exists, so only leaves get one.
    ...(spec.group
      ? { subCommands: async (): Promise<SubCommandsDef> => (await resolve((await real()).subCommands)) ?? {} }
      : { run: async (context) => (await real()).run?.(context) }),
  };
}
