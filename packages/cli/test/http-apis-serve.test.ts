import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '@openclaw-mt/core';
import { createFakeInstall } from '../../runtime-openclaw/test/support/harness.js';
import { buildGateway, type BuiltGateway } from '../src/context/build-gateway.js';

// serve with OpenClaw's HTTP APIs switched on in the config file (a fake `openclaw` entry per cell).

describe('serve with httpApis', () => {
  let install: { dir: string; cleanup: () => Promise<void> };
  let dir: string;
  let built: BuiltGateway;
  let base: string;

  beforeAll(async () => {
    install = await createFakeInstall();
    dir = await mkdtemp(join(tmpdir(), 'ocmt-http-apis-serve-'));
    const path = join(dir, 'config.json');
    const openclaw = {
      runtimeDir: install.dir,
      sandbox: false,
      osUsers: false,
      ports: { first: 39_000, last: 39_999, stride: 8 },
      httpApis: { hooks: true },
    };
    await writeFile(
      path,
      JSON.stringify({
        multiTenant: { dataDir: join(dir, 'data'), admin: { enabled: false }, gateway: { runtime: 'openclaw', port: 0, openclaw } },
      }),
    );
    built = await buildGateway(await loadConfig({ path }));
    base = (await built.listen()).url.replace(/^ws/, 'http');
  });
  afterAll(async () => {
    await built?.stop();
    await rm(dir, { recursive: true, force: true });
    await install.cleanup();
  });

  test('says at start that no model provider is configured, and serves no Control UI the install lacks', () => {
    expect(built.warnings).toContainEqual(expect.stringContaining('no model provider is configured (multiTenant.gateway.openclaw.models)'));
    expect(built.servesControlUi).toBe(false);
  });

  test('gives no such warning when the cells’ own config sends a provider somewhere', async () => {
    const path = join(dir, 'local-model.json');
    const openclaw = {
      runtimeDir: install.dir,
      sandbox: false,
      osUsers: false,
      config: { models: { providers: { local: { baseUrl: 'http://127.0.0.1:11434/v1', models: [] } } } },
    };
    await writeFile(
      path,
      JSON.stringify({
        multiTenant: { dataDir: join(dir, 'data-local'), admin: { enabled: false }, gateway: { runtime: 'openclaw', openclaw } },
      }),
    );
    const other = await buildGateway(await loadConfig({ path }));
    try {
      expect(other.warnings.join('\n')).not.toContain('no model provider');
    } finally {
      await other.stop();
    }
  });

  test("a tenant's hook reaches its cell; /v1, not enabled, is not served", async () => {
    const { token } = await built.gateway.manager.tokens.create('hooked');
    const hook = await fetch(`${base}/hooks/wake`, { method: 'POST', headers: { 'x-openclaw-token': token }, body: '{"text":"hi"}' });
    expect(hook.status).toBe(200);
    expect(((await hook.json()) as { path: string }).path).toBe('/hooks/wake');
    const v1 = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}' });
    expect(v1.status).not.toBe(200);
    await v1.body?.cancel();
  });
});
