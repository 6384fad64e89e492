import { createConsola, type ConsolaInstance } from 'consola';

/**
 * A logger that keeps every line raw (no redaction), so a test can prove that no code path handed it
 * a secret in the first place.
 */
export function captureLogger(): { logger: ConsolaInstance; lines: string[]; text: () => string } {
  const lines: string[] = [];
  const logger = createConsola({
    level: 5,
    reporters: [
      {
        log(entry) {
          const args = entry.args.map((arg) =>
            arg instanceof Error
              ? `${arg.name}: ${arg.message} ${arg.stack ?? ''} ${String((arg as { cause?: unknown }).cause ?? '')}`
              : typeof arg === 'string'
                ? arg
                : JSON.stringify(arg),
          );
          lines.push(`[${entry.type}] ${entry.tag ? `${entry.tag} ` : ''}${args.join(' ')}`);
        },
      },
    ],
  });
  return { logger, lines, text: () => lines.join('\n') };
}
