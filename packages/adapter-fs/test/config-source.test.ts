import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { TenantConfigEntry } from '@openclaw-mt/core';
import { eventually, rejectsWithCode } from '@openclaw-mt/core/testing';
import { createFsConfigSource } from '../src/index.js';
import { tempDirs } from './support/temp-dir.js';

const dirs = tempDirs('configs');
afterAll(() => dirs.cleanup());

describe('on-disk layout', () => {
  test('one JSON file per tenant, named by the injective directory mapping, holding the entry and its sequence', async () => {
    const root = dirs.make();
    const source = createFsConfigSource({ root, now: () => 1_700_000_000_000 });
    await source.set('Alice', { config: { model: 'x' } });
    await source.set('alice', { config: { model: 'y' } });
    expect(readdirSync(root).sort()).toEqual(['.openclaw-mt', '_alice.json', 'alice.json']);
    expect(JSON.parse(readFileSync(join(root, '_alice.json'), 'utf8'))).toEqual({
      format: 1,
      sequence: 1,
      entry: { tenantId: 'Alice', status: 'active', config: { model: 'x' }, version: 1, updatedAt: 1_700_000_000_000 },
    });
    expect(readFileSync(join(root, '.openclaw-mt', 'sequence'), 'utf8').trim()).toBe('2');
  });
});

describe('the change feed across instances', () => {
  test('a cursor from one instance resumes on another (another process, after a restart)', async () => {
    const root = dirs.make();
    const a = createFsConfigSource({ root });
    const b = createFsConfigSource({ root });
    await a.set('t1', { config: {} });
    const first = await b.changes();
    expect(first.entries.map((entry) => entry.tenantId)).toEqual(['t1']);
    await b.set('t2', { config: {} });
    await a.put({ tenantId: 't3', status: 'suspended', config: {}, version: 7, updatedAt: 1 });
    const second = await a.changes(first.cursor);
    expect(second.entries.map((entry) => [entry.tenantId, entry.version])).toEqual([
      ['t2', 1],
      ['t3', 7],
    ]);
    const c = createFsConfigSource({ root });
    expect((await c.changes(second.cursor)).entries).toEqual([]);
  });

  test('a change whose sequence is not committed yet is held back, not skipped', async () => {
    const root = dirs.make();
    const source = createFsConfigSource({ root });
    await source.set('t1', { config: {} });
    const { cursor } = await source.changes();
    // What a writer in another process leaves between writing the tenant file and the sequence file.
    const entry: TenantConfigEntry = { tenantId: 'late', status: 'active', config: {}, version: 1, updatedAt: 1 };
    writeFileSync(join(root, 'late.json'), JSON.stringify({ format: 1, sequence: 2, entry }));
    const early = await source.changes(cursor);
    expect(early.entries).toEqual([]);
    expect(early.cursor).toBe(cursor);
    writeFileSync(join(root, '.openclaw-mt', 'sequence'), '2\n');
    expect((await source.changes(early.cursor)).entries).toEqual([entry]);
  });

  test('a lost sequence file is rebuilt from the highest sequence in use', async () => {
    const root = dirs.make();
    const source = createFsConfigSource({ root });
    await source.set('t1', { config: {} });
    await source.set('t2', { config: {} });
    const { cursor } = await source.changes();
    rmSync(join(root, '.openclaw-mt', 'sequence'));
    await source.set('t3', { config: {} });
    expect((await source.changes(cursor)).entries.map((entry) => entry.tenantId)).toEqual(['t3']);
  });

  test('watch reports puts and deletions made by another instance, in order', async () => {
    const root = dirs.make();
    const watcher = createFsConfigSource({ root, pollIntervalMs: 20 });
    const writer = createFsConfigSource({ root });
    const seen: TenantConfigEntry[] = [];
    const stop = watcher.watch((entry) => seen.push(entry));
    await writer.put({ tenantId: 'remote', status: 'active', config: { v: 1 }, version: 4, updatedAt: 1 });
    await eventually(() => seen.length === 1, 5_000, 'the put');
    await writer.set('remote', { status: 'deleted' });
    await eventually(() => seen.length === 2, 5_000, 'the deletion');
    expect(seen.map((entry) => [entry.version, entry.status])).toEqual([
      [4, 'active'],
      [5, 'deleted'],
    ]);
    stop();
    await watcher.close();
  });
});

describe('bad data and bad input', () => {
  test('a corrupt or misplaced tenant file gives BACKEND_UNAVAILABLE, not "no config"', async () => {
    const root = dirs.make();
    const source = createFsConfigSource({ root });
    writeFileSync(join(root, 'broken.json'), '{"format":1,"seq');
    await rejectsWithCode(() => source.get('broken'), 'BACKEND_UNAVAILABLE');
    const other: TenantConfigEntry = { tenantId: 'other', status: 'active', config: {}, version: 1, updatedAt: 1 };
    writeFileSync(join(root, 'copied.json'), JSON.stringify({ format: 1, sequence: 1, entry: other }));
    await rejectsWithCode(() => source.get('copied'), 'BACKEND_UNAVAILABLE');
  });

  test('files that are not tenant configs are ignored by tenants()', async () => {
    const root = dirs.make();
    const source = createFsConfigSource({ root });
    await source.set('real', { config: {} });
    for (const name of ['README.md', 'Upper.json', '.hidden.json', 'bad_.json', 'x__.json_']) writeFileSync(join(root, name), '{}');
    const listed: string[] = [];
    for await (const id of source.tenants()) listed.push(id);
    expect(listed).toEqual(['real']);
  });

  test('bad ifVersion and limit values are refused with BAD_REQUEST', async () => {
    const source = createFsConfigSource({ root: dirs.make() });
    await rejectsWithCode(() => source.set('t', { config: {} }, { ifVersion: -1 }), 'BAD_REQUEST');
    await rejectsWithCode(() => source.set('t', { config: {} }, { ifVersion: 1.5 }), 'BAD_REQUEST');
    await rejectsWithCode(() => source.changes(undefined, Number.NaN), 'BAD_REQUEST');
    expect(await source.get('t')).toBeUndefined();
  });

  test('remove forgets a tenant and reports whether it existed', async () => {
    const source = createFsConfigSource({ root: dirs.make() });
    await source.set('gone', { config: {} });
    expect(await source.remove('gone')).toBe(true);
    expect(await source.remove('gone')).toBe(false);
    expect(await source.get('gone')).toBeUndefined();
  });

  test('a closed source refuses calls with CLOSED', async () => {
    const source = createFsConfigSource({ root: dirs.make() });
    await source.close();
    await rejectsWithCode(() => source.get('t'), 'CLOSED');
  });
});
