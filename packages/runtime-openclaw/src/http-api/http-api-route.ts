import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { MultiTenantError } from '@openclaw-mt/core';
import { sendHttpError, type TenantHttpRoute } from '@openclaw-mt/gateway';
import type { OpenClawRuntime } from '../openclaw-runtime.js';
import { requestHeadersForCell, responseHeadersForClient } from './forward-headers.js';
import { httpApiOfPath, type HttpApi } from './http-apis.js';

/** Largest request body of `/v1/*` (images and files travel inline there). */
export const MAX_V1_BODY_BYTES = 20 * 1024 * 1024;
/** Largest request body of `/hooks/*`, as OpenClaw's own hooks allow. */
export const MAX_HOOKS_BODY_BYTES = 256 * 1024;

/** Options of {@link createHttpApiRoute}. */
export interface HttpApiRouteOptions {
  /** The runtime whose cells serve the requests (its `httpApis` say which surfaces are on). */
  runtime: Pick<OpenClawRuntime, 'httpApis' | 'checkHttpApi' | 'httpTarget'>;
}

function pathOf(request: IncomingMessage): string {
  return (request.url ?? '/').split('?')[0]!;
}

function apiOf(request: IncomingMessage): HttpApi {
  return httpApiOfPath(pathOf(request))!;
}

function bodyTooLarge(limit: number): MultiTenantError {
  return new MultiTenantError('BAD_REQUEST', `The request body is larger than ${limit} bytes.`, {
    details: { reason: 'body-too-large', limit, status: 413 },
  });
}

/** The tenant's gateway token as the request presents it; a token in the URL is refused (it would end up in logs). */
function credentialOf(request: IncomingMessage): string | undefined {
  const query = (request.url ?? '').split('?')[1];
  if (query !== undefined && new URLSearchParams(query).has('token')) {
    throw new MultiTenantError('BAD_REQUEST', 'Send the token in the Authorization header, never in the URL.', {
      details: { reason: 'token-in-url' },
    });
  }
  const header = request.headers.authorization;
  const bearer = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
  if (bearer !== undefined || apiOf(request) !== 'hooks') return bearer;
  // Hooks senders may use OpenClaw's own header instead.
  const token = request.headers['x-openclaw-token'];
  return typeof token === 'string' && token.trim() !== '' ? token.trim() : undefined;
}

/** Counts body bytes as they pass and fails the stream once they exceed `limit`. */
function byteLimit(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      seen += chunk.length;
      callback(seen > limit ? bodyTooLarge(limit) : null, chunk);
    },
  });
}

/**
 * Forwards one request to the cell and streams its answer back as it comes (server-sent events chunk
 * by chunk). Settles once the response is over, whichever way it ends.
 */
function forward(
  request: IncomingMessage,
  response: ServerResponse,
  target: { port: number; credential: string },
  limit: number,
  signal: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve) => {
    const upstream = httpRequest({
      host: '127.0.0.1',
      port: target.port,
      method: request.method,
      path: request.url,
      headers: requestHeadersForCell(request.headers, target.port, target.credential),
      agent: false,
    });
    const fail = (error: unknown) => {
      upstream.destroy();
      if (response.headersSent) response.destroy();
      else sendHttpError(response, error, { connection: 'close' });
    };
    response.once('close', () => {
      upstream.destroy();
      resolve();
    });
    signal.addEventListener('abort', () => upstream.destroy(), { once: true });
    upstream.once('response', (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.statusMessage, responseHeadersForClient(answer.headers));
      response.flushHeaders();
      answer.pipe(response);
      answer.once('error', () => response.destroy());
    });
    upstream.once('error', () =>
      fail(
        new MultiTenantError('BACKEND_UNAVAILABLE', 'Your OpenClaw gateway could not be reached; retry shortly.', {
          retryAfterMs: 2_000,
          details: { reason: 'cell-unreachable' },
        }),
      ),
    );
    const counted = byteLimit(limit);
    counted.once('error', fail);
    request.pipe(counted).pipe(upstream);
  });
}

/**
 * OpenClaw's own HTTP surfaces, per tenant, on the front door's port (mount it with
 * `createGateway({ tenantHttpRoutes })`): `/v1/*` (OpenAI-compatible, and `/v1/responses`) and
 * `/hooks/*`, each only when the runtime's `httpApis` enables it. The gateway authenticates the
 * tenant's gateway token (`Authorization: Bearer`; hooks also take `x-openclaw-token`; a `token`
 * query parameter is refused with 400), pins the tenant and applies its request quota; this route
 * refuses `/v1/*` to tenants without the `admin` privilege (403), waits for a cold cell, and forwards
 * the request to that tenant's cell only, with the cell's own credential in place of the tenant's
 * token and without hop-by-hop, `x-openclaw-scopes` or `x-forwarded-*` headers. Bodies are capped
 * ({@link MAX_V1_BODY_BYTES}, {@link MAX_HOOKS_BODY_BYTES}; 413 beyond, counted as they stream).
 */
export function createHttpApiRoute(options: HttpApiRouteOptions): TenantHttpRoute {
  const { runtime } = options;
  return {
    matches(request) {
      const api = httpApiOfPath(pathOf(request));
      return api !== undefined && runtime.httpApis[api] === true;
    },
    credentialOf,
    authorize(tenantId, request) {
      runtime.checkHttpApi(tenantId, apiOf(request));
    },
    async serve(request, response, tenant) {
      const api = apiOf(request);
      const limit = api === 'hooks' ? MAX_HOOKS_BODY_BYTES : MAX_V1_BODY_BYTES;
      const declared = Number(request.headers['content-length']);
      if (Number.isFinite(declared) && declared > limit) throw bodyTooLarge(limit);
      const target = await runtime.httpTarget(tenant.tenantId, api, tenant.signal);
      await forward(request, response, target, limit, tenant.signal);
    },
  };
}
