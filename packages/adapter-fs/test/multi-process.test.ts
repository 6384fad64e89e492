import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TokenChange } from '@openclaw-mt/core';
import { eventually } from '@openclaw-mt/core/testing';
import { createFsConfigSource, createFsTokenStore, createFsWorkspaceStore } from '../src/index.js';
import { buildBundle } from './support/bundle.js';
import { finished, startWorker } from './support/child.js';
import { tempDirs } from './support/temp-dir.js';

const dirs = tempDirs('multi');
let bundle: { path: string; cleanup(): void };

beforeAll(async () => {
  bundle = await buildBundle();
}, 60_000);

afterAll(() => {
  bundle?.cleanup();
  dirs.cleanup();
});

const hex = (): string => randomBytes(32).toString('hex');

describe('two processes on one token store', () => {
  test('creating, revoking and rotating 1,000 tokens concurrently loses no update, and a third process sees every change', async () => {
    const root = dirs.make();
    const tenantId = 'shared-tenant';
    const hashes = Array.from({ length: 1_000 }, hex);
    const successors = hashes.map(hex);
    const watcher = createFsTokenStore({ root, pollIntervalMs: 50 });
    const seen: TokenChange[] = [];
    const unwatch = watcher.watch((change) => seen.push(change));
    try {
      const args = { root, tenantId, hashes, successors };
      const a = startWorker(bundle.path, 'tokens', { ...args, role: 'a' });
      const b = startWorker(bundle.path, 'tokens', { ...args, role: 'b' });
      const [reportA, reportB] = (await Promise.all([finished(a), finished(b)])) as Array<{
        rotated: number[];
        refused: number[];
        errors: string[];
      }>;
      expect(reportA.errors).toEqual([]);
      expect(reportB.errors).toEqual([]);
      const rotated = new Set(reportB.rotated);
      // Every rotation either happened (before the revocation) or was refused (after it): never both, never neither.
      expect(reportB.rotated.length + reportB.refused.length).toBe(Math.ceil(1_000 / 3));

      const store = createFsTokenStore({ root });
      for (const [i, hash] of hashes.entries()) {
        const record = await store.get(hash);
        expect(record?.status, `token ${i}`).toBe('revoked');
        if (i % 3 === 0 && rotated.has(i)) {
          expect(record?.rotatedTo, `token ${i} keeps its rotation`).toBe(successors[i]);
          expect(record?.expiresAt).toBeGreaterThan(0);
          expect((await store.get(successors[i]!))?.status).toBe('active');
        } else {
          expect(record?.rotatedTo, `token ${i}`).toBeUndefined();
          expect(await store.get(successors[i]!)).toBeUndefined();
        }
      }
      const listed = await store.listByTenant(tenantId);
      expect(listed.length).toBe(1_000 + rotated.size);
      expect(new Set(listed.map((record) => record.tokenHash)).size).toBe(listed.length);

      // The watcher in this process saw every other process's change.
      const revoked = new Set(hashes);
      await eventually(
        () => seen.filter((change) => change.type === 'revoked' && revoked.has(change.tokenHash)).length >= 1_000,
        10_000,
        'every revocation',
      );
      const created = new Set(seen.filter((change) => change.type === 'created').map((change) => change.tokenHash));
      for (const hash of hashes) expect(created.has(hash)).toBe(true);
      for (const i of rotated) expect(created.has(successors[i]!)).toBe(true);
      expect(seen.filter((change) => change.type === 'rotated').length).toBe(rotated.size);
      await store.close();
    } finally {
      unwatch();
      await watcher.close();
    }
  }, 120_000);
});

describe('two processes on one config source', () => {
  test('concurrent sets on one tenant from two processes get distinct consecutive versions', async () => {
    const root = dirs.make();
    const args = { root, tenantId: 'busy', count: 100 };
    const reports = (await Promise.all([
      finished(startWorker(bundle.path, 'configs', { ...args, role: 'a' })),
      finished(startWorker(bundle.path, 'configs', { ...args, role: 'b' })),
    ])) as Array<{ versions: number[] }>;
    const versions = reports.flatMap((report) => report.versions).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const source = createFsConfigSource({ root });
    expect((await source.get('busy'))?.version).toBe(200);
    // The feed, read from the start by a third process, ends at the latest entry.
    const page = await source.changes(undefined, 10);
    expect(page.entries.map((entry) => entry.version)).toEqual([200]);
    await source.close();
  }, 60_000);
});

describe('two processes appending to one workspace file', () => {
  test('no append is lost or torn', async () => {
    const root = dirs.make();
    const args = { root, tenantId: 'appender', count: 400 };
    await Promise.all([
      finished(startWorker(bundle.path, 'append', { ...args, role: 'a' })),
      finished(startWorker(bundle.path, 'append', { ...args, role: 'b' })),
    ]);
    const store = createFsWorkspaceStore({ root, limits: { maxFileBytes: 4 * 1024 * 1024 } });
    const handle = await store.open('appender');
    const lines = new TextDecoder()
      .decode(await handle.read('sessions/shared.jsonl'))
      .trim()
      .split('\n');
    const parsed = lines.map((line) => JSON.parse(line) as { writer: string; i: number });
    for (const writer of ['a', 'b']) {
      expect(
        parsed
          .filter((line) => line.writer === writer)
          .map((line) => line.i)
          .sort((x, y) => x - y),
      ).toEqual(Array.from({ length: 400 }, (_, i) => i));
    }
    await handle.close();
  }, 60_000);
});

/** Checks that `data` is exactly one complete generation of the worker's big file; returns the generation. */
function checkBigFile(data: Uint8Array): number {
  const header = new TextDecoder().decode(data.subarray(0, 15));
  expect(header).toMatch(/^gen:\d{10}\n$/);
  const generation = Number(header.slice(4, 14));
  expect(data.byteLength, `size of generation ${generation}`).toBe(1024 * 1024 + (generation % 7) * 512 * 1024);
  const fill = generation % 251;
  for (let i = 15; i < data.byteLength; i += 4093) expect(data[i], `byte ${i} of generation ${generation}`).toBe(fill);
  expect(data[data.byteLength - 1]).toBe(fill);
  return generation;
}

function tempFilesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (/^\.ocmt-\d+-[0-9a-f]{12}\.tmp$/.test(entry.name)) found.push(join(entry.parentPath ?? entry.path, entry.name));
  }
  return found;
}

describe('a writer killed with SIGKILL mid-write', () => {
  test('leaves the old or the new file, never a torn one, and no temp file reaches readers', async () => {
    const dataDir = dirs.make();
    const workspaceRoot = join(dataDir, 'workspaces');
    const configRoot = join(dataDir, 'configs');
    const tenantId = 'crashy';
    let from = 1;
    let leftovers = 0;
    let lastVersion = 0;
    // Kill after different numbers of completed writes and different delays, so kills land at many points of a write.
    const delays = [0, 3, 9, 17, 26, 41, 58, 77];
    for (const delay of delays) {
      const worker = startWorker(bundle.path, 'write-loop', { workspaceRoot, configRoot, tenantId, from });
      await worker.waitFor((report) => (report as { generation?: number }).generation !== undefined);
      await new Promise((resolve) => setTimeout(resolve, delay));
      worker.child.kill('SIGKILL');
      expect(await worker.exited).toBe('SIGKILL');
      const written = worker.reports.map((report) => (report as { generation: number }).generation);
      const lastReported = Math.max(...written);

      const stray = tempFilesUnder(dataDir);
      leftovers += stray.length;

      // A fresh store, as a restarted gateway would open it.
      const store = createFsWorkspaceStore({
        root: workspaceRoot,
        limits: { maxFileBytes: 16 * 1024 * 1024, maxWorkspaceBytes: 64 * 1024 * 1024 },
      });
      const handle = await store.open(tenantId);
      const names = (await handle.list()).map((file) => file.name);
      expect(names.filter((name) => name.includes('.tmp') || name.split('/').some((part) => part.startsWith('.')))).toEqual([]);
      const generation = checkBigFile(await handle.read('workspace/big.bin'));
      // The file holds the last reported write or the one in flight when the kill landed.
      expect(generation === lastReported || generation === lastReported + 1).toBe(true);
      const raw = readFileSync(join(handle.directory!, 'workspace', 'big.bin'));
      expect(checkBigFile(raw)).toBe(generation);
      // Opening the workspace removed the dead writer's temp files.
      expect(tempFilesUnder(workspaceRoot)).toEqual([]);

      const configs = createFsConfigSource({ root: configRoot });
      const entry = await configs.get(tenantId);
      const configGeneration = (entry?.config as { generation?: number } | undefined)?.generation ?? 0;
      // The worker writes the file, then the config: the config is at most one generation behind.
      expect(configGeneration === generation || configGeneration === generation - 1).toBe(true);
      expect(entry!.version).toBeGreaterThan(lastVersion);
      lastVersion = entry!.version;
      // The config lock the dead writer may have held is recovered (its pid is gone): a write goes through.
      lastVersion = (await configs.set(tenantId, { config: { generation } })).version;
      expect(tempFilesUnder(configRoot)).toEqual([]);
      await handle.close();
      await configs.close();
      from = generation + 1;
    }
    // Informational: how many kills landed between a temp file's creation and its rename.
    console.info(`SIGKILL test: ${delays.length} kills, ${leftovers} temp files left behind and cleaned up`);
  }, 120_000);
});
