/** A one-line status on stderr for long operations (syncing, migrating many tenants). */
export interface Progress {
  /** Whether anything is drawn (only when stdout and stderr are terminals and the output is not JSON). */
  readonly enabled: boolean;
  /** Replaces the status line (drawn at most ten times a second). */
  update(text: string): void;
  /** Redraws the line with the seconds elapsed, every 200 ms, until `done`. */
  spin(label: string): void;
  /** Clears the line. */
  done(): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Creates the status line. It turns itself off when stdout is not a terminal (piped, redirected,
 * `--json`), so scripts and logs never see carriage returns.
 */
export function createProgress(options: { json: boolean; stdout?: NodeJS.WriteStream; stderr?: NodeJS.WriteStream }): Progress {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const enabled = !options.json && stdout.isTTY === true && stderr.isTTY === true;
  let lastDraw = 0;
  let drawn = false;
  let timer: NodeJS.Timeout | undefined;

  const draw = (text: string) => {
    const width = Math.max(20, (stderr.columns ?? 80) - 1);
    stderr.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    drawn = true;
  };

  return {
    enabled,
    update(text) {
      if (!enabled) return;
      const now = Date.now();
      if (now - lastDraw < 100) return;
      lastDraw = now;
      draw(text);
    },
    spin(label) {
      if (!enabled) return;
      const started = Date.now();
      let frame = 0;
      clearInterval(timer);
      const tick = () => draw(`${FRAMES[frame++ % FRAMES.length]} ${label} ${((Date.now() - started) / 1000).toFixed(1)} s`);
      tick();
      timer = setInterval(tick, 200);
      timer.unref();
    },
    done() {
      clearInterval(timer);
      timer = undefined;
      if (enabled && drawn) stderr.write('\r\x1b[2K');
      drawn = false;
    },
  };
}
