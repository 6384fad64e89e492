import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConsola } from 'consola';
import { type CloudBackendServer, createCloudBackendServer } from '../src/index.js';

export const SECRETS = {
  jwtSecret: 'jwt-secret-for-tests-0123456789-abcdef',
  serviceToken: 'svc-token-for-tests-0123456789',
  adminToken: 'admin-token-for-tests-0123456789',
};

/** A logger keeping raw lines (no redaction), to prove nothing secret was handed to it. */
export function rawLogger() {
  const lines: string[] = [];
  const logger = createConsola({
    level: 5,
    reporters: [
      {
        log: (entry) =>
          void lines.push(entry.args.map((arg) => (arg instanceof Error ? `${arg.message} ${arg.stack}` : String(arg))).join(' ')),
      },
    ],
  });
  return { logger, lines };
}

/** The example backend on a free loopback port with a temp SQLite file. */
export async function startBackend(options: { now?: () => number; push?: { secrets: string[]; targets?: string[] } } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'ocmt-backend-'));
  const log = rawLogger();
  const backend: CloudBackendServer = createCloudBackendServer({
    database: join(dir, 'backend.sqlite'),
    ...SECRETS,
    logger: log.logger,
    ...(options.now ? { now: options.now } : {}),
    ...(options.push ? { push: options.push } : {}),
  });
  const url = await backend.listen(0);
  const api = client(url);
  return {
    url,
    dir,
    backend,
    log,
    api,
    async close() {
      await backend.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A JSON answer of the backend as the tests read it: the fields its endpoints answer with. Each
 * endpoint fills only its own (an error answer only `error`); body-less answers (204, 304) have none.
 */
export interface ApiBody {
  userId: string;
  accessToken: string;
  token: string;
  tokenId: string;
  tokens: Array<Record<string, unknown>>;
  status: string;
  version: number;
  config: Record<string, unknown>;
  expiresAt: number | null;
  users: Array<{ userId: string; status: string; config: Record<string, unknown>; version: number; updatedAt: number }>;
  nextCursor: string;
  hasMore: boolean;
  error: { code: string; message: string };
}

export interface ApiResponse {
  status: number;
  body: ApiBody;
  headers: Headers;
}

/** A tiny JSON client for the backend's HTTP API. */
export function client(base: string) {
  const call = async (
    method: string,
    path: string,
    options: { bearer?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse> => {
    const response = await fetch(base + path, {
      method,
      headers: {
        ...(options.bearer ? { authorization: `Bearer ${options.bearer}` } : {}),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      redirect: 'manual',
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
  };
  return {
    call,
    /** Signs a user up and logs in; returns the user id and session token. */
    async register(email: string, password = 'correct horse battery staple') {
      const signup = await call('POST', '/signup', { body: { email, password } });
      if (signup.status !== 201) throw new Error(`signup ${signup.status}: ${JSON.stringify(signup.body)}`);
      const login = await call('POST', '/login', { body: { email, password } });
      if (login.status !== 200) throw new Error(`login ${login.status}`);
      return { userId: signup.body.userId as string, session: login.body.accessToken as string };
    },
    async issueToken(session: string, body: Record<string, unknown> = {}) {
      const issued = await call('POST', '/openclaw/gateway/token', { bearer: session, body });
      if (issued.status !== 201) throw new Error(`token ${issued.status}: ${JSON.stringify(issued.body)}`);
      return issued.body as { token: string; tokenId: string; userId: string; expiresAt: number | null };
    },
    revokeToken(session: string, tokenId: string) {
      return call('DELETE', `/openclaw/gateway/tokens/${tokenId}`, { bearer: session });
    },
    admin(action: 'suspend' | 'resume', userId: string) {
      return call('POST', `/admin/users/${userId}/${action}`, { bearer: SECRETS.adminToken });
    },
    verify(token: string) {
      return call('POST', '/openclaw/gateway/verify', { bearer: SECRETS.serviceToken, body: { token } });
    },
    configs(query = '') {
      return call('GET', `/openclaw/gateway/configs${query}`, { bearer: SECRETS.serviceToken });
    },
  };
}
