/**
 * The request adapters (OpenClaw's `models.providers.<id>.api`) the model gateway fronts. Each needs its
 * key in a different place and answers with usage in a different shape; the rest of OpenClaw's list
 * (`bedrock-converse-stream`, `google-vertex`, `github-copilot`, …) signs requests or uses OAuth and is
 * refused at start.
 */
export const PROVIDER_APIS = ['openai-completions', 'openai-responses', 'anthropic-messages', 'google-generative-ai', 'ollama'] as const;

/** One of {@link PROVIDER_APIS}. */
export type ProviderApi = (typeof PROVIDER_APIS)[number];

/** Where a provider expects its key: a header, with an optional prefix before the key. */
export interface KeyPlacement {
  /** Header name, lower case (`authorization`, `x-api-key`, `x-goog-api-key`). */
  header: string;
  /** Text before the key (`Bearer `). */
  prefix?: string;
}

interface ApiShape {
  key: KeyPlacement;
  /** Routes a cell may call, `METHOD /path` under the provider's base URL; `*` stands for one path segment. */
  routes: readonly string[];
  /** The provider's base URL as the API's clients complete it (OpenClaw's own rules). */
  normalizeBaseUrl(url: URL): void;
}

const bearer: KeyPlacement = { header: 'authorization', prefix: 'Bearer ' };
const openAiModels = ['GET /models', 'GET /models/*', 'POST /embeddings'];

/** A base URL's path without trailing slashes: `''` for the root, so `basePath(url) + '/chat/completions'` is right. */
export function basePath(url: URL): string {
  return url.pathname.replace(/\/+$/, '');
}

function trimTrailingSlashes(url: URL): void {
  url.pathname = basePath(url) || '/';
}

/** Per API: key placement, default routes and base-URL rules. */
export const API_SHAPES: Readonly<Record<ProviderApi, ApiShape>> = {
  'openai-completions': {
    key: bearer,
    routes: ['POST /chat/completions', ...openAiModels],
    normalizeBaseUrl: trimTrailingSlashes,
  },
  'openai-responses': {
    key: bearer,
    routes: ['POST /responses', ...openAiModels],
    normalizeBaseUrl: trimTrailingSlashes,
  },
  'anthropic-messages': {
    key: { header: 'x-api-key' },
    routes: ['POST /v1/messages', 'POST /v1/messages/count_tokens', 'GET /v1/models', 'GET /v1/models/*'],
    // Clients append `/v1/messages` unless the base already ends in `/v1`: keep the base without it.
    normalizeBaseUrl(url) {
      url.pathname = basePath(url).replace(/\/v1$/, '') || '/';
    },
  },
  'google-generative-ai': {
    key: { header: 'x-goog-api-key' },
    routes: [
      'POST /models/*:streamGenerateContent',
      'POST /models/*:generateContent',
      'POST /models/*:countTokens',
      'POST /models/*:embedContent',
      'POST /models/*:batchEmbedContents',
      'GET /models',
      'GET /models/*',
    ],
    // The bare Generative Language host means its `v1beta` API, as OpenClaw reads it.
    normalizeBaseUrl(url) {
      trimTrailingSlashes(url);
      if (url.hostname === 'generativelanguage.googleapis.com' && basePath(url) === '') url.pathname = '/v1beta';
    },
  },
  ollama: {
    key: bearer,
    routes: ['POST /api/chat', 'POST /api/generate', 'POST /api/embed', 'POST /api/embeddings', 'POST /api/show', 'GET /api/tags'],
    normalizeBaseUrl: trimTrailingSlashes,
  },
};

/** Whether `value` names an API the model gateway fronts. */
export function isProviderApi(value: unknown): value is ProviderApi {
  return typeof value === 'string' && (PROVIDER_APIS as readonly string[]).includes(value);
}
