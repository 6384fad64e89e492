import { randomBytes, randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stub of the original fork's Cloud Backend (FastAPI "fba"), answering as that backend does:
 * - routes under `/api/v1/openclaw/gateway/`; every answer in a `{ code, msg, data, trace_id }` envelope;
 * - `POST token` (a user's JWT) issues `gw_` + url-safe base64 tokens, stored in plaintext;
 * - `GET|POST verify-token?token=…` needs no service auth; a missing or non-active token is 401;
 * - `GET configs?cursor=&limit=1..500` wants the service token as bearer, but the JWT middleware in front of
 *   every route refuses a bearer that is not a JWT unless the path is allow-listed; only active users are
 *   listed, snake_case, ordered by row id; `next_cursor` is the last row id; a non-integer cursor is a 500;
 * - `PATCH config` (a user's JWT) changes the user's own config or status.
 */
export interface FbaUser {
  id: number;
  userId: string;
  status: 'active' | 'suspended' | 'disabled';
  config: Record<string, unknown>;
  llmApiKey: string | null;
  llmApiBaseUrl: string | null;
  /** Epoch microseconds, printed as the fork prints datetimes (ISO 8601, microseconds, no zone). */
  updatedAt: number;
}

/** What the test controls. */
export interface FbaBackendStub {
  url: string;
  serviceToken: string;
  /** Paths the JWT middleware lets through without a JWT (the fork's `TOKEN_REQUEST_PATH_EXCLUDE`). */
  allowList: Set<string>;
  users: Map<string, FbaUser>;
  requests: Array<{ method: string; url: string; headers: IncomingMessage['headers'] }>;
  /** `down`: every request answers 503. */
  fault: 'down' | undefined;
  addUser(userId: string, fields?: Partial<Pick<FbaUser, 'config' | 'llmApiKey' | 'llmApiBaseUrl' | 'status'>>): FbaUser;
  setUser(userId: string, change: Partial<Pick<FbaUser, 'config' | 'status' | 'llmApiKey' | 'llmApiBaseUrl'>>): FbaUser;
  /** Issues a `gw_` token for a user (as `POST token` does) and returns it. */
  issueToken(userId: string): string;
  /** A user session JWT (shape only: the stub's middleware checks the shape, not a signature). */
  sessionFor(userId: string): string;
  close(): Promise<void>;
}

export const FBA_CONFIGS_PATH = '/api/v1/openclaw/gateway/configs';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export async function startFbaBackendStub(options: { serviceToken?: string; allowConfigs?: boolean } = {}): Promise<FbaBackendStub> {
  const serviceToken = options.serviceToken ?? `svc-${randomBytes(16).toString('hex')}`;
  const users = new Map<string, FbaUser>();
  const tokens = new Map<string, string>();
  let nextId = 1;
  // Each change moves updated_at forward, in microseconds.
  let clock = Date.now() * 1000;
  const stamp = () => {
    clock = Math.max(clock + 1, Date.now() * 1000);
    return clock;
  };
  const isoOf = (micros: number) =>
    `${new Date(Math.floor(micros / 1000)).toISOString().replace('Z', '')}${String(micros % 1000).padStart(3, '0')}`;

  const stub: FbaBackendStub = {
    url: '',
    serviceToken,
    allowList: new Set(options.allowConfigs === false ? [] : [FBA_CONFIGS_PATH]),
    users,
    requests: [],
    fault: undefined,
    addUser(userId, fields = {}) {
      const updatedAt = stamp();
      const user: FbaUser = {
        id: nextId++,
        userId,
        status: fields.status ?? 'active',
        config: fields.config ?? {},
        llmApiKey: fields.llmApiKey ?? null,
        llmApiBaseUrl: fields.llmApiBaseUrl ?? null,
        updatedAt,
      };
      users.set(userId, user);
      return user;
    },
    setUser(userId, change) {
      const user = users.get(userId);
      if (user === undefined) throw new Error(`no user ${userId}`);
      Object.assign(user, change, { updatedAt: stamp() });
      return user;
    },
    issueToken(userId) {
      const token = `gw_${randomBytes(32).toString('base64url')}`;
      tokens.set(token, userId);
      return token;
    },
    sessionFor(userId) {
      return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: userId, exp: Math.floor(Date.now() / 1000) + 3600 })}.${randomBytes(32).toString('base64url')}`;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const envelope = (res: ServerResponse, status: number, code: number, msg: string, data: unknown = null) => {
    const body = JSON.stringify({ code, msg, data, trace_id: randomUUID().replaceAll('-', '') });
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  };
  const isJwt = (value: string) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value);
  const jwtSubject = (value: string): string | undefined => {
    try {
      return (JSON.parse(Buffer.from(value.split('.')[1]!, 'base64url').toString()) as { sub?: string }).sub;
    } catch {
      return undefined;
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const url = new URL(req.url ?? '/', 'http://fba.invalid');
    const method = req.method ?? 'GET';
    if (stub.fault === 'down') return envelope(res, 503, 503, 'Service Unavailable');
    // The JWT middleware runs before routing: any bearer that is not a JWT is refused, unless allow-listed.
    const authorization = req.headers.authorization;
    const bearer = typeof authorization === 'string' ? /^Bearer\s+(\S+)$/i.exec(authorization)?.[1] : undefined;
    if (bearer !== undefined && !stub.allowList.has(url.pathname) && !isJwt(bearer)) return envelope(res, 401, 401, 'Token 无效');

    if (url.pathname === '/api/v1/openclaw/gateway/verify-token' && (method === 'GET' || method === 'POST')) {
      const token = url.searchParams.get('token');
      if (token === null) return envelope(res, 422, 422, '请求参数非法: token 字段为必填项');
      const userId = tokens.get(token);
      const user = userId === undefined ? undefined : users.get(userId);
      if (user === undefined || user.status !== 'active') return envelope(res, 401, 401, 'Token 无效');
      return envelope(res, 200, 200, '请求成功', {
        user_id: user.userId,
        status: user.status,
        openclaw_config: user.config,
        llm_api_key: user.llmApiKey,
        llm_api_base_url: user.llmApiBaseUrl,
      });
    }

    if (url.pathname === FBA_CONFIGS_PATH && method === 'GET') {
      if (bearer !== serviceToken) return envelope(res, 401, 401, 'Service token 无效');
      const cursorText = url.searchParams.get('cursor');
      const limitText = url.searchParams.get('limit') ?? '100';
      const limit = Number(limitText);
      if (!/^\d+$/.test(limitText) || limit < 1 || limit > 500) return envelope(res, 422, 422, '请求参数非法: limit');
      // Python's int(cursor) without a guard: anything else is an unhandled error.
      if (cursorText !== null && cursorText !== '' && !/^-?\d+$/.test(cursorText.trim()))
        return envelope(res, 500, 500, 'Internal Server Error');
      const after = cursorText === null || cursorText === '' ? 0 : Number(cursorText);
      const active = [...users.values()].filter((user) => user.status === 'active' && user.id > after).sort((a, b) => a.id - b.id);
      const page = active.slice(0, limit);
      return envelope(res, 200, 200, '请求成功', {
        users: page.map((user) => ({
          user_id: user.userId,
          gateway_token: [...tokens].find(([, owner]) => owner === user.userId)?.[0] ?? null,
          openclaw_config: user.config,
          status: user.status,
          llm_api_key: user.llmApiKey,
          llm_api_base_url: user.llmApiBaseUrl,
          updated_at: isoOf(user.updatedAt),
        })),
        sync_timestamp: new Date().toISOString().replace('Z', ''),
        has_more: active.length > limit,
        next_cursor: page.length === 0 ? null : String(page.at(-1)!.id),
      });
    }

    if (url.pathname === '/api/v1/openclaw/gateway/token' && method === 'POST') {
      const userId = bearer && isJwt(bearer) ? jwtSubject(bearer) : undefined;
      if (userId === undefined || !users.has(userId)) return envelope(res, 401, 401, 'Token 无效');
      return envelope(res, 200, 200, '请求成功', { gateway_token: stub.issueToken(userId) });
    }

    if (url.pathname === '/api/v1/openclaw/gateway/config' && method === 'PATCH') {
      const userId = bearer && isJwt(bearer) ? jwtSubject(bearer) : undefined;
      if (userId === undefined || !users.has(userId)) return envelope(res, 401, 401, 'Token 无效');
      const change = JSON.parse(body || '{}') as { openclaw_config?: Record<string, unknown>; status?: FbaUser['status'] };
      const user = stub.setUser(userId, {
        ...(change.openclaw_config ? { config: change.openclaw_config } : {}),
        ...(change.status ? { status: change.status } : {}),
      });
      return envelope(res, 200, 200, '请求成功', { user_id: user.userId, status: user.status });
    }

    return envelope(res, 404, 404, 'Not Found');
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      stub.requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers });
      handle(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stub;
}
