import assert from 'node:assert/strict';
import type { AuditEntry, AuditLog } from '../contracts/audit-log.js';
import { createToken } from '../tokens/token-format.js';
import type { AdapterUnderTest, ConformanceCase } from './conformance-kit.js';
import { rejectsWithCode } from './assertions.js';
import { randomTenantId } from './fixtures.js';

function needsAudit(adapter: AdapterUnderTest): string | undefined {
  return adapter.audit === undefined ? 'no audit log' : undefined;
}

function entry(action: string, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return { at: Date.now(), actor: 'cli:tester@host', action, result: 'ok', ...overrides };
}

async function all(log: AuditLog): Promise<AuditEntry[]> {
  return log.list({ limit: 10_000 });
}

/** Cases every {@link AuditLog} must pass. */
export const auditLogCases: ConformanceCase[] = [
  {
    name: 'audit: entries come back newest first, filtered by tenant, time and limit',
    requires: needsAudit,
    async run({ adapter }) {
      const log = adapter.audit!;
      const a = randomTenantId('a');
      const b = randomTenantId('b');
      const base = Date.now();
      await log.append(entry('token.create', { tenantId: a, at: base, target: 'first' }));
      await log.append(entry('config.set', { tenantId: b, at: base + 1 }));
      await log.append(
        entry('tenant.evict', { tenantId: a, at: base + 2, result: 'error', code: 'TENANT_BUSY', details: { force: false } }),
      );
      const newest = await log.list({ limit: 2 });
      assert.deepEqual(
        newest.map((e) => e.action),
        ['tenant.evict', 'config.set'],
      );
      assert.deepEqual(
        newest[0],
        entry('tenant.evict', { tenantId: a, at: base + 2, result: 'error', code: 'TENANT_BUSY', details: { force: false } }),
      );
      assert.deepEqual(
        (await log.list({ tenantId: a })).map((e) => e.action),
        ['tenant.evict', 'token.create'],
      );
      assert.deepEqual((await log.list({ since: base + 1 })).map((e) => e.action).slice(0, 2), ['tenant.evict', 'config.set']);
    },
  },
  {
    name: 'audit: malformed entries are refused and tokens in free text never stored',
    requires: needsAudit,
    async run({ adapter }) {
      const log = adapter.audit!;
      const before = (await all(log)).length;
      for (const bad of [
        entry(''),
        entry('Token Create'),
        entry('x', { actor: '' }),
        entry('x', { result: 'maybe' as never }),
        entry('x', { tenantId: '../b' }),
      ]) {
        await rejectsWithCode(() => log.append(bad), 'BAD_REQUEST', `append(${JSON.stringify(bad)})`);
      }
      assert.equal((await all(log)).length, before);
      const token = createToken();
      await log.append(entry('token.revoke', { target: `revoked ${token}`, details: { note: `Bearer ${token}` } }));
      assert.ok(!JSON.stringify(await all(log)).includes(token.slice(3)));
    },
  },
  {
    name: 'audit: concurrent writers lose no entry and entries survive a reopen',
    requires: needsAudit,
    async run({ adapter, reopen }) {
      const other = (await reopen()).audit!;
      const tenantId = randomTenantId();
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? adapter.audit! : other).append(entry('config.set', { tenantId, target: String(i) }))),
      );
      await adapter.audit!.close?.();
      const again = (await reopen()).audit!;
      const targets = (await again.list({ tenantId, limit: 1_000 })).map((e) => Number(e.target)).sort((x, y) => x - y);
      assert.deepEqual(
        targets,
        Array.from({ length: 40 }, (_, i) => i),
      );
    },
  },
];
