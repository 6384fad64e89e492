import type { ConsolaInstance } from 'consola';
import { createLogger, isMultiTenantError } from '@openclaw-mt/core';
import { redactText } from '@openclaw-mt/core/tokens';
import { exitCodeFor } from './exit-codes.js';

/** How a command prints: data on stdout (JSON or text), everything else on stderr. */
export interface Output {
  readonly json: boolean;
  /** Logs (stderr when printing JSON; never data). */
  readonly log: ConsolaInstance;
  /** Prints the command's result: JSON when `--json`, else the human text. */
  result(data: unknown, human: () => string): void;
}

/** Creates the output for one command run. */
export function createOutput(json: boolean): Output {
  const log = createLogger({ tag: 'openclaw-mt', stream: json ? 'stderr' : 'stdout' });
  return {
    json,
    log,
    result(data, human) {
      process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
    },
  };
}

/**
 * Runs a command body: a coded failure prints its code and message (redacted) to stderr and sets
 * the documented exit code; nothing is ever reported as success when it failed.
 */
export async function runAction(
  json: boolean,
  // A body may end without a value (`Promise<void>`) or return an exit code.
  body: (output: Output) => Promise<number | undefined> | Promise<void>,
): Promise<void> {
  const output = createOutput(json);
  try {
    const code = await body(output);
    if (typeof code === 'number') process.exitCode = code;
  } catch (error) {
    const message = isMultiTenantError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
    if (json)
      process.stderr.write(`${JSON.stringify({ error: isMultiTenantError(error) ? error.toJSON() : { message: redactText(message) } })}\n`);
    else process.stderr.write(`error: ${redactText(message)}\n`);
    process.exitCode = exitCodeFor(error);
  }
}
