import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@openclaw-mt/core';
import type { CellSettings } from '../src/cell/cell.js';
import { withTenantlessGateway } from '../src/cell/tenantless-gateway.js';
import { mountsUnder } from '../src/sandbox/primed-slot.js';

// The once-only recordings' gateway, closed before it is spawned. Its slot is a mount: root only.

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
});
