import type { JsonObject } from '../config/cell-config.js';

/** One of OpenClaw's HTTP surfaces the front door can serve per tenant. */
export type HttpApi = 'openai' | 'responses' | 'hooks';

/**
 * Which of OpenClaw's HTTP surfaces the operator enables (all off by default):
 * - `openai`: `POST /v1/chat/completions`, `GET /v1/models`, `GET /v1/models/{id}`, `POST /v1/embeddings`;
 * - `responses`: `POST /v1/responses`;
 * - `hooks`: `POST /hooks/wake`, `/hooks/agent` and `/hooks/<mapping>`.
 * OpenClaw treats a bearer of `/v1/*` as its full operator, so those serve only tenants granted `admin`.
 */
export interface HttpApiSettings {
  openai?: boolean;
  responses?: boolean;
  hooks?: boolean;
}

/** Where a cell serves hooks. */
export const CELL_HOOKS_PATH = '/hooks';

/**
 * The variable holding a cell's hooks token: its config names the variable, never the token, so the
 * token is in no file and only the cell's own process (and the front door) knows it.
 */
export const HOOKS_TOKEN_ENV = 'OPENCLAW_MT_HOOKS_TOKEN';

/** Config keys the front door owns for the HTTP surfaces: no tenant may change them. */
export const HTTP_API_LOCKED_PATHS: readonly string[] = ['gateway.http', 'hooks.enabled', 'hooks.token', 'hooks.path'];

/** The cell config that turns on exactly the enabled surfaces, and turns the others off. */
export function httpApiConfig(apis: HttpApiSettings): JsonObject {
  return {
    gateway: {
      http: {
        endpoints: {
          chatCompletions: { enabled: apis.openai === true },
          responses: { enabled: apis.responses === true },
        },
      },
    },
    hooks: apis.hooks === true ? { enabled: true, token: `\${${HOOKS_TOKEN_ENV}}`, path: CELL_HOOKS_PATH } : { enabled: false },
  };
}

/** Whether any surface is on. */
export function anyHttpApi(apis: HttpApiSettings): boolean {
  return apis.openai === true || apis.responses === true || apis.hooks === true;
}

/** The surface a request path belongs to (enabled or not), or `undefined` for any other path. */
export function httpApiOfPath(pathname: string): HttpApi | undefined {
  if (pathname === '/v1/responses') return 'responses';
  if (pathname === '/v1/chat/completions' || pathname === '/v1/embeddings' || pathname === '/v1/models') return 'openai';
  if (pathname.startsWith('/v1/models/')) return 'openai';
  if (pathname === CELL_HOOKS_PATH || pathname.startsWith(`${CELL_HOOKS_PATH}/`)) return 'hooks';
  return undefined;
}
