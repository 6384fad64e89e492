import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { isMultiTenantError, MultiTenantError } from '@openclaw-mt/core';
import type { HttpRoute, HttpRouteContext } from '@openclaw-mt/gateway';
import type { OpenClawInstall } from '../install/runtime-install.js';
import { loadControlUiAssets, type ControlUiAsset, type ControlUiAssets } from './control-ui-assets.js';
import { prepareControlUiPage, type ControlUiPage } from './control-ui-page.js';
import { removeHostCommandSteps } from './host-command-steps.js';

/** Options of {@link createControlUiRoute}. */
export interface ControlUiRouteOptions {
  /** The bundle's directory: {@link controlUiDirectory} of the install the cells run. */
  directory: string;
  /** The OpenClaw version the cells run, reported to the page. */
  openclawVersion: string;
}

/** Where an install keeps the Control UI bundle. */
export function controlUiDirectory(install: OpenClawInstall): string {
  return join(dirname(install.entryPath), 'dist', 'control-ui');
}

// Where the UI fetches its runtime settings (the current path, and aliases older bundles ask for).
const BOOT_CONFIG_PATHS = new Set([
  '/control-ui-config.json',
  '/__openclaw/control-ui-config.json',
  '/__openclaw__/control-ui-config.json',
]);
// Paths that belong to the front door itself, never to the UI.
const FRONT_DOOR_PATHS = new Set(['/healthz']);
/** A cell's own HTTP surfaces (icons, media, widgets): not a UI route, so never the page. */
const CELL_SURFACE_PREFIX = '/__openclaw__/';
/** OpenClaw's HTTP APIs (served, when enabled, before this route): never a page of the UI either. */
function isApiPath(pathname: string): boolean {
  return pathname.startsWith('/v1/') || pathname === '/hooks' || pathname.startsWith('/hooks/');
}

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

function sendJson(response: ServerResponse, status: number, body: unknown, head: boolean, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
  });
  response.end(head ? undefined : text);
}

function bearerOf(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

function acceptsEncoding(request: IncomingMessage, encoding: string): boolean {
  const header = request.headers['accept-encoding'];
  if (typeof header !== 'string') return false;
  return header.split(',').some((part) => {
    const [name, ...params] = part.trim().split(';');
    if (name?.trim().toLowerCase() !== encoding) return false;
    return !params.some((param) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(param));
  });
}

/** The asset a URL path names: an exact file, or a bundle asset under a deep link (`/chat/main/assets/x.js`). */
function assetFor(assets: ControlUiAssets, pathname: string): ControlUiAsset | undefined {
  const exact = assets.files.get(pathname);
  if (exact !== undefined) return exact;
  const at = pathname.lastIndexOf('/assets/');
  return at > 0 ? assets.files.get(pathname.slice(at)) : undefined;
}

function assetHeaders(pathname: string, asset: ControlUiAsset, size: number, encoding: string | undefined): Record<string, string> {
  return {
    ...SECURITY_HEADERS,
    'content-type': asset.contentType,
    'content-length': String(size),
    // Bundle assets carry a content hash in their names; everything else may change with an upgrade.
    'cache-control': pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    vary: 'accept-encoding',
    ...(encoding === undefined ? {} : { 'content-encoding': encoding }),
  };
}

async function sendAsset(request: IncomingMessage, response: ServerResponse, pathname: string, asset: ControlUiAsset): Promise<void> {
  const head = request.method === 'HEAD';
  if (asset.content !== undefined) {
    const gzip = acceptsEncoding(request, 'gzip');
    const body = gzip ? asset.content.gzip : asset.content.body;
    response.writeHead(200, assetHeaders(pathname, asset, body.byteLength, gzip ? 'gzip' : undefined));
    response.end(head ? undefined : body);
    return;
  }
  const encoding = (['br', 'gzip'] as const).find((name) => asset.encoded[name] !== undefined && acceptsEncoding(request, name));
  const file = encoding === undefined ? asset : asset.encoded[encoding]!;
  response.writeHead(200, assetHeaders(pathname, asset, file.size, encoding));
  if (head) {
    response.end();
    return;
  }
  await pipeline(createReadStream(file.path), response);
}

function sendPage(request: IncomingMessage, response: ServerResponse, page: ControlUiPage): void {
  response.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(page.html.byteLength),
    'content-security-policy': page.contentSecurityPolicy,
    'cache-control': 'no-cache',
  });
  response.end(request.method === 'HEAD' ? undefined : page.html);
}

/** The runtime settings the UI asks for once signed in: what a hosted tenant's page may do. */
function bootConfig(openclawVersion: string): Record<string, unknown> {
  return {
    basePath: '',
    assistantName: 'Assistant',
    assistantAvatar: null,
    serverVersion: openclawVersion,
    embedSandbox: 'scripts',
    allowExternalEmbedUrls: false,
    automaticallyFetchFavicons: false,
    communityInvite: false,
    terminalEnabled: false,
    cliAgentsEnabled: false,
    pluginAssetsRequireAuth: true,
    pluginFrameGrants: [],
  };
}

async function sendBootConfig(
  request: IncomingMessage,
  response: ServerResponse,
  options: ControlUiRouteOptions,
  context: HttpRouteContext,
): Promise<void> {
  const head = request.method === 'HEAD';
  try {
    // Counted like a WebSocket login: this endpoint is no way around the brute-force limiter.
    await context.authenticate(bearerOf(request));
  } catch (error) {
    if (isMultiTenantError(error, 'RATE_LIMITED')) {
      sendJson(response, 429, { error: { code: error.code, message: error.message, retryAfterMs: error.retryAfterMs } }, head, {
        'retry-after': String(Math.max(1, Math.ceil((error.retryAfterMs ?? 1_000) / 1_000))),
      });
      return;
    }
    const code = error instanceof MultiTenantError ? error.code : 'TOKEN_UNKNOWN';
    sendJson(response, 401, { error: { code, message: 'Sign in with your gateway token.' } }, head);
    return;
  }
  sendJson(response, 200, bootConfig(options.openclawVersion), head);
}

/**
 * OpenClaw's Control UI on the front door's port, from the one read-only copy in the installed
 * runtime: the page and its assets for `GET`/`HEAD` (deep links such as `/chat/main` get the page),
 * and the UI's runtime settings for a page that sends a valid gateway token. People sign in with
 * their gateway token in the UI's own "Gateway secret" field; the UI then opens its WebSocket to
 * this same origin, where the front door checks the token and bridges it to that tenant's own cell.
 * Other methods and `/healthz` are left to the gateway. Mount it last in
 * `createGateway({ httpRoutes })`. Throws `CONFIG_INVALID` when the bundle is missing.
 */
export async function createControlUiRoute(options: ControlUiRouteOptions): Promise<HttpRoute> {
  const assets = await loadControlUiAssets(options.directory);
  await removeHostCommandSteps(assets);
  const page = prepareControlUiPage(await readFile(assets.files.get('/index.html')!.path, 'utf8'));
  return (request, response, context) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const pathname = (request.url ?? '/').split('?')[0]!;
    if (FRONT_DOOR_PATHS.has(pathname)) return false;
    if (BOOT_CONFIG_PATHS.has(pathname)) {
      void sendBootConfig(request, response, options, context).catch(() => response.destroy());
      return true;
    }
    if (pathname === '/' || pathname === '/index.html') {
      sendPage(request, response, page);
      return true;
    }
    const asset = assetFor(assets, pathname);
    if (asset !== undefined) {
      void sendAsset(request, response, pathname, asset).catch(() => response.destroy());
      return true;
    }
    // A missing file, cell surface or API is not found (the UI falls back); any other path is one of the UI's own routes (`/chat/main/…`).
    if (extname(pathname) !== '' || pathname.startsWith(CELL_SURFACE_PREFIX) || isApiPath(pathname)) {
      sendJson(response, 404, { error: { code: 'NOT_FOUND', message: 'No such file.' } }, request.method === 'HEAD');
      return true;
    }
    sendPage(request, response, page);
    return true;
  };
}
