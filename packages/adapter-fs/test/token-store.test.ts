import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { TokenChange } from '@openclaw-mt/core';
import { eventually, randomTenantId, randomTokenHash, rejectsWithCode, sampleTokenRecord } from '@openclaw-mt/core/testing';
import { createChangeJournal } from '../src/change-journal.js';
import { createFsTokenStore } from '../src/index.js';
import { tempDirs } from './support/temp-dir.js';

const dirs = tempDirs('tokens');
afterAll(() => dirs.cleanup());

describe('on-disk layout', () => {
  test('records are stored by hash only, with a per-tenant index, and no token or secret anywhere', async () => {
    const root = dirs.make();
    const store = createFsTokenStore({ root });
    const record = sampleTokenRecord('alice', { label: 'laptop' });
    await store.create(record);
    const file = JSON.parse(readFileSync(join(root, 'records', record.tokenHash.slice(0, 2), `${record.tokenHash}.json`), 'utf8')) as {
      record: unknown;
    };
    expect(file.record).toEqual(record);
    expect(readdirSync(join(root, 'tenants', 'alice'))).toEqual([record.tokenHash]);
    expect(readFileSync(join(root, 'journal.log'), 'utf8')).toContain(`"tokenHash":"${record.tokenHash}"`);
  });
});

describe('rotation', () => {
  test('a successor whose rotation never committed (a crash between the two writes) does not exist', async () => {
    const root = dirs.make();
    const store = createFsTokenStore({ root });
    const tenantId = randomTenantId();
    const old = sampleTokenRecord(tenantId);
    await store.create(old);
    // What a writer killed after storing the successor but before updating the old record leaves behind.
    const orphan = sampleTokenRecord(tenantId);
    mkdirSync(join(root, 'records', orphan.tokenHash.slice(0, 2)), { recursive: true });
    writeFileSync(
      join(root, 'records', orphan.tokenHash.slice(0, 2), `${orphan.tokenHash}.json`),
      JSON.stringify({ format: 1, record: orphan, pendingRotationOf: old.tokenHash }),
    );
    writeFileSync(join(root, 'tenants', tenantId, orphan.tokenHash), '');
    expect(await store.get(orphan.tokenHash)).toBeUndefined();
    expect(await store.revoke(orphan.tokenHash)).toBeUndefined();
    expect((await store.listByTenant(tenantId)).map((record) => record.tokenHash)).toEqual([old.tokenHash]);
    // The old token was never limited and can still be rotated.
    expect(await store.get(old.tokenHash)).toEqual(old);
    const successor = sampleTokenRecord(tenantId);
    await store.rotate(old.tokenHash, successor, Date.now() + 1_000);
    expect(await store.get(successor.tokenHash)).toEqual(successor);
  });

  test('rotating twice keeps both successors valid and the old token limited to the earliest grace', async () => {
    const store = createFsTokenStore({ root: dirs.make() });
    const tenantId = randomTenantId();
    const old = sampleTokenRecord(tenantId);
    await store.create(old);
    const first = sampleTokenRecord(tenantId, { createdAt: old.createdAt + 1 });
    const second = sampleTokenRecord(tenantId, { createdAt: old.createdAt + 2 });
    await store.rotate(old.tokenHash, first, 2_000_000_000_000);
    const updated = await store.rotate(old.tokenHash, second, 2_100_000_000_000);
    expect(updated.expiresAt).toBe(2_000_000_000_000);
    expect(updated.rotatedTo).toBe(second.tokenHash);
    expect(await store.get(first.tokenHash)).toEqual(first);
    expect(await store.get(second.tokenHash)).toEqual(second);
    expect((await store.listByTenant(tenantId)).map((record) => record.tokenHash)).toEqual(
      [old, first, second].map((record) => record.tokenHash),
    );
    // No pending marks are left on disk once rotations committed.
    for (const record of [first, second]) {
      const file = JSON.parse(
        readFileSync(join(store.root, 'records', record.tokenHash.slice(0, 2), `${record.tokenHash}.json`), 'utf8'),
      ) as Record<string, unknown>;
      expect(file.pendingRotationOf).toBeUndefined();
    }
  });

  test('bad grace periods are refused with BAD_REQUEST', async () => {
    const store = createFsTokenStore({ root: dirs.make() });
    const old = sampleTokenRecord(randomTenantId());
    await store.create(old);
    for (const grace of [Number.NaN, -1, 1.5])
      await rejectsWithCode(() => store.rotate(old.tokenHash, sampleTokenRecord(old.tenantId), grace), 'BAD_REQUEST');
    expect(await store.get(old.tokenHash)).toEqual(old);
  });
});

describe('failures', () => {
  test('an unreadable record file gives BACKEND_UNAVAILABLE (not "unknown token") and its message has no path', async () => {
    const root = dirs.make();
    const store = createFsTokenStore({ root });
    const hash = randomTokenHash();
    mkdirSync(join(root, 'records', hash.slice(0, 2)), { recursive: true });
    writeFileSync(join(root, 'records', hash.slice(0, 2), `${hash}.json`), '{"format":1,"rec');
    await rejectsWithCode(() => store.get(hash), 'BACKEND_UNAVAILABLE');
    await store.get(hash).catch((error: Error) => expect(error.message).not.toContain(root));
  });

  test('a closed store refuses calls with CLOSED', async () => {
    const store = createFsTokenStore({ root: dirs.make() });
    await store.close();
    await rejectsWithCode(() => store.get(randomTokenHash()), 'CLOSED');
    await rejectsWithCode(() => store.create(sampleTokenRecord('a')), 'CLOSED');
  });

  test('abandoned temp files are removed when the store is created', () => {
    const root = dirs.make();
    createFsTokenStore({ root });
    const temp = join(root, 'records', '.ocmt-4194305-0000000000aa.tmp');
    writeFileSync(temp, 'partial');
    createFsTokenStore({ root });
    expect(readdirSync(join(root, 'records'))).toEqual([]);
  });
});

describe('change journal', () => {
  test('watchers keep every event across journal rotations', async () => {
    const root = dirs.make();
    const parse = (value: unknown): { n: number } | undefined =>
      typeof (value as { n?: unknown }).n === 'number' ? (value as { n: number }) : undefined;
    const writer = createChangeJournal({ path: join(root, 'journal.log'), parse, pollIntervalMs: 20, maxBytes: 100 });
    const reader = createChangeJournal({ path: join(root, 'journal.log'), parse, pollIntervalMs: 20, maxBytes: 100 });
    const seen: number[] = [];
    const stop = reader.subscribe(({ n }) => seen.push(n));
    for (let n = 0; n < 300; n++) await writer.append({ n });
    await eventually(() => seen.length >= 300, 10_000, 'every event');
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, n) => n));
    // It did rotate, many times.
    expect(readdirSync(root).filter((name) => /^journal\.log\.\d+$/.test(name)).length).toBeGreaterThan(10);
    stop();
    writer.close();
  });

  test('a torn line (a writer killed mid-append) does not swallow the next event', async () => {
    const root = dirs.make();
    const path = join(root, 'journal.log');
    const parse = (value: unknown): { n: number } | undefined =>
      typeof (value as { n?: unknown }).n === 'number' ? (value as { n: number }) : undefined;
    const journal = createChangeJournal({ path, parse, pollIntervalMs: 20 });
    const seen: number[] = [];
    const stop = journal.subscribe(({ n }) => seen.push(n));
    writeFileSync(path, '\n{"n":1', { flag: 'a' });
    await journal.append({ n: 2 });
    await eventually(() => seen.includes(2), 5_000, 'the event after the torn line');
    expect(seen).toEqual([2]);
    stop();
  });

  test('watchers started on two stores see the same changes; unsubscribing stops delivery', async () => {
    const root = dirs.make();
    const a = createFsTokenStore({ root, pollIntervalMs: 20 });
    const b = createFsTokenStore({ root, pollIntervalMs: 20 });
    const seen: TokenChange[] = [];
    const stop = a.watch((change) => seen.push(change));
    const record = sampleTokenRecord(randomTenantId());
    await b.create(record);
    await eventually(() => seen.length === 1, 5_000, 'the creation');
    expect(seen[0]).toEqual({ type: 'created', tokenHash: record.tokenHash, tenantId: record.tenantId });
    stop();
    await b.revoke(record.tokenHash);
    // The journal holds the revocation, but nobody is listening any more.
    await eventually(() => readFileSync(join(root, 'journal.log'), 'utf8').includes('"revoked"'), 1_000, 'the journal line');
    expect(seen.length).toBe(1);
    await a.close();
    await b.close();
  });
});
