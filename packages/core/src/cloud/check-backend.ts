import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { isMultiTenantError } from '../errors/multi-tenant-error.js';
import { redactText } from '../tokens/redact.js';
import { createToken } from '../tokens/token-format.js';
import { createTokenFormatPolicy, type TokenFormatName, tokenFormatOf } from '../tokens/token-formats.js';
import type { CloudDialect, CloudDialectName, DialectRequest } from './dialects/cloud-dialect.js';
import { resolveCloudDialect } from './dialects/resolve-dialect.js';
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
import { CLOUD_CONTRACT_VERSION, configsPageSchema, tokenEventSchema, verifyResponseSchema } from './wire-contract.js';

/**
 * Outcome of one contract point. `unsupported`: the backend's dialect cannot do this by design; the
 * reason says what the gateway does instead. It is reported, not counted as a failure.
 */
export type CheckStatus = 'pass' | 'fail' | 'skipped' | 'unsupported';

/** One named point of the contract, checked against a live backend. */
export interface CheckPoint {
  /** Stable id, e.g. `verify.unknown-token` or `configs.cursor-advances`. */
  id: string;
  /** What the point requires, in words. */
  title: string;
  status: CheckStatus;
  /** Why it passed, failed or was skipped; never contains a token or the service token. */
  reason: string;
}

/** The checker's verdict. `ok` is true only if no point failed. */
export interface CheckReport {
  ok: boolean;
  url: string;
  /** The dialect the backend was checked in. */
  dialect: CloudDialectName;
  contractVersion: string;
  points: CheckPoint[];
  summary: { passed: number; failed: number; skipped: number; unsupported: number };
  /** What to change, when the checker could tell (a path prefix, a dialect, an allow-list). */
  hints: string[];
}

/** Options of {@link checkCloudBackend}. */
export interface CheckCloudBackendOptions {
  /** Base URL of the backend under test. */
  url: string;
  /** The gateway's service token. */
  serviceToken: string;
  /** `v1` (default) or `fba`: the dialect the gateway would speak. */
  dialect?: CloudDialectName;
  /** Prefix of the backend's routes (default: the dialect's). */
  pathPrefix?: string;
  /** The token formats the gateway accepts (default: the dialect's), so a token the gateway would refuse fails. */
  tokenFormats?: readonly TokenFormatName[];
  /** A valid gateway token of an active user (enables the valid-token points). Sent as the dialect sends tokens. */
  token?: string;
  /** A gateway token of a suspended user (enables the suspension point). */
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
const COMMON_PREFIXES = ['/api/v1', '/api', '/v1'];

interface Finding {
  status: CheckStatus;
  reason: string;
}

const pass = (reason: string): Finding => ({ status: 'pass', reason });
const fail = (reason: string): Finding => ({ status: 'fail', reason });
/** A feed that cannot be read past some point: every verdict of the walk fails for that one reason. */
const feedUnreadable = (reason: string): WalkResult => ({
  advances: fail(reason),
  terminates: fail(reason),
  consistent: fail(reason),
  tokens: fail(reason),
  finalCursor: undefined,
});
const skip = (reason: string): Finding => ({ status: 'skipped', reason });
const unsupported = (reason: string): Finding => ({ status: 'unsupported', reason });

// The fork's page and user fields, as they must be spelled for its dialect.
const fbaUserSchema = z.object({
  user_id: z.union([z.string(), z.number().int()]),
  status: z.string(),
  updated_at: z.union([z.string(), z.number()]),
  openclaw_config: z.unknown().optional(),
});
const fbaPageSchema = z.object({
  users: z.array(fbaUserSchema),
  has_more: z.boolean(),
  next_cursor: z.union([z.string(), z.number(), z.null()]).optional(),
});
const fbaVerifySchema = z.object({ user_id: z.union([z.string(), z.number().int()]), status: z.string() });

/** A token the backend cannot know, in the format the dialect's backend issues. */
function baitToken(dialect: CloudDialect): string {
  return dialect.tokenFormats.includes('gw') && dialect.name === 'fba' ? `gw_${randomBytes(32).toString('base64url')}` : createToken();
}

/**
 * Runs the Cloud Backend wire contract (docs/cloud-backend-api.md) against a live backend, in the dialect the
 * gateway would speak, and reports every point as pass, fail, skipped or unsupported (the dialect cannot do
 * it) with a reason. No false passes: a missing route, a blanket 401 from an auth middleware and a wrong path
 * prefix are named as such; a refused service token is one failure that says so, and the points that depend
 * on it are skipped; a token the gateway would refuse by its format fails. It reads and verifies; it changes
 * nothing. The only token it puts in a URL (besides the `fba` dialect's own verify) is freshly minted bait.
 */
export async function checkCloudBackend(options: CheckCloudBackendOptions): Promise<CheckReport> {
  const base = normalizeBaseUrl(options.url);
  const serviceToken = assertBearerCredential(options.serviceToken, 'serviceToken');
  const dialect = resolveCloudDialect(options.dialect, options.pathPrefix);
  const fba = dialect.name === 'fba';
  const formats = options.tokenFormats ?? dialect.tokenFormats;
  const formatProblem = createTokenFormatPolicy(formats);
  const smallLimit = Math.max(1, Math.floor(options.smallPageLimit ?? 2));
  const maxPages = Math.max(1, Math.floor(options.maxPages ?? 10_000));
  const points: CheckPoint[] = [];
  const hints: string[] = [];
  const secrets = [serviceToken, options.token, options.suspendedToken].filter((value): value is string => typeof value === 'string');

  const sendTo = (root: string, request: DialectRequest, bearer: string | null | undefined = undefined) => {
    const token = bearer === undefined ? (request.serviceAuth ? serviceToken : null) : bearer;
    return sendCloudRequest({
      method: request.method,
      url: cloudUrl(root, request.path, request.query),
      headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...request.headers },
      ...(request.body === undefined ? {} : { body: request.body }),
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      secrets,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  };
  const send = (request: DialectRequest, bearer?: string | null) => sendTo(base, request, bearer);
  const configsRequest = (query: { cursor?: string; limit: number }, extra: Record<string, string> = {}): DialectRequest => {
    const request = dialect.configsRequest(query);
    return { ...request, query: { ...request.query, ...extra } };
  };
  const verifyRequest = (token: string) => dialect.verifyRequest(token);

  const point = async (id: string, title: string, check: () => Promise<Finding>) => {
    let finding: Finding;
    try {
      finding = await check();
    } catch (error) {
      finding = fail(`request failed: ${isMultiTenantError(error) ? `${error.code}: ${error.message}` : String(error)}`);
    }
    points.push({ id, title, status: finding.status, reason: redactText(finding.reason, secrets) });
  };

  // --- where the routes are, and whether the service token gets through -------------------------------
  // A path that cannot exist shows how this server answers a missing route (and whether a middleware
  // answers 401 to everything before any route is reached).
  const probePath = `${dialect.pathPrefix}/openclaw/gateway/openclaw-mt-check-${randomBytes(6).toString('hex')}`;
  let probe: CloudResponse | undefined;
  let probeAnonymous: CloudResponse | undefined;
  let configsProbe: CloudResponse | undefined;
  let verifyProbe: CloudResponse | undefined;
  let validProbe: CloudResponse | undefined;
  let reachError: string | undefined;
  const verifyAuthed = verifyRequest(baitToken(dialect)).serviceAuth;
  try {
    probe = await send({ method: 'GET', path: probePath, serviceAuth: true });
    probeAnonymous = await send({ method: 'GET', path: probePath, serviceAuth: false });
    configsProbe = await send(configsRequest({ limit: 1 }));
    verifyProbe = await send(verifyRequest(baitToken(dialect)));
    if (options.token !== undefined) validProbe = await send(verifyRequest(options.token));
  } catch (error) {
    reachError = isMultiTenantError(error) ? `${error.code}: ${error.message}` : String(error);
  }
  // A 404 like the one a nonexistent path gets (asked with the same credentials) is a missing route.
  const missing = (response: CloudResponse | undefined, authed: boolean): boolean => {
    const baseline = authed ? probe : probeAnonymous;
    return (
      response !== undefined &&
      response.status === 404 &&
      errorCodeOf(response.body) !== 'TOKEN_INVALID' &&
      (baseline === undefined || (baseline.status === 404 && errorCodeOf(baseline.body) === errorCodeOf(response.body)))
    );
  };
  const configsMissing = missing(configsProbe, true);
  // A valid token that verifies proves the route, whatever an unknown one gets.
  const verifyMissing = missing(verifyProbe, verifyAuthed) && !(validProbe !== undefined && envelopeStatus(validProbe) === 200);
  // A middleware answering 401 even where no route exists refuses before any route sees the token.
  const blanket401 = probe !== undefined && (probe.status === 401 || probe.status === 403);
  const refused = configsProbe !== undefined && (configsProbe.status === 401 || configsProbe.status === 403);

  if (!fba && [probe, configsProbe, verifyProbe].some((response) => response !== undefined && looksLikeFba(response.body))) {
    hints.push(
      'This looks like the original fork\'s backend (it answers in a { code, msg, data } envelope): check it with --dialect fba (cloud.dialect "fba").',
    );
  }

  await point('routes.exist', `The ${dialect.name} routes answer under ${base}`, async () => {
    if (reachError !== undefined) return fail(`the backend cannot be reached: ${reachError}`);
    const gone = [configsMissing ? dialect.routes.configs : undefined, verifyMissing ? dialect.routes.verify : undefined].filter(
      (route): route is string => route !== undefined,
    );
    if (gone.length === 0) {
      // A 401 that a nonexistent path gets too proves nothing about the routes.
      const opaque = (response: CloudResponse | undefined, authed: boolean) => {
        const baseline = authed ? probe : probeAnonymous;
        return (
          response !== undefined && baseline !== undefined && [401, 403].includes(response.status) && response.status === baseline.status
        );
      };
      if (opaque(configsProbe, true) && (opaque(verifyProbe, verifyAuthed) || !verifyAuthed)) {
        return skip(
          'cannot tell: the server refuses every request before routing, even for a path that does not exist (see service-token.accepted)',
        );
      }
      return pass(`${dialect.routes.verify} and ${dialect.routes.configs} exist`);
    }
    const found = await locateRoutes();
    const only =
      gone.length === 1 && verifyMissing && !fba
        ? ' (if it exists, answer an unknown token with 404 TOKEN_INVALID or 401 so the two can be told apart)'
        : '';
    return fail(
      `${gone.join(' and ')} answered 404 exactly like a path that does not exist: ${gone.length === 2 ? 'the routes are' : 'the route is'} missing here${found ? `; ${found}` : ' (check the URL, cloud.pathPrefix and cloud.dialect)'}${only}`,
    );
  });
  const unreachable = reachError !== undefined;
  const dependsOnRoutes = (route: 'verify' | 'configs'): Finding | undefined => {
    if (unreachable) return skip('the backend cannot be reached (see routes.exist)');
    if (route === 'configs' ? configsMissing : verifyMissing) return skip(`${dialect.routes[route]} is missing (see routes.exist)`);
    return undefined;
  };

  await point('service-token.accepted', 'The service token is accepted (GET configs answers 200)', async () => {
    const blocked = dependsOnRoutes('configs');
    if (blocked) return blocked;
    const response = configsProbe!;
    if (response.status === 200 || response.status === 304) return pass(`GET configs answered ${response.status}`);
    if (!refused) return fail(`GET configs answered ${response.status}${describeBody(response)}; expected 200`);
    if (blanket401 && probeAnonymous !== undefined && (probeAnonymous.status === 401 || probeAnonymous.status === 403)) {
      hints.push(
        'An authentication middleware answers 401 to every request, even for paths that do not exist: let the gateway routes through it.',
      );
    }
    if (fba) {
      hints.push(
        `Add ${dialect.pathPrefix}/openclaw/gateway/configs to the backend's TOKEN_REQUEST_PATH_EXCLUDE: its JWT middleware refuses any bearer that is not a JWT, the service token included.`,
      );
      return fail(
        `GET configs answered ${response.status}${describeBody(response)}: the backend refuses the service token given to the checker — wrong token, or its JWT middleware (which refuses non-JWT bearers unless the path is allow-listed)`,
      );
    }
    return fail(
      `GET configs answered ${response.status}${describeBody(response)}: the backend refuses the service token given to the checker${blanket401 ? ' — and answers 401 even for a path that does not exist, so an authentication middleware in front of the routes refuses it' : ''}; the points that need it are skipped`,
    );
  });
  const dependsOnService = (route: 'verify' | 'configs'): Finding | undefined => {
    const blocked = dependsOnRoutes(route);
    if (blocked) return blocked;
    if (refused) return skip('the service token is refused (see service-token.accepted)');
    return undefined;
  };

  await point('service-token.required', 'Gateway endpoints answer 401 without a service token', async () => {
    const blocked = dependsOnService('configs');
    if (blocked) return blocked;
    const configs = await send(configsRequest({ limit: 1 }), null);
    const checks: Array<[string, CloudResponse, number[]]> = [['GET configs without Authorization', configs, [401, 403]]];
    if (!fba && !verifyMissing) {
      checks.push(['POST verify without Authorization', await send(verifyRequest(baitToken(dialect)), null), [401, 403]]);
    }
    const found = expectStatuses(checks);
    if (fba && found.status === 'pass') return pass(`${found.reason}; note: the fork's verify-token takes no service token at all`);
    return found;
  });

  await point('service-token.checked', 'Gateway endpoints answer 401 to a wrong service token', async () => {
    const blocked = dependsOnService('configs');
    if (blocked) return blocked;
    const wrong = `wrong-${randomBytes(12).toString('hex')}`;
    const checks: Array<[string, CloudResponse, number[]]> = [
      ['GET configs with a wrong service token', await send(configsRequest({ limit: 1 }), wrong), [401, 403]],
    ];
    if (!fba && !verifyMissing) {
      checks.push(['POST verify with a wrong service token', await send(verifyRequest(baitToken(dialect)), wrong), [401, 403]]);
    }
    return expectStatuses(checks);
  });

  // --- verify ---------------------------------------------------------------------------------------
  await point('verify.unknown-token', 'Verifying a well-formed but unknown token answers "invalid"', async () => {
    const blocked = fba ? dependsOnRoutes('verify') : dependsOnService('verify');
    if (blocked) return blocked;
    const response = verifyProbe!;
    const code = errorCodeOf(response.body);
    if (fba) {
      const status = envelopeStatus(response);
      if (status === 401 || status === 403) return pass(`answered ${status}`);
      return fail(`answered ${response.status}${describeBody(response)}; the fork's verify-token answers 401 to an unknown token`);
    }
    if (code === 'SERVICE_UNAUTHORIZED') return fail('answered 401 SERVICE_UNAUTHORIZED: the backend refused the service token on verify');
    if (response.status === 401 || response.status === 404) {
      return pass(
        `answered ${response.status}${code ? ` (${code})` : ''}${response.status === 404 && code !== 'TOKEN_INVALID' ? '; prefer 404 TOKEN_INVALID' : ''}`,
      );
    }
    return fail(`answered ${response.status}${describeBody(response)}; an unknown token must be 401 or 404 (definitely invalid)`);
  });

  await point('token-in-url.refused', 'A token in the URL query is refused with 400, never accepted', async () => {
    if (fba) {
      return unsupported(
        "the fork's verify-token takes the token in the URL by design: it reaches access logs and proxies. Keep those logs private and migrate to contract v1",
      );
    }
    const blocked = dependsOnService('verify') ?? dependsOnService('configs');
    if (blocked) return blocked;
    const bait = createToken();
    const verify = await send({ ...verifyRequest(createToken()), query: { token: bait } });
    const configs = await send(configsRequest({ limit: 1 }, { token: bait }));
    const problems: string[] = [];
    if (verify.status !== 400) problems.push(`POST verify?token=… answered ${verify.status}${verify.status === 200 ? ' (accepted)' : ''}`);
    if (configs.status !== 400)
      problems.push(`GET configs?token=… answered ${configs.status}${configs.status === 200 ? ' (accepted)' : ''}`);
    if (problems.length === 0) return pass('both endpoints refused a token in the query with 400');
    return fail(`${problems.join('; ')}; a token in a URL ends up in access logs and must be refused with 400`);
  });

  await point('token.format', 'The given tokens are in a format the gateway accepts', async () => {
    const given = [
      ['--token', options.token],
      ['--suspended-token', options.suspendedToken],
    ].filter((entry): entry is [string, string] => typeof entry[1] === 'string');
    if (given.length === 0) return skip('no tokens given');
    const problems = given.flatMap(([flag, token]) => {
      const problem = formatProblem(token);
      if (problem === undefined) return [];
      const format = tokenFormatOf(token);
      return [
        `${flag}: the gateway refuses it before asking the backend (TOKEN_MALFORMED: ${problem})${format === 'gw' && !formats.includes('gw') ? '; accept the fork\'s tokens with multiTenant.tokenFormats ["gt", "gw"] (or cloud.dialect "fba")' : ''}`,
      ];
    });
    if (problems.length > 0) return fail(problems.join('; '));
    return pass(`accepted formats: ${formats.map((name) => `${name}_`).join(', ')}`);
  });

  await point('verify.valid-token', 'A valid token verifies with exactly the specified fields and types', async () => {
    if (options.token === undefined) return skip('no --token given');
    const blocked = fba ? dependsOnRoutes('verify') : dependsOnService('verify');
    if (blocked) return blocked;
    const response = validProbe ?? (await send(verifyRequest(options.token)));
    if (fba) {
      const status = envelopeStatus(response);
      if (status !== 200) return fail(`answered ${status}${describeBody(response)}; expected 200 for a valid token`);
      const data = (response.body as { data?: unknown }).data;
      const problems = shapeProblems(fbaVerifySchema, data);
      if (problems.length > 0) return fail(problems.join('; '));
      const parsed = fbaVerifySchema.parse(data);
      if (parsed.status !== 'active') return fail(`status is "${parsed.status}"; expected "active" for the given token`);
      const extra = data as Record<string, unknown>;
      return pass(
        `user_id, status "active"${extra.openclaw_config !== undefined ? ', openclaw_config' : ''}${typeof extra.llm_api_key === 'string' && extra.llm_api_key !== '' ? ', llm_api_key (kept as a tenant secret)' : ''}`,
      );
    }
    if (response.status !== 200) return fail(`answered ${response.status}${describeBody(response)}; expected 200 for a valid token`);
    const problems = shapeProblems(verifyResponseSchema, response.body);
    if (problems.length > 0) return fail(problems.join('; '));
    const answer = verifyResponseSchema.parse(response.body);
    if (answer.status !== 'active') return fail(`status is "${answer.status}"; expected "active" for the given token`);
    return pass(
      `userId, status "active"${answer.expiresAt != null ? ', expiresAt' : ''}${answer.configVersion !== undefined ? ', configVersion' : ''}`,
    );
  });

  await point('verify.suspended-token', "A suspended user's token does not verify as active", async () => {
    if (options.suspendedToken === undefined) return skip('no --suspended-token given');
    const blocked = fba ? dependsOnRoutes('verify') : dependsOnService('verify');
    if (blocked) return blocked;
    const response = await send(verifyRequest(options.suspendedToken));
    const status = fba ? envelopeStatus(response) : response.status;
    if (!fba && errorCodeOf(response.body) === 'SERVICE_UNAUTHORIZED')
      return fail('answered 401 SERVICE_UNAUTHORIZED: that is the service token refused, not the user');
    if ([401, 403, 404].includes(status)) return pass(`answered ${status}`);
    if (status !== 200) return fail(`answered ${response.status}${describeBody(response)}`);
    const body = fba ? (response.body as { data?: unknown }).data : response.body;
    const shown = (body as { status?: unknown } | undefined)?.status;
    if (shown === 'suspended' || (fba && shown !== 'active')) return pass(`status "${String(shown)}"`);
    return fail(`status is "${String(shown)}"; a suspended user's token must answer status "suspended" (or 401/403/404)`);
  });

  // --- configs ----------------------------------------------------------------------------------------
  await point('configs.field-names', 'A configs page has exactly the specified fields and types', async () => {
    const blocked = dependsOnService('configs');
    if (blocked) return blocked;
    const response = await send(configsRequest({ limit: smallLimit }));
    const status = fba ? envelopeStatus(response) : response.status;
    if (status !== 200) return fail(`answered ${response.status}${describeBody(response)}; expected 200`);
    if (fba) {
      const data = unwrapFba(response.body);
      const problems = shapeProblems(fbaPageSchema, data, 'snake');
      if (problems.length > 0) return fail(problems.join('; '));
      const users = fbaPageSchema.parse(data).users.length;
      return pass(`users (${users} checked: user_id, status, updated_at), has_more, next_cursor, in the { code, msg, data } envelope`);
    }
    const problems = shapeProblems(configsPageSchema, response.body);
    if (problems.length > 0) return fail(problems.join('; '));
    const firstPage = configsPageSchema.parse(response.body);
    if (firstPage.users.length === 0) return pass('users, nextCursor, hasMore (the feed is empty: no user entries to check)');
    return pass(`users (${firstPage.users.length} checked: userId, status, config, version, updatedAt), nextCursor, hasMore`);
  });

  const walk = dependsOnService('configs') ?? (await walkFeed());
  const fromWalk = (key: 'advances' | 'terminates' | 'consistent' | 'tokens') => ('status' in walk ? walk : (walk as WalkResult)[key]);

  await point('configs.token-events', 'Token events (v1.1) in the feed have the specified fields', async () => {
    if (fba)
      return unsupported(
        "the fork's feed carries no token events: a revoked token is refused at its next verify (after the auth cache TTL)",
      );
    return fromWalk('tokens');
  });
  await point('configs.status-changes', 'Suspensions and deletions appear in the feed', async () => {
    if (fba) {
      return unsupported(
        "the fork's feed lists only active users: the gateway walks it whole each sync and refuses users it no longer lists; verify decides at connect",
      );
    }
    return skip('checked by a suspension in the backend: run the end-to-end test, or suspend a test user and watch the feed');
  });
  await point('configs.versions', 'Every user entry carries an increasing version', async () => {
    if (fba) return unsupported("the fork's feed has no versions: updated_at (to the microsecond) stands in");
    return 'status' in walk ? walk : pass('every entry carries a positive integer version (see configs.field-names)');
  });
  await point('configs.cursor-advances', 'Every page with more to come returns a new cursor', async () => fromWalk('advances'));
  await point('configs.pagination-terminates', `Following the cursor reaches the end within ${maxPages} pages`, async () =>
    fromWalk('terminates'),
  );
  await point('configs.has-more-consistent', 'The page size is honoured and no empty page says there is more', async () =>
    fromWalk('consistent'),
  );

  await point('configs.etag', 'The feed sends an ETag and answers 304 to If-None-Match when nothing changed', async () => {
    if (fba) return unsupported("the fork's feed has no ETag: every poll downloads its pages");
    const blocked = dependsOnService('configs');
    if (blocked) return blocked;
    const finalCursor = 'status' in walk ? undefined : walk.finalCursor;
    if (finalCursor === undefined) return skip('the feed could not be followed to its end');
    const query = { cursor: finalCursor, limit: LARGE_PAGE_LIMIT };
    const first = await send(configsRequest(query));
    if (first.status !== 200) return fail(`re-reading the end of the feed answered ${first.status}`);
    const etag = first.headers.get('etag');
    if (etag === null) return skip('no ETag header: gateways will download a page on every poll (If-None-Match unsupported)');
    const second = await send({ ...configsRequest(query), headers: { 'if-none-match': etag } });
    if (second.status === 304) return pass('304 Not Modified for an unchanged feed');
    return fail(`answered ${second.status} to If-None-Match with the ETag it just sent; expected 304`);
  });

  await point('configs.bad-cursor', 'A cursor the backend never issued is refused with 400', async () => {
    const blocked = dependsOnService('configs');
    if (blocked) return blocked;
    const response = await send(configsRequest({ cursor: fba ? 'not-a-row-id' : '%%not-a-cursor%%', limit: 1 }));
    const status = fba ? envelopeStatus(response) : response.status;
    if (status === 400) return pass('answered 400');
    if (fba && status >= 500)
      return unsupported(`answered ${status}: the fork fails on a cursor it did not issue (gateways only ever send cursors it issued)`);
    return fail(
      `answered ${response.status}; an unknown cursor must be 400 (CURSOR_INVALID) so gateways can restart the feed instead of silently skipping or repeating changes`,
    );
  });

  await point('push', 'Signed pushes (v1.1) reach the gateway', async () => {
    if (fba) return unsupported("the fork's backend sends no pushes: revocations and suspensions wait for a verify or the next sync");
    return skip('pushes go from the backend to the gateway: configure cloud.push on the gateway and watch `stats`');
  });

  const summary = {
    passed: points.filter((p) => p.status === 'pass').length,
    failed: points.filter((p) => p.status === 'fail').length,
    skipped: points.filter((p) => p.status === 'skipped').length,
    unsupported: points.filter((p) => p.status === 'unsupported').length,
  };
  return {
    ok: summary.failed === 0,
    url: base,
    dialect: dialect.name,
    contractVersion: CLOUD_CONTRACT_VERSION,
    points,
    summary,
    hints: [...new Set(hints)].map((hint) => redactText(hint, secrets)),
  };

  /** Looks for the routes under other prefixes and in the other dialect; returns what to change, if found. */
  async function locateRoutes(): Promise<string | undefined> {
    const url = new URL(base);
    const roots = new Set<string>();
    for (const prefix of COMMON_PREFIXES) {
      if (url.pathname.endsWith(prefix)) roots.add(base.slice(0, -prefix.length));
      roots.add(base + prefix);
    }
    const other = resolveCloudDialect(fba ? 'v1' : 'fba');
    const otherHint = `this looks like the ${other.name === 'fba' ? "original fork's backend" : 'v1 contract'}: check it with --dialect ${other.name} (cloud.dialect "${other.name}")`;
    try {
      for (const root of roots) {
        // Asked like the real route, and told apart from how this server answers a path that does not exist.
        const response = await sendTo(root, configsRequest({ limit: 1 }));
        const status = fba ? envelopeStatus(response) : response.status;
        if (status === 200 || status === 304 || (status !== 404 && status !== probe?.status)) {
          const hint = `the routes answer at ${root}: set cloudBackendUrl to it (or cloud.pathPrefix)`;
          hints.push(hint);
          return hint;
        }
      }
      if (other.name === 'fba') {
        // The fork answers in its own envelope, even a request it refuses.
        const response = await sendTo(base, { ...other.verifyRequest(''), query: {} }, null);
        if (looksLikeFba(response.body) && envelopeStatus(response) !== 404) {
          hints.push(otherHint);
          return otherHint;
        }
      } else {
        const response = await sendTo(base, other.configsRequest({ limit: 1 }));
        if (response.status === 200 || response.status === 304) {
          hints.push(otherHint);
          return otherHint;
        }
      }
    } catch {
      // No better guess.
    }
    return undefined;
  }

  async function walkFeed(): Promise<WalkResult> {
    const requested = new Set<string>();
    const inconsistencies: string[] = [];
    const tokenProblems: string[] = [];
    let tokenEvents = 0;
    let cursor: string | undefined;
    let users = 0;
    let pages = 0;
    let advancedPages = 0;
    const tokensVerdict = (): Finding =>
      tokenProblems.length > 0
        ? fail(tokenProblems.slice(0, 3).join('; '))
        : tokenEvents > 0
          ? pass(`${tokenEvents} token events checked`)
          : skip('the feed carries no token events (v1.1): revocations reach open sockets only by pushes, or at the next verify');
    try {
      for (;;) {
        if (pages >= maxPages) {
          const reason = `still more after ${pages} pages (${users} users); the feed never ends`;
          return {
            advances: advancedPages > 0 ? pass(`advanced ${advancedPages} times`) : fail(reason),
            terminates: fail(reason),
            consistent: verdict(),
            tokens: tokensVerdict(),
            finalCursor: undefined,
          };
        }
        const limit = pages < SMALL_PAGES ? smallLimit : LARGE_PAGE_LIMIT;
        const response = await send(configsRequest({ ...(cursor === undefined ? {} : { cursor }), limit }));
        pages++;
        const status = fba ? envelopeStatus(response) : response.status;
        if (status !== 200) {
          const reason = `page ${pages} answered ${response.status}${describeBody(response)}`;
          return feedUnreadable(reason);
        }
        let page: { users: unknown[]; tokens: unknown[]; nextCursor: string | undefined; hasMore: boolean };
        if (fba) {
          const parsed = fbaPageSchema.safeParse(unwrapFba(response.body));
          if (!parsed.success) {
            const reason = `cannot follow the feed: page ${pages} breaks the schema (${shapeProblems(fbaPageSchema, unwrapFba(response.body), 'snake')[0] ?? 'see configs.field-names'})`;
            return feedUnreadable(reason);
          }
          const next = parsed.data.next_cursor;
          page = {
            users: parsed.data.users,
            tokens: [],
            nextCursor: next === null || next === undefined || next === '' ? undefined : String(next),
            hasMore: parsed.data.has_more,
          };
        } else {
          const parsed = configsPageSchema.safeParse(response.body);
          if (!parsed.success) {
            const reason = `cannot follow the feed: page ${pages} breaks the schema (${shapeProblems(configsPageSchema, response.body)[0] ?? 'see configs.field-names'})`;
            return feedUnreadable(reason);
          }
          const rawTokens = (response.body as { tokens?: unknown }).tokens;
          page = {
            users: parsed.data.users,
            tokens: Array.isArray(rawTokens) ? rawTokens : [],
            nextCursor: parsed.data.nextCursor,
            hasMore: parsed.data.hasMore,
          };
        }
        for (const event of page.tokens) {
          tokenEvents++;
          const problems = shapeProblems(tokenEventSchema, event);
          if (problems.length > 0) tokenProblems.push(`tokens[]: ${problems[0]}`);
        }
        users += page.users.length;
        const entries = page.users.length + page.tokens.length;
        if (entries > limit) inconsistencies.push(`page ${pages} has ${entries} entries for limit=${limit}`);
        requested.add(cursor ?? '');
        if (!page.hasMore) {
          return {
            advances:
              pages > 1
                ? pass(`the cursor advanced on each of ${pages - 1} pages with more to come`)
                : skip(`the feed fits in one page of ${limit} (${users} users): nothing to advance`),
            terminates: pass(`reached the end after ${pages} pages and ${users} users`),
            consistent: verdict(),
            tokens: tokensVerdict(),
            finalCursor: page.nextCursor,
          };
        }
        if (entries === 0) inconsistencies.push(`page ${pages} says there is more but has no entries`);
        if (page.nextCursor === undefined || requested.has(page.nextCursor)) {
          const reason = `page ${pages} returned ${page.nextCursor === undefined ? 'no cursor' : page.nextCursor === (cursor ?? '') ? 'the cursor it was asked for' : 'a cursor it had returned before'} while saying there is more; a client would loop forever`;
          return {
            advances: fail(reason),
            terminates: fail(`pagination does not terminate: ${reason}`),
            consistent: verdict(),
            tokens: tokensVerdict(),
            finalCursor: undefined,
          };
        }
        advancedPages++;
        cursor = page.nextCursor;
      }
    } catch (error) {
      const reason = `request failed: ${isMultiTenantError(error) ? `${error.code}: ${error.message}` : String(error)}`;
      return feedUnreadable(reason);
    }

    function verdict(): Finding {
      return inconsistencies.length === 0 ? pass(`${pages} pages checked`) : fail(inconsistencies.slice(0, 3).join('; '));
    }
  }
}

interface WalkResult {
  advances: Finding;
  terminates: Finding;
  consistent: Finding;
  tokens: Finding;
  finalCursor: string | undefined;
}

/** The fork's envelope `code` when it differs from a 200 HTTP status, else the HTTP status. */
function envelopeStatus(response: CloudResponse): number {
  const code = (response.body as { code?: unknown } | undefined)?.code;
  return response.status === 200 && typeof code === 'number' && code !== 200 ? code : response.status;
}

/** Whether a body is the fork's `{ code, msg, data }` envelope. */
function looksLikeFba(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const record = body as Record<string, unknown>;
  return typeof record.code === 'number' && typeof record.msg === 'string' && 'data' in record;
}

function unwrapFba(body: unknown): unknown {
  return typeof body === 'object' && body !== null && 'data' in body && 'code' in body ? (body as { data: unknown }).data : body;
}

function expectStatuses(checks: Array<[string, CloudResponse, number[]]>): Finding {
  const wrong = checks.filter(([, response, expected]) => !expected.includes(response.status));
  if (wrong.length === 0) return pass(checks.map(([what, response]) => `${what}: ${response.status}`).join('; '));
  return fail(
    wrong.map(([what, response, expected]) => `${what} answered ${response.status}, expected ${expected.join(' or ')}`).join('; '),
  );
}

function describeBody(response: CloudResponse): string {
  const code = errorCodeOf(response.body);
  if (code !== undefined) return ` (${code.slice(0, 100)})`;
  const msg = (response.body as { msg?: unknown } | undefined)?.msg;
  return typeof msg === 'string' ? ` (${msg.slice(0, 100)})` : '';
}

/**
 * Schema problems by field path, with a hint when a required field is present under another spelling
 * (`userId` missing, `user_id` found): the seed's reference client and backend disagreed exactly so.
 */
export function shapeProblems(schema: z.ZodType, body: unknown, spelling: 'camel' | 'snake' = 'camel'): string[] {
  const parsed = schema.safeParse(body);
  if (parsed.success) return [];
  const problems = new Set<string>();
  for (const issue of parsed.error.issues) {
    if (problems.size >= 8) break;
    const path = issue.path.map(String);
    // `users[].userId` once, rather than once per user.
    const where =
      path.length === 0
        ? 'body'
        : path
            .map((key) => (/^\d+$/.test(key) ? '[]' : `.${key}`))
            .join('')
            .replace(/^\./, '');
    const parent = valueAt(body, path.slice(0, -1));
    const key = path.at(-1);
    if (key !== undefined && isRecord(parent) && !Object.hasOwn(parent, key)) {
      const alias = Object.keys(parent).find((candidate) => candidate !== key && normalise(candidate) === normalise(key));
      problems.add(
        alias === undefined
          ? `field ${where} is missing`
          : `field ${where} is missing (found "${alias}": field names are ${spelling === 'camel' ? 'camelCase' : 'snake_case'} exactly as specified)`,
      );
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
