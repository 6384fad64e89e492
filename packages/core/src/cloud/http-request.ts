import { ofetch } from 'ofetch';
import { MultiTenantError } from '../errors/multi-tenant-error.js';
import { redactText } from '../tokens/redact.js';

/** A `fetch` implementation (the global one by default); tests and hosts may inject their own. */
export type FetchFunction = typeof globalThis.fetch;

/** What {@link sendCloudRequest} sends. */
export interface CloudRequest {
  method: 'GET' | 'POST';
  /** Full URL; callers build it with {@link cloudUrl} so credentials never enter it. */
  url: string;
  headers?: Record<string, string>;
  /** Serialised as JSON. */
  body?: unknown;
  timeoutMs: number;
  maxResponseBytes: number;
  /** Literal secrets scrubbed from every error message (the service token). */
  secrets?: readonly string[];
  fetch?: FetchFunction;
}

/** A response whose body was read (within the size cap) and parsed as JSON when there was one. */
export interface CloudResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, `undefined` for an empty body. */
  body: unknown;
  /** Bytes read. */
  bytes: number;
}

/** Defaults shared by the client and the contract checker. */
export const DEFAULT_TIMEOUT_MS = 5_000;
/** Largest response body read before the request is refused (32 MiB: 500 users × 64 KiB configs). */
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/**
 * Checks a backend base URL: http(s), no credentials, query or fragment (they would leak into logs and
 * every request). Returns it normalised without a trailing slash. Throws `CONFIG_INVALID`.
 */
export function normalizeBaseUrl(input: unknown): string {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    throw new MultiTenantError('CONFIG_INVALID', 'cloudBackendUrl: expected an absolute http(s) URL such as https://api.example.com.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new MultiTenantError('CONFIG_INVALID', `cloudBackendUrl: expected http or https, got ${url.protocol.replace(':', '')}.`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new MultiTenantError('CONFIG_INVALID', 'cloudBackendUrl: must not carry credentials; pass the service token separately.');
  }
  if (url.search !== '' || url.hash !== '') {
    throw new MultiTenantError('CONFIG_INVALID', 'cloudBackendUrl: must not carry a query string or fragment.');
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * Joins a normalised base URL, a route path and query parameters (encoded). Only the `fba` dialect's verify puts a
 * secret here; no message ever shows a query (see `describeTarget`).
 */
export function cloudUrl(base: string, path: string, query: Record<string, string | number | undefined> = {}): string {
  const url = new URL(base + path);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  return url.toString();
}

/** Checks a bearer credential without ever echoing it. Throws `CONFIG_INVALID`. */
export function assertBearerCredential(value: unknown, key: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new MultiTenantError('CONFIG_INVALID', `${key}: expected a non-empty string.`);
  if (!/^[\x21-\x7e]+$/.test(value)) throw new MultiTenantError('CONFIG_INVALID', `${key}: must be printable ASCII without spaces.`);
  return value;
}

const TIMEOUT = Symbol('timeout');

// With If-None-Match, node's fetch adds `pragma`/`cache-control: no-cache` unless the request says
// `cache: 'no-cache'` (undici's types omit the field, node honours it).
const NO_CACHE = { cache: 'no-cache' } as Record<string, unknown>;

const fetchers = new WeakMap<FetchFunction, typeof ofetch>();

function fetcherFor(fetch: FetchFunction | undefined): typeof ofetch {
  if (fetch === undefined) return ofetch;
  let fetcher = fetchers.get(fetch);
  if (fetcher === undefined) {
    fetcher = ofetch.create({}, { fetch });
    fetchers.set(fetch, fetcher);
  }
  return fetcher;
}

/**
 * One HTTP exchange through ofetch, with everything the pitfalls in facts.md call for: no automatic
 * retries (callers own retry policy), one deadline covering headers *and* body (ofetch ignores
 * `timeout` once a signal is passed, so the signal is ours), redirects refused (a redirected POST
 * would carry the token elsewhere), status codes returned rather than thrown (304 included), and the
 * body read as a stream under a byte cap (which also bounds decompressed size).
 *
 * Throws `BACKEND_UNAVAILABLE` (network, timeout, redirect) or `CONFIG_INVALID` (too large, not JSON).
 * Errors carry a sanitised cause: never the request options, whose headers and body hold secrets.
 */
export async function sendCloudRequest(request: CloudRequest): Promise<CloudResponse> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(TIMEOUT), request.timeoutMs);
  timer.unref();
  const secrets = request.secrets ?? [];
  const target = describeTarget(request, secrets);
  try {
    const $fetch = fetcherFor(request.fetch);
    let response: Response;
    try {
      response = await $fetch.raw(request.url, {
        method: request.method,
        headers: {
          accept: 'application/json',
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...request.headers,
        },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        retry: false,
        ignoreResponseError: true,
        responseType: 'stream',
        redirect: 'manual',
        ...NO_CACHE,
        signal: controller.signal,
      });
    } catch (error) {
      if (controller.signal.reason === TIMEOUT) {
        throw unavailable(`${target} timed out after ${request.timeoutMs} ms.`, 'timeout', error, secrets);
      }
      throw unavailable(`${target} failed: ${transportProblem(error, secrets)}.`, 'network', error, secrets);
    }
    if (response.status >= 300 && response.status < 400 && response.status !== 304) {
      await response.body?.cancel().catch(() => undefined);
      throw unavailable(`${target} was redirected (${response.status}); configure the backend's final URL.`, 'redirect');
    }
    const bytes = await readCapped(response, request.maxResponseBytes, controller, target, request.timeoutMs, secrets);
    return { status: response.status, headers: response.headers, body: parseJson(bytes, target, response.status), bytes: bytes.byteLength };
  } finally {
    clearTimeout(timer);
  }
}

/** `Retry-After` in milliseconds (seconds or an HTTP date), when present and sane. */
export function retryAfterMs(headers: Headers, now: number = Date.now()): number | undefined {
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, 3_600_000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.min(Math.max(0, date - now), 3_600_000);
}

/** The `error.code` of a contract error body, if the body is one. */
export function errorCodeOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string') {
    return (error as { code: string }).code;
  }
  return typeof error === 'string' ? error : undefined;
}

async function readCapped(
  response: Response,
  cap: number,
  controller: AbortController,
  target: string,
  timeoutMs: number,
  secrets: readonly string[],
): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > cap) {
    controller.abort();
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(target, cap);
  }
  const body = response.body;
  if (body === null || response.status === 304) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > cap) {
        controller.abort();
        await reader.cancel().catch(() => undefined);
        throw tooLarge(target, cap);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof MultiTenantError) throw error;
    if (controller.signal.reason === TIMEOUT) throw unavailable(`${target} timed out after ${timeoutMs} ms.`, 'timeout', error, secrets);
    throw unavailable(`${target} failed while reading the body: ${transportProblem(error, secrets)}.`, 'network', error, secrets);
  }
  return Buffer.concat(chunks, total);
}

function parseJson(bytes: Uint8Array, target: string, status: number): unknown {
  if (bytes.byteLength === 0) return undefined;
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    // Error pages of proxies are not JSON; a 2xx that is not JSON is a contract violation.
    if (status >= 400) return undefined;
    throw new MultiTenantError('CONFIG_INVALID', `${target} answered ${status} with a body that is not JSON.`, {
      details: { reason: 'not-json', status },
    });
  }
}

function tooLarge(target: string, cap: number): MultiTenantError {
  return new MultiTenantError('CONFIG_INVALID', `${target}: the response exceeds the size cap of ${cap} bytes and was refused.`, {
    details: { reason: 'too-large', maxResponseBytes: cap },
  });
}

function unavailable(message: string, reason: string, error?: unknown, secrets: readonly string[] = []): MultiTenantError {
  return new MultiTenantError('BACKEND_UNAVAILABLE', message, {
    retryAfterMs: 1_000,
    details: { reason },
    ...(error === undefined ? {} : { cause: sanitizedCause(error, secrets) }),
  });
}

/** `POST /openclaw/gateway/verify` — method and path only: queries may carry cursors (or, in the fork's dialect, a token), never shown. */
function describeTarget(request: CloudRequest, secrets: readonly string[]): string {
  let path = request.url;
  try {
    const url = new URL(request.url);
    path = `${url.origin}${url.pathname}`;
  } catch {
    // Fall through with the raw string; it is redacted below.
  }
  return `${request.method} ${redactText(path, secrets)}`;
}

/** The innermost error's code and message, e.g. `ECONNREFUSED`. */
function transportProblem(error: unknown, secrets: readonly string[] = []): string {
  const root = innermost(error);
  const code = (root as { code?: unknown } | undefined)?.code;
  const message = root instanceof Error ? root.message : String(root);
  return redactText(typeof code === 'string' && !message.includes(code) ? `${code} ${message}` : message, secrets);
}

function innermost(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5; depth++) {
    const cause = (current as { cause?: unknown } | undefined)?.cause;
    if (cause === undefined || cause === null || cause === TIMEOUT) break;
    current = cause;
  }
  return current;
}

// ofetch's FetchError exposes the request options (Authorization header, token body) as properties:
// keep only a code and a redacted message.
function sanitizedCause(error: unknown, secrets: readonly string[]): Error {
  const root = innermost(error);
  const copy = new Error(transportProblem(root, secrets));
  const code = (root as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') Object.assign(copy, { code });
  return copy;
}
