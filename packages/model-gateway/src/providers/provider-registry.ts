import { MultiTenantError } from '@openclaw-mt/core';
import { isHopByHop } from '../http/header-rules.js';
import { API_SHAPES, isProviderApi, PROVIDER_APIS, type KeyPlacement, type ProviderApi } from './provider-apis.js';
import { compileRoutes, type RouteSet } from './route-pattern.js';

/** One upstream provider, as the operator configures it. */
export interface ProviderConfig {
  /** The provider's real base URL, as OpenClaw's `models.providers.<id>.baseUrl` takes it (`https://api.openai.com/v1`). */
  baseUrl: string;
  /** The request adapter, as OpenClaw names it. */
  api: ProviderApi;
  /** The operator's key. Optional when every tenant brings its own (see `resolve`) or the upstream needs none. */
  apiKey?: string;
  /** Extra static headers sent upstream (`openai-organization`, `anthropic-beta`, …); a cell's own are dropped for these names. */
  headers?: Record<string, string>;
  /** Routes a cell may call (`POST /chat/completions`; `*` = one segment), replacing the API's defaults. */
  routes?: string[];
  /** Where the key goes, replacing the API's default (`{ header: 'authorization', prefix: 'Bearer ' }` for a proxy that wants it so). */
  key?: KeyPlacement;
  /**
   * `openai-completions` only: ask for usage in streamed answers (`stream_options.include_usage`) whatever the
   * cell asked, so a tenant cannot stream unmetered. Default `true`; switch off for an upstream that refuses the field.
   */
  streamUsage?: boolean;
}

/** A validated provider. */
export interface Provider {
  readonly id: string;
  readonly api: ProviderApi;
  readonly base: URL;
  readonly apiKey: string | undefined;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly routes: RouteSet;
  readonly key: KeyPlacement;
  readonly streamUsage: boolean;
}

const PROVIDER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Header names a provider config may not set: the request's own framing. */
const RESERVED = new Set(['host', 'content-length', 'content-type', 'transfer-encoding', 'accept-encoding']);

/** Whether `id` can name a provider (and be the first path segment of a cell's requests). */
export function isProviderId(id: string): boolean {
  return PROVIDER_ID.test(id);
}

function invalid(key: string, message: string): MultiTenantError {
  return new MultiTenantError('CONFIG_INVALID', `${key}: ${message}`, { details: { key } });
}

/**
 * Parses an upstream base URL: http(s) only, no credentials, query or fragment in it, then completed by the
 * API's rules (Anthropic without a trailing `/v1`, the bare Google host as `/v1beta`).
 */
export function upstreamBase(raw: unknown, api: ProviderApi, key: string): URL {
  let url: URL;
  try {
    url = new URL(String(raw));
  } catch {
    throw invalid(key, 'expected an absolute http(s) URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(key, 'expected an http: or https: URL.');
  if (url.username !== '' || url.password !== '') throw invalid(key, 'credentials do not belong in the URL; use apiKey.');
  if (url.search !== '' || url.hash !== '') throw invalid(key, 'a query or fragment does not belong in a base URL.');
  API_SHAPES[api].normalizeBaseUrl(url);
  return url;
}

function keyPlacement(value: KeyPlacement | undefined, api: ProviderApi, key: string): KeyPlacement {
  if (value === undefined) return API_SHAPES[api].key;
  if (typeof value !== 'object' || value === null || typeof value.header !== 'string' || !HEADER_NAME.test(value.header))
    throw invalid(`${key}.header`, 'expected a header name.');
  if (value.prefix !== undefined && (typeof value.prefix !== 'string' || !HEADER_VALUE.test(value.prefix)))
    throw invalid(`${key}.prefix`, 'expected text without line breaks.');
  return { header: value.header.toLowerCase(), ...(value.prefix === undefined ? {} : { prefix: value.prefix }) };
}

function staticHeaders(value: Record<string, string> | undefined, key: string): Array<[string, string]> {
  if (value === undefined) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(key, 'expected an object of header names to values.');
  return Object.entries(value).map(([name, text]) => {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name) || isHopByHop(lower) || RESERVED.has(lower)) throw invalid(`${key}.${name}`, 'this header cannot be set.');
    if (typeof text !== 'string' || !HEADER_VALUE.test(text)) throw invalid(`${key}.${name}`, 'expected text without line breaks.');
    return [lower, text];
  });
}

/** Validates the operator's providers once, at start; throws `CONFIG_INVALID` naming the key at fault. */
export function createProviders(config: Record<string, ProviderConfig>): ReadonlyMap<string, Provider> {
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw invalid('providers', 'expected an object of provider ids to provider configs.');
  const providers = new Map<string, Provider>();
  for (const [id, entry] of Object.entries(config)) {
    const key = `providers.${id}`;
    if (!isProviderId(id)) throw invalid(key, 'a provider id is 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit.');
    if (typeof entry !== 'object' || entry === null) throw invalid(key, 'expected an object.');
    if (!isProviderApi(entry.api)) throw invalid(`${key}.api`, `expected one of ${PROVIDER_APIS.join(', ')}.`);
    if (entry.apiKey !== undefined && (typeof entry.apiKey !== 'string' || entry.apiKey === '' || !HEADER_VALUE.test(entry.apiKey)))
      throw invalid(`${key}.apiKey`, 'expected a non-empty key without line breaks.');
    if (entry.streamUsage !== undefined && typeof entry.streamUsage !== 'boolean')
      throw invalid(`${key}.streamUsage`, 'expected a boolean.');
    if (entry.routes !== undefined && !Array.isArray(entry.routes)) throw invalid(`${key}.routes`, 'expected an array of "METHOD /path".');
    providers.set(id, {
      id,
      api: entry.api,
      base: upstreamBase(entry.baseUrl, entry.api, `${key}.baseUrl`),
      apiKey: entry.apiKey,
      headers: staticHeaders(entry.headers, `${key}.headers`),
      routes: compileRoutes(entry.routes ?? API_SHAPES[entry.api].routes, `${key}.routes`),
      key: keyPlacement(entry.key, entry.api, `${key}.key`),
      streamUsage: entry.api === 'openai-completions' && entry.streamUsage !== false,
    });
  }
  return providers;
}
