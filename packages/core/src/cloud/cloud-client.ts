import type { z } from 'zod';
import { MultiTenantError } from '../errors/multi-tenant-error.js';
import { redactText } from '../tokens/redact.js';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  type CloudResponse,
  type FetchFunction,
  assertBearerCredential,
  cloudUrl,
  errorCodeOf,
  normalizeBaseUrl,
  retryAfterMs,
  sendCloudRequest,
} from './http-request.js';
import { CloudPaths, MAX_CONFIGS_PAGE_LIMIT, configsEnvelopeSchema, type VerifyResponse, verifyResponseSchema } from './wire-contract.js';

/** Options of {@link createCloudClient}. */
export interface CloudClientOptions {
  /** Base URL of the operator's Cloud Backend (the seed's `cloudBackendUrl`). */
  url: string;
  /** Sent as `Authorization: Bearer …` on every gateway-facing request; never logged. */
  serviceToken: string;
  /** A `fetch` to use instead of the global one. */
  fetch?: FetchFunction;
  /** Deadline of one request, headers and body together. Default 5 s. */
  timeoutMs?: number;
  /** Responses larger than this are refused. Default 32 MiB. */
  maxResponseBytes?: number;
}

/** A definite verify answer. Anything else (outage, 5xx, timeout, bad body) is thrown as `BACKEND_UNAVAILABLE`. */
export type VerifyOutcome = { kind: 'valid'; answer: VerifyResponse } | { kind: 'invalid'; status: number };

/** One request of the config feed. */
export interface ConfigsQuery {
  /** Opaque cursor from the previous page; from the start when omitted. */
  cursor?: string;
  limit: number;
  /** The ETag received for this very cursor, sent as `If-None-Match`. */
  etag?: string;
}

/** A page whose envelope is valid; `users` are validated one by one by the caller. */
export type ConfigsOutcome =
  | { kind: 'not-modified' }
  | { kind: 'page'; users: unknown[]; nextCursor: string; hasMore: boolean; etag?: string; bytes: number };

/** The gateway-facing half of the wire contract, over HTTP. */
export interface CloudClient {
  /** The normalised base URL (no credentials, no query). */
  readonly baseUrl: string;
  /** Verifies a gateway token; the token travels only in the JSON body. */
  verify(token: string): Promise<VerifyOutcome>;
  /** Fetches one page of the config feed. */
  configs(query: ConfigsQuery): Promise<ConfigsOutcome>;
}

/**
 * Creates a {@link CloudClient}. Every failure is a coded `MultiTenantError`: `BACKEND_UNAVAILABLE`
 * when the backend gave no definite answer, `CONFIG_INVALID` when its payload breaks the contract.
 */
export function createCloudClient(options: CloudClientOptions): CloudClient {
  const baseUrl = normalizeBaseUrl(options.url);
  const serviceToken = assertBearerCredential(options.serviceToken, 'serviceToken');
  const timeoutMs = positive(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs');
  const maxResponseBytes = positive(options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, 'maxResponseBytes');
  const authorization = `Bearer ${serviceToken}`;

  const send = (method: 'GET' | 'POST', url: string, extra: { body?: unknown; headers?: Record<string, string>; maxBytes?: number } = {}) =>
    sendCloudRequest({
      method,
      url,
      headers: { authorization, ...extra.headers },
      ...(extra.body === undefined ? {} : { body: extra.body }),
      timeoutMs,
      maxResponseBytes: Math.min(maxResponseBytes, extra.maxBytes ?? maxResponseBytes),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });

  return {
    baseUrl,

    async verify(token) {
      // A verify answer is a few hundred bytes; anything near this cap is not one.
      const response = await send('POST', cloudUrl(baseUrl, CloudPaths.verify), { body: { token }, maxBytes: 64 * 1024 });
      if (response.status === 200) {
        return { kind: 'valid', answer: parseOrThrow(verifyResponseSchema, response.body, 'verify answer') };
      }
      if (response.status === 401 && errorCodeOf(response.body) === 'SERVICE_UNAUTHORIZED') throw serviceTokenRejected(response);
      if (response.status === 401 || response.status === 404) return { kind: 'invalid', status: response.status };
      throw unexpectedStatus('POST /openclaw/gateway/verify', response);
    },

    async configs(query) {
      const limit = Math.min(Math.max(1, Math.floor(query.limit)), MAX_CONFIGS_PAGE_LIMIT);
      const url = cloudUrl(baseUrl, CloudPaths.configs, { cursor: query.cursor, limit });
      const response = await send('GET', url, query.etag === undefined ? {} : { headers: { 'if-none-match': query.etag } });
      if (response.status === 304) {
        if (query.etag === undefined) {
          throw new MultiTenantError('CONFIG_INVALID', 'GET /openclaw/gateway/configs answered 304 to a request without If-None-Match.', {
            details: { reason: 'unexpected-304' },
          });
        }
        return { kind: 'not-modified' };
      }
      if (response.status === 200) {
        const page = parseOrThrow(configsEnvelopeSchema, response.body, 'configs page');
        const etag = response.headers.get('etag') ?? undefined;
        return { kind: 'page', ...page, ...(etag ? { etag } : {}), bytes: response.bytes };
      }
      if (response.status === 401 || response.status === 403) throw serviceTokenRejected(response);
      if (response.status === 400 && errorCodeOf(response.body) === 'CURSOR_INVALID') {
        throw new MultiTenantError('CONFIG_INVALID', 'The Cloud Backend no longer accepts the sync cursor.', {
          details: { reason: 'cursor-rejected', status: 400 },
        });
      }
      throw unexpectedStatus('GET /openclaw/gateway/configs', response);
    },
  };
}

/** Parses a payload, or throws `CONFIG_INVALID` listing (at most five) problems by field path. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = describeIssues(parsed.error.issues);
  throw new MultiTenantError('CONFIG_INVALID', `Invalid ${what}: ${problems}.`, { details: { reason: 'invalid-payload', problems } });
}

/** `users.3.version: expected int` style, field paths first, values never echoed. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 5).map((issue) => `${issue.path.length === 0 ? '(body)' : issue.path.join('.')}: ${issue.message}`);
  if (issues.length > 5) shown.push(`and ${issues.length - 5} more`);
  return redactText(shown.join('; '));
}

function serviceTokenRejected(response: CloudResponse): MultiTenantError {
  return new MultiTenantError(
    'BACKEND_UNAVAILABLE',
    `The Cloud Backend rejected the service token (${response.status}); check multiTenant.serviceToken.`,
    { retryAfterMs: 60_000, details: { reason: 'service-token-rejected', status: response.status } },
  );
}

function unexpectedStatus(target: string, response: CloudResponse): MultiTenantError {
  const code = errorCodeOf(response.body);
  return new MultiTenantError('BACKEND_UNAVAILABLE', `${target} answered ${response.status}${code ? ` (${redactText(code)})` : ''}.`, {
    retryAfterMs: retryAfterMs(response.headers) ?? 1_000,
    details: { reason: response.status >= 500 ? 'server-error' : 'unexpected-status', status: response.status },
  });
}

function positive(value: number, key: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new MultiTenantError('CONFIG_INVALID', `${key}: expected a positive number, got ${String(value)}.`);
  return value;
}
