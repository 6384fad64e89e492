import type { z } from 'zod';
import { isMultiTenantError } from '../errors/multi-tenant-error.js';
import { redactText } from '../tokens/redact.js';
import { createToken } from '../tokens/token-format.js';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  type CloudResponse,
  type FetchFunction,
  assertBearerCredential,
  cloudUrl,
  errorCodeOf,
  normalizeBaseUrl,
  sendCloudRequest,
} from './http-request.js';
import { CLOUD_CONTRACT_VERSION, CloudPaths, configsPageSchema, verifyResponseSchema } from './wire-contract.js';

/** Outcome of one contract point. */
export type CheckStatus = 'pass' | 'fail' | 'skipped';

/** One named point of the contract, checked against a live backend. */
export interface CheckPoint {
  /** Stable id, e.g. `verify.field-names` or `configs.cursor-advances`. */
  id: string;
  /** What the point requires, in words. */
  title: string;
  status: CheckStatus;
  /** Why it passed, failed or was skipped; never contains a token. */
  reason: string;
}

/** The checker's verdict. `ok` is true only if no point failed. */
export interface CheckReport {
  ok: boolean;
  url: string;
  contractVersion: number;
  points: CheckPoint[];
  summary: { passed: number; failed: number; skipped: number };
}

/** Options of {@link checkCloudBackend}. */
export interface CheckCloudBackendOptions {
  /** Base URL of the backend under test. */
  url: string;
  /** The gateway's service token. */
  serviceToken: string;
  /** A valid gateway token of an active user (enables the valid-token points). Sent only in a body. */
  token?: string;
  /** A gateway token of a suspended user (enables the suspension point). Sent only in a body. */
  suspendedToken?: string;
  fetch?: FetchFunction;
  timeoutMs?: number;
  maxResponseBytes?: number;
  /** Page size of the first pages, so pagination is exercised even on small feeds. Default 2. */
  smallPageLimit?: number;
  /** A feed not ended after this many pages fails `configs.pagination-terminates`. Default 10,000. */
  maxPages?: number;
}

const SMALL_PAGES = 3;
const LARGE_PAGE_LIMIT = 500;

interface Finding {
  status: CheckStatus;
  reason: string;
}

const pass = (reason: string): Finding => ({ status: 'pass', reason });
const fail = (reason: string): Finding => ({ status: 'fail', reason });
const skip = (reason: string): Finding => ({ status: 'skipped', reason });

/**
 * Runs the Cloud Backend wire contract (v1, docs/cloud-backend-api.md) against a live backend and
 * reports every point as pass, fail or skipped with a reason. It reads the config feed and verifies
 * the tokens it is given (only ever in request bodies); it changes nothing. The one token it puts in
 * a URL is a freshly minted random one that no backend knows, to prove such requests are refused.
 */
export async function checkCloudBackend(options: CheckCloudBackendOptions): Promise<CheckReport> {
  const base = normalizeBaseUrl(options.url);
  const serviceToken = assertBearerCredential(options.serviceToken, 'serviceToken');
  const smallLimit = Math.max(1, Math.floor(options.smallPageLimit ?? 2));
  const maxPages = Math.max(1, Math.floor(options.maxPages ?? 10_000));
  const points: CheckPoint[] = [];
  const secrets = [serviceToken, options.token, options.suspendedToken].filter((value): value is string => typeof value === 'string');

  const send = (method: 'GET' | 'POST', url: string, init: { bearer?: string | null; body?: unknown; headers?: Record<string, string> } = {}) => {
    const bearer = init.bearer === undefined ? serviceToken : init.bearer;
    return sendCloudRequest({
      method,
      url,
      headers: { ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }), ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body }),
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  };
  const verifyUrl = cloudUrl(base, CloudPaths.verify);
  const configsUrl = (query: Record<string, string | number | undefined> = {}) => cloudUrl(base, CloudPaths.configs, query);

  const point = async (id: string, title: string, check: () => Promise<Finding>) => {
    let finding: Finding;
    try {
      finding = await check();
    } catch (error) {
      finding = fail(`request failed: ${isMultiTenantError(error) ? `${error.code}: ${error.message}` : String(error)}`);
    }
    points.push({ id, title, status: finding.status, reason: redactText(finding.reason, secrets) });
  };

  // --- service authentication -------------------------------------------------------------------
  await point('service-token.required', 'Gateway endpoints answer 401 without a service token', async () => {
    const configs = await send('GET', configsUrl({ limit: 1 }), { bearer: null });
    const verify = await send('POST', verifyUrl, { bearer: null, body: { token: createToken() } });
    return expectStatuses([
      ['GET configs without Authorization', configs, [401]],
      ['POST verify without Authorization', verify, [401]],
    ]);
  });

  await point('service-token.checked', 'Gateway endpoints answer 401 to a wrong service token', async () => {
    const wrong = `wrong-${createToken().slice(3, 27)}`;
    const configs = await send('GET', configsUrl({ limit: 1 }), { bearer: wrong });
    const verify = await send('POST', verifyUrl, { bearer: wrong, body: { token: createToken() } });
    return expectStatuses([
      ['GET configs with a wrong service token', configs, [401]],
      ['POST verify with a wrong service token', verify, [401]],
    ]);
  });

  // --- verify ---------------------------------------------------------------------------------------
  await point('verify.unknown-token', 'Verifying a well-formed but unknown token answers 401 or 404', async () => {
    const response = await send('POST', verifyUrl, { body: { token: createToken() } });
    if (errorCodeOf(response.body) === 'SERVICE_UNAUTHORIZED') return fail('the backend rejected the service token given to the checker');
    if (response.status === 401 || response.status === 404) return pass(`answered ${response.status}`);
    return fail(`answered ${response.status}${describeBody(response)}; an unknown token must be 401 or 404 (definitely invalid)`);
  });

  await point('token-in-url.refused', 'A token in the URL query is refused with 400, never accepted', async () => {
    const bait = createToken();
    const verify = await send('POST', cloudUrl(base, CloudPaths.verify, { token: bait }), { body: { token: createToken() } });
    const configs = await send('GET', configsUrl({ limit: 1, token: bait }));
    const problems: string[] = [];
    if (verify.status !== 400) {
      problems.push(`POST verify?token=… answered ${verify.status}${verify.status === 200 ? ' (accepted)' : ''}`);
    }
    if (configs.status !== 400) problems.push(`GET configs?token=… answered ${configs.status}${configs.status === 200 ? ' (accepted)' : ''}`);
    if (problems.length === 0) return pass('both endpoints refused a token in the query with 400');
    return fail(`${problems.join('; ')}; a token in a URL ends up in access logs and must be refused with 400`);
  });

  await point('verify.valid-token', 'A valid token verifies (200) with exactly the specified fields and types', async () => {
    if (options.token === undefined) return skip('no --token given');
    const response = await send('POST', verifyUrl, { body: { token: options.token } });
    if (response.status !== 200) return fail(`answered ${response.status}${describeBody(response)}; expected 200 for a valid token`);
    const problems = shapeProblems(verifyResponseSchema, response.body);
    if (problems.length > 0) return fail(problems.join('; '));
    const validAnswer = verifyResponseSchema.parse(response.body);
    if (validAnswer.status !== 'active') return fail(`status is "${validAnswer.status}"; expected "active" for the given token`);
    return pass(`userId, status "active"${validAnswer.expiresAt != null ? ', expiresAt' : ''}${validAnswer.configVersion !== undefined ? ', configVersion' : ''}`);
  });

  await point('verify.suspended-token', 'A suspended user\'s token does not verify as active', async () => {
    if (options.suspendedToken === undefined) return skip('no --suspended-token given');
    const response = await send('POST', verifyUrl, { body: { token: options.suspendedToken } });
    if ([401, 403, 404].includes(response.status)) return pass(`answered ${response.status}`);
    if (response.status !== 200) return fail(`answered ${response.status}${describeBody(response)}`);
    const problems = shapeProblems(verifyResponseSchema, response.body);
    if (problems.length > 0) return fail(problems.join('; '));
    const status = (response.body as { status: string }).status;
    if (status === 'suspended') return pass('status "suspended"');
    return fail(`status is "${status}"; a suspended user's token must answer status "suspended" (or 401/403/404)`);
  });

  // --- configs ----------------------------------------------------------------------------------------
  await point('configs.field-names', 'A configs page has exactly the specified fields and types', async () => {
    const response = await send('GET', configsUrl({ limit: smallLimit }));
    if (response.status !== 200) return fail(`answered ${response.status}${describeBody(response)}; expected 200`);
    const problems = shapeProblems(configsPageSchema, response.body);
    if (problems.length > 0) return fail(problems.join('; '));
    const firstPage = configsPageSchema.parse(response.body);
    if (firstPage.users.length === 0) return pass('users, nextCursor, hasMore (the feed is empty: no user entries to check)');
    return pass(`users (${firstPage.users.length} checked: userId, status, config, version, updatedAt), nextCursor, hasMore`);
  });

  const walk = await walkFeed();
  await point('configs.cursor-advances', 'Every page with hasMore: true returns a new cursor', async () => walk.advances);
  await point('configs.pagination-terminates', `Following nextCursor reaches hasMore: false within ${maxPages} pages`, async () => walk.terminates);
  await point('configs.has-more-consistent', 'hasMore and nextCursor agree with the page (limit honoured, no empty page with hasMore: true)', async () => walk.consistent);

  await point('configs.etag', 'The feed sends an ETag and answers 304 to If-None-Match when nothing changed', async () => {
    if (walk.finalCursor === undefined) return skip('the feed could not be followed to its end');
    const query = { cursor: walk.finalCursor, limit: LARGE_PAGE_LIMIT };
    const first = await send('GET', configsUrl(query));
    if (first.status !== 200) return fail(`re-reading the end of the feed answered ${first.status}`);
    const etag = first.headers.get('etag');
    if (etag === null) return skip('no ETag header: gateways will download a page on every poll (If-None-Match unsupported)');
    const second = await send('GET', configsUrl(query), { headers: { 'if-none-match': etag } });
    if (second.status === 304) return pass('304 Not Modified for an unchanged feed');
    return fail(`answered ${second.status} to If-None-Match with the ETag it just sent; expected 304`);
  });

  await point('configs.bad-cursor', 'A cursor the backend never issued is refused with 400', async () => {
    const response = await send('GET', configsUrl({ cursor: '%%not-a-cursor%%', limit: 1 }));
    if (response.status === 400) return pass('answered 400');
    return fail(`answered ${response.status}; an unknown cursor must be 400 (CURSOR_INVALID) so gateways can restart the feed instead of silently skipping or repeating changes`);
  });

  const summary = {
    passed: points.filter((p) => p.status === 'pass').length,
    failed: points.filter((p) => p.status === 'fail').length,
    skipped: points.filter((p) => p.status === 'skipped').length,
  };
  return { ok: summary.failed === 0, url: base, contractVersion: CLOUD_CONTRACT_VERSION, points, summary };

  async function walkFeed(): Promise<{ advances: Finding; terminates: Finding; consistent: Finding; finalCursor: string | undefined }> {
    const requested = new Set<string>();
    const inconsistencies: string[] = [];
    let cursor: string | undefined;
    let users = 0;
    let pages = 0;
    let advancedPages = 0;
    try {
      for (;;) {
        if (pages >= maxPages) {
          const reason = `still hasMore: true after ${pages} pages (${users} users); the feed never ends`;
          return { advances: advancedPages > 0 ? pass(`advanced ${advancedPages} times`) : fail(reason), terminates: fail(reason), consistent: verdict(), finalCursor: undefined };
        }
        const limit = pages < SMALL_PAGES ? smallLimit : LARGE_PAGE_LIMIT;
        const response = await send('GET', configsUrl({ cursor, limit }));
        pages++;
        if (response.status !== 200) {
          const reason = `page ${pages} answered ${response.status}${describeBody(response)}`;
          return { advances: fail(reason), terminates: fail(reason), consistent: fail(reason), finalCursor: undefined };
        }
        const parsed = configsPageSchema.safeParse(response.body);
        if (!parsed.success) {
          const reason = `cannot follow the feed: page ${pages} breaks the schema (${shapeProblems(configsPageSchema, response.body)[0] ?? 'see configs.field-names'})`;
          return { advances: fail(reason), terminates: fail(reason), consistent: fail(reason), finalCursor: undefined };
        }
        const page = parsed.data;
        users += page.users.length;
        if (page.users.length > limit) inconsistencies.push(`page ${pages} has ${page.users.length} users for limit=${limit}`);
        requested.add(cursor ?? '');
        if (!page.hasMore) {
          return {
            advances: pages > 1 ? pass(`the cursor advanced on each of ${pages - 1} pages with hasMore: true`) : skip(`the feed fits in one page of ${limit} (${users} users): nothing to advance`),
            terminates: pass(`reached hasMore: false after ${pages} pages and ${users} users`),
            consistent: verdict(),
            finalCursor: page.nextCursor,
          };
        }
        if (page.users.length === 0) inconsistencies.push(`page ${pages} has hasMore: true but no users`);
        if (requested.has(page.nextCursor)) {
          const reason = `page ${pages} returned ${page.nextCursor === (cursor ?? '') ? 'the cursor it was asked for' : 'a cursor it had returned before'} with hasMore: true; a client would loop forever`;
          return { advances: fail(reason), terminates: fail(`pagination does not terminate: ${reason}`), consistent: verdict(), finalCursor: undefined };
        }
        advancedPages++;
        cursor = page.nextCursor;
      }
    } catch (error) {
      const reason = `request failed: ${isMultiTenantError(error) ? `${error.code}: ${error.message}` : String(error)}`;
      return { advances: fail(reason), terminates: fail(reason), consistent: fail(reason), finalCursor: undefined };
    }

    function verdict(): Finding {
      return inconsistencies.length === 0 ? pass(`${pages} pages checked`) : fail(inconsistencies.slice(0, 3).join('; '));
    }
  }
}

function expectStatuses(checks: Array<[string, CloudResponse, number[]]>): Finding {
  const wrong = checks.filter(([, response, expected]) => !expected.includes(response.status));
  if (wrong.length === 0) return pass(checks.map(([what, response]) => `${what}: ${response.status}`).join('; '));
  return fail(wrong.map(([what, response, expected]) => `${what} answered ${response.status}, expected ${expected.join(' or ')}`).join('; '));
}

function describeBody(response: CloudResponse): string {
  const code = (response.body as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === 'string' ? ` (${code})` : '';
}

/**
 * Schema problems by field path, with a hint when a required field is present under another spelling
 * (`userId` missing, `user_id` found): the seed's reference client and backend disagreed exactly so.
 */
export function shapeProblems(schema: z.ZodType, body: unknown): string[] {
  const parsed = schema.safeParse(body);
  if (parsed.success) return [];
  const problems = new Set<string>();
  for (const issue of parsed.error.issues) {
    if (problems.size >= 8) break;
    const path = issue.path.map(String);
    // `users[].userId` once, rather than once per user.
    const where = path.length === 0 ? 'body' : path.map((key) => (/^\d+$/.test(key) ? '[]' : `.${key}`)).join('').replace(/^\./, '');
    const parent = valueAt(body, path.slice(0, -1));
    const key = path.at(-1);
    if (key !== undefined && isRecord(parent) && !Object.hasOwn(parent, key)) {
      const alias = Object.keys(parent).find((candidate) => candidate !== key && normalise(candidate) === normalise(key));
      problems.add(alias === undefined ? `field ${where} is missing` : `field ${where} is missing (found "${alias}": field names are camelCase exactly as specified)`);
      continue;
    }
    problems.add(`${where}: ${issue.message}`);
  }
  return [...problems];
}

function normalise(key: string): string {
  return key.replace(/[-_\s]/g, '').toLowerCase();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function valueAt(value: unknown, path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
