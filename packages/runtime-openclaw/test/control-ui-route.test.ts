import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MultiTenantError, type AuthResult } from '@openclaw-mt/core';
import { createControlUiRoute } from '@openclaw-mt/runtime-openclaw';

// A small bundle laid out like OpenClaw's, served by the route on a real loopback HTTP server.
const INDEX =
  '<!doctype html><html lang="en"><head><script>window.boot=1</script><script type="module" src="./assets/app-1a2b.js"></script></head><body></body></html>';
const APP = 'console.log("app");';
/** The sign-in chunk: its failure steps name commands for the gateway's host, which a hosted person does not have. */
const LOGIN =
  'export const f=l=>({stepKeys:[{key:`login.failure.authFailed.stepDashboard`,commands:[`openclaw dashboard --no-open`]},`login.failure.authFailed.stepReplace`]});';
const SECRET = 'outside the bundle';

describe('Control UI route', () => {
  let dir: string;
  let server: Server;
  let base: string;

  const rawGet = (path: string) =>
    new Promise<string>((resolve, reject) => {
      const request = httpRequest(`${base}/`, { path }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve(body));
      });
      request.on('error', reject);
      request.end();
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ocmt-control-ui-'));
    const bundle = join(dir, 'control-ui');
    await mkdir(join(bundle, 'assets'), { recursive: true });
    await writeFile(join(bundle, 'index.html'), INDEX);
    await writeFile(join(bundle, 'assets', 'app-1a2b.js'), APP);
    await writeFile(join(bundle, 'assets', 'app-1a2b.js.gz'), gzipSync(APP));
    await writeFile(join(bundle, 'assets', 'login-runtime-3c4d.js'), LOGIN);
    // The bundle's pre-compressed copies of the original, which must not be served in its place.
    await writeFile(join(bundle, 'assets', 'login-runtime-3c4d.js.gz'), gzipSync(LOGIN));
    await writeFile(join(bundle, 'assets', 'login-runtime-3c4d.js.br'), brotliCompressSync(LOGIN));
    await writeFile(join(bundle, 'favicon.svg'), '<svg/>');
    await writeFile(join(dir, 'secret.txt'), SECRET);
    await symlink(join(dir, 'secret.txt'), join(bundle, 'assets', 'linked.txt'));
    const route = await createControlUiRoute({ directory: bundle, openclawVersion: '2026.9.6' });
    // The gateway's counted token check, as the route sees it.
    const context = {
      async authenticate(token: string | undefined): Promise<AuthResult> {
        if (token === 'gt_valid') return { tenantId: 'alice', tokenHash: 'h' };
        if (token === 'gt_locked_out') throw new MultiTenantError('RATE_LIMITED', 'Too many failed logins.', { retryAfterMs: 4_000 });
        throw new MultiTenantError('TOKEN_UNKNOWN', 'unknown token');
      },
    };
    server = createServer((request, response) => {
      if (!route(request, response, context)) {
        response.writeHead(426);
        response.end('gateway');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the page at the root and at deep links, with a policy that allows exactly its inline script', async () => {
    for (const path of ['/', '/chat/main', '/chat/main/deploy-monitor-6db92d48']) {
      const response = await fetch(base + path);
      expect(response.status).toBe(200);
      const html = await response.text();
      expect(html).toContain('data-openclaw-control-ui-base-path=""');
      expect(html).toContain('src="/assets/app-1a2b.js"');
      const policy = response.headers.get('content-security-policy')!;
      expect(policy).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
      expect(policy).toContain("frame-ancestors 'none'");
      expect(policy).toContain("connect-src 'self' ws: wss: data:");
      expect(response.headers.get('x-frame-options')).toBe('DENY');
    }
  });

  it('serves assets, pre-compressed when the browser accepts it, also under deep links', async () => {
    const plain = await fetch(`${base}/assets/app-1a2b.js`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(await plain.text()).toBe(APP);
    const gzipped = await fetch(`${base}/chat/main/assets/app-1a2b.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(gzipped.headers.get('content-encoding')).toBe('gzip');
    expect(gzipped.headers.get('cache-control')).toContain('no-cache');
    expect(await gzipped.text()).toBe(APP);
    expect((await fetch(`${base}/favicon.svg`)).headers.get('content-type')).toBe('image/svg+xml');
  });

  it('serves the sign-in chunk without the steps that name host commands, never the original, gzipped or not', async () => {
    const expected = 'export const f=l=>({stepKeys:[`login.failure.authFailed.stepReplace`]});';
    const plain = await fetch(`${base}/assets/login-runtime-3c4d.js`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(plain.headers.get('content-length')).toBe(String(Buffer.byteLength(expected)));
    expect(await plain.text()).toBe(expected);
    // A browser that takes brotli gets gzip: the bundle's brotli copy is the original's.
    const compressed = await fetch(`${base}/chat/main/assets/login-runtime-3c4d.js`, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(compressed.headers.get('content-encoding')).toBe('gzip');
    expect(await compressed.text()).toBe(expected);
    const head = await fetch(`${base}/assets/login-runtime-3c4d.js`, { method: 'HEAD', headers: { 'accept-encoding': 'gzip' } });
    expect(Number(head.headers.get('content-length'))).toBe(gzipSync(expected).byteLength);
    // Other scripts are served as installed.
    expect(await (await fetch(`${base}/assets/app-1a2b.js`)).text()).toBe(APP);
  });

  it('leaves other methods and /healthz to the gateway, and answers 404 for a missing file', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(426);
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(426);
    expect((await fetch(`${base}/assets/missing.js`)).status).toBe(404);
    // A cell's own surfaces are not pages of the UI: an icon request gets no HTML.
    const icon = await fetch(`${base}/__openclaw__/workspace-icon/agent%3Amain%3Amain`);
    expect(icon.status).toBe(404);
    expect(icon.headers.get('content-type')).toContain('application/json');
    // Nor are OpenClaw's HTTP APIs when they are not enabled: a client gets a 404, not the page.
    for (const path of ['/v1/models', '/v1/chat/completions', '/hooks', '/hooks/wake']) {
      const api = await fetch(`${base}${path}`);
      expect(api.status).toBe(404);
      expect(api.headers.get('content-type')).toContain('application/json');
    }
  });

  it('gives the runtime settings only to a page that sends a valid gateway token', async () => {
    const anonymous = await fetch(`${base}/control-ui-config.json`);
    expect(anonymous.status).toBe(401);
    const wrong = await fetch(`${base}/control-ui-config.json`, { headers: { authorization: 'Bearer gt_wrong' } });
    expect(wrong.status).toBe(401);
    const lockedOut = await fetch(`${base}/control-ui-config.json`, { headers: { authorization: 'Bearer gt_locked_out' } });
    expect(lockedOut.status).toBe(429);
    expect(lockedOut.headers.get('retry-after')).toBe('4');
    expect(await lockedOut.json()).toMatchObject({ error: { code: 'RATE_LIMITED', retryAfterMs: 4_000 } });
    expect(await wrong.json()).toMatchObject({ error: { code: 'TOKEN_UNKNOWN' } });
    const signedIn = await fetch(`${base}/__openclaw__/control-ui-config.json`, { headers: { authorization: 'Bearer gt_valid' } });
    expect(signedIn.status).toBe(200);
    expect(await signedIn.json()).toMatchObject({ basePath: '', serverVersion: '2026.9.6', terminalEnabled: false });
  });

  it('never serves a file outside the bundle, whatever the path', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('..', '.', '%2e%2e', '%2f', 'assets', 'secret.txt', 'linked.txt', '', '~', '%00', '\\', 'control-ui'), {
          minLength: 1,
          maxLength: 6,
        }),
        async (segments) => {
          // Sent as written: fetch() would resolve the dot segments before they reach the server.
          const text = await rawGet(`/${segments.join('/')}`);
          expect(text).not.toContain(SECRET);
        },
      ),
      { numRuns: 200 },
    );
    // A symlink inside the bundle is not followed either.
    expect((await fetch(`${base}/assets/linked.txt`)).status).toBe(404);
  });
});
