import { z } from 'zod';
import type { ProviderCredential } from '../../contracts/tenant-secret-store.js';
import { MultiTenantError } from '../../errors/multi-tenant-error.js';
import { parseOrThrow, serviceTokenRejected, unexpectedStatus } from '../answer-errors.js';
import type { CloudResponse } from '../http-request.js';
import type { CloudDialect } from './cloud-dialect.js';

/** The fork's FastAPI app mounts its API here (`FASTAPI_API_V1_PATH`). */
export const FBA_DEFAULT_PATH_PREFIX = '/api/v1';
/** The fork's page size cap (`limit` 1..500). */
const FBA_MAX_LIMIT = 500;

// `{ code, msg, data, trace_id }`: the fork's envelope on every answer, errors included.
const envelopeSchema = z.object({ code: z.number(), msg: z.string().optional(), data: z.unknown() });

const verifyDataSchema = z.object({
  user_id: z.union([z.string(), z.number().int().nonnegative()]),
  status: z.string().optional(),
  openclaw_config: z.unknown().optional(),
  llm_api_key: z.string().nullable().optional(),
  llm_api_base_url: z.string().nullable().optional(),
});

const pageSchema = z.object({
  users: z.array(z.unknown()),
  has_more: z.boolean(),
  next_cursor: z.union([z.string(), z.number(), z.null()]).optional(),
  sync_timestamp: z.unknown().optional(),
});

/** The fork's envelope unwrapped: its own `code` stands in for the HTTP status when they differ. */
function unwrap(response: CloudResponse): { status: number; data: unknown; enveloped: boolean } {
  const parsed = envelopeSchema.safeParse(response.body);
  if (!parsed.success) return { status: response.status, data: response.body, enveloped: false };
  const status = response.status === 200 && parsed.data.code !== 200 ? parsed.data.code : response.status;
  return { status, data: parsed.data.data, enveloped: true };
}

/**
 * `updated_at` as epoch microseconds — the fork's only change marker, so it stands in for a version: ISO 8601
 * (UTC when it names no zone; microseconds kept) or epoch seconds / milliseconds.
 */
export function fbaTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.round(value < 1e11 ? value * 1e6 : value * 1e3);
  if (typeof value !== 'string' || value.length > 64) return undefined;
  const text = value.trim().replace(' ', 'T');
  const fraction = /\.(\d+)/.exec(text)?.[1] ?? '';
  const zoned = /(?:[zZ]|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text}Z`;
  const ms = Date.parse(zoned);
  if (Number.isNaN(ms) || ms < 0) return undefined;
  // Date.parse keeps milliseconds; the fork's timestamps carry microseconds, which tell more changes apart.
  return ms * 1000 + Number(fraction.padEnd(6, '0').slice(3, 6));
}

/** `openclaw_config` as an object: stored as JSON text or as an object; empty when absent. */
function configOf(value: unknown): unknown {
  if (value === null || value === undefined || value === '') return {};
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function credentialOf(key: unknown, baseUrl: unknown): ProviderCredential | undefined {
  if (typeof key !== 'string' || key.trim() === '') return undefined;
  return typeof baseUrl === 'string' && baseUrl.trim() !== '' ? { apiKey: key.trim(), baseUrl: baseUrl.trim() } : { apiKey: key.trim() };
}

const userIdOf = (value: unknown) => (typeof value === 'number' ? String(value) : value);

/**
 * The original fork's Cloud Backend ("fba", FastAPI), spoken as it is:
 * - `POST {prefix}/openclaw/gateway/verify-token?token=…` without service auth; 401 = invalid. The token
 *   travels in the URL — unsafe, and flagged as such everywhere;
 * - `GET {prefix}/openclaw/gateway/configs?cursor=&limit=` (bearer service token): snake_case, only active
 *   users, no versions (`updated_at` stands in), cursor = the last row id, so the gateway walks it whole on
 *   every sync and treats a user missing from a complete walk as no longer active;
 * - every answer wrapped in `{ code, msg, data, trace_id }`; per-user `llm_api_key` / `llm_api_base_url`
 *   become tenant secrets, never config; `gateway_token` in the feed is read past, never kept.
 */
export function createFbaDialect(options: { pathPrefix?: string } = {}): CloudDialect {
  const prefix = options.pathPrefix ?? FBA_DEFAULT_PATH_PREFIX;
  const verifyPath = `${prefix}/openclaw/gateway/verify-token`;
  const configsPath = `${prefix}/openclaw/gateway/configs`;
  return {
    name: 'fba',
    pathPrefix: prefix,
    tokenFormats: ['gt', 'gw'],
    feed: 'snapshot',
    invalidCoversSuspended: true,
    tokenInUrl: true,
    conditionalRequests: false,
    maxPageLimit: FBA_MAX_LIMIT,
    routes: { verify: `POST ${verifyPath}`, configs: `GET ${configsPath}` },
    limits: [
      'verify takes the gateway token in the URL query: it reaches access logs and proxies (use TLS, keep those logs private, migrate to contract v1)',
      'the feed lists only active users and no versions: each sync walks it whole; a user missing from a complete walk is refused, and verify decides at connect',
      'no token events and no pushes: a revoked token is refused at its next verify (after the auth cache TTL); open sockets close only when the user leaves the feed',
      `its JWT middleware refuses the service token on ${configsPath} unless that path is in TOKEN_REQUEST_PATH_EXCLUDE`,
      'a cursor it did not issue answers 500 (gateways only send cursors it issued)',
    ],

    verifyRequest: (token) => ({ method: 'POST', path: verifyPath, query: { token }, serviceAuth: false }),

    readVerify(response, { secrets }) {
      const { status, data } = unwrap(response);
      if (status === 200) {
        const parsed = parseOrThrow(verifyDataSchema, data, 'verify-token answer (data)', secrets);
        const credential = credentialOf(parsed.llm_api_key, parsed.llm_api_base_url);
        return {
          kind: 'valid',
          answer: {
            userId: userIdOf(parsed.user_id) as string,
            status: parsed.status === undefined || parsed.status === 'active' ? 'active' : 'suspended',
          },
          config: configOf(parsed.openclaw_config),
          ...(credential ? { credential } : {}),
        };
      }
      if (status === 401 || status === 403) return { kind: 'invalid', status };
      // This route never answers 404 for a token: a 404 is a missing route (wrong prefix or dialect), not "invalid".
      throw unexpectedStatus(`POST ${verifyPath}`, response, secrets);
    },

    configsRequest: (query) => ({
      method: 'GET',
      path: configsPath,
      query: { cursor: query.cursor, limit: Math.min(query.limit, FBA_MAX_LIMIT) },
      serviceAuth: true,
    }),

    readConfigs(response, query, { secrets }) {
      const { status, data } = unwrap(response);
      if (status === 200) {
        const page = parseOrThrow(pageSchema, data, 'configs page (data)', secrets);
        const nextCursor =
          page.next_cursor === null || page.next_cursor === undefined || page.next_cursor === '' ? undefined : String(page.next_cursor);
        if (page.has_more && (nextCursor === undefined || nextCursor === query.cursor)) {
          throw new MultiTenantError('CONFIG_INVALID', `GET ${configsPath} reported has_more without a new next_cursor.`, {
            details: { reason: 'cursor-not-advancing' },
          });
        }
        const users: unknown[] = [];
        const credentials: Array<{ userId: string; credential: ProviderCredential | undefined }> = [];
        for (const raw of page.users) {
          const row = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
          const userId = userIdOf(row.user_id);
          const at = fbaTimestamp(row.updated_at);
          users.push({
            userId,
            status: row.status === undefined || row.status === 'active' ? 'active' : 'suspended',
            config: configOf(row.openclaw_config),
            ...(at === undefined ? {} : { version: Math.max(2, at), updatedAt: Math.floor(at / 1000) }),
          });
          if (typeof userId === 'string') credentials.push({ userId, credential: credentialOf(row.llm_api_key, row.llm_api_base_url) });
        }
        return {
          kind: 'page',
          users,
          tokens: [],
          credentials,
          nextCursor: nextCursor ?? query.cursor ?? '0',
          hasMore: page.has_more,
          bytes: response.bytes,
        };
      }
      if (status === 401 || status === 403) {
        throw serviceTokenRejected(
          response,
          `check multiTenant.serviceToken, and that ${configsPath} is in the backend's TOKEN_REQUEST_PATH_EXCLUDE (its JWT middleware refuses any bearer that is not a JWT)`,
        );
      }
      throw unexpectedStatus(`GET ${configsPath}`, response, secrets);
    },
  };
}
