import { MultiTenantError } from '../../errors/multi-tenant-error.js';
import { DEFAULT_TOKEN_FORMATS } from '../../tokens/token-formats.js';
import { parseOrThrow, serviceTokenRejected, unexpectedStatus } from '../answer-errors.js';
import { errorCodeOf } from '../http-request.js';
import { CloudPaths, MAX_CONFIGS_PAGE_LIMIT, configsEnvelopeSchema, verifyResponseSchema } from '../wire-contract.js';
import type { CloudDialect } from './cloud-dialect.js';

/** openclaw-mt's own wire contract (docs/cloud-backend-api.md), under an optional path prefix. */
export function createV1Dialect(options: { pathPrefix?: string } = {}): CloudDialect {
  const prefix = options.pathPrefix ?? '';
  const verifyPath = prefix + CloudPaths.verify;
  const configsPath = prefix + CloudPaths.configs;
  return {
    name: 'v1',
    pathPrefix: prefix,
    tokenFormats: DEFAULT_TOKEN_FORMATS,
    feed: 'changes',
    invalidCoversSuspended: false,
    tokenInUrl: false,
    conditionalRequests: true,
    maxPageLimit: MAX_CONFIGS_PAGE_LIMIT,
    routes: { verify: `POST ${verifyPath}`, configs: `GET ${configsPath}` },
    limits: [],

    verifyRequest: (token) => ({ method: 'POST', path: verifyPath, body: { token }, serviceAuth: true }),

    readVerify(response, { secrets }) {
      if (response.status === 200) {
        return { kind: 'valid', answer: parseOrThrow(verifyResponseSchema, response.body, 'verify answer', secrets) };
      }
      if (response.status === 401 && errorCodeOf(response.body) === 'SERVICE_UNAUTHORIZED') throw serviceTokenRejected(response);
      if (response.status === 401 || response.status === 404) return { kind: 'invalid', status: response.status };
      throw unexpectedStatus(`POST ${verifyPath}`, response, secrets);
    },

    configsRequest: (query) => ({
      method: 'GET',
      path: configsPath,
      query: { cursor: query.cursor, limit: query.limit },
      serviceAuth: true,
      ...(query.etag === undefined ? {} : { headers: { 'if-none-match': query.etag } }),
    }),

    readConfigs(response, query, { secrets }) {
      if (response.status === 304) {
        if (query.etag === undefined) {
          throw new MultiTenantError('CONFIG_INVALID', `GET ${configsPath} answered 304 to a request without If-None-Match.`, {
            details: { reason: 'unexpected-304' },
          });
        }
        return { kind: 'not-modified' };
      }
      if (response.status === 200) {
        const page = parseOrThrow(configsEnvelopeSchema, response.body, 'configs page', secrets);
        const etag = response.headers.get('etag') ?? undefined;
        return {
          kind: 'page',
          users: page.users,
          tokens: page.tokens ?? [],
          credentials: [],
          nextCursor: page.nextCursor,
          hasMore: page.hasMore,
          ...(etag ? { etag } : {}),
          bytes: response.bytes,
        };
      }
      if (response.status === 401 || response.status === 403) throw serviceTokenRejected(response);
      if (response.status === 400 && errorCodeOf(response.body) === 'CURSOR_INVALID') {
        throw new MultiTenantError('CONFIG_INVALID', 'The Cloud Backend no longer accepts the sync cursor.', {
          details: { reason: 'cursor-rejected', status: 400 },
        });
      }
      throw unexpectedStatus(`GET ${configsPath}`, response, secrets);
    },
  };
}
