import { isProviderId } from '../providers/provider-registry.js';
import { pathProblem } from '../providers/route-pattern.js';

/** What a cell's request names: `/<providerId><path>?<query>`. */
export interface RequestTarget {
  providerId: string;
  /** The part after the provider id, to be put after the provider's base URL (`/chat/completions`). */
  path: string;
  /** The query without `?`, minus any `key` parameter (Google's API key in a URL), or `''`. */
  query: string;
}

function withoutKeyParameter(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .filter((pair) => pair !== '' && pair !== 'key' && !pair.startsWith('key='))
    .join('&');
}

/** Parses a request target, or says why it is not acceptable. */
export function parseTarget(url: string | undefined): RequestTarget | { problem: string } {
  if (url === undefined || !url.startsWith('/')) return { problem: 'the request target must be a path' };
  const question = url.indexOf('?');
  const pathPart = question === -1 ? url : url.slice(0, question);
  if (url.includes('#')) return { problem: 'a fragment does not belong in a request' };
  const slash = pathPart.indexOf('/', 1);
  const providerId = slash === -1 ? pathPart.slice(1) : pathPart.slice(1, slash);
  if (!isProviderId(providerId)) return { problem: 'the path must start with a provider id' };
  const path = slash === -1 ? '' : pathPart.slice(slash);
  const problem = pathProblem(path);
  if (problem !== undefined) return { problem };
  return { providerId, path, query: withoutKeyParameter(question === -1 ? '' : url.slice(question + 1)) };
}
