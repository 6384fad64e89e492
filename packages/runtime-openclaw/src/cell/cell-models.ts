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
  ): Promise<{ close(): Promise<void> }>;
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
}

/** The loopback port, inside a cell's own network namespace, where its relay serves the model socket. */
export function insideModelPort(cellPort: number): number {
  // Above every port OpenClaw derives from its own (up to +110).
  return cellPort + 127 <= 65_535 ? cellPort + 127 : cellPort - 1;
}
