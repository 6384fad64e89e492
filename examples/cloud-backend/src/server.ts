import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudPaths, MAX_CONFIGS_PAGE_LIMIT } from '@openclaw-mt/core/cloud';
import { type TenantConfig, createLogger } from '@openclaw-mt/core';
import { createToken, createTokenHasher, isWellFormedToken, tokenHint } from '@openclaw-mt/core/tokens';
import { tenantConfigProblem } from '@openclaw-mt/core/contracts';
import { BackendDatabase, type TokenRow, type UserState } from './database.js';
import { decodeCursor, encodeCursor } from './feed-cursor.js';
import { HttpError, bearerOf, readObject, sendEmpty, sendError, sendJson } from './http.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { type PushSender, createPushSender } from './push-sender.js';
import { type Sessions, createSessions } from './sessions.js';

/** Options of {@link createCloudBackendServer}. */
export interface CloudBackendServerOptions {
  /** SQLite file path, or `:memory:` (default). */
  database?: string;
  /** HS256 secret for user sessions (JWT); at least 32 characters. */
  jwtSecret: string;
  /** The gateways' service token (sent by them as a bearer token); at least 16 characters. */
  serviceToken: string;
  /** Bearer token of the admin endpoints (suspend, resume, delete); they answer 404 when unset. */
  adminToken?: string;
  /** Session lifetime. Default 1 h. */
  jwtTtlSeconds?: number;
  /** Live gateway tokens per user. Default 20. */
  maxTokensPerUser?: number;
  /** Default grace of a rotated-out token. Default 1 h. */
  rotationGraceSeconds?: number;
  /**
   * Signed pushes to gateways (contract v1.1): every change is POSTed to each target as it commits.
   * `secrets`: the shared secrets (≥ 32 characters; the first signs). `targets`: each gateway node's push URL.
   */
  push?: { secrets: readonly string[]; targets?: readonly string[] };
  /** Clock (tests). */
  now?: () => number;
  /** Request log; `false` for none. Lines carry method, path and status, never a query or credential. */
  logger?: ReturnType<typeof createLogger> | false;
}

/** A running (or ready to run) reference backend. */
export interface CloudBackendServer {
  server: Server;
  /** Starts listening (port 0 = any free port; host defaults to 127.0.0.1) and returns the base URL. */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops accepting, drops open connections and closes the database. Idempotent. */
  close(): Promise<void>;
  /** Present with `push`: where changes are pushed (set each gateway node's push URL). */
  push: PushSender | undefined;
}

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void>;

// Query parameters that would put a credential into URLs (and so into access logs and proxies).
const CREDENTIAL_PARAMS =
  /^(token|access_token|accesstoken|service_token|servicetoken|api_key|apikey|key|auth|authorization|password|jwt)$/i;
const TOKEN_IN_TEXT = /gt_[0-9A-Za-z]{20,}/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,185}\.[^\s@]{1,63}$/;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const TOKEN_ID = /^tok_[0-9A-Za-z_-]{16,32}$/;

/**
 * The reference Cloud Backend: users (signup, login with a JWT session), gateway tokens (issue once,
 * stored as SHA-256, list, rotate, revoke), user configs (`/me/config`), admin suspension and
 * deletion, the two gateway-facing endpoints of wire contract v1.1 (`verify`, `configs` with token events),
 * and signed pushes of every change to the gateways (`push`).
 */
export function createCloudBackendServer(options: CloudBackendServerOptions): CloudBackendServer {
  if (typeof options.jwtSecret !== 'string' || options.jwtSecret.length < 32)
    throw new TypeError('jwtSecret: expected at least 32 characters.');
  if (typeof options.serviceToken !== 'string' || options.serviceToken.length < 16)
    throw new TypeError('serviceToken: expected at least 16 characters.');
  if (options.adminToken !== undefined && options.adminToken.length < 16)
    throw new TypeError('adminToken: expected at least 16 characters.');
  const now = options.now ?? Date.now;
  const db = new BackendDatabase(options.database ?? ':memory:');
  const sessions: Sessions = createSessions(options.jwtSecret, options.jwtTtlSeconds ?? 3600, now);
  const hasher = createTokenHasher();
  const maxTokens = options.maxTokensPerUser ?? 20;
  const rotationGraceMs = (options.rotationGraceSeconds ?? 3600) * 1000;
  if (options.push !== undefined && (options.push.secrets.length === 0 || options.push.secrets.some((secret) => secret.length < 32)))
    throw new TypeError('push.secrets: expected at least one secret of at least 32 characters.');
  const secrets = [
    options.jwtSecret,
    options.serviceToken,
    ...(options.adminToken ? [options.adminToken] : []),
    ...(options.push?.secrets ?? []),
  ];
  const log = options.logger === false ? undefined : (options.logger ?? createLogger({ tag: 'cloud-backend', secrets }));
  const push =
    options.push === undefined
      ? undefined
      : createPushSender({ secrets: options.push.secrets, targets: options.push.targets ?? [], now, log });
  // Changes up to here were announced; every write request announces what it committed after it.
  let announced = db.head();
  const announce = () => {
    if (push === undefined) return;
    const change = db.changesSince(announced);
    announced = change.seq;
    push.announce(change);
  };
  const serviceDigest = digest(options.serviceToken);
  const adminDigest = options.adminToken === undefined ? undefined : digest(options.adminToken);

  // --- authentication of the three kinds of callers ---------------------------------------------

  const requireService = (req: IncomingMessage) => {
    const bearer = bearerOf(req);
    if (bearer === undefined || !timingSafeEqual(digest(bearer), serviceDigest)) {
      throw new HttpError(401, 'SERVICE_UNAUTHORIZED', 'A valid service token is required.', {
        'www-authenticate': 'Bearer realm="gateway"',
      });
    }
  };

  const requireAdmin = (req: IncomingMessage) => {
    const bearer = bearerOf(req);
    if (adminDigest === undefined) throw new HttpError(404, 'NOT_FOUND', 'No such endpoint.');
    if (bearer === undefined || !timingSafeEqual(digest(bearer), adminDigest))
      throw new HttpError(401, 'UNAUTHORIZED', 'A valid admin token is required.');
  };

  const requireUser = async (req: IncomingMessage): Promise<UserState> => {
    const bearer = bearerOf(req);
    if (bearer === undefined) throw new HttpError(401, 'UNAUTHORIZED', 'Log in and send the session token as a bearer token.');
    const user = db.user(await sessions.verify(bearer));
    if (user === undefined || user.status === 'deleted') throw new HttpError(401, 'UNAUTHORIZED', 'This account no longer exists.');
    return user;
  };

  // --- handlers --------------------------------------------------------------------------------------

  const signup: Handler = async (req, res) => {
    const body = await readObject(req);
    const email = normaliseEmail(body.email);
    const password = checkPassword(body.password);
    const user = db.createUser(randomUUID(), email, await hashPassword(password), now());
    if (user === undefined) throw new HttpError(409, 'CONFLICT', 'An account with this email exists; log in instead.');
    sendJson(res, 201, { userId: user.userId });
  };

  const login: Handler = async (req, res) => {
    const body = await readObject(req);
    const email = typeof body.email === 'string' ? body.email.trim().toLowerCase() : '';
    const password = typeof body.password === 'string' ? body.password : '';
    const found = db.credentials(email);
    const ok = await verifyPassword(password.slice(0, 1024), found?.passwordHash);
    if (!ok || found === undefined || found.status === 'deleted') throw new HttpError(401, 'UNAUTHORIZED', 'Wrong email or password.');
    const session = await sessions.issue(found.userId);
    sendJson(res, 200, { accessToken: session.accessToken, tokenType: 'Bearer', expiresIn: session.expiresIn, userId: found.userId });
  };

  const me: Handler = async (req, res) => {
    const user = await requireUser(req);
    sendJson(res, 200, { userId: user.userId, status: user.status, version: user.version });
  };

  const issueToken: Handler = async (req, res) => {
    const user = await requireUser(req);
    requireActive(user);
    const body = await readObject(req);
    onlyKeys(body, ['label', 'ttlSeconds']);
    const label = optionalLabel(body.label);
    const ttlSeconds = optionalPositiveInt(body.ttlSeconds, 'ttlSeconds');
    if (db.countLiveTokens(user.userId, now()) >= maxTokens) {
      throw new HttpError(409, 'CONFLICT', `At most ${maxTokens} live gateway tokens per user; revoke one first.`);
    }
    const { token, row } = newToken(user.userId, label, ttlSeconds);
    db.insertToken(row);
    log?.info(`issued gateway token ${tokenHint(token)} (${row.id}) for ${user.userId}`);
    sendJson(res, 201, issued(token, row));
  };

  const listTokens: Handler = async (req, res) => {
    const user = await requireUser(req);
    const t = now();
    sendJson(res, 200, {
      tokens: db.tokensOf(user.userId).map((row) => ({
        tokenId: row.id,
        label: row.label,
        createdAt: row.createdAt,
        expiresAt: row.expiresAt,
        status: row.revokedAt !== null ? 'revoked' : row.expiresAt !== null && row.expiresAt <= t ? 'expired' : 'active',
        ...(row.rotatedTo ? { rotatedTo: row.rotatedTo } : {}),
      })),
    });
  };

  const ownToken = async (req: IncomingMessage, id: string | undefined): Promise<{ user: UserState; row: TokenRow }> => {
    const user = await requireUser(req);
    const row = id !== undefined && TOKEN_ID.test(id) ? db.tokenById(id) : undefined;
    if (row === undefined || row.userId !== user.userId) throw new HttpError(404, 'NOT_FOUND', 'No such token.');
    return { user, row };
  };

  const rotateToken: Handler = async (req, res, [id]) => {
    const { user, row } = await ownToken(req, id);
    requireActive(user);
    const body = await readObject(req);
    onlyKeys(body, ['graceSeconds', 'ttlSeconds']);
    const t = now();
    if (row.revokedAt !== null || (row.expiresAt !== null && row.expiresAt <= t))
      throw new HttpError(409, 'CONFLICT', 'A revoked or expired token cannot be rotated.');
    const graceSeconds = body.graceSeconds === 0 ? 0 : optionalPositiveInt(body.graceSeconds, 'graceSeconds');
    const ttlSeconds = optionalPositiveInt(body.ttlSeconds, 'ttlSeconds');
    const { token, row: successor } = newToken(user.userId, row.label, ttlSeconds);
    db.rotateToken(row.id, successor, t + (graceSeconds === undefined ? rotationGraceMs : graceSeconds * 1000), t);
    log?.info(`rotated gateway token ${row.id} → ${successor.id} for ${user.userId}`);
    sendJson(res, 201, issued(token, successor));
  };

  const revokeToken: Handler = async (req, res, [id]) => {
    const { row } = await ownToken(req, id);
    db.revokeToken(row.id, now());
    sendEmpty(res, 204);
  };

  const readConfig: Handler = async (req, res) => {
    const user = await requireUser(req);
    sendJson(res, 200, user, { etag: `"${user.version}"` });
  };

  const patchConfig: Handler = async (req, res) => {
    const user = await requireUser(req);
    const body = await readObject(req);
    for (const key of Object.keys(body)) {
      if (key !== 'config')
        throw new HttpError(400, 'BAD_REQUEST', `Field "${key}" cannot be changed here; send { "config": { … } } (a JSON merge patch).`);
    }
    if (typeof body.config !== 'object' || body.config === null || Array.isArray(body.config)) {
      throw new HttpError(400, 'BAD_REQUEST', 'Field "config" must be a JSON object (a JSON merge patch of your config).');
    }
    const patch = body.config as Record<string, unknown>;
    const ifMatch = ifMatchVersion(req);
    const merged = mergePatch(user.config, patch);
    const problem = tenantConfigProblem(merged);
    if (problem !== undefined) throw new HttpError(400, 'CONFIG_INVALID', `The patched config is invalid: ${problem}.`);
    const updated = db.updateUser(
      user.userId,
      () => ({ config: merged as TenantConfig }),
      now(),
      ifMatch === undefined ? {} : { ifVersion: ifMatch },
    );
    if (updated === 'conflict') throw new HttpError(412, 'CONFLICT', 'The config changed since you read it; read it again and retry.');
    if (updated === undefined) throw new HttpError(401, 'UNAUTHORIZED', 'This account no longer exists.');
    sendJson(res, 200, updated, { etag: `"${updated.version}"` });
  };

  const setStatus =
    (status: 'active' | 'suspended' | 'deleted'): Handler =>
    async (req, res, [userId]) => {
      requireAdmin(req);
      const current = userId === undefined ? undefined : db.user(userId);
      if (current === undefined || (current.status === 'deleted' && status !== 'deleted'))
        throw new HttpError(404, 'NOT_FOUND', 'No such user.');
      if (current.status === status) return sendJson(res, 200, current);
      const updated = db.updateUser(current.userId, () => (status === 'deleted' ? { status, config: {} } : { status }), now());
      log?.info(`user ${current.userId} is now ${status}`);
      sendJson(res, 200, updated);
    };

  const adminUser: Handler = async (req, res, [userId]) => {
    requireAdmin(req);
    const user = userId === undefined ? undefined : db.user(userId);
    if (user === undefined) throw new HttpError(404, 'NOT_FOUND', 'No such user.');
    sendJson(res, 200, user);
  };

  const verify: Handler = async (req, res) => {
    requireService(req);
    const body = await readObject(req);
    if (typeof body.token !== 'string') throw new HttpError(400, 'BAD_REQUEST', 'Send { "token": "gt_…" } in the body.');
    const invalid = () => sendError(res, new HttpError(404, 'TOKEN_INVALID', 'Unknown, revoked or malformed token.'));
    if (!isWellFormedToken(body.token)) return invalid();
    const row = db.tokenByHash(hasher.hash(body.token));
    const user = row && db.user(row.userId);
    if (row === undefined || user === undefined || row.revokedAt !== null || user.status === 'deleted') return invalid();
    const expired = row.expiresAt !== null && row.expiresAt <= now();
    sendJson(res, 200, {
      userId: user.userId,
      status: expired ? 'expired' : user.status,
      ...(row.expiresAt === null ? {} : { expiresAt: row.expiresAt }),
      configVersion: user.version,
    });
  };

  const configs: Handler = async (req, res, _params, url) => {
    requireService(req);
    const cursorParam = url.searchParams.get('cursor');
    const head = db.head();
    let after = 0;
    if (cursorParam !== null && cursorParam !== '') {
      const decoded = decodeCursor(cursorParam);
      if (decoded === undefined || decoded > head)
        throw new HttpError(400, 'CURSOR_INVALID', 'Unknown cursor; restart the feed without one.');
      after = decoded;
    }
    const limitParam = url.searchParams.get('limit');
    let limit = 100;
    if (limitParam !== null) {
      if (!/^\d{1,5}$/.test(limitParam) || Number(limitParam) < 1)
        throw new HttpError(400, 'BAD_REQUEST', `limit: expected an integer from 1 to ${MAX_CONFIGS_PAGE_LIMIT}.`);
      limit = Math.min(Number(limitParam), MAX_CONFIGS_PAGE_LIMIT);
    }
    // Any change anywhere moves the head, so this tag changes whenever this page could.
    const etag = `"${createHash('sha256').update(`${after}:${limit}:${head}`).digest('base64url').slice(0, 27)}"`;
    if (etagMatches(req.headers['if-none-match'], etag)) return sendEmpty(res, 304, { etag });
    const page = db.changesAfter(after, limit);
    sendJson(
      res,
      200,
      {
        users: page.users,
        ...(page.tokens.length > 0 ? { tokens: page.tokens } : {}),
        nextCursor: encodeCursor(page.lastSeq),
        hasMore: page.hasMore,
      },
      { etag },
    );
  };

  // --- routing ---------------------------------------------------------------------------------------

  const routes: Array<[string, RegExp, Handler]> = [
    ['GET', /^\/healthz$/, async (_req, res) => sendJson(res, 200, { ok: true })],
    ['POST', /^\/signup$/, signup],
    ['POST', /^\/login$/, login],
    ['GET', /^\/me$/, me],
    ['GET', /^\/me\/config$/, readConfig],
    ['PATCH', /^\/me\/config$/, patchConfig],
    ['POST', new RegExp(`^${CloudPaths.issueToken}$`), issueToken],
    ['GET', /^\/openclaw\/gateway\/tokens$/, listTokens],
    ['POST', /^\/openclaw\/gateway\/tokens\/([^/]+)\/rotate$/, rotateToken],
    ['DELETE', /^\/openclaw\/gateway\/tokens\/([^/]+)$/, revokeToken],
    ['POST', new RegExp(`^${CloudPaths.verify}$`), verify],
    ['GET', new RegExp(`^${CloudPaths.configs}$`), configs],
    ['GET', /^\/admin\/users\/([^/]+)$/, adminUser],
    ['POST', /^\/admin\/users\/([^/]+)\/suspend$/, setStatus('suspended')],
    ['POST', /^\/admin\/users\/([^/]+)\/resume$/, setStatus('active')],
    ['DELETE', /^\/admin\/users\/([^/]+)$/, setStatus('deleted')],
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<number> => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://backend.invalid');
    } catch {
      sendError(res, new HttpError(400, 'BAD_REQUEST', 'Malformed request target.'));
      return 400;
    }
    try {
      // Checked before anything else, so such a request is refused whatever else it carries.
      if ([...url.searchParams.keys()].some((key) => CREDENTIAL_PARAMS.test(key)) || TOKEN_IN_TEXT.test(decodeSafely(url.search))) {
        throw new HttpError(
          400,
          'TOKEN_IN_URL',
          'Credentials never go in a URL: send tokens in the Authorization header or the JSON body.',
        );
      }
      const match = findRoute(routes, req.method ?? 'GET', url.pathname);
      if (match === 'method') throw new HttpError(405, 'BAD_REQUEST', 'Method not allowed.');
      if (match === undefined) throw new HttpError(404, 'NOT_FOUND', 'No such endpoint.');
      await match.handler(req, res, match.params, url);
      if (req.method !== 'GET') announce();
      return res.statusCode;
    } catch (error) {
      const failure = error instanceof HttpError ? error : new HttpError(500, 'INTERNAL', 'Internal error.');
      if (!(error instanceof HttpError)) log?.error(`${req.method} ${url.pathname} failed:`, error);
      if (!res.headersSent) sendError(res, failure);
      else res.destroy();
      return failure.status;
    }
  };

  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    const started = performance.now();
    void handle(req, res).then((status) => {
      // Path only: query strings (cursors, and whatever a client wrongly put there) are never logged.
      const path = (req.url ?? '/').split('?')[0];
      log?.debug(`${req.method} ${path} ${status} ${(performance.now() - started).toFixed(1)}ms`);
    });
  });

  let closed: Promise<void> | undefined;
  return {
    server,
    push,
    listen(port = 0, host = '127.0.0.1') {
      return new Promise<string>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve(`http://${shown}:${address.port}`);
        });
      });
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        if (!server.listening) resolve();
      })
        .then(() => push?.idle())
        .finally(() => db.close());
      return closed;
    },
  };

  function newToken(userId: string, label: string | null, ttlSeconds: number | undefined): { token: string; row: TokenRow } {
    const token = createToken();
    const createdAt = now();
    return {
      token,
      row: {
        id: `tok_${randomBytes(12).toString('base64url')}`,
        tokenHash: hasher.hash(token),
        userId,
        label,
        createdAt,
        expiresAt: ttlSeconds === undefined ? null : createdAt + ttlSeconds * 1000,
        revokedAt: null,
        rotatedTo: null,
      },
    };
  }
}

function issued(token: string, row: TokenRow) {
  return { token, tokenId: row.id, userId: row.userId, createdAt: row.createdAt, expiresAt: row.expiresAt, label: row.label };
}

function findRoute(
  routes: Array<[string, RegExp, Handler]>,
  method: string,
  path: string,
): { handler: Handler; params: string[] } | 'method' | undefined {
  let pathMatched = false;
  for (const [routeMethod, pattern, handler] of routes) {
    const match = pattern.exec(path);
    if (match === null) continue;
    pathMatched = true;
    if (routeMethod === method) return { handler, params: match.slice(1).map(decodeSafely) };
  }
  return pathMatched ? 'method' : undefined;
}

function requireActive(user: UserState): void {
  if (user.status !== 'active') throw new HttpError(403, 'FORBIDDEN', 'This account is suspended; gateway tokens cannot be issued.');
}

function normaliseEmail(value: unknown): string {
  const email = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (email.length > 254 || !EMAIL.test(email)) throw new HttpError(400, 'BAD_REQUEST', 'email: expected an email address.');
  return email;
}

function checkPassword(value: unknown): string {
  if (typeof value !== 'string' || value.length < 10 || value.length > 1024)
    throw new HttpError(400, 'BAD_REQUEST', 'password: expected 10 to 1024 characters.');
  return value;
}

function optionalLabel(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > 100 || TOKEN_IN_TEXT.test(value)) {
    throw new HttpError(400, 'BAD_REQUEST', 'label: expected 1 to 100 characters (and never a token).');
  }
  return value;
}

function optionalPositiveInt(value: unknown, key: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw new HttpError(400, 'BAD_REQUEST', `${key}: expected a positive integer.`);
  return value;
}

function onlyKeys(body: Record<string, unknown>, allowed: string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw new HttpError(400, 'BAD_REQUEST', `Unknown field "${key}"; expected ${allowed.join(', ')}.`);
  }
}

function ifMatchVersion(req: IncomingMessage): number | undefined {
  const header = req.headers['if-match'];
  if (header === undefined) return undefined;
  const match = /^"(\d{1,15})"$/.exec(String(header).trim());
  if (match === null) throw new HttpError(400, 'BAD_REQUEST', 'If-Match: expected the ETag of GET /me/config, e.g. "3".');
  return Number(match[1]);
}

/** RFC 7396 JSON merge patch: `null` removes a key, objects merge, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (FORBIDDEN_KEYS.has(key)) throw new HttpError(400, 'CONFIG_INVALID', `config: the key "${key}" is not allowed.`);
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

function etagMatches(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const strip = (tag: string) => tag.trim().replace(/^W\//, '');
  return String(header)
    .split(',')
    .some((candidate) => candidate.trim() === '*' || strip(candidate) === etag);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function decodeSafely(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
