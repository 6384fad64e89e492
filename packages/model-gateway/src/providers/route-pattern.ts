import { MultiTenantError } from '@openclaw-mt/core';

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
// A literal path segment, or `*` (one segment), optionally with a literal `:verb` suffix (Google's `models/*:generateContent`).
const PATTERN_SEGMENT = /^(?:\*|[A-Za-z0-9._~-]+)(?::[A-Za-z0-9._~-]+)?$/;

/** A compiled set of `METHOD /path` routes. */
export interface RouteSet {
  /** Whether `method` on `path` (the part after the provider's base, already checked by {@link pathProblem}) is allowed. */
  allows(method: string, path: string): boolean;
  /** The routes as written. */
  readonly routes: readonly string[];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Compiles routes like `POST /chat/completions` or `POST /models/*:streamGenerateContent`; `*` matches exactly
 * one path segment. Throws `CONFIG_INVALID` naming `where` for a pattern that does not fit.
 */
export function compileRoutes(routes: readonly string[], where: string): RouteSet {
  const byMethod = new Map<string, RegExp[]>();
  for (const route of routes) {
    const match = typeof route === 'string' ? /^([A-Z]+) (\/.*)$/.exec(route) : null;
    const segments = match === null ? [] : match[2]!.slice(1).split('/');
    if (match === null || !METHODS.has(match[1]!) || segments.some((segment) => !PATTERN_SEGMENT.test(segment))) {
      throw new MultiTenantError(
        'CONFIG_INVALID',
        `${where}: route ${JSON.stringify(route)} is not "METHOD /path" (GET, POST, PUT, PATCH or DELETE; segments of letters, digits, ._~- or *).`,
        { details: { key: where } },
      );
    }
    const source = segments.map((segment) => segment.split('*').map(escapeRegExp).join('[^/]+')).join('/');
    const list = byMethod.get(match[1]!) ?? [];
    list.push(new RegExp(`^/${source}$`));
    byMethod.set(match[1]!, list);
  }
  return {
    routes: [...routes],
    allows(method, path) {
      return byMethod.get(method)?.some((pattern) => pattern.test(path)) === true;
    },
  };
}

// Characters a model API path needs (RFC 3986 pchar without `%`): percent-encoding is refused, so what is
// checked here is exactly what the upstream receives.
const PATH_SEGMENT = /^[A-Za-z0-9._~:@!$&'()*+,;=-]+$/;

/**
 * Why `path` (what follows the provider id in a request) is not acceptable, or `undefined`: it must be
 * empty or `/`-separated non-empty segments, without dot segments or percent-encoding, so no request can
 * climb out of the provider's base URL.
 */
export function pathProblem(path: string): string | undefined {
  if (path === '') return undefined;
  if (!path.startsWith('/')) return 'the path must start with "/"';
  for (const segment of path.slice(1).split('/')) {
    if (segment === '') return 'empty path segment';
    if (segment === '.' || segment === '..') return 'dot segment';
    if (!PATH_SEGMENT.test(segment)) return 'a path segment holds a character that is not allowed (percent-encoding included)';
  }
  return undefined;
}
