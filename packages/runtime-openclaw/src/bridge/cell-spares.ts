import { createBackoff } from '@openclaw-mt/core/helpers';
import type { ConsolaInstance } from 'consola';
import type { CellListener, CellSpareInfo, CellState } from '../cell/cell.js';
import { abortableWait } from './abortable-wait.js';
import type { BridgeDevice } from './bridge-device.js';
import { CellConnection, CellHandshakeError } from './cell-connection.js';

/** What a bridge connection asks the cell for; a spare fits a client only when this is the same. */
export interface SpareProfile {
  /** Operator scopes, already limited to the operator's maximum, in the client's order. */
  scopes: readonly string[];
  caps?: readonly string[];
  locale?: string;
  userAgent?: string;
}

/** The part of a cell the spares need (an `OpenClawCell`). */
export interface SpareCell {
  readonly tenantId: string;
  /** Port and token of the current process while it is ready; `undefined` otherwise. */
  readonly endpoint: { port: number; token: string } | undefined;
  onStateChange(listener: (state: CellState) => void): () => void;
  /** Binds a listener to the current process. */
  attach(listener: CellListener): () => void;
  /** Whether the current process said it takes connections, and when it does (see {@link OpenClawCell.whenAccepting}). */
  readonly accepting?: boolean;
  whenAccepting?(): Promise<void>;
}

/** How the spares of every cell of a runtime behave. */
export interface SpareSettings {
  clientVersion: string;
  /** The front door's device identity towards cells. */
  device?: BridgeDevice;
  /** The profile of the first spare, before any client has connected (the bridge's default scopes). */
  initialProfile: SpareProfile;
  /** A spare older than this is replaced, so the hello a client gets is never older (default 60 s). */
  maxAgeMs?: number;
  /** How long a client waits for a spare being opened for its profile before opening its own (default 2 s). */
  inFlightWaitMs?: number;
  log: ConsolaInstance;
}

/**
 * Events that change nothing a `hello-ok` says (features, snapshot, auth, Control UI hints). Any
 * other event — `presence`, `health`, `config.changed`, `plugins.changed`, `shutdown`, or one this
 * list does not know — makes a spare stale: its hello would no longer be what a fresh connection
 * gets, so it is replaced.
 */
const HELLO_NEUTRAL_EVENTS = new Set([
  'connect.challenge',
  'tick',
  'heartbeat',
  'agent',
  'chat',
  'chat.metadata.changed',
  'sessions.changed',
  'cron',
  'task',
  'task.suggestion',
  'talk.event',
  'node.hostStats',
]);
const HELLO_NEUTRAL_PREFIXES = [
  'session.',
  'terminal.',
  'node.invoke.',
  'exec.approval.',
  'plugin.approval.',
  'openclaw.approval.',
  'question.',
];

function helloNeutral(event: string): boolean {
  return HELLO_NEUTRAL_EVENTS.has(event) || HELLO_NEUTRAL_PREFIXES.some((prefix) => event.startsWith(prefix));
}

/** Identity of a profile. */
export function profileKey(profile: SpareProfile): string {
  return JSON.stringify([profile.scopes, profile.caps ?? null, profile.locale ?? null, profile.userAgent ?? null]);
}

/** Pause before replacing a spare that went stale (events tend to come in bursts: a config reload, a presence change). */
const STALE_REFILL_MS = 100;
const FILL_TIMEOUT_MS = 10_000;
/** After the cell dropped a connection: 100 ms, doubling while it keeps happening, at most 5 s. */
const REFILL_AFTER_CLOSE = createBackoff({ initialMs: 100, maxMs: 5_000, minMs: 0, jitter: 'none' });
/** After a failed handshake: 250 ms, doubling, at most 5 s when the cell says to retry, else 30 s. */
const RETRY_RETRYABLE = createBackoff({ initialMs: 250, maxMs: 5_000, minMs: 0, jitter: 'none' });
const RETRY_REFUSED = createBackoff({ initialMs: 250, maxMs: 30_000, minMs: 0, jitter: 'none' });

interface Spare {
  connection: CellConnection;
  key: string;
  port: number;
  token: string;
  release: () => void;
}

/**
 * One warm, authenticated connection to a cell, opened in the background once the cell is ready and
 * again after each time a client takes it, so a client's handshake needs no round trip to the cell.
 * The spare asks for what the last client asked for (first: the default scopes); a client asking for
 * something else gets its own connection as before, and the spare follows it. A spare is never
 * handed out once its socket is closing, its process is gone or restarted, the cell is not ready,
 * it saw an event that changes the hello, or it is older than `maxAgeMs`; it is closed when the
 * cell stops and by {@link CellSpares.close}.
 */
export class CellSpares {
  private spare: Spare | undefined;
  private filling: { key: string; done: Promise<void>; aborter: AbortController } | undefined;
  private target: SpareProfile;
  private targetKey: string;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private isClosed = false;
  /** A spare of the current process was opened, and no connection to it was dropped or refused since. */
  private answering = false;
  private readonly stats = { opened: 0, taken: 0, missed: 0, discarded: 0 };
  private readonly unsubscribe: () => void;
  private readonly maxAgeMs: number;
  private readonly inFlightWaitMs: number;

  constructor(
    private readonly cell: SpareCell,
    private readonly settings: SpareSettings,
  ) {
    this.target = settings.initialProfile;
    this.targetKey = profileKey(this.target);
    this.maxAgeMs = settings.maxAgeMs ?? 60_000;
    this.inFlightWaitMs = settings.inFlightWaitMs ?? 2_000;
    this.unsubscribe = cell.onStateChange((state) => {
      if (state === 'ready') {
        this.failures = 0;
        this.schedule(0);
      } else {
        // Starting, restarting, stopping: whatever the spare is bound to is going away.
        this.answering = false;
        this.drop(this.spare);
        this.filling?.aborter.abort();
      }
    });
    if (cell.endpoint !== undefined) this.schedule(0);
  }

  /** For operators and tests. */
  info(): CellSpareInfo {
    const ready = this.usable(this.targetKey) !== undefined;
    return { ready, answering: this.answering && this.cell.endpoint !== undefined, ...this.stats };
  }

  /**
   * Hands over the spare when it fits `profile` and is alive and current, waiting briefly for one
   * being opened for the same profile. The caller owns the connection from then on. Counts a miss
   * otherwise; either way the next spare follows `profile`.
   */
  async take(profile: SpareProfile, signal: AbortSignal): Promise<CellConnection | undefined> {
    const key = profileKey(profile);
    let spare = this.usable(key);
    const filling = this.filling;
    if (spare === undefined && filling?.key === key && !signal.aborted) {
      await abortableWait(this.inFlightWaitMs, signal, filling.done);
      spare = this.usable(key);
    }
    this.follow(profile, key);
    if (spare === undefined || signal.aborted || this.isClosed) {
      this.stats.missed++;
      return undefined;
    }
    this.spare = undefined;
    spare.release();
    this.stats.taken++;
    // After this client's hello-ok has gone out.
    this.schedule(0);
    return spare.connection;
  }

  /**
   * Another connection to the cell was dropped by the cell (a crash, an in-place restart): the
   * spare is most likely going the same way, even if its own close has not arrived yet (a dying
   * process's sockets do not all close at once). It is replaced rather than handed out.
   */
  connectionLost(): void {
    if (this.isClosed) return;
    this.failures++;
    this.answering = false;
    this.drop(this.spare);
    this.filling?.aborter.abort();
    this.schedule(this.closedRefillDelay());
  }

  /** Stops for good: closes the spare and gives up a spare being opened. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.answering = false;
    this.unsubscribe();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.drop(this.spare);
    this.filling?.aborter.abort();
  }

  /** The next spare is for `profile`: a spare for anything else is closed and replaced. */
  private follow(profile: SpareProfile, key: string): void {
    if (key === this.targetKey) return;
    this.target = profile;
    this.targetKey = key;
    this.failures = 0;
    if (this.spare !== undefined && this.spare.key !== key) this.drop(this.spare);
    if (this.filling !== undefined && this.filling.key !== key) this.filling.aborter.abort();
    this.schedule(0);
  }

  /** The spare, when it fits `key` and may be handed out; a spare that may not is closed. */
  private usable(key: string): Spare | undefined {
    const spare = this.spare;
    if (spare === undefined || spare.key !== key) return undefined;
    const endpoint = this.cell.endpoint;
    if (spare.connection.open && endpoint !== undefined && endpoint.port === spare.port && endpoint.token === spare.token) return spare;
    // Its socket is closing, or the process it talks to is not (or no longer) the cell's ready one.
    this.answering = false;
    this.drop(spare, 0);
    return undefined;
  }

  /** After the cell dropped a connection: 100 ms, doubling while it keeps happening, at most 5 s. */
  private closedRefillDelay(): number {
    return REFILL_AFTER_CLOSE(this.failures);
  }

  private schedule(delayMs: number): void {
    if (this.isClosed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.fill();
    }, delayMs);
    this.timer.unref();
  }

  /** Closes `spare` (when it is the current one) and, given a delay, opens the next after it. */
  private drop(spare: Spare | undefined, refillAfterMs?: number): void {
    if (spare === undefined || this.spare !== spare) return;
    this.spare = undefined;
    spare.release();
    spare.connection.close();
    this.stats.discarded++;
    if (refillAfterMs !== undefined) this.schedule(refillAfterMs);
  }

  private async fill(): Promise<void> {
    if (this.isClosed || this.filling !== undefined || this.spare !== undefined) return;
    const endpoint = this.cell.endpoint;
    // Not ready: the next `ready` schedules a fill.
    if (endpoint === undefined) return;
    const profile = this.target;
    const key = this.targetKey;
    const aborter = new AbortController();
    let done!: () => void;
    this.filling = { key, aborter, done: new Promise<void>((resolve) => (done = resolve)) };
    let connection: CellConnection | undefined;
    let failure: unknown;
    const startingUp = this.cell.accepting === false;
    try {
      connection = await CellConnection.open({
        ...endpoint,
        scopes: profile.scopes,
        ...(profile.caps === undefined ? {} : { caps: profile.caps }),
        ...(profile.locale === undefined ? {} : { locale: profile.locale }),
        ...(profile.userAgent === undefined ? {} : { userAgent: profile.userAgent }),
        clientVersion: this.settings.clientVersion,
        ...(this.settings.device === undefined ? {} : { device: this.settings.device }),
        timeoutMs: FILL_TIMEOUT_MS,
        signal: aborter.signal,
      });
    } catch (error) {
      failure = error;
    }
    this.filling = undefined;
    try {
      if (connection === undefined) {
        if (this.isClosed) return;
        if (aborter.signal.aborted) {
          // Retargeted or a connection lost (the next fill is scheduled), or the cell left `ready` (then the
          // next fill finds no endpoint and the next `ready` schedules one).
          if (this.timer === undefined) this.schedule(0);
          return;
        }
        this.failures++;
        this.answering = false;
        const shape = failure instanceof CellHandshakeError ? failure.shape : undefined;
        const retryable = failure instanceof CellHandshakeError && failure.retryable;
        const delay = Math.max(shape?.retryAfterMs ?? 0, (retryable ? RETRY_RETRYABLE : RETRY_REFUSED)(this.failures));
        this.settings.log.debug(
          `Spare connection to the OpenClaw gateway of ${this.cell.tenantId} failed (${shape?.code ?? String(failure)}); retrying in ${delay} ms.`,
        );
        this.schedule(delay);
        if (retryable && startingUp) {
          // Refused while OpenClaw finished starting: try again as soon as it says it takes connections.
          void this.cell.whenAccepting?.().then(() => {
            if (this.timer !== undefined && this.filling === undefined && this.spare === undefined) this.schedule(0);
          });
        }
        return;
      }
      this.stats.opened++;
      const current = this.cell.endpoint;
      if (
        this.isClosed ||
        key !== this.targetKey ||
        current === undefined ||
        current.port !== endpoint.port ||
        current.token !== endpoint.token ||
        !connection.open
      ) {
        connection.close();
        this.stats.discarded++;
        this.schedule(0);
        return;
      }
      this.failures = 0;
      this.install(connection, key, endpoint);
    } finally {
      done();
    }
  }

  private install(connection: CellConnection, key: string, endpoint: { port: number; token: string }): void {
    const spare: Spare = { connection, key, port: endpoint.port, token: endpoint.token, release: () => undefined };
    const offEvent = connection.onEvent((event) => {
      if (event.event === 'shutdown') this.answering = false;
      if (!helloNeutral(event.event)) this.drop(spare, STALE_REFILL_MS);
    });
    // Dropped by the cell (an in-place restart, a crash): open the next one, backing off if it keeps happening.
    const offClosed = connection.onClosed(() => {
      this.failures++;
      this.answering = false;
      this.drop(spare, this.closedRefillDelay());
    });
    // The process is gone: the cell's next `ready` opens the next one.
    const detach = this.cell.attach({
      cellLost: () => {
        this.answering = false;
        this.drop(spare);
      },
    });
    // Too old or stale (above) says nothing about the process: it still answers while the next spare opens.
    const aged = setTimeout(() => this.drop(spare, 0), this.maxAgeMs);
    aged.unref();
    spare.release = () => {
      offEvent();
      offClosed();
      detach();
      clearTimeout(aged);
    };
    this.spare = spare;
    this.answering = true;
  }
}
