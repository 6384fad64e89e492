import { z } from 'zod';
import { tenantConfigProblem } from '../config/tenant-config.js';
import { MAX_TENANT_ID_LENGTH } from '../tenants/tenant-id.js';

/**
 * Version of the Cloud Backend wire contract these schemas describe. 1.1 adds, without breaking 1.0, token
 * events in the feed and signed pushes.
 */
export const CLOUD_CONTRACT_VERSION = '1.1';

/** Paths of the contract's endpoints, relative to the backend's base URL. */
export const CloudPaths = {
  /** User-facing: issue a gateway token (user JWT). */
  issueToken: '/openclaw/gateway/token',
  /** Gateway-facing: verify a gateway token (service token). */
  verify: '/openclaw/gateway/verify',
  /** Gateway-facing: the config change feed (service token). */
  configs: '/openclaw/gateway/configs',
} as const;

/** Largest page size a gateway asks for; backends may return fewer. */
export const MAX_CONFIGS_PAGE_LIMIT = 1_000;
/** Longest opaque cursor accepted. */
export const MAX_CURSOR_LENGTH = 1_024;

// Same allowlist as `tenantIdProblem`, spelled as a pattern so the JSON Schema carries it too.
const TENANT_ID_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_-])?$/;

const userId = z
  .string()
  .max(MAX_TENANT_ID_LENGTH)
  .regex(TENANT_ID_PATTERN)
  .meta({ description: 'The user id, used as the gateway tenant id: letters, digits, ".", "_", "-"; at most 100 characters.' });

const epochMs = z.int().nonnegative();

const tenantConfig = z
  .record(z.string(), z.unknown())
  .superRefine((value, ctx) => {
    const problem = tenantConfigProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({
    description: "The user's own settings: a JSON object (at most 256 KiB serialised, 32 levels deep), merged over the operator defaults.",
  });

const cursor = z
  .string()
  .min(1)
  .max(MAX_CURSOR_LENGTH)
  .meta({ description: 'Opaque server cursor. Pass it back unchanged; never a client timestamp.' });

/** Body of `POST /openclaw/gateway/verify`. The token travels only here, never in a URL. */
export const verifyRequestSchema = z
  .object({ token: z.string().min(1).max(256).meta({ description: 'The gateway token (gt_…) to verify.' }) })
  .meta({ title: 'VerifyRequest' });

/** 200 answer of `POST /openclaw/gateway/verify`. 401/404 mean "definitely invalid"; 5xx or no answer mean "unknown". */
export const verifyResponseSchema = z
  .object({
    userId,
    status: z.enum(['active', 'suspended', 'expired']).meta({
      description:
        'active: the token authenticates; suspended: the user is suspended; expired: the token is past its expiry or rotation grace.',
    }),
    expiresAt: epochMs
      .nullable()
      .optional()
      .meta({ description: 'Epoch milliseconds after which the token stops working; absent or null: never.' }),
    configVersion: z
      .int()
      .nonnegative()
      .optional()
      .meta({ description: "The user's current config version, so a gateway can tell that its copy is behind." }),
  })
  .meta({ title: 'VerifyResponse' });

/** One user in the config feed: the latest state of a user changed after the request cursor. */
export const configUserSchema = z
  .object({
    userId,
    status: z
      .enum(['active', 'suspended', 'deleted'])
      .meta({ description: 'Suspensions and (soft) deletions appear in the feed like any other change.' }),
    config: tenantConfig,
    version: z
      .int()
      .positive()
      .meta({ description: 'Increases on every change of this user; never reused. Gateways apply only newer versions.' }),
    updatedAt: epochMs.meta({ description: 'Epoch milliseconds of the change (informational; ordering uses the cursor and version).' }),
  })
  .meta({ title: 'ConfigUser' });

/** A token's lifecycle event (v1.1): in the feed's `tokens` and in pushes. Tokens are named by hash only. */
export const tokenEventSchema = z
  .object({
    tokenHash: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .meta({ description: 'SHA-256 of the token, lowercase hex: how the backend stores it. Never the token.' }),
    userId,
    type: z.enum(['revoked', 'rotated', 'expired']).meta({
      description:
        'revoked: refuse it now; rotated: a successor was issued and this token stops at expiresAt; expired: past its expiry or rotation grace.',
    }),
    at: epochMs.meta({ description: 'Epoch milliseconds of the event.' }),
    expiresAt: epochMs.nullable().optional().meta({ description: 'For rotated: when the old token stops working (the end of its grace).' }),
  })
  .meta({ title: 'TokenEvent' });

/** 200 answer of `GET /openclaw/gateway/configs`. */
export const configsPageSchema = z
  .object({
    users: z.array(configUserSchema).meta({ description: 'Changed users, oldest change first; at most `limit` of them.' }),
    tokens: z.array(tokenEventSchema).optional().meta({
      description: 'v1.1: token events after the cursor, oldest first. users + tokens together are at most `limit`.',
    }),
    nextCursor: cursor.meta({
      description:
        'Cursor after the last user of this page. When hasMore is false it is where the next poll starts; it must differ from the request cursor whenever hasMore is true.',
    }),
    hasMore: z.boolean().meta({ description: 'Whether more changes wait after nextCursor.' }),
  })
  .meta({ title: 'ConfigsPage' });

/** The page envelope alone: entries are validated one by one, so one bad entry does not sink its page. */
export const configsEnvelopeSchema = z.object({
  users: z.array(z.unknown()),
  tokens: z.array(z.unknown()).optional(),
  nextCursor: cursor,
  hasMore: z.boolean(),
});

/**
 * Body of a push (v1.1): the backend POSTs the same entries the feed carries, as they happen, signed with the
 * shared push secret (`OpenClaw-Signature` header). `id` makes a delivery idempotent.
 */
export const pushEventSchema = z
  .object({
    id: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[\x21-\x7e]+$/)
      .meta({ description: 'Unique per event; a redelivery carries the same id and is applied once.' }),
    createdAt: epochMs.meta({ description: 'Epoch milliseconds when the backend made the event.' }),
    users: z.array(configUserSchema).max(1_000).optional().meta({ description: 'Users whose state changed (as in the feed).' }),
    tokens: z.array(tokenEventSchema).max(1_000).optional().meta({ description: 'Token events (as in the feed).' }),
  })
  .meta({ title: 'PushEvent' });

/** Body of the user-facing `POST /openclaw/gateway/token` (optional). */
export const issueTokenRequestSchema = z
  .object({
    label: z.string().min(1).max(100).optional().meta({ description: 'A name for the token ("laptop"). Never a secret.' }),
    ttlSeconds: z.int().positive().optional().meta({ description: 'Lifetime in seconds; the token never expires when omitted.' }),
  })
  .meta({ title: 'IssueTokenRequest' });

/** 201 answer of `POST /openclaw/gateway/token`: the token is shown this once and stored only as a hash. */
export const issuedTokenSchema = z
  .object({
    token: z.string().meta({ description: 'The new gateway token (gt_…). Shown once; the backend keeps only its SHA-256.' }),
    tokenId: z.string().meta({ description: 'A non-secret id to list, rotate or revoke the token by.' }),
    userId,
    createdAt: epochMs,
    expiresAt: epochMs.nullable().optional(),
    label: z.string().nullable().optional(),
  })
  .meta({ title: 'IssuedToken' });

/** Body of every error answer. */
export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().meta({
        description:
          'Machine-readable: TOKEN_INVALID, SERVICE_UNAUTHORIZED, TOKEN_IN_URL, CURSOR_INVALID, BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, CONFLICT, INTERNAL.',
      }),
      message: z.string(),
    }),
  })
  .meta({ title: 'ErrorBody' });

/** `VerifyResponse` as parsed. */
export type VerifyResponse = z.output<typeof verifyResponseSchema>;
/** `ConfigUser` as parsed. */
export type ConfigUser = z.output<typeof configUserSchema>;
/** `ConfigsPage` as parsed. */
export type ConfigsPage = z.output<typeof configsPageSchema>;
/** `IssuedToken` as parsed. */
export type IssuedTokenBody = z.output<typeof issuedTokenSchema>;
/** `TokenEvent` as parsed. */
export type TokenEvent = z.output<typeof tokenEventSchema>;
/** `PushEvent` as parsed. */
export type PushEvent = z.output<typeof pushEventSchema>;

const DEFINITIONS = {
  VerifyRequest: verifyRequestSchema,
  VerifyResponse: verifyResponseSchema,
  ConfigUser: configUserSchema,
  TokenEvent: tokenEventSchema,
  ConfigsPage: configsPageSchema,
  PushEvent: pushEventSchema,
  IssueTokenRequest: issueTokenRequestSchema,
  IssuedToken: issuedTokenSchema,
  ErrorBody: errorBodySchema,
} as const;

/**
 * The contract as one JSON Schema (draft 2020-12) document with a `$defs` entry per message, generated
 * from the zod schemas the client validates with. `docs/cloud-backend-api.schema.json` is this output.
 */
export function cloudContractJsonSchema(): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(DEFINITIONS)) registry.add(schema, { id });
  const generated = z.toJSONSchema(registry, { io: 'input', uri: (id) => `#/$defs/${id}` });
  const defs: Record<string, unknown> = {};
  for (const [id, schema] of Object.entries(generated.schemas)) {
    const { $schema: _schema, $id: _id, ...rest } = schema as Record<string, unknown>;
    defs[id] = rest;
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://openclaw-mt.dev/schemas/cloud-backend-api/v1.1.json',
    title: 'openclaw-mt Cloud Backend wire contract',
    description: `Version ${CLOUD_CONTRACT_VERSION}. Generated from packages/core/src/cloud/wire-contract.ts; see docs/cloud-backend-api.md.`,
    $defs: defs,
  };
}
