import { type Agent as HttpAgent, type ClientRequest, type IncomingMessage, request as httpRequest, type ServerResponse } from 'node:http';
import { type Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { MultiTenantError, isMultiTenantError } from '@openclaw-mt/core';
import { type CredentialStore, presentedCredential } from '../credentials/credential-store.js';
import { sendError } from '../http/error-response.js';
import { downstreamHeaders, upstreamHeaders } from '../http/header-rules.js';
import { parseTarget, type RequestTarget } from '../http/request-target.js';
import type { TenantLimits } from '../limits/tenant-limits.js';
import type { ErrorClass, MeteredRequest } from '../metering/usage-ledger.js';
import { USAGE_READERS } from '../metering/usage-shapes.js';
import { UsageTap } from '../metering/usage-tap.js';
import { basePath } from '../providers/provider-apis.js';
import { type Provider, upstreamBase } from '../providers/provider-registry.js';
import { redactKeyEcho } from './key-echo.js';
import { withStreamUsage } from './stream-usage.js';

/** A tenant's own key and/or base URL for a provider, from the host (say, the Cloud Backend's `llm_api_key`). */
export interface TenantProviderKey {
  apiKey?: string;
  baseUrl?: string;
}

/** The host's hook for tenants' own keys; `undefined` means the operator's. */
export type ResolveProviderKey = (
  tenantId: string,
  providerId: string,
) => TenantProviderKey | undefined | Promise<TenantProviderKey | undefined>;

/** A provider with the header names its config sets (which a cell's headers never replace). */
export type RoutedProvider = Provider & { overridden: ReadonlySet<string> };

/** What the request handler needs from the gateway around it. */
export interface ExchangeContext {
  providers: ReadonlyMap<string, RoutedProvider>;
  credentials: CredentialStore;
  limits: TenantLimits;
  resolve: ResolveProviderKey | undefined;
  maxBodyBytes: number;
  upstreamTimeoutMs: number;
  /** How long a request presenting a reserved credential is held before it is answered 503. */
  reservedHoldMs: number;
  agents: { http: HttpAgent; https: HttpsAgent };
  closing(): boolean;
  /** Counts a finished request (ledger, metrics, quota, `onUsage`). */
  finished(request: MeteredRequest, status: number, durationMs: number): void;
  /** Times the provider's response headers. */
  upstreamAnswered(providerId: string, seconds: number): void;
  /** Logs a secret-free line about an upstream failure. */
  warn(message: string): void;
  /** Keeps track of requests in flight, for draining; returns the function that says this one is over. */
  track(abort: () => void): () => void;
}

/** Largest upstream error body passed on (after redaction); the rest is dropped. */
const MAX_ERROR_BODY_BYTES = 256 * 1024;
/** Characters per token for the estimate used when a provider never reports usage. */
const BYTES_PER_TOKEN = 4;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]+$/;

function ignore(): void {}

function tooLarge(max: number): MultiTenantError {
  return new MultiTenantError('BAD_REQUEST', `The request body is over the ${max}-byte limit.`, {
    details: { reason: 'body-too-large', limit: max },
  });
}

/**
 * Reads the whole request body and calls `done` with it, or with `undefined` once it passes `max` bytes (the
 * rest is left unread). A request that breaks off never calls `done`: the response's 'close' accounts for it.
 */
function readBody(request: IncomingMessage, max: number, done: (body: Buffer | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > max) {
      request.off('data', onData);
      request.off('end', onEnd);
      request.pause();
      done(undefined);
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = () => done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  request.on('data', onData);
  request.once('end', onEnd);
}

/**
 * One cell request, end to end: authenticate the cell, route by provider id (never by a URL the cell chose),
 * check the tenant's limits, swap the credential for the real key, forward, and pass the answer back as it
 * streams while metering its usage. Every path ends in exactly one `finish`.
 */
class Exchange {
  private readonly started = performance.now();
  private readonly untrack: () => void;
  private done = false;
  private tenantId: string | undefined;
  private provider: RoutedProvider | undefined;
  private upstream: ClientRequest | undefined;
  /** Meters a 2xx answer; set once its headers are passed on. */
  private tap: UsageTap | undefined;
  private timedOut = false;
  private requestBytes = 0;

  constructor(
    private readonly context: ExchangeContext,
    private readonly request: IncomingMessage,
    private readonly response: ServerResponse,
    private readonly boundTenant: string | undefined,
  ) {
    this.untrack = context.track(() => {
      request.destroy();
      response.destroy();
    });
    // Errors on either socket are handled through 'close'; without a listener they would be thrown.
    request.on('error', ignore);
    response.on('error', ignore);
    // Registered first, so a cell that leaves during an awaited hook is noticed too.
    response.on('close', () => {
      if (this.done || response.writableFinished) return;
      this.upstream?.destroy();
      this.finish(499, 'aborted', ...this.partialUsage());
    });
  }

  run(): void {
    const { context, request } = this;
    if (context.closing()) {
      this.refuse(
        503,
        'unavailable',
        new MultiTenantError('CLOSED', 'The model gateway is shutting down; retry shortly.', { retryAfterMs: 1_000 }),
        {
          connection: 'close',
        },
      );
      return;
    }
    const target = parseTarget(request.url);
    const presented = presentedCredential(request.headers);
    const principal = context.credentials.verify(presented);
    if (principal === undefined && context.credentials.reportReserved(presented)) {
      // A pre-booted cell's warm-up reached its first model call: held unanswered until the cell gives the call
      // up (it is stopped there). No provider sees it, and OpenClaw records no failure it would hold against the key.
      const timer = setTimeout(
        () =>
          this.refuse(
            503,
            'unavailable',
            new MultiTenantError('BACKEND_UNAVAILABLE', 'This cell has no tenant yet.', { retryAfterMs: 1_000 }),
          ),
        context.reservedHoldMs,
      );
      timer.unref();
      this.response.once('close', () => clearTimeout(timer));
      return;
    }
    if (principal === undefined || (this.boundTenant !== undefined && principal.tenantId !== this.boundTenant)) {
      // Counted under the provider only when the path names a configured one: labels stay bounded.
      if (!('problem' in target)) this.provider = context.providers.get(target.providerId);
      const error =
        presented === undefined
          ? new MultiTenantError(
              'TOKEN_MALFORMED',
              'No cell credential: send it where the provider key goes (Authorization: Bearer, x-api-key or x-goog-api-key).',
            )
          : new MultiTenantError('TOKEN_UNKNOWN', 'The cell credential is not valid here (unknown, revoked, or not this tenant’s).');
      this.refuse(401, 'auth', error);
      return;
    }
    this.tenantId = principal.tenantId;
    if ('problem' in target) {
      this.refuse(
        400,
        'bad_request',
        new MultiTenantError('BAD_REQUEST', `Bad model request path: ${target.problem}.`, { details: { reason: 'path-invalid' } }),
      );
      return;
    }
    const provider = context.providers.get(target.providerId);
    if (provider === undefined) {
      this.refuse(
        404,
        'unknown_provider',
        new MultiTenantError('NOT_FOUND', `No model provider "${target.providerId}" is configured.`, {
          details: { reason: 'provider-unknown', provider: target.providerId },
        }),
      );
      return;
    }
    this.provider = provider;
    const method = request.method ?? 'GET';
    if (!provider.routes.allows(method, target.path)) {
      this.refuse(
        404,
        'bad_request',
        new MultiTenantError(
          'NOT_FOUND',
          `${method} ${target.path || '/'} is not a route of provider "${provider.id}" (${provider.api}).`,
          {
            details: { reason: 'route-not-allowed', provider: provider.id },
          },
        ),
      );
      return;
    }
    if (Number(request.headers['content-length'] ?? 0) > context.maxBodyBytes) {
      this.refuse(413, 'too_large', tooLarge(context.maxBodyBytes), { connection: 'close' });
      return;
    }
    const admitted = context.limits.admit(this.tenantId);
    if (admitted instanceof Promise)
      admitted.then(
        (refusal) => this.afterLimits(refusal, provider, target),
        (error: unknown) => this.afterLimits(error, provider, target),
      );
    else this.afterLimits(admitted, provider, target);
  }

  private afterLimits(refusal: unknown, provider: RoutedProvider, target: RequestTarget): void {
    if (this.done) return;
    if (refusal !== undefined) {
      const error = isMultiTenantError(refusal)
        ? refusal
        : new MultiTenantError('INTERNAL', 'Checking the limits failed.', { cause: refusal });
      const [status, errorClass]: [number, ErrorClass] =
        error.code === 'RATE_LIMITED'
          ? [429, 'rate_limited']
          : error.code === 'QUOTA_EXCEEDED'
            ? [429, 'quota']
            : error.code === 'BACKEND_UNAVAILABLE'
              ? [503, 'unavailable']
              : [500, 'unavailable'];
      this.refuse(status, errorClass, error);
      return;
    }
    const resolve = this.context.resolve;
    if (resolve === undefined) {
      this.forward(provider, target, provider.base, provider.apiKey);
      return;
    }
    Promise.resolve()
      .then(() => resolve(this.tenantId!, provider.id))
      .then(
        (own) => {
          if (this.done) return;
          const apiKey = own?.apiKey;
          if (apiKey !== undefined && (typeof apiKey !== 'string' || !HEADER_VALUE.test(apiKey)))
            throw new MultiTenantError('CONFIG_INVALID', `The tenant's key for provider "${provider.id}" is not a valid header value.`);
          const base =
            own?.baseUrl === undefined
              ? provider.base
              : upstreamBase(own.baseUrl, provider.api, `the tenant's baseUrl for "${provider.id}"`);
          this.forward(provider, target, base, apiKey ?? provider.apiKey);
        },
        (error: unknown) =>
          this.refuse(
            503,
            'unavailable',
            new MultiTenantError('BACKEND_UNAVAILABLE', `The key for provider "${provider.id}" could not be resolved; try again shortly.`, {
              cause: error,
              retryAfterMs: 1_000,
              details: { reason: 'key-unavailable', provider: provider.id },
            }),
          ),
      )
      .catch((error: unknown) =>
        this.refuse(
          500,
          'unavailable',
          isMultiTenantError(error) ? error : new MultiTenantError('INTERNAL', 'Forwarding failed.', { cause: error }),
        ),
      );
  }

  private forward(provider: RoutedProvider, target: RequestTarget, base: URL, apiKey: string | undefined): void {
    const { request, context } = this;
    if (provider.streamUsage && request.method === 'POST' && target.path === '/chat/completions') {
      readBody(request, context.maxBodyBytes, (body) => {
        if (this.done) return;
        if (body === undefined) {
          this.refuse(413, 'too_large', tooLarge(context.maxBodyBytes), { connection: 'close' });
          return;
        }
        this.requestBytes = body.length;
        this.send(provider, target, base, apiKey, withStreamUsage(body));
      });
      return;
    }
    this.send(provider, target, base, apiKey, undefined);
  }

  private send(provider: RoutedProvider, target: RequestTarget, base: URL, apiKey: string | undefined, body: Buffer | undefined): void {
    const { request, context } = this;
    const headers = upstreamHeaders(request.headers, provider, apiKey, provider.overridden);
    if (body !== undefined) {
      headers['content-length'] = body.length;
      delete headers['transfer-encoding'];
    }
    const https = base.protocol === 'https:';
    const forwardedAt = performance.now();
    const upstream = (https ? httpsRequest : httpRequest)({
      protocol: base.protocol,
      hostname: base.hostname.startsWith('[') ? base.hostname.slice(1, -1) : base.hostname,
      port: base.port === '' ? undefined : Number(base.port),
      method: request.method,
      path: `${basePath(base)}${target.path}${target.query === '' ? '' : `?${target.query}`}`,
      headers,
      agent: https ? context.agents.https : context.agents.http,
    });
    this.upstream = upstream;
    upstream.setTimeout(context.upstreamTimeoutMs, () => {
      // Only while this request owns the socket: a finished one's socket may serve another request by now.
      if (this.done) return;
      this.timedOut = true;
      upstream.destroy(new Error('upstream timeout'));
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => this.upstreamFailed(provider, error));
    upstream.on('response', (answer) => {
      context.upstreamAnswered(provider.id, (performance.now() - forwardedAt) / 1000);
      answer.on('error', ignore);
      if (this.done) {
        answer.destroy();
        return;
      }
      const status = answer.statusCode ?? 502;
      if (status >= 400) this.passError(answer, status, [apiKey, provider.apiKey]);
      else this.passThrough(answer, status, provider);
    });
    if (body !== undefined) {
      upstream.end(body);
      return;
    }
    request.on('data', (chunk: Buffer) => {
      this.requestBytes += chunk.length;
      if (this.requestBytes > context.maxBodyBytes && !this.done) {
        request.unpipe(upstream);
        upstream.destroy();
        this.refuse(413, 'too_large', tooLarge(context.maxBodyBytes), { connection: 'close' });
      }
    });
    request.pipe(upstream);
  }

  private upstreamFailed(provider: RoutedProvider, error: NodeJS.ErrnoException): void {
    if (this.done) return;
    const { context, timedOut } = this;
    const errorClass: ErrorClass = timedOut ? 'timeout' : 'unreachable';
    context.warn(
      `Provider "${provider.id}" ${timedOut ? `went silent for ${context.upstreamTimeoutMs} ms` : `failed (${error.code ?? 'error'})`} for tenant ${this.tenantId}.`,
    );
    if (this.tap !== undefined) {
      // The cell has our headers already: all it can be told is that the answer broke off.
      this.response.destroy();
      this.finish(502, errorClass, ...this.partialUsage());
      return;
    }
    this.refuse(
      timedOut ? 504 : 502,
      errorClass,
      new MultiTenantError(
        'BACKEND_UNAVAILABLE',
        timedOut
          ? `Provider "${provider.id}" did not answer within ${context.upstreamTimeoutMs} ms.`
          : `Provider "${provider.id}" could not be reached (${error.code ?? 'connection failed'}).`,
        { details: { reason: timedOut ? 'upstream-timeout' : 'upstream-unreachable', provider: provider.id } },
      ),
    );
  }

  /** An upstream error: its status and headers, its body (bounded) with any echo of a key removed. */
  private passError(answer: IncomingMessage, status: number, keys: ReadonlyArray<string | undefined>): void {
    const chunks: Buffer[] = [];
    let size = 0;
    answer.on('data', (chunk: Buffer) => {
      if (size >= MAX_ERROR_BODY_BYTES) return;
      chunks.push(chunk);
      size += chunk.length;
    });
    answer.on('end', () => {
      if (this.done) return;
      const body = Buffer.from(redactKeyEcho(Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY_BYTES).toString('utf8'), keys));
      const headers = downstreamHeaders(answer.headers);
      headers['content-length'] = body.length;
      this.response.writeHead(status, headers);
      this.response.end(body);
      this.finish(status, status >= 500 ? 'upstream_server' : 'upstream_client');
    });
  }

  /** A 2xx answer: passed on as it arrives (backpressure through pipe), metered on the way. */
  private passThrough(answer: IncomingMessage, status: number, provider: RoutedProvider): void {
    const { response } = this;
    const contentType = answer.headers['content-type'];
    // Asked for identity; a provider that compresses anyway cannot be read on the way, only estimated.
    const encoding = answer.headers['content-encoding'];
    const encoded = encoding !== undefined && encoding !== 'identity';
    const tap = new UsageTap(USAGE_READERS[provider.api], encoded ? undefined : contentType);
    this.tap = tap;
    response.writeHead(status, downstreamHeaders(answer.headers));
    // A stream's headers go out now, not with its first event.
    if (contentType !== undefined && !contentType.includes('json')) response.flushHeaders();
    answer.on('data', (chunk: Buffer) => tap.push(chunk));
    answer.on('end', () => {
      const seen = tap.finish();
      if (encoded || (tap.events > 0 && (seen.inputTokens === undefined || seen.outputTokens === undefined))) {
        this.finish(status, undefined, ...this.partialUsage());
        return;
      }
      this.finish(status, undefined, seen.inputTokens ?? 0, seen.outputTokens ?? 0, false);
    });
    answer.on('close', () => {
      if (answer.complete || this.done) return;
      response.destroy();
      this.finish(502, this.timedOut ? 'timeout' : 'unreachable', ...this.partialUsage());
    });
    answer.pipe(response);
  }

  /**
   * What to charge for a 2xx answer that was cut off, or streamed without full usage: what the provider reported
   * so far, else an estimate (request bytes / 4 in, one token per streamed event out). Nothing before an answer.
   */
  private partialUsage(): [number, number, boolean] {
    const { tap } = this;
    if (tap === undefined) return [0, 0, false];
    const seen = tap.finish();
    const input = seen.inputTokens ?? Math.ceil(this.requestBytes / BYTES_PER_TOKEN);
    const output = Math.max(seen.outputTokens ?? 0, tap.events > 0 ? tap.events : Math.ceil(tap.bytes / BYTES_PER_TOKEN));
    return [input, output, true];
  }

  private refuse(status: number, errorClass: ErrorClass, error: MultiTenantError, headers?: Record<string, string>): void {
    if (this.done) return;
    sendError(this.response, status, error, headers);
    this.finish(status, errorClass);
  }

  private finish(status: number, errorClass: ErrorClass | undefined, inputTokens = 0, outputTokens = 0, estimated = false): void {
    if (this.done) return;
    this.done = true;
    this.untrack();
    this.context.finished(
      {
        tenantId: this.tenantId,
        providerId: this.provider?.id,
        inputTokens,
        outputTokens,
        estimated,
        ...(errorClass === undefined ? {} : { errorClass }),
      },
      status,
      performance.now() - this.started,
    );
  }
}

/** Handles one cell request (see {@link Exchange}). */
export function handleExchange(
  context: ExchangeContext,
  request: IncomingMessage,
  response: ServerResponse,
  boundTenant: string | undefined,
): void {
  new Exchange(context, request, response, boundTenant).run();
}
