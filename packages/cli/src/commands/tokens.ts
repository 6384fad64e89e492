import { audited, localActor, type AuditSubject } from '@openclaw-mt/core/audit';
import { createTokenService, redactText, shownTokenId } from '@openclaw-mt/core/tokens';
import { isValidTenantId } from '@openclaw-mt/core/contracts';
import type { TokenRecord } from '@openclaw-mt/core';
import { defineCommand } from 'citty';
import { configArg, jsonArg } from '../args/common-args.js';
import { parseDuration } from '../args/duration.js';
import { loadOperatorConfig } from '../context/operator-context.js';
import { openToolStores } from '../context/tool-stores.js';
import { runAction } from '../output/output.js';

/**
 * Runs a token action against the configured stores and records it in their audit log (actor, action,
 * tenant, hash prefix, result — never the token). The action may add what it learns (the tenant of a
 * revoked token, a new hash) to `subject`: audited() reads the subject when it writes the entry.
 */
async function withTokens<T>(
  configPath: string | undefined,
  action: string,
  base: Partial<AuditSubject>,
  body: (service: ReturnType<typeof createTokenService>, subject: AuditSubject) => Promise<T>,
): Promise<T> {
  const { config } = await loadOperatorConfig(configPath);
  const stores = await openToolStores(config);
  try {
    const service = createTokenService({ store: stores.tokens, peppers: config.peppers, rotationGraceMs: config.rotationGraceMs });
    const subject: AuditSubject = { ...base, actor: localActor('cli'), action };
    return await audited(
      stores.audit,
      subject,
      () => body(service, subject),
      (error) => process.stderr.write(`warning: the audit entry was not written: ${redactText((error as Error).message)}\n`),
    );
  } finally {
    await stores.close();
  }
}

const hashPrefix = (record: TokenRecord) => shownTokenId(record.tokenHash);

function describe(record: TokenRecord): string {
  const expiry = record.expiresAt === undefined ? 'never expires' : `expires ${new Date(record.expiresAt).toISOString()}`;
  return `${shownTokenId(record.tokenHash)}  ${record.status.padEnd(7)}  ${record.label ?? '-'}  created ${new Date(record.createdAt).toISOString()}, ${expiry}`;
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
      const options = {
        ...(args.label ? { label: args.label } : {}),
        ...(args.ttl ? { ttlMs: parseDuration(args.ttl, '--ttl') } : {}),
      };
      const issued = await withTokens(
        args.config,
        'token.create',
        isValidTenantId(args.user) ? { tenantId: args.user } : {},
        async (service, subject) => {
          const created = await service.create(args.user, options);
          subject.target = hashPrefix(created.record);
          if (created.record.label !== undefined) subject.details = { label: created.record.label };
          return created;
        },
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
      const { config } = await loadOperatorConfig(args.config);
      const stores = await openToolStores(config);
      const records = await createTokenService({ store: stores.tokens, peppers: config.peppers })
        .list(args.user)
        .finally(() => stores.close());
      output.result({ tenantId: args.user, tokens: records }, () =>
        records.length === 0 ? `No tokens for ${args.user}.` : records.map(describe).join('\n'),
      );
    }),
});

const revoke = defineCommand({
  meta: { name: 'revoke', description: 'Revoke a token (the token, its hash or a hash prefix); open connections using it are closed' },
  args: {
    token: {
      type: 'positional',
      description: 'The token, its hash, or an unambiguous prefix of the hash as `tokens list` shows it',
      required: true,
    },
    ...configArg,
    ...jsonArg,
  },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      const record = await withTokens(args.config, 'token.revoke', {}, async (service, subject) => {
        const hash = await service.storedHash(args.token);
        subject.target = shownTokenId(hash);
        const revoked = await service.revoke(hash);
        subject.tenantId = revoked.tenantId;
        return revoked;
      });
      output.result({ revoked: record }, () => `Revoked ${shownTokenId(record.tokenHash)} of ${record.tenantId}.`);
    }),
});

const rotate = defineCommand({
  meta: { name: 'rotate', description: 'Issue a successor token; the old one keeps working for a grace period' },
  args: {
    token: {
      type: 'positional',
      description: 'The token, its hash, or an unambiguous prefix of the hash as `tokens list` shows it',
      required: true,
    },
    grace: { type: 'string', description: 'How long the old token keeps working (default from config, 1h)' },
    ...configArg,
    ...jsonArg,
  },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      const options = args.grace ? { graceMs: parseDuration(args.grace, '--grace') } : {};
      const rotated = await withTokens(args.config, 'token.rotate', {}, async (service, subject) => {
        const hash = await service.storedHash(args.token);
        subject.target = shownTokenId(hash);
        const result = await service.rotate(hash, options);
        subject.tenantId = result.record.tenantId;
        subject.details = { successor: hashPrefix(result.record) };
        return result;
      });
      const until = rotated.previous.expiresAt === undefined ? '' : new Date(rotated.previous.expiresAt).toISOString();
      output.result({ token: rotated.token, previousExpiresAt: rotated.previous.expiresAt }, () =>
        [
          `New gateway token for ${rotated.record.tenantId} (shown once):`,
          '',
          `  ${rotated.token}`,
          '',
          `The old token works until ${until}.`,
        ].join('\n'),
      );
    }),
});

/** `openclaw-mt tokens …` */
export const tokensCommand = defineCommand({
  meta: { name: 'tokens', description: 'Issue, list, revoke and rotate gateway tokens' },
  subCommands: { create, list, revoke, rotate },
});
