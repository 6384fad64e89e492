import { MultiTenantError } from '../errors/multi-tenant-error.js';
import type {
  CloudDialect,
  CloudDialectName,
  ConfigsOutcome,
  ConfigsQuery,
  DialectRequest,
  VerifyOutcome,
} from './dialects/cloud-dialect.js';
import { resolveCloudDialect } from './dialects/resolve-dialect.js';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  type CloudResponse,
  type FetchFunction,
  assertBearerCredential,
  cloudUrl,
  normalizeBaseUrl,
  sendCloudRequest,
} from './http-request.js';

export { describeIssues, parseOrThrow } from './answer-errors.js';
export type { ConfigsOutcome, ConfigsQuery, VerifyOutcome } from './dialects/cloud-dialect.js';

/** Options of {@link createCloudClient}. */
export interface CloudClientOptions {
  /** Base URL of the operator's Cloud Backend (the seed's `cloudBackendUrl`). */
  url: string;
  /** Sent as `Authorization: Bearer …` on every gateway-facing request that needs it; never logged. */
  serviceToken: string;
  /** How the backend is spoken to: `v1` (default), `fba` (the original fork's backend), or a dialect object. */
  dialect?: CloudDialectName | CloudDialect;
  /** Prefix of the backend's routes (default: the dialect's own). */
  pathPrefix?: string;
  /** A `fetch` to use instead of the global one. */
  fetch?: FetchFunction;
  /** Deadline of one request, headers and body together. Default 5 s. */
  timeoutMs?: number;
  /** Responses larger than this are refused. Default 32 MiB. */
  maxResponseBytes?: number;
}

/** The gateway-facing half of the wire contract, over HTTP, in the backend's dialect. */
export interface CloudClient {
  /** The normalised base URL (no credentials, no query). */
  readonly baseUrl: string;
  readonly dialect: CloudDialect;
  /** Verifies a gateway token (in the JSON body with v1; in the URL with the `fba` dialect, which is flagged). */
  verify(token: string): Promise<VerifyOutcome>;
  /** Fetches one page of the config feed, translated to the contract's shapes. */
  configs(query: ConfigsQuery): Promise<ConfigsOutcome>;
}

/**
 * Creates a {@link CloudClient}. Every failure is a coded `MultiTenantError`: `BACKEND_UNAVAILABLE`
 * when the backend gave no definite answer, `CONFIG_INVALID` when its payload breaks the contract. No
 * message carries the service token, even when the backend echoes it.
 */
export function createCloudClient(options: CloudClientOptions): CloudClient {
  const baseUrl = normalizeBaseUrl(options.url);
  const serviceToken = assertBearerCredential(options.serviceToken, 'serviceToken');
  const dialect = resolveCloudDialect(options.dialect, options.pathPrefix);
  const timeoutMs = positive(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs');
  const maxResponseBytes = positive(options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, 'maxResponseBytes');
  const context = { secrets: [serviceToken] };

  const send = (request: DialectRequest, maxBytes = maxResponseBytes): Promise<CloudResponse> =>
    sendCloudRequest({
      method: request.method,
      url: cloudUrl(baseUrl, request.path, request.query),
      headers: { ...(request.serviceAuth ? { authorization: `Bearer ${serviceToken}` } : {}), ...request.headers },
      ...(request.body === undefined ? {} : { body: request.body }),
      timeoutMs,
      maxResponseBytes: Math.min(maxResponseBytes, maxBytes),
      secrets: context.secrets,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });

  return {
    baseUrl,
    dialect,

    async verify(token) {
      // A verify answer is a few hundred bytes (a few KiB with a config); anything near this cap is not one.
      const response = await send(dialect.verifyRequest(token), 512 * 1024);
      return dialect.readVerify(response, context);
    },

    async configs(query) {
      const limit = Math.min(Math.max(1, Math.floor(query.limit)), dialect.maxPageLimit);
      const request = { ...query, limit };
      if (!dialect.conditionalRequests) delete request.etag;
      return dialect.readConfigs(await send(dialect.configsRequest(request)), request, context);
    },
  };
}

function positive(value: number, key: string): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new MultiTenantError('CONFIG_INVALID', `${key}: expected a positive number, got ${String(value)}.`);
  return value;
}
