/**
 * What a cell needs of a model gateway (`@openclaw-mt/model-gateway` fits): a credential per cell, a
 * socket that only one tenant may use, and the provider entries for the cell's config. Structural,
 * so the runtime does not depend on one implementation.
 */
export interface CellModelGateway {
  issue(tenantId: string): { readonly credential: string; revoke(): void };
  /**
   * A credential that reaches no provider until assigned, for pre-booted cells (needed for `warmCells` with a
   * model gateway). With `nextRequest` (its requests held until given up, and reported) a pre-booted cell
   * runs a warm-up turn up to its model call.
   */
  reserve?(): {
    readonly credential: string;
    assign(tenantId: string): void;
    revoke(): void;
    nextRequest?(signal?: AbortSignal): Promise<void>;
  };
  listenFor(
    tenantId: string,
    socketPath: string,
    options?: { mode?: number; uid?: number; gid?: number },
  ): Promise<{ close(options?: { drain?: boolean }): Promise<void> }>;
  cellProviders(credential: string, origin: string): Record<string, { baseUrl: string; api: string; apiKey: string }>;
}

/** The model gateway cells use instead of provider keys. */
export interface CellModels {
  gateway: CellModelGateway;
  /**
   * The gateway's shared loopback origin (`http://127.0.0.1:<port>`), for cells that share the host's
   * network (egress `host`, or no sandbox). Cells in their own network namespace reach it through a
   * per-tenant Unix socket instead.
   */
  origin?: string;
  /**
   * Settles once {@link gateway} can issue credentials, for a gateway started after the runtime (as `serve` starts it,
   * once its stores are open): cells, pre-booted cells and the install's recordings wait for it before they ask the
   * gateway anything, so they may begin at once. A rejection fails what waits, as the gateway's own error would.
   */
  ready?: Promise<unknown>;
}

/**
 * {@link CellModels.ready}, given up when `signal` aborts (the runtime closing), so that nothing waiting for a model
 * gateway that never starts holds the runtime's close; `undefined` for a gateway that runs already.
 */
export function modelsReady(models: CellModels | undefined, signal: AbortSignal): Promise<void> | undefined {
  const ready = models?.ready;
  if (ready === undefined) return undefined;
  const waiting = new Promise<void>((resolve, reject) => {
    const aborted = () => reject(signal.reason);
    if (signal.aborted) return aborted();
    signal.addEventListener('abort', aborted, { once: true });
    void ready.then(() => resolve(), reject).finally(() => signal.removeEventListener('abort', aborted));
  });
  // Whatever needs the gateway awaits this; a runtime that never needed it must not see an unhandled rejection.
  waiting.catch(() => undefined);
  return waiting;
}

/**
 * The loopback port, inside a cell's own network namespace, where its relay serves the model socket: the same for
 * every start of a cell (its providers' URLs go into its config, and OpenClaw runs its state migrations again on
 * every start whose config differs), clear of every port OpenClaw derives from its own (up to +110).
 */
export function insideModelPort(cellPort: number): number {
  return cellPort <= INSIDE_MODEL_PORTS[0] && INSIDE_MODEL_PORTS[0] <= cellPort + 127 ? INSIDE_MODEL_PORTS[1] : INSIDE_MODEL_PORTS[0];
}
const INSIDE_MODEL_PORTS = [39_871, 29_871] as const;

/** The environment variable that carries a cell's model credential; its config names it (a SecretRef), never the value. */
export const MODEL_KEY_ENV = 'OPENCLAW_MT_MODEL_KEY';

/**
 * The model gateway's provider entries for a cell's config, the credential left to the environment
 * ({@link MODEL_KEY_ENV}): a credential is new at every start, and a config that changes at every start makes
 * OpenClaw run its state migrations again each time (~3.5 s of a returning tenant's start, measured).
 */
export function cellProviderConfig(gateway: CellModelGateway, origin: string): Record<string, unknown> {
  const keyRef = { source: 'env', provider: 'default', id: MODEL_KEY_ENV };
  return Object.fromEntries(
    Object.entries(gateway.cellProviders('', origin)).map(([id, provider]) => [id, { ...provider, apiKey: keyRef }]),
  );
}
