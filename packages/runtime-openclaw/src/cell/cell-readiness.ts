import { WebSocket } from 'ws';

/** One attempt: connect and wait for the `connect.challenge` event; resolves whether it came. */
function probe(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    let done = false;
    const finish = (ready: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners('message');
      socket.terminate();
      resolve(ready);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('message', (data) => {
      try {
        const frame = JSON.parse(data.toString()) as { type?: unknown; event?: unknown };
        finish(frame.type === 'event' && frame.event === 'connect.challenge');
      } catch {
        finish(false);
      }
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

/** Options of {@link waitForChallenge}. */
export interface ReadinessOptions {
  /** Give up at this time (epoch ms). */
  deadline: number;
  /** Stop early (the cell exited, or it is being stopped). */
  signal: AbortSignal;
  /** Pause between attempts (default 250 ms). */
  intervalMs?: number;
}

/**
 * Waits until a cell's WebSocket listener answers with `connect.challenge`, OpenClaw's documented
 * readiness signal (not a log line), by connecting again and again. Resolves `true` once it arrives,
 * `false` at the deadline or when aborted.
 */
export async function waitForChallenge(port: number, options: ReadinessOptions): Promise<boolean> {
  const url = `ws://127.0.0.1:${port}`;
  while (!options.signal.aborted && Date.now() < options.deadline) {
    if (await probe(url, Math.max(100, Math.min(5_000, options.deadline - Date.now())))) return true;
    if (options.signal.aborted) return false;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, options.intervalMs ?? 250);
      function done() {
        clearTimeout(timer);
        options.signal.removeEventListener('abort', done);
        resolve();
      }
      options.signal.addEventListener('abort', done, { once: true });
    });
  }
  return false;
}
