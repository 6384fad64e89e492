/**
 * Whether this run may print ANSI colour: never when `NO_COLOR` is set to anything (no-color.org) or
 * `TERM=dumb`; always when `FORCE_COLOR` asks; otherwise only when both stdout and stderr are terminals,
 * so piped and redirected output (logs, scripts, CI) stays plain text.
 */
export function colourAllowed(env: NodeJS.ProcessEnv, stdoutIsTerminal: boolean, stderrIsTerminal: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0' && force !== 'false') return true;
  return stdoutIsTerminal && stderrIsTerminal;
}

/**
 * Turns colour off for this process when it is not allowed. Runs before citty and consola load: both
 * decide once, at load, and citty alone neither looks at the terminal nor reads `NO_COLOR` other than `1`.
 */
export function applyColourPolicy(): void {
  if (!colourAllowed(process.env, process.stdout.isTTY === true, process.stderr.isTTY === true)) process.env.NO_COLOR = '1';
}
