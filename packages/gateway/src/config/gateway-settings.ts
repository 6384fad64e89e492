import { configInvalid, configIssues } from '@openclaw-mt/core';
import { z } from 'zod';
import { trustProxyProblem, type TrustProxy } from '../http/client-address.js';
import { quotasSchema } from '../limits/tenant-quotas.js';
import type { GatewayOptions } from '../gateway.js';

const positiveInt = z.int().positive();

/** Environment variable holding the fleet secret (preferred over the config file). */
export const FLEET_SECRET_ENV = 'OPENCLAW_MT_FLEET_SECRET';

/** `false`, a hop count, or proxy addresses/CIDRs; `true` is refused with the reason (see {@link trustProxyProblem}). */
const trustProxySchema = z.unknown().transform((value, context): TrustProxy => {
  const problem = trustProxyProblem(value);
  if (problem !== undefined) {
    context.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  return value as TrustProxy;
});

/** The `multiTenant.gateway` block of the operator config file. */
export const gatewaySettingsSchema = z.strictObject({
  bind: z.string().min(1).default('127.0.0.1'),
  port: z.int().min(0).max(65_535).default(18789),
  runtime: z.enum(['workspace', 'openclaw']).default('workspace'),
  quotas: quotasSchema.prefault({}),
  methods: z.strictObject({ allow: z.array(z.string().min(1)).optional(), deny: z.array(z.string().min(1)).optional() }).prefault({}),
  authRateLimit: z
    .strictObject({ maxFailures: positiveInt.optional(), windowMs: positiveInt.optional(), lockoutMs: positiveInt.optional() })
    .prefault({}),
  trustProxy: trustProxySchema.default(false),
  preAuth: z.strictObject({ maxSockets: positiveInt.optional(), maxSocketsPerAddress: positiveInt.optional() }).prefault({}),
  handshakeTimeoutMs: positiveInt.default(10_000),
  maxPayloadBytes: positiveInt.default(16 * 1024 * 1024),
  drainTimeoutMs: z.int().nonnegative().default(10_000),
  /**
   * The internal link of a fleet (Redis adapter): with a secret, any node accepts any tenant and forwards
   * sessions to the node that owns it. The internal port must be reachable only by the other nodes.
   */
  fleet: z
    .strictObject({
      /** Shared by every node; or `OPENCLAW_MT_FLEET_SECRET`. */
      secret: z.string().min(32, 'must be at least 32 characters').optional(),
      bind: z.string().min(1).default('127.0.0.1'),
      port: z.int().min(0).max(65_535).default(18791),
      /** The URL other nodes use to reach this node's internal port (default ws://<bind>:<port>). */
      advertise: z
        .string()
        .regex(/^wss?:\/\/[^\s/]+\/?$/, 'ws://host:port')
        .optional(),
    })
    .prefault({}),
  /**
   * Settings of the `openclaw` runtime (one OpenClaw gateway process per active tenant): an object here,
   * its keys validated by `parseOpenClawRuntimeSettings` of `@openclaw-mt/runtime-openclaw`.
   */
  openclaw: z.looseObject({}).optional(),
});

/** Validated gateway settings. */
export type GatewaySettings = z.output<typeof gatewaySettingsSchema>;

/** Validates the `gateway` block; throws `CONFIG_INVALID` naming each bad key. */
export function parseGatewaySettings(raw: unknown, env: NodeJS.ProcessEnv = process.env): GatewaySettings {
  const input = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const fleet = input.fleet;
  const withEnv = env[FLEET_SECRET_ENV]
    ? { ...input, fleet: { ...(typeof fleet === 'object' && fleet !== null ? fleet : {}), secret: env[FLEET_SECRET_ENV] } }
    : input;
  const parsed = gatewaySettingsSchema.safeParse(withEnv);
  if (!parsed.success) throw configInvalid(configIssues(parsed.error, 'multiTenant.gateway'));
  return parsed.data;
}

/** Gateway options from validated settings (everything but the manager and runtime). */
export function gatewayOptionsFromSettings(settings: GatewaySettings): Omit<GatewayOptions, 'manager' | 'runtime'> {
  const strip = <T extends object>(value: T) => Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
  return {
    host: settings.bind,
    port: settings.port,
    quotas: strip(settings.quotas),
    methods: strip(settings.methods),
    authRateLimit: strip(settings.authRateLimit),
    trustProxy: settings.trustProxy,
    preAuth: strip(settings.preAuth),
    handshakeTimeoutMs: settings.handshakeTimeoutMs,
    maxPayloadBytes: settings.maxPayloadBytes,
    drainTimeoutMs: settings.drainTimeoutMs,
    ...(settings.fleet.secret === undefined
      ? {}
      : {
          fleet: {
            secret: settings.fleet.secret,
            host: settings.fleet.bind,
            port: settings.fleet.port,
            ...(settings.fleet.advertise === undefined ? {} : { advertise: settings.fleet.advertise }),
          },
        }),
  };
}
