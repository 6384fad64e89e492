import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@openclaw-mt/core';
import { tenantDirName } from '@openclaw-mt/core/contracts';
import {
  createHttpApiRoute,
  deleteTenantUser,
  installOpenClawRuntime,
  defaultRuntimeDir,
  type InstallRuntimeResult,
} from '@openclaw-mt/runtime-openclaw';
import { fakeModelOpenClawConfig, startFakeModelServer, type FakeModelServer } from './support/fake-model-server.js';
import { startOpenClawGateway, type OpenClawHarness } from './support/harness.js';
import { takeRealCellsTurn } from './support/real-cells-turn.js';

// OpenClaw's OpenAI-compatible API and hooks of a real cell, called through the front door as a
// user's curl would. One cell start. Run under the cells lock (see the package README).

// Where `openclaw-mt runtime install`, `runtime status` and `serve` look too: $OPENCLAW_MT_RUNTIME_DIR, else the default cache.
const CACHE = defaultRuntimeDir();
const TENANT = 'httpapi';
const REPLY = 'Hello from the fake model over HTTP.';
const log = createLogger({ tag: 'http-apis-e2e', level: Number(process.env.TEST_LOG_LEVEL ?? 3) });

describe("a real cell's /v1 API through the front door", { timeout: 600_000 }, () => {
  let install: InstallRuntimeResult;
  let model: FakeModelServer;
  let h: OpenClawHarness;

  let endTurn: (() => Promise<void>) | undefined;
  // Registered first, so it runs after this file's other afterAll hooks: its cells are gone by then.
  afterAll(() => endTurn?.());
  beforeAll(async () => {
    endTurn = await takeRealCellsTurn();
    install = await installOpenClawRuntime({ dir: CACHE, onProgress: (line) => log.info(`install: ${line}`) });
    model = await startFakeModelServer(REPLY);
    h = await startOpenClawGateway({
      runtime: {
        install,
        config: fakeModelOpenClawConfig(model.baseUrl),
        httpApis: { openai: true, hooks: true },
        privileges: { admin: [TENANT] },
        logger: createLogger({ tag: 'openclaw', level: Number(process.env.TEST_LOG_LEVEL ?? 3) }),
        // Away from other suites' ranges, which may run beside this one.
        ports: { first: 54_000, last: 54_999 },
        // A loaded machine can take minutes for a first start; the request waits for it.
        startTimeoutMs: 300_000,
        coldStartWaitMs: 300_000,
      },
      manager: { idleTimeoutMs: 300_000 },
      gateway: (runtime) => ({ tenantHttpRoutes: [createHttpApiRoute({ runtime })] }),
    });
  }, 1_800_000);

  afterAll(async () => {
    await h?.stop();
    await model?.close();
    if (h !== undefined) await deleteTenantUser(TENANT, join(h.dataDir, 'workspaces', tenantDirName(TENANT))).catch(() => undefined);
  }, 120_000);

  it("a cold tenant's POST /v1/chat/completions returns the model's reply", async () => {
    const token = await h.tenant(TENANT);
    expect(h.runtime.cells()).toEqual([]);
    const response = await fetch(`${h.url.replace(/^ws/, 'http')}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openclaw', messages: [{ role: 'user', content: 'hi' }] }),
      signal: AbortSignal.timeout(400_000),
    });
    const text = await response.text();
    log.info(`POST /v1/chat/completions: ${response.status} ${text.slice(0, 500)}`);
    expect(response.status).toBe(200);
    const body = JSON.parse(text) as { object: string; choices: Array<{ message: { role: string; content: string } }> };
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0]!.message.content).toContain(REPLY);
    expect(model.requests.length).toBeGreaterThan(0);
    expect(h.runtime.cells().map((cell) => cell.tenantId)).toEqual([TENANT]);
  });

  it("the same cell takes a hook with its own hooks token (from its environment), sent with the tenant's token", async () => {
    const token = await h.tenant(TENANT);
    const response = await fetch(`${h.url.replace(/^ws/, 'http')}/hooks/wake`, {
      method: 'POST',
      headers: { 'x-openclaw-token': token, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'New mail', mode: 'next-heartbeat' }),
    });
    const text = await response.text();
    log.info(`POST /hooks/wake: ${response.status} ${text.slice(0, 300)}`);
    expect(response.status).toBe(200);
    expect(JSON.parse(text)).toMatchObject({ ok: true });
  });
});
