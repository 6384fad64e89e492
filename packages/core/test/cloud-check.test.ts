import { afterEach, describe, expect, test } from 'vitest';
import { type CheckReport, checkCloudBackend } from '@openclaw-mt/core/cloud';
import { type FbaBackendStub, startFbaBackendStub } from './cloud-support/fba-backend-stub.js';
import { type StubBackend, type StubVariant, startStubBackend } from './cloud-support/stub-backend.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function stubWith(variant: StubVariant = {}): Promise<{ stub: StubBackend; token: string; suspendedToken: string }> {
  const stub = await startStubBackend({ variant });
  cleanups.push(() => stub.close());
  stub.addUsers(7);
  stub.setUser('alice');
  stub.setUser('sam', { status: 'suspended' });
  return { stub, token: stub.issueToken('alice'), suspendedToken: stub.issueToken('sam') };
}

const byId = (report: CheckReport) => Object.fromEntries(report.points.map((point) => [point.id, point]));
const failed = (report: CheckReport) => report.points.filter((point) => point.status === 'fail').map((point) => point.id);

async function check(variant: StubVariant = {}, url?: (stub: StubBackend) => string) {
  const { stub, token, suspendedToken } = await stubWith(variant);
  const report = await checkCloudBackend({ url: url ? url(stub) : stub.url, serviceToken: stub.serviceToken, token, suspendedToken });
  const shown = JSON.stringify(report);
  for (const secret of [token, suspendedToken, stub.serviceToken]) expect(shown).not.toContain(secret);
  for (const request of stub.requests) {
    expect(request.url).not.toContain(token);
    expect(request.url).not.toContain(suspendedToken);
  }
  return { report, points: byId(report), stub, token };
}

describe('checkCloudBackend against stubs of contract v1', () => {
  test('a conforming stub passes every point; what only the backend can show is skipped with a reason', async () => {
    const { report, stub, token } = await check();
    expect(failed(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.points.filter((point) => point.status === 'skipped').map((point) => point.id)).toEqual([
      'configs.token-events',
      'configs.status-changes',
      'push',
    ]);
    // With a revocation in the feed, the token events are checked too.
    stub.revokeToken(token);
    const again = await checkCloudBackend({ url: stub.url, serviceToken: stub.serviceToken });
    expect(byId(again)['configs.token-events']).toMatchObject({ status: 'pass', reason: '1 token events checked' });
  });

  test('snake_case fields fail, naming the field', async () => {
    const { report, points } = await check({ snakeCase: true });
    expect(report.ok).toBe(false);
    expect(points['verify.valid-token']).toMatchObject({ status: 'fail' });
    expect(points['verify.valid-token']!.reason).toContain('userId is missing (found "user_id"');
    expect(points['configs.field-names']!.status).toBe('fail');
    expect(points['configs.field-names']!.reason).toContain('nextCursor is missing (found "next_cursor"');
    expect(points['configs.field-names']!.reason).toContain('hasMore is missing (found "has_more"');
  });

  test('a cursor that never advances fails the pagination points', async () => {
    const { report, points } = await check({ stuckCursor: true });
    expect(report.ok).toBe(false);
    expect(points['configs.cursor-advances']).toMatchObject({ status: 'fail' });
    expect(points['configs.cursor-advances']!.reason).toContain('loop forever');
    expect(points['configs.pagination-terminates']!.status).toBe('fail');
    expect(points['verify.valid-token']!.status).toBe('pass');
  });

  test('a backend that accepts a token in the URL fails token-in-url.refused', async () => {
    const { report, points } = await check({ acceptTokenInQuery: true });
    expect(points['token-in-url.refused']!.reason).toContain('POST verify?token=… answered');
    expect(failed(report)).toEqual(['token-in-url.refused']);
  });

  test('no ETag is reported as skipped, not failed; points without tokens are skipped with a reason', async () => {
    const { stub } = await stubWith({ noEtag: true });
    const report = await checkCloudBackend({ url: stub.url, serviceToken: stub.serviceToken });
    const points = byId(report);
    expect(points['configs.etag']).toMatchObject({ status: 'skipped', reason: expect.stringContaining('no ETag') });
    expect(points['verify.valid-token']).toMatchObject({ status: 'skipped', reason: 'no --token given' });
    expect(points['verify.suspended-token']!.status).toBe('skipped');
    expect(points['token.format']!.status).toBe('skipped');
    expect(report.ok).toBe(true);
  });
});

describe('no false passes', () => {
  test('a missing verify route is named as such, not passed as "unknown token"', async () => {
    const { points } = await check({ missingRoute: 'verify' });
    expect(points['routes.exist']).toMatchObject({ status: 'fail' });
    expect(points['routes.exist']!.reason).toContain('POST /openclaw/gateway/verify answered 404 exactly like a path that does not exist');
    // Without a valid token to prove the route, every verify point is skipped, never passed.
    for (const id of ['verify.unknown-token', 'verify.suspended-token']) expect(points[id]!.status).not.toBe('pass');
    expect(points['configs.field-names']!.status).toBe('pass');
  });

  test('a missing configs route is named, and the config points are skipped', async () => {
    const { report, points } = await check({ missingRoute: 'configs' });
    expect(failed(report)).toEqual(['routes.exist']);
    expect(points['routes.exist']!.reason).toContain('GET /openclaw/gateway/configs answered 404');
    expect(points['configs.pagination-terminates']).toMatchObject({ status: 'skipped', reason: expect.stringContaining('is missing') });
  });

  test('a blanket 401 from an auth middleware is one failure that says so; nothing passes on a 401', async () => {
    const { report, points } = await check({ blanketAuth: true });
    expect(failed(report)).toEqual(['service-token.accepted']);
    expect(points['service-token.accepted']!.reason).toContain('refuses the service token given to the checker');
    expect(points['service-token.accepted']!.reason).toContain('a path that does not exist');
    // Only the local format check passes; nothing passes on a 401.
    expect(report.points.filter((point) => point.status === 'pass').map((point) => point.id)).toEqual(['token.format']);
    for (const id of ['service-token.checked', 'service-token.required', 'verify.unknown-token', 'verify.suspended-token']) {
      expect(points[id]).toMatchObject({ status: 'skipped', reason: expect.stringContaining('service token is refused') });
    }
    expect(report.hints.join(' ')).toContain('authentication middleware');
  });

  test('a wrong service token is one failure that says so, not six', async () => {
    const { stub, token } = await stubWith();
    const report = await checkCloudBackend({ url: stub.url, serviceToken: 'not-the-service-token-0000', token });
    expect(failed(report)).toEqual(['service-token.accepted']);
    expect(byId(report)['service-token.accepted']!.reason).toContain('refuses the service token given to the checker');
  });

  test('a wrong path prefix is named, with where the routes really are', async () => {
    const { report, points } = await check({ prefix: '/api/v1' });
    expect(failed(report)).toEqual(['routes.exist']);
    expect(points['routes.exist']!.reason).toContain('the routes are missing here');
    expect(points['routes.exist']!.reason).toMatch(/the routes answer at http:\/\/127\.0\.0\.1:\d+\/api\/v1/);
    // Pointed at the right place, the same backend passes.
    const { stub } = await stubWith({ prefix: '/api/v1' });
    expect((await checkCloudBackend({ url: `${stub.url}/api/v1`, serviceToken: stub.serviceToken })).ok).toBe(true);
  });

  test('a gw_ token the backend accepts fails while the gateway would refuse it; accepted once the format is enabled', async () => {
    const { stub } = await stubWith();
    const token = stub.issueToken('alice', { format: 'gw' });
    const refused = await checkCloudBackend({ url: stub.url, serviceToken: stub.serviceToken, token });
    expect(refused.ok).toBe(false);
    expect(byId(refused)['token.format']).toMatchObject({ status: 'fail' });
    expect(byId(refused)['token.format']!.reason).toContain('the gateway refuses it before asking the backend');
    expect(byId(refused)['token.format']!.reason).toContain('tokenFormats');
    expect(byId(refused)['verify.valid-token']!.status).toBe('pass');
    const accepted = await checkCloudBackend({ url: stub.url, serviceToken: stub.serviceToken, token, tokenFormats: ['gt', 'gw'] });
    expect(accepted.ok).toBe(true);
    expect(JSON.stringify(accepted)).not.toContain(token);
  });

  test('an unreachable backend: one failure, everything else skipped', async () => {
    const { stub } = await stubWith();
    await stub.close();
    const down = await checkCloudBackend({ url: stub.url, serviceToken: stub.serviceToken, timeoutMs: 500 });
    expect(failed(down)).toEqual(['routes.exist']);
    expect(byId(down)['routes.exist']!.reason).toContain('BACKEND_UNAVAILABLE');
    expect(down.points.every((point) => point.status !== 'pass')).toBe(true);
  });
});

describe('--dialect fba against a stub of the original fork’s backend', () => {
  async function fbaStub(options: { allowConfigs?: boolean } = {}): Promise<FbaBackendStub> {
    const stub = await startFbaBackendStub(options);
    cleanups.push(() => stub.close());
    for (let i = 0; i < 5; i++) stub.addUser(`u${i}`, { config: { n: i } });
    stub.addUser('alice', { llmApiKey: 'sk-alice-secret-key-0123456789', llmApiBaseUrl: 'https://llm.example.com/v1' });
    stub.addUser('sam', { status: 'suspended' });
    return stub;
  }

  test('names what works and what that backend cannot do; its gw_ tokens are accepted', async () => {
    const stub = await fbaStub();
    const token = stub.issueToken('alice');
    const suspendedToken = stub.issueToken('sam');
    const report = await checkCloudBackend({ url: stub.url, serviceToken: stub.serviceToken, dialect: 'fba', token, suspendedToken });
    const points = byId(report);
    expect(failed(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.dialect).toBe('fba');
    for (const id of [
      'routes.exist',
      'service-token.accepted',
      'verify.unknown-token',
      'token.format',
      'verify.valid-token',
      'verify.suspended-token',
    ]) {
      expect(points[id]!.status, id).toBe('pass');
    }
    expect(points['configs.field-names']!.reason).toContain('user_id, status, updated_at');
    expect(points['verify.valid-token']!.reason).toContain('llm_api_key (kept as a tenant secret)');
    expect(
      report.points
        .filter((point) => point.status === 'unsupported')
        .map((point) => point.id)
        .sort(),
    ).toEqual([
      'configs.bad-cursor',
      'configs.etag',
      'configs.status-changes',
      'configs.token-events',
      'configs.versions',
      'push',
      'token-in-url.refused',
    ]);
    expect(points['token-in-url.refused']!.reason).toContain('takes the token in the URL by design');
    expect(points['configs.bad-cursor']!.reason).toContain('answered 500');
    const shown = JSON.stringify(report);
    for (const secret of [token, suspendedToken, stub.serviceToken, 'sk-alice-secret-key-0123456789']) expect(shown).not.toContain(secret);
  });

  test('its JWT middleware refusing the service token is one failure with the allow-list fix', async () => {
    const stub = await fbaStub({ allowConfigs: false });
    const report = await checkCloudBackend({
      url: stub.url,
      serviceToken: stub.serviceToken,
      dialect: 'fba',
      token: stub.issueToken('alice'),
    });
    expect(failed(report)).toEqual(['service-token.accepted']);
    expect(byId(report)['service-token.accepted']!.reason).toContain('JWT middleware');
    expect(report.hints.join(' ')).toContain("/api/v1/openclaw/gateway/configs to the backend's TOKEN_REQUEST_PATH_EXCLUDE");
    // Verify needs no service token, so it is still checked.
    expect(byId(report)['verify.valid-token']!.status).toBe('pass');
  });

  test('checked in the v1 dialect, the fork is recognised by its envelope: one failure and a hint to --dialect fba', async () => {
    const stub = await fbaStub();
    const report = await checkCloudBackend({ url: stub.url, serviceToken: stub.serviceToken });
    // Its JWT middleware answers every v1 request with 401 before any route: nothing passes on that.
    expect(failed(report)).toEqual(['service-token.accepted']);
    expect(report.points.filter((point) => point.status === 'pass').map((point) => point.id)).toEqual([]);
    expect(byId(report)['routes.exist']).toMatchObject({ status: 'skipped', reason: expect.stringContaining('cannot tell') });
    expect(report.hints.join(' ')).toContain('--dialect fba');
  });
});
