import { accessSync, constants } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@openclaw-mt/core';
import { tenantDirName } from '@openclaw-mt/core/contracts';
import { connectGateway, type GatewayConnection } from '@openclaw-mt/gateway';
import { createModelGateway, type ModelGateway } from '@openclaw-mt/model-gateway';
import {
  controlUiDirectory,
  createControlUiRoute,
  deleteTenantUser,
  resolveOpenClawInstall,
  defaultRuntimeDir,
  type OpenClawInstall,
} from '@openclaw-mt/runtime-openclaw';
import { fakeModelOpenClawConfig, startFakeModelServer, type FakeModelServer } from './support/fake-model-server.js';
import { connectRetrying, startOpenClawGateway, type OpenClawHarness } from './support/harness.js';
import { takeRealCellsTurn } from './support/real-cells-turn.js';

// OpenClaw's own Control UI, served by the front door and driven in Debian's Chromium (headless,
// nothing downloaded), with the cell defaults `serve` runs: sandboxed cells reaching the model only
// through the model gateway, no operator.admin, the front door's early hello for cold cells, spare
// connections. People sign in with their gateway token and reach their own cell only. Run it under
// the cells lock (see the package README).

// Where `openclaw-mt runtime install`, `runtime status` and `serve` look too: $OPENCLAW_MT_RUNTIME_DIR, else the default cache.
const CACHE = defaultRuntimeDir();
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/control-ui/', import.meta.url));
const ALICE_MESSAGE = 'Hello from alice through the front door';
const REPLY = 'Hello from the fake model.';

/** The installed runtime, or `undefined` where there is none (the test is skipped then; it never installs one). */
function installedRuntime(): OpenClawInstall | undefined {
  try {
    return resolveOpenClawInstall(CACHE);
  } catch {
    return undefined;
  }
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const install = installedRuntime();
const canRun = install !== undefined && executable(CHROMIUM);

/** Opens the front door in a fresh page of `context` and signs in with `token` in the UI's own secret field. */
async function signIn(context: BrowserContext, url: string, token: string): Promise<Page> {
  const page = await context.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  const secret = await page.waitForSelector('input[type=password]', { timeout: 30_000 });
  await secret!.type(token);
  // The form's Connect button (the page has no submit-typed button).
  const [connect] = await page.$$('xpath/.//button[normalize-space(.)="Connect"]');
  if (connect === undefined) throw new Error('The sign-in form has no Connect button.');
  await connect.click();
  return page;
}

const composer = '>>> textarea[aria-label="Chat composer"]';
/** The composer's model selector once the cell's model catalog has loaded (a loading placeholder until then). */
const modelSelector = '>>> summary[data-chat-model-select="true"][aria-busy="false"]';

describe.skipIf(!canRun)('the Control UI through the front door, in a real browser', { timeout: 240_000 }, () => {
  let model: FakeModelServer;
  let models: ModelGateway;
  let h: OpenClawHarness;
  let browser: Browser;
  const tokens: Record<string, string> = {};
  let bobWarm: Promise<GatewayConnection> | undefined;

  let endTurn: (() => Promise<void>) | undefined;
  // Registered first, so it runs after this file's other afterAll hooks: its cells are gone by then.
  afterAll(() => endTurn?.());
  beforeAll(async () => {
    endTurn = await takeRealCellsTurn();
    await mkdir(ARTIFACTS, { recursive: true });
    model = await startFakeModelServer(REPLY);
    models = createModelGateway({ providers: { fake: { api: 'openai-completions', baseUrl: model.baseUrl, apiKey: 'fake-key' } } });
    const route = await createControlUiRoute({
      directory: controlUiDirectory(install!),
      openclawVersion: install!.openclawVersion,
    });
    h = await startOpenClawGateway({
      runtime: {
        install: install!,
        sandbox: true,
        models: { gateway: models },
        config: fakeModelOpenClawConfig(),
        logger: createLogger({ tag: 'openclaw', level: Number(process.env.TEST_LOG_LEVEL ?? 3) }),
        // Away from other suites' ranges, which may run beside this one.
        ports: { first: 53_000, last: 53_999 },
      },
      manager: { idleTimeoutMs: 600_000, capacity: 2 },
      gateway: { httpRoutes: [route] },
    });
    for (const tenantId of ['ui-alice', 'ui-bob']) tokens[tenantId] = await h.tenant(tenantId);
    // Bob's cell starts beside alice's (cold starts are measured elsewhere); alice's stays cold until she signs in.
    bobWarm = connectRetrying({ url: h.url, token: tokens['ui-bob']!, scopes: ['operator.read'] }, 300_000);
    bobWarm.catch(() => undefined);
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Root in CI: Chromium's own sandbox needs an unprivileged user.
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    });
  }, 1_800_000);

  afterAll(async () => {
    await browser?.close();
    (await bobWarm?.catch(() => undefined))?.close();
    await h?.stop();
    await models?.close();
    await model?.close();
    if (h !== undefined)
      for (const tenantId of Object.keys(tokens))
        await deleteTenantUser(tenantId, join(h.dataDir, 'workspaces', tenantDirName(tenantId))).catch(() => undefined);
  }, 120_000);

  const httpUrl = () => h.url.replace(/^ws:/, 'http:');

  it("signs alice in on a cold cell with her gateway token; her message reaches her cell and the fake model's reply shows", async () => {
    const context = await browser.createBrowserContext();
    try {
      // Nothing runs for alice yet: signing in starts her cell, and the UI waits out its start.
      expect(h.runtime.cells().map((cell) => cell.tenantId)).not.toContain('ui-alice');
      const page = await signIn(context, httpUrl(), tokens['ui-alice']!);
      const input = await page.waitForSelector(composer, { timeout: 120_000 });
      await page.waitForSelector(modelSelector, { timeout: 60_000 });
      await page.screenshot({ path: `${ARTIFACTS}alice-signed-in.png` });
      const before = model.requests.length;
      await input!.type(ALICE_MESSAGE);
      await page.keyboard.press('Enter');
      await page.waitForSelector(`::-p-text(${REPLY})`, { timeout: 90_000 });
      await page.screenshot({ path: `${ARTIFACTS}alice-reply.png` });
      expect(model.requests.length).toBeGreaterThan(before);
      expect(JSON.stringify(model.requests.at(-1)?.messages)).toContain(ALICE_MESSAGE);
      // The token is in no URL the page went to.
      expect(page.url()).not.toContain(tokens['ui-alice']!);
    } finally {
      await context.close();
    }
  });

  it("shows bob, in a fresh browser context, none of alice's sessions", async () => {
    await bobWarm;
    const context = await browser.createBrowserContext();
    try {
      const page = await signIn(context, httpUrl(), tokens['ui-bob']!);
      await page.waitForSelector(composer, { timeout: 120_000 });
      // Loaded from bob's own cell: its model catalog and its (empty) main session.
      await page.waitForSelector(modelSelector, { timeout: 60_000 });
      await page.waitForSelector('::-p-text(Type a message below)', { timeout: 60_000 });
      await page.screenshot({ path: `${ARTIFACTS}bob-signed-in.png` });
      expect(await page.$(`::-p-text(${ALICE_MESSAGE})`)).toBeNull();
      expect(await page.$(`::-p-text(${REPLY})`)).toBeNull();
      // Each cell holds its own sessions: alice's transcript is in hers and nowhere in bob's.
      const [alice, bob] = await Promise.all(
        ['ui-alice', 'ui-bob'].map((tenantId) => connectGateway({ url: h.url, token: tokens[tenantId]!, scopes: ['operator.read'] })),
      );
      try {
        const history = async (connection: typeof alice) =>
          JSON.stringify(await connection!.request('chat.history', { sessionKey: 'agent:main:main', limit: 50 }));
        expect(await history(alice)).toContain(ALICE_MESSAGE);
        expect(await history(bob)).not.toContain(ALICE_MESSAGE);
      } finally {
        alice?.close();
        bob?.close();
      }
    } finally {
      await context.close();
    }
  });

  it('refuses a wrong token with a message a person can read, and starts no cell', async () => {
    const context = await browser.createBrowserContext();
    try {
      const running = h.runtime.cells().length;
      const page = await signIn(context, httpUrl(), `gt_${'x'.repeat(36)}`);
      // OpenClaw's own words for a refused secret (not "gateway unreachable").
      await page.waitForSelector('::-p-text(rejected the supplied Gateway secret)', { timeout: 30_000 });
      // The step a person can take, and none of the commands for a gateway host they do not have.
      await page.waitForSelector('::-p-text(Replace the Gateway secret)', { timeout: 5_000 });
      expect(await page.$('::-p-text(openclaw dashboard)')).toBeNull();
      expect(await page.$('::-p-text(auth-token)')).toBeNull();
      await page.screenshot({ path: `${ARTIFACTS}wrong-token.png` });
      expect(await page.$(composer)).toBeNull();
      expect(h.runtime.cells().length).toBe(running);
    } finally {
      await context.close();
    }
  });
});
