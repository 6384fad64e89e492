import { assertTenantId } from '@openclaw-mt/core/contracts';
import { MultiTenantError, type AuditEntry } from '@openclaw-mt/core';
import { defineCommand } from 'citty';
import { configArg, jsonArg } from '../args/common-args.js';
import { parseDuration } from '../args/duration.js';
import { withStores } from '../context/with-stores.js';
import { runAction } from '../output/output.js';

function parseLimit(text: string): number {
  if (!/^\d{1,6}$/.test(text) || Number(text) < 1 || Number(text) > 100_000)
    throw new MultiTenantError('BAD_REQUEST', '--limit: expected a number from 1 to 100000.');
  return Number(text);
}

function describe(entry: AuditEntry): string {
  const details =
    entry.details === undefined
      ? ''
      : ` ${Object.entries(entry.details)
          .map(([key, value]) => `${key}=${String(value)}`)
          .join(' ')}`;
  const outcome = entry.result === 'ok' ? 'ok' : `error ${entry.code ?? ''}`.trimEnd();
  return `${new Date(entry.at).toISOString()}  ${entry.actor}  ${entry.action}  ${entry.tenantId ?? '-'}  ${entry.target ?? '-'}  ${outcome}${details}`;
}

/** `openclaw-mt audit` */
export const auditCommand = defineCommand({
  meta: {
    name: 'audit',
    description: 'Administrative actions recorded in the stores (newest first): who, what, when, result — never a secret',
  },
  args: {
    tenant: { type: 'string', description: 'Only entries about this tenant' },
    limit: { type: 'string', description: 'At most this many entries (default 50)', default: '50' },
    since: { type: 'string', description: 'Only entries from the last … (e.g. 15m, 24h, 7d)' },
    ...configArg,
    ...jsonArg,
  },
  run: ({ args }) =>
    runAction(args.json, async (output) => {
      const query = {
        limit: parseLimit(args.limit),
        ...(args.tenant === undefined ? {} : { tenantId: assertTenantId(args.tenant) }),
        ...(args.since === undefined ? {} : { since: Date.now() - parseDuration(args.since, '--since') }),
      };
      const entries = await withStores(args.config, async (stores) => {
        if (stores.audit === undefined)
          throw new MultiTenantError('NOT_SUPPORTED', `The stores (${stores.description}) keep no audit log.`);
        return stores.audit.list(query);
      });
      output.result({ entries }, () => (entries.length === 0 ? 'No audit entries.' : entries.map(describe).join('\n')));
    }),
});
