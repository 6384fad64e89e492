import { createServer, type Server } from 'node:http';
import { isMultiTenantError, type TenantManager } from '@openclaw-mt/core';

// Status codes for openclaw-mt's error codes; everything else is a 500.
const STATUS: Record<string, number> = {
  TOKEN_MALFORMED: 401,
  TOKEN_UNKNOWN: 401,
  TOKEN_REVOKED: 401,
  TOKEN_EXPIRED: 401,
  TENANT_SUSPENDED: 403,
  PATH_INVALID: 400,
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  CAPACITY: 503,
  RATE_LIMITED: 429,
  BACKEND_UNAVAILABLE: 503,
};

async function readJson(request: import('node:http').IncomingMessage): Promise<Record<string, unknown>> {
  let body = '';
  for await (const chunk of request) {
    body += chunk;
    if (body.length > 64 * 1024) throw Object.assign(new Error('body too large'), { status: 413 });
  }
  return body === '' ? {} : (JSON.parse(body) as Record<string, unknown>);
}

/**
 * A host's own HTTP server that embeds openclaw-mt: every request authenticates its bearer token,
 * acquires the caller's tenant, works only through that tenant's lease, and releases it.
 */
export function createHostServer(manager: TenantManager): Server {
  return createServer(async (request, response) => {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    try {
      const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
      // 1. Who is calling? Fails closed with a coded error; the token is never logged.
      const { tenantId } = await manager.authenticate(token);
      // 2. Pin the caller's tenant (activating it on first use) for exactly this request.
      const lease = await manager.acquire(tenantId);
      try {
        if (request.method === 'POST' && request.url === '/notes') {
          const { name, text } = await readJson(request);
          await lease.workspace.write(`workspace/notes/${String(name)}`, String(text));
          return reply(201, { tenantId, saved: name });
        }
        if (request.method === 'GET' && request.url?.startsWith('/notes/')) {
          const name = decodeURIComponent(request.url.slice('/notes/'.length));
          const text = new TextDecoder().decode(await lease.workspace.read(`workspace/notes/${name}`));
          return reply(200, { tenantId, name, text });
        }
        if (request.method === 'GET' && request.url === '/whoami') {
          return reply(200, { tenantId, model: lease.config.model ?? null });
        }
        return reply(404, { error: 'NOT_FOUND' });
      } finally {
        // 3. Always release: an unreleased lease pins the tenant forever.
        lease.release();
      }
    } catch (error) {
      if (isMultiTenantError(error)) {
        return reply(STATUS[error.code] ?? 500, { error: error.code, message: error.message, retryAfterMs: error.retryAfterMs });
      }
      return reply((error as { status?: number }).status ?? 500, { error: 'INTERNAL' });
    }
  });
}
