import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  archiveFile,
  createMemoryCheckpoint,
  decodeTenantArchive,
  encodeTenantArchive,
  exportTenant,
  importTenant,
  listStoredTenants,
  migrateTenants,
  TENANT_ARCHIVE_FORMAT,
  TENANT_ARCHIVE_VERSION,
  type TenantArchive,
  type TenantArchiveFile,
  type TransferStores,
} from '@openclaw-mt/core/transfer';
import { createMemoryAdapter, MultiTenantError, TenantManager, type Coordinator, type TokenRecord } from '@openclaw-mt/core';
import { createMemoryAdapterState } from '@openclaw-mt/core/testing';
import { createTokenService } from '@openclaw-mt/core/tokens';

const PEPPERS = ['pepper-for-transfer-tests-0123456789'];

/** An archive as plain data, for the tests that corrupt it in ways {@link TenantArchive} rules out. */
interface LooseArchive {
  format: string;
  version: number;
  tenantId: string;
  config: Record<string, unknown>;
  tokens: Array<Record<string, unknown>>;
  workspace: { files: TenantArchiveFile[] };
  [key: string]: unknown;
}

/** Everything the stores hold, read through the contracts (never creating anything). */
async function snapshot(stores: TransferStores): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const id of await listStoredTenants(stores)) {
    const { exportedAt: _at, ...rest } = await exportTenant(stores, id);
    out.push(rest);
  }
  return out;
}

/** A tenant with a workspace file, a config and a token; returns the token. */
async function seedTenant(stores: ReturnType<typeof createMemoryAdapter>, id: string, note = `notes of ${id}`): Promise<string> {
  const handle = await stores.workspaces.open(id);
  await handle.write('workspace/memory/notes.md', note);
  await handle.close();
  await stores.configs.set(id, { config: { model: 'gpt', tools: { web: true } } });
  const { token } = await createTokenService({ store: stores.tokens, peppers: PEPPERS }).create(id, { label: 'laptop' });
  return token;
}

function managerOver(stores: ReturnType<typeof createMemoryAdapter>) {
  return new TenantManager({
    tokens: stores.tokens,
    configs: stores.configs,
    workspaces: stores.workspaces,
    peppers: PEPPERS,
    idleTimeoutMs: 0,
  });
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as MultiTenantError).code;
  }
}

describe('tenant archives', () => {
  test('export → bytes → import into other stores: files, config and tokens arrive; the token still authenticates', async () => {
    const source = createMemoryAdapter();
    const target = createMemoryAdapter();
    const token = await seedTenant(source, 'alice');
    const archive = await exportTenant(source, 'alice');
    expect(archive).toMatchObject({ format: TENANT_ARCHIVE_FORMAT, version: TENANT_ARCHIVE_VERSION, tenantId: 'alice' });
    expect(JSON.stringify(archive)).not.toContain(token);
    expect(archive.workspace!.files.find((file) => file.name === 'workspace/memory/notes.md')).toMatchObject({ size: 14 });

    const result = await importTenant(target, decodeTenantArchive(encodeTenantArchive(archive)));
    expect(result).toMatchObject({ tenantId: 'alice', replaced: false, changed: true, config: 'written', tokens: { created: 1 } });
    expect(await snapshot(target)).toEqual(await snapshot(source));
    const manager = managerOver(target);
    expect(await manager.authenticate(token)).toMatchObject({ tenantId: 'alice' });
    await manager.close();
  });

  test('import refuses an existing tenant without replace, writing nothing; with replace the target becomes the archive', async () => {
    const source = createMemoryAdapter();
    const targetState = createMemoryAdapterState();
    const target = createMemoryAdapter({ state: targetState });
    const token = await seedTenant(source, 'bob', 'from the source');
    const otherToken = await seedTenant(target, 'bob', 'already here');
    const handle = await target.workspaces.open('bob');
    await handle.write('sessions/old.jsonl', '{}');
    await handle.close();
    const archive = await exportTenant(source, 'bob');
    const before = await snapshot(target);
    const refused = await importTenant(target, archive).catch((error: MultiTenantError) => error);
    expect(refused).toMatchObject({ code: 'CONFLICT', details: { reason: 'exists' } });
    expect(await snapshot(target)).toEqual(before);

    const replaced = await importTenant(target, archive, { replace: true });
    expect(replaced).toMatchObject({ replaced: true, changed: true, tokens: { created: 1, revoked: 1 } });
    expect(replaced.files.removed).toBeGreaterThanOrEqual(1);
    const manager = managerOver(target);
    expect(await manager.authenticate(token)).toMatchObject({ tenantId: 'bob' });
    expect(await codeOf(manager.authenticate(otherToken))).toBe('TOKEN_REVOKED');
    // Closing the manager closes the stores; read on through new ones over the same data.
    await manager.close();
    const reopened = createMemoryAdapter({ state: targetState });
    const reread = await exportTenant(reopened, 'bob');
    expect(reread.workspace).toEqual(archive.workspace);
    // Importing the same archive again changes nothing.
    expect(await importTenant(reopened, archive, { replace: true })).toMatchObject({ changed: false });
  });

  test('bad archives are refused with coded errors and nothing is written', async () => {
    const source = createMemoryAdapter();
    await seedTenant(source, 'carol');
    const good = await exportTenant(source, 'carol');
    const target = createMemoryAdapter({ limits: { maxFileBytes: 1_000 } });
    await seedTenant(target, 'someone-else');
    const before = await snapshot(target);
    const mutate = (change: (archive: LooseArchive) => void): TenantArchive => {
      const copy = structuredClone(good) as unknown as LooseArchive;
      change(copy);
      return copy as unknown as TenantArchive;
    };
    const file = (name: string, data: string) => archiveFile(name, new TextEncoder().encode(data));
    const bad: Array<[string, TenantArchive]> = [
      ['wrong format', mutate((a) => (a.format = 'zip'))],
      ['future version', mutate((a) => (a.version = 2))],
      ['bad tenant id', mutate((a) => (a.tenantId = '../etc'))],
      ['digest mismatch', mutate((a) => (a.workspace.files[0].sha256 = 'f'.repeat(64)))],
      ['size mismatch', mutate((a) => (a.workspace.files[0].size += 1))],
      ['traversal', mutate((a) => a.workspace.files.push(file('../../etc/passwd', 'x')))],
      ['file and directory', mutate((a) => a.workspace.files.push(file('workspace/memory/notes.md/x', 'x')))],
      ['duplicate', mutate((a) => a.workspace.files.push(a.workspace.files[0]))],
      ['token of another tenant', mutate((a) => (a.tokens[0].tenantId = 'mallory'))],
      ['a token instead of a hash', mutate((a) => (a.tokens[0].token = 'gt_secret'))],
      ['config of another tenant', mutate((a) => (a.config.tenantId = 'mallory'))],
      ['extra field', mutate((a) => (a.evil = true))],
    ];
    for (const [why, archive] of bad) {
      const error = await importTenant(target, archive).catch((caught: MultiTenantError) => caught);
      expect(error, why).toBeInstanceOf(MultiTenantError);
      expect((error as MultiTenantError).code, why).toBe('BAD_REQUEST');
    }
    // Valid, but over the target's limits: refused by the plan, before any write.
    const big = mutate((a) => a.workspace.files.push(file('workspace/big.md', 'x'.repeat(2_000))));
    expect(await codeOf(importTenant(target, big))).toBe('FILE_TOO_LARGE');
    // A token hash owned by another tenant in the target.
    const stolen = mutate((a) => (a.tokens[0].tokenHash = before.length === 1 ? (before[0] as LooseArchive).tokens[0].tokenHash : ''));
    expect(await codeOf(importTenant(target, stolen))).toBe('CONFLICT');
    // Damaged bytes.
    expect(await codeOf((async () => decodeTenantArchive(new TextEncoder().encode('not gzip')))())).toBe('BAD_REQUEST');
    expect(await codeOf((async () => decodeTenantArchive(gzipSync('{"format":')))())).toBe('BAD_REQUEST');
    expect(await codeOf((async () => decodeTenantArchive(gzipSync('[]')))())).toBe('BAD_REQUEST');
    expect(await codeOf((async () => decodeTenantArchive(encodeTenantArchive(good).subarray(0, 40)))())).toBe('BAD_REQUEST');
    expect(await snapshot(target)).toEqual(before);
  });

  test('a store that does not keep what it was given fails the import loudly', async () => {
    const source = createMemoryAdapter();
    await seedTenant(source, 'dave');
    const target = createMemoryAdapter();
    // A lossy token store: drops labels.
    const lossy: TransferStores = {
      ...target,
      tokens: { ...target.tokens, create: (record: TokenRecord) => target.tokens.create({ ...record, label: undefined } as TokenRecord) },
    };
    const error = await importTenant(lossy, await exportTenant(source, 'dave')).catch((caught: MultiTenantError) => caught);
    expect(error).toMatchObject({ code: 'INTERNAL' });
    expect((error as MultiTenantError).message).toContain('Verification of dave failed');
    expect((error as MultiTenantError).details.mismatches).toEqual([
      expect.objectContaining({ part: 'tokens', reason: 'the record differs in the target' }),
    ]);
  });
});

describe('the archive format (properties)', () => {
  const segment = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,10}$/);
  const fileName = fc.oneof(
    segment.map((name) => `workspace/${name}.md`),
    segment.map((name) => `workspace/memory/${name}.md`),
    fc.tuple(segment, segment).map(([dir, name]) => `sessions/${dir}/${name}.jsonl`),
  );
  const files = fc.uniqueArray(fc.record({ name: fileName, data: fc.uint8Array({ maxLength: 300 }) }), {
    selector: (file) => file.name,
    maxLength: 12,
  });
  const jsonLeaf = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null));
  const configValue = fc.oneof(
    jsonLeaf,
    fc.array(jsonLeaf, { maxLength: 4 }),
    fc.dictionary(fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,8}$/), jsonLeaf, { maxKeys: 4 }),
  );
  const epoch = fc.integer({ min: 0, max: 4_000_000_000_000 });
  const hashes = fc.uniqueArray(fc.stringMatching(/^[0-9a-f]{64}$/), { maxLength: 4 });

  const archiveArb = fc
    .record({
      tenantId: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/),
      exportedAt: epoch,
      config: fc.option(
        fc.record({
          status: fc.constantFrom('active', 'suspended', 'deleted'),
          config: fc.dictionary(fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,8}$/), configValue, { maxKeys: 5 }),
          version: fc.integer({ min: 1, max: 1_000_000 }),
          updatedAt: epoch,
        }),
        { nil: null },
      ),
      tokens: fc.option(
        fc.tuple(
          hashes,
          fc.array(
            fc.record({
              status: fc.constantFrom('active', 'revoked', 'expired'),
              createdAt: epoch,
              expiresAt: fc.option(epoch, { nil: undefined }),
              label: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
            }),
            { minLength: 4, maxLength: 4 },
          ),
        ),
        { nil: null },
      ),
      files: fc.option(files, { nil: null }),
    })
    .map(
      ({ tenantId, exportedAt, config, tokens, files: chosen }): TenantArchive => ({
        format: TENANT_ARCHIVE_FORMAT,
        version: TENANT_ARCHIVE_VERSION,
        tenantId,
        exportedAt,
        config: config === null ? null : ({ tenantId, ...config } as TenantArchive['config']),
        tokens:
          tokens === null
            ? null
            : tokens[0].map((tokenHash, index) => JSON.parse(JSON.stringify({ tokenHash, tenantId, ...tokens[1][index] })) as TokenRecord),
        workspace:
          chosen === null
            ? null
            : { files: chosen.map((file) => archiveFile(file.name, file.data)).sort((a, b) => (a.name < b.name ? -1 : 1)) },
      }),
    );

  test('decode(encode(archive)) is the archive', () => {
    fc.assert(
      fc.property(archiveArb, (archive) => {
        expect(decodeTenantArchive(encodeTenantArchive(archive))).toEqual(archive);
      }),
      { numRuns: 200 },
    );
  });

  test('import into empty stores, then export, gives the archive back; a second import changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(archiveArb, async (archive) => {
        const holdsSomething = archive.config !== null || archive.workspace !== null || (archive.tokens?.length ?? 0) > 0;
        fc.pre(holdsSomething);
        const target = createMemoryAdapter();
        await importTenant(target, archive);
        const back = await exportTenant(target, archive.tenantId);
        const byHash = (records: TokenRecord[] | null) =>
          records === null ? [] : [...records].sort((a, b) => (a.tokenHash < b.tokenHash ? -1 : 1));
        expect(back.workspace).toEqual(archive.workspace);
        expect(back.config).toEqual(archive.config);
        expect(byHash(back.tokens)).toEqual(byHash(archive.tokens));
        expect(await importTenant(target, archive, { replace: true })).toMatchObject({ changed: false });
      }),
      { numRuns: 100 },
    );
  });
});

describe('migrateTenants', () => {
  async function populated(count: number) {
    const from = createMemoryAdapter();
    const tokens = new Map<string, string>();
    for (let index = 0; index < count; index++) {
      const id = `user-${String(index).padStart(3, '0')}`;
      tokens.set(id, await seedTenant(from, id));
    }
    return { from, tokens };
  }

  /** Target stores whose workspace writes fail after `budget` successful ones. */
  function flakyTarget(target: ReturnType<typeof createMemoryAdapter>, budget: { writes: number }): TransferStores {
    return {
      ...target,
      workspaces: {
        ...target.workspaces,
        async open(tenantId, options) {
          const handle = await target.workspaces.open(tenantId, options);
          return {
            ...handle,
            tenantId: handle.tenantId,
            read: (name) => handle.read(name),
            list: (prefix) => handle.list(prefix),
            remove: (name) => handle.remove(name),
            flush: () => handle.flush(),
            close: () => handle.close(),
            async write(name, data) {
              if (budget.writes-- <= 0) throw new MultiTenantError('BACKEND_UNAVAILABLE', 'injected outage');
              return handle.write(name, data);
            },
          };
        },
      },
    };
  }

  test('interrupted, resumed, verified; a re-run moves nothing; a tenant with only a token moves too', async () => {
    const { from, tokens } = await populated(60);
    // A tenant with only a token: neither configs nor workspaces name it, the token store does.
    const onlyToken = (await createTokenService({ store: from.tokens, peppers: PEPPERS }).create('token-only')).token;
    const target = createMemoryAdapter();
    const checkpoint = createMemoryCheckpoint();
    const progress: number[] = [];

    const first = await migrateTenants({
      from,
      to: flakyTarget(target, { writes: 25 }),
      checkpoint,
      concurrency: 4,
      maxFailures: 3,
      retryForMs: 0,
      onProgress: (event) => progress.push(event.done),
    });
    expect(first.ok).toBe(false);
    expect(first.stopped).toBe(true);
    expect(first.failed.length).toBeGreaterThanOrEqual(3);
    expect(first.failed[0]).toMatchObject({ code: 'BACKEND_UNAVAILABLE', retryable: true });
    expect(checkpoint.done.size).toBe(first.moved);
    expect(progress.at(-1)).toBe(first.moved + first.failed.length);

    const second = await migrateTenants({ from, to: target, checkpoint });
    expect(second).toMatchObject({ ok: true, total: 61, failed: [] });
    expect(second.verified).toBe(first.moved);
    expect(second.moved).toBe(61 - first.moved);
    expect(await snapshot(target)).toEqual(await snapshot(from));

    const third = await migrateTenants({ from, to: target, checkpoint: createMemoryCheckpoint() });
    expect(third).toMatchObject({ ok: true, moved: 0, verified: 61 });

    const manager = managerOver(target);
    for (const [id, token] of [...tokens].slice(0, 10)) expect(await manager.authenticate(token)).toMatchObject({ tenantId: id });
    expect(await manager.authenticate(onlyToken)).toMatchObject({ tenantId: 'token-only' });
    await manager.close();
  });

  test('a tenant whose lease is still held (a killed earlier run) is retried until the lease lapses', async () => {
    const { from } = await populated(2);
    const target = createMemoryAdapter();
    const attempts = new Map<string, number>();
    const released: string[] = [];
    const coordinator: Coordinator = {
      nodeId: 'migrator',
      async claim(tenantId) {
        const attempt = (attempts.get(tenantId) ?? 0) + 1;
        attempts.set(tenantId, attempt);
        if (attempt <= 2)
          throw new MultiTenantError('LEASE_HELD', `${tenantId} is active on node dead-run.`, {
            retryAfterMs: 10,
            details: { owner: 'dead-run' },
          });
        return { tenantId, owner: 'migrator', fence: attempt, expiresAt: Date.now() + 15_000 };
      },
      async release(claim) {
        released.push(claim.tenantId);
      },
      validate: async () => true,
    };
    const noRetry = await migrateTenants({ from, to: { ...target, coordinator }, retryForMs: 0 });
    expect(noRetry.failed.map((failure) => failure.code)).toEqual(['LEASE_HELD', 'LEASE_HELD']);
    attempts.clear();
    const report = await migrateTenants({ from, to: { ...target, coordinator } });
    expect(report).toMatchObject({ ok: true, moved: 2 });
    expect([...attempts.values()]).toEqual([3, 3]);
    expect(released.sort()).toEqual(['user-000', 'user-001']);
  });

  test('a checkpointed tenant that no longer matches the target fails verification', async () => {
    const { from } = await populated(3);
    const target = createMemoryAdapter();
    const checkpoint = createMemoryCheckpoint();
    expect(await migrateTenants({ from, to: target, checkpoint })).toMatchObject({ ok: true, moved: 3 });
    const handle = await target.workspaces.open('user-001');
    await handle.write('workspace/memory/notes.md', 'tampered');
    await handle.close();
    const rerun = await migrateTenants({ from, to: target, checkpoint });
    expect(rerun.ok).toBe(false);
    expect(rerun.failed).toEqual([expect.objectContaining({ tenantId: 'user-001', code: 'INTERNAL' })]);
    expect(rerun.failed[0]!.message).toContain('workspace/memory/notes.md');
  });
});
