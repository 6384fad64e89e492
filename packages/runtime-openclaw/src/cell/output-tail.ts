import { redactText } from '@openclaw-mt/core/tokens';

// Colour and cursor sequences (cells run with NO_COLOR, but some tools ignore it).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matches ANSI escape sequences, which start with ESC.
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

/**
 * The last lines a cell wrote, kept for error reports (a config error's explanation is on stderr).
 * Lines are redacted on the way out with the cell's own secrets.
 */
export class OutputTail {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(private readonly maxLines = 40) {}

  /** Adds output; returns the complete lines it finished. */
  push(chunk: Buffer | string): string[] {
    const text = this.partial + chunk.toString().replace(ANSI, '');
    const parts = text.split(/\r?\n/);
    this.partial = parts.pop()!.slice(-4_096);
    const complete = parts.filter((line) => line.trim() !== '').map((line) => line.slice(0, 2_000));
    this.lines.push(...complete);
    if (this.lines.length > this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines);
    return complete;
  }

  /** The kept lines (the last `count`), redacted. */
  text(secrets: readonly string[], count = this.maxLines): string {
    const all = this.partial.trim() === '' ? this.lines : [...this.lines, this.partial];
    return all
      .slice(-count)
      .map((line) => redactText(line, secrets))
      .join('\n');
  }

  clear(): void {
    this.lines.length = 0;
    this.partial = '';
  }
}
