import { createHash, randomBytes } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TenantConfig } from '@openclaw-mt/core';
import { createToken } from '@openclaw-mt/core/tokens';

/** One user as the stub keeps it. */
export interface StubUser {
  userId: string;
  status: 'active' | 'suspended' | 'deleted';
  config: TenantConfig;
  version: number;
  updatedAt: number;
  seq: number;
}

/** A request as the stub saw it (URL as received, headers, raw body). */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A canned answer; `body` strings are sent as they are (to send broken JSON or huge payloads). */
export interface StubAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send the body chunked, without content-length. */
  chunked?: boolean;
}

/** Contract deviations, to prove the checker notices them. */
export interface StubVariant {
  /** Fields in snake_case (`user_id`, `next_cursor`, …), as the seed's reference backend had them. */
  snakeCase?: boolean;
  /** `nextCursor` never moves while `hasMore` stays true. */
  stuckCursor?: boolean;
  /** Reads the token from `?token=` and answers as if it came in the body. */
  acceptTokenInQuery?: boolean;
  /** Sends no ETag and ignores If-None-Match. */
  noEtag?: boolean;
  /** This route answers 404 like any path that does not exist. */
  missingRoute?: 'verify' | 'configs';
  /** An auth middleware in front of everything answers 401 to every request, whatever it carries. */
  blanketAuth?: boolean;
  /** The routes live under this prefix (e.g. `/api/v1`); without it every path is a 404. */
  prefix?: string;
}

/** What the test controls. */
export interface StubBackend {
  url: string;
  serviceToken: string;
  users: Map<string, StubUser>;
  requests: RecordedRequest[];
  /** `down`: 503 with Retry-After; `reset`: drop the connection; `hang`: never answer. */
  fault: 'down' | 'reset' | 'hang' | undefined;
  /** Answers a request instead of the stub when it returns an answer. */
  intercept: ((request: { method: string; path: string; query: URLSearchParams; body: string }) => StubAnswer | undefined) | undefined;
  variant: StubVariant;
  setUser(userId: string, change?: Partial<Pick<StubUser, 'status' | 'config'>>): StubUser;
  addUsers(count: number, prefix?: string): void;
  /** Issues a token; `format: 'gw'` mints one in the original fork's format, which this stub verifies like any other. */
  issueToken(userId: string, options?: { expiresAt?: number; format?: 'gt' | 'gw' }): string;
  /** Revokes a token and puts a `revoked` token event (v1.1) in the feed. */
  revokeToken(token: string): void;
  close(): Promise<void>;
}

const encode = (seq: number) => Buffer.from(`seq:${seq}`).toString('base64url');
const decode = (cursor: string): number | undefined => {
  const match = /^seq:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match && encode(Number(match[1])) === cursor ? Number(match[1]) : undefined;
};

/** A node:http Cloud Backend stub speaking wire contract v1, with fault injection and deviations. */
export async function startStubBackend(options: { serviceToken?: string; variant?: StubVariant } = {}): Promise<StubBackend> {
  const serviceToken = options.serviceToken ?? 'svc_stub_0123456789abcdef';
  const users = new Map<string, StubUser>();
  const tokens = new Map<string, { userId: string; expiresAt?: number }>();
  const tokenEvents: Array<{ seq: number; event: Record<string, unknown> }> = [];
  const hanging = new Set<ServerResponse>();
  let seq = 0;

  const stub: StubBackend = {
    url: '',
    serviceToken,
    users,
    requests: [],
    fault: undefined,
    intercept: undefined,
    variant: options.variant ?? {},
    setUser(userId, change = {}) {
      const current = users.get(userId);
      const next: StubUser = {
        userId,
        status: change.status ?? current?.status ?? 'active',
        config: change.config ?? current?.config ?? {},
        version: (current?.version ?? 0) + 1,
        updatedAt: Date.now(),
        seq: ++seq,
      };
      users.set(userId, next);
      return next;
    },
    addUsers(count, prefix = 'user') {
      for (let i = 0; i < count; i++) stub.setUser(`${prefix}-${i}`, { config: { n: i } });
    },
    issueToken(userId, { format, ...tokenOptions } = {}) {
      const token = format === 'gw' ? `gw_${randomBytes(32).toString('base64url')}` : createToken();
      tokens.set(token, { userId, ...tokenOptions });
      return token;
    },
    revokeToken(token) {
      const record = tokens.get(token);
      if (record === undefined) return;
      tokens.delete(token);
      const event = { tokenHash: createHash('sha256').update(token).digest('hex'), userId: record.userId, type: 'revoked', at: Date.now() };
      tokenEvents.push({ seq: ++seq, event });
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const send = (res: ServerResponse, answer: StubAnswer) => {
    const data = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    const headers: Record<string, string> = { 'content-type': 'application/json', ...answer.headers };
    if (!answer.chunked && answer.status !== 304) headers['content-length'] = String(Buffer.byteLength(data));
    res.writeHead(answer.status, headers);
    if (answer.chunked) {
      // Write in slices so the client sees a stream, not one buffer.
      for (let i = 0; i < data.length; i += 64 * 1024) res.write(data.slice(i, i + 64 * 1024));
      res.end();
    } else res.end(answer.status === 304 ? undefined : data);
  };

  const rename = (value: Record<string, unknown>): Record<string, unknown> =>
    stub.variant.snakeCase
      ? Object.fromEntries(Object.entries(value).map(([key, item]) => [key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), item]))
      : value;

  const handle = (method: string, url: URL, req: IncomingMessage, body: string): StubAnswer | undefined => {
    const intercepted = stub.intercept?.({ method, path: url.pathname, query: url.searchParams, body });
    if (intercepted) return intercepted;
    if (stub.fault === 'down')
      return { status: 503, body: { error: { code: 'UNAVAILABLE', message: 'down' } }, headers: { 'retry-after': '5' } };
    if (stub.variant.blanketAuth) return { status: 401, body: { error: { code: 'UNAUTHORIZED', message: 'a valid JWT is required' } } };
    const notFound: StubAnswer = { status: 404, body: { error: { code: 'NOT_FOUND', message: 'no such route' } } };
    const prefix = stub.variant.prefix ?? '';
    if (!url.pathname.startsWith(`${prefix}/`)) return notFound;
    const path = url.pathname.slice(prefix.length);
    if (stub.variant.missingRoute !== undefined && path === `/openclaw/gateway/${stub.variant.missingRoute}`) return notFound;
    const queryToken = url.searchParams.get('token');
    if (queryToken !== null && !stub.variant.acceptTokenInQuery)
      return { status: 400, body: { error: { code: 'TOKEN_IN_URL', message: 'no' } } };
    if (req.headers.authorization !== `Bearer ${serviceToken}`)
      return { status: 401, body: { error: { code: 'SERVICE_UNAUTHORIZED', message: 'no' } } };

    if (method === 'POST' && path === '/openclaw/gateway/verify') {
      let token: unknown = queryToken ?? undefined;
      if (token === undefined) {
        try {
          token = (JSON.parse(body) as { token?: unknown }).token;
        } catch {
          return { status: 400, body: { error: { code: 'BAD_REQUEST', message: 'json' } } };
        }
      }
      const record = typeof token === 'string' ? tokens.get(token) : undefined;
      const user = record && users.get(record.userId);
      if (record === undefined || user === undefined || user.status === 'deleted')
        return { status: 404, body: { error: { code: 'TOKEN_INVALID', message: 'no' } } };
      const expired = record.expiresAt !== undefined && record.expiresAt <= Date.now();
      return {
        status: 200,
        body: rename({
          userId: user.userId,
          status: expired ? 'expired' : user.status,
          ...(record.expiresAt === undefined ? {} : { expiresAt: record.expiresAt }),
          configVersion: user.version,
        }),
      };
    }

    if (method === 'GET' && path === '/openclaw/gateway/configs') {
      const cursor = url.searchParams.get('cursor');
      const after = cursor === null ? 0 : decode(cursor);
      if (after === undefined || after > seq) return { status: 400, body: { error: { code: 'CURSOR_INVALID', message: 'no' } } };
      const limit = Math.min(Number(url.searchParams.get('limit') ?? 100) || 100, 1000);
      const etag = `"${createHash('sha256').update(`${after}:${limit}:${seq}`).digest('hex').slice(0, 20)}"`;
      if (!stub.variant.noEtag && req.headers['if-none-match'] === etag) return { status: 304, headers: { etag } };
      const changed = [
        ...[...users.values()].map((user) => ({ seq: user.seq, user })),
        ...tokenEvents.map(({ seq: eventSeq, event }) => ({ seq: eventSeq, event })),
      ]
        .filter((change) => change.seq > after)
        .sort((a, b) => a.seq - b.seq);
      const page = changed.slice(0, limit);
      const hasMore = changed.length > limit;
      const nextCursor = stub.variant.stuckCursor && hasMore ? (cursor ?? encode(0)) : encode(page.at(-1)?.seq ?? after);
      const pageUsers = page.flatMap((change) => ('user' in change && change.user ? [change.user] : []));
      const pageTokens = page.flatMap((change) => ('event' in change && change.event ? [change.event] : []));
      return {
        status: 200,
        body: rename({
          users: pageUsers.map(({ seq: _seq, ...user }) => rename(user)),
          ...(pageTokens.length > 0 ? { tokens: pageTokens } : {}),
          nextCursor,
          hasMore,
        }),
        headers: stub.variant.noEtag ? {} : { etag },
      };
    }
    return { status: 404, body: { error: { code: 'NOT_FOUND', message: 'no' } } };
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      stub.requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body });
      if (stub.fault === 'reset') return void req.socket.destroy();
      if (stub.fault === 'hang') return void hanging.add(res);
      const url = new URL(req.url ?? '/', 'http://stub.invalid');
      const answer = handle(req.method ?? 'GET', url, req, body);
      if (answer) send(res, answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stub;
}
