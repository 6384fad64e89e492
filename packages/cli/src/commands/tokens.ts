import { createTokenService, type TokenRecord } from '@openclaw-mt/core';
import { defineCommand } from 'citty';
import { configArg, jsonArg } from '../args/common-args.js';
import { parseDuration } from '../args/duration.js';
import { loadOperatorConfig } from '../context/operator-context.js';
import { openStores } from '../context/open-stores.js';
import { runAction } from '../output/output.js';

async function withTokens<T>(configPath: string | undefined, body: (service: ReturnType<typeof createTokenService>) => Promise<T>): Promise<T> {
  const { config } = await loadOperatorConfig(configPath);
  const stores = await openStores(config);
  try {
    return await body(createTokenService({ store: stores.tokens, peppers: config.peppers, rotationGraceMs: config.rotationGraceMs }));
  } finally {
    await stores.close();
  }
}

function describe(record: TokenRecord): string {
  const expiry = record.expiresAt === undefined ? 'never expires' : `expires ${new Date(record.expiresAt).toISOString()}`;
  return `${record.tokenHash.slice(0, 16)}…  ${record.status.padEnd(7)}  ${record.label ?? '-'}  created ${new Date(record.createdAt).toISOString()}, ${expiry}`;
}

const create = defineCommand({
  meta: { name: 'create', description: 'Issue a gateway token for a user (shown once)' },
  args: {
    user: { type: 'positional', description: 'Tenant (user) id', required: true },
    label: { type: 'string', description: 'A label for the token ("laptop")' },
    ttl: { type: 'string', description: 'Lifetime, e.g. 30d (default: never expires)' },
    ...configArg,
    ...jsonArg,
  },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      const issued = await withTokens(args.config, (service) =>
        service.create(args.user, {
          ...(args.label ? { label: args.label } : {}),
          ...(args.ttl ? { ttlMs: parseDuration(args.ttl, '--ttl') } : {}),
        }),
      );
      output.result({ token: issued.token }, () =>
        [`Gateway token for ${issued.record.tenantId} (shown once, store it now):`, '', `  ${issued.token}`, ''].join('\n'),
      );
    }),
});

const list = defineCommand({
  meta: { name: 'list', description: "List a user's tokens (hashes and metadata only)" },
  args: { user: { type: 'positional', description: 'Tenant (user) id', required: true }, ...configArg, ...jsonArg },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      const records = await withTokens(args.config, (service) => service.list(args.user));
      output.result({ tenantId: args.user, tokens: records }, () => (records.length === 0 ? `No tokens for ${args.user}.` : records.map(describe).join('\n')));
    }),
});

const revoke = defineCommand({
  meta: { name: 'revoke', description: 'Revoke a token (give the token or its hash); open connections using it are closed' },
  args: { token: { type: 'positional', description: 'The token or its 64-character hash', required: true }, ...configArg, ...jsonArg },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      const record = await withTokens(args.config, (service) => service.revoke(args.token));
      output.result({ revoked: record }, () => `Revoked ${record.tokenHash.slice(0, 16)}… of ${record.tenantId}.`);
    }),
});

const rotate = defineCommand({
  meta: { name: 'rotate', description: 'Issue a successor token; the old one keeps working for a grace period' },
  args: {
    token: { type: 'positional', description: 'The token or its 64-character hash', required: true },
    grace: { type: 'string', description: 'How long the old token keeps working (default from config, 1h)' },
    ...configArg,
    ...jsonArg,
  },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      const rotated = await withTokens(args.config, (service) =>
        service.rotate(args.token, args.grace ? { graceMs: parseDuration(args.grace, '--grace') } : {}),
      );
      const until = rotated.previous.expiresAt === undefined ? '' : new Date(rotated.previous.expiresAt).toISOString();
      output.result({ token: rotated.token, previousExpiresAt: rotated.previous.expiresAt }, () =>
        [`New gateway token for ${rotated.record.tenantId} (shown once):`, '', `  ${rotated.token}`, '', `The old token works until ${until}.`].join('\n'),
      );
    }),
});

/** `openclaw-mt tokens …` */
export const tokensCommand = defineCommand({
  meta: { name: 'tokens', description: 'Issue, list, revoke and rotate gateway tokens' },
  subCommands: { create, list, revoke, rotate },
});
