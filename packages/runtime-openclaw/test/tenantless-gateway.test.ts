import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@openclaw-mt/core';
import type { CellSettings } from '../src/cell/cell.js';
import { modelsReady, type CellModelGateway } from '../src/cell/cell-models.js';
import { withTenantlessGateway } from '../src/cell/tenantless-gateway.js';
import { mountsUnder } from '../src/sandbox/primed-slot.js';

// The once-only recordings' gateway, closed before it is spawned (while it waits for its port, or for a model gateway
// that is started after the runtime, as `serve` starts it). Its slot is a mount: root only.

const asRoot = process.platform === 'linux' && process.getuid?.() === 0;

describe.skipIf(!asRoot)('a tenantless gateway closed while it is being prepared', () => {
  let base: string | undefined;
  afterEach(async () => {
    if (base !== undefined) await rm(base, { recursive: true, force: true });
    base = undefined;
  });

  it('is never spawned: the close lands between its slot and its process, and it ends at once leaving nothing', async () => {
    base = await mkdtemp(join(tmpdir(), 'ocmt-tenantless-'));
    const root = join(base, 'record-x');
    const closing = new AbortController();
    const released: number[] = [];
    // The runtime closes while the gateway waits for its port, after its slot exists. Nothing past the port is
    // needed: a gateway that went on would need a real install and sandbox, and run until its start timeout.
    const settings = {
      install: { nodePath: process.execPath },
      ports: {
        allocate: async () => {
          closing.abort();
          return 47_999;
        },
        release: (port: number) => void released.push(port),
      },
      defaults: {},
      httpApis: {},
      startTimeoutMs: 600_000,
      log: createLogger({ level: 0 }),
    } as unknown as CellSettings;
    let used = false;
    const outcome = await withTenantlessGateway(settings, root, closing.signal, { mode: { record: '/run/x' } }, async () => {
      used = true;
    }).catch((error: unknown) => error);
    expect(outcome).toMatchObject({ name: 'AbortError' });
    expect(used).toBe(false);
    expect(released).toEqual([47_999]);
    expect(await mountsUnder(base)).toEqual([]);
    expect(existsSync(root)).toBe(false);
  });

  it('asks a model gateway started after the runtime nothing until it runs, and a close while it waits ends it', async () => {
    base = await mkdtemp(join(tmpdir(), 'ocmt-tenantless-'));
    const root = join(base, 'record-x');
    const closing = new AbortController();
    const released: number[] = [];
    const asked: string[] = [];
    // As `serve`'s view of its model gateway before that gateway runs: every call fails.
    const gateway = {
      cellProviders: () => {
        asked.push('cellProviders');
        throw new Error('The model gateway is not running.');
      },
    } as unknown as CellModelGateway;
    const models = { gateway, ready: new Promise<void>(() => undefined) };
    const settings = {
      install: { nodePath: process.execPath },
      ports: { allocate: async () => 47_998, release: (port: number) => void released.push(port) },
      models,
      modelsReady: modelsReady(models, closing.signal),
      defaults: {},
      httpApis: {},
      startTimeoutMs: 600_000,
      log: createLogger({ level: 0 }),
    } as unknown as CellSettings;
    const outcome = withTenantlessGateway(settings, root, closing.signal, { mode: { record: '/run/x' } }, async () => undefined).catch(
      (error: unknown) => error,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(asked).toEqual([]);
    closing.abort();
    expect(await outcome).toMatchObject({ name: 'AbortError' });
    expect(asked).toEqual([]);
    expect(released).toEqual([47_998]);
    expect(await mountsUnder(base)).toEqual([]);
    expect(existsSync(root)).toBe(false);
  });
});

describe('modelsReady', () => {
  it("settles with the gateway's ready, or rejects with the close's reason first", async () => {
    const gateway = {} as CellModelGateway;
    expect(modelsReady({ gateway }, new AbortController().signal)).toBeUndefined();
    await expect(modelsReady({ gateway, ready: Promise.resolve('up') }, new AbortController().signal)).resolves.toBeUndefined();
    const failed = new Error('the model gateway closed before it ran');
    await expect(modelsReady({ gateway, ready: Promise.reject(failed) }, new AbortController().signal)).rejects.toBe(failed);
    const closing = new AbortController();
    const waiting = modelsReady({ gateway, ready: new Promise(() => undefined) }, closing.signal);
    closing.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    // Closed already: given up at once.
    await expect(modelsReady({ gateway, ready: new Promise(() => undefined) }, closing.signal)).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});
