import { afterEach, describe, expect, test } from 'vitest';
import { type CheckReport, checkCloudBackend } from '@openclaw-mt/core';
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

async function check(variant: StubVariant = {}) {
  const { stub, token, suspendedToken } = await stubWith(variant);
  const report = await checkCloudBackend({ url: stub.url, serviceToken: stub.serviceToken, token, suspendedToken });
  const shown = JSON.stringify(report);
  for (const secret of [token, suspendedToken, stub.serviceToken]) expect(shown).not.toContain(secret);
  for (const request of stub.requests) {
    expect(request.url).not.toContain(token);
    expect(request.url).not.toContain(suspendedToken);
  }
  return { report, points: byId(report), stub };
}

describe('checkCloudBackend against stubs', () => {
  test('a conforming stub passes every point', async () => {
    const { report } = await check();
    expect(report.points.filter((point) => point.status !== 'pass')).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.summary).toEqual({ passed: report.points.length, failed: 0, skipped: 0 });
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
    expect(report.ok).toBe(false);
    expect(points['token-in-url.refused']).toMatchObject({ status: 'fail' });
    expect(points['token-in-url.refused']!.reason).toContain('POST verify?token=… answered');
    expect(report.points.filter((point) => point.status === 'fail').map((point) => point.id)).toEqual(['token-in-url.refused']);
  });

  test('no ETag is reported as skipped, not failed; points without tokens are skipped with a reason', async () => {
    const { stub } = await stubWith({ noEtag: true });
    const report = await checkCloudBackend({ url: stub.url, serviceToken: stub.serviceToken });
    const points = byId(report);
    expect(points['configs.etag']).toMatchObject({ status: 'skipped', reason: expect.stringContaining('no ETag') });
    expect(points['verify.valid-token']).toMatchObject({ status: 'skipped', reason: 'no --token given' });
    expect(points['verify.suspended-token']!.status).toBe('skipped');
    expect(report.ok).toBe(true);
  });

  test('a wrong service token, an unreachable backend: every point fails with a reason', async () => {
    const { stub, token } = await stubWith();
    const wrong = await checkCloudBackend({ url: stub.url, serviceToken: 'not-the-service-token', token });
    expect(wrong.ok).toBe(false);
    expect(byId(wrong)['verify.valid-token']!.status).toBe('fail');
    expect(byId(wrong)['verify.unknown-token']).toMatchObject({ status: 'fail', reason: expect.stringContaining('rejected the service token') });
    await stub.close();
    const down = await checkCloudBackend({ url: stub.url, serviceToken: stub.serviceToken, timeoutMs: 500 });
    expect(down.ok).toBe(false);
    expect(down.points.every((point) => point.status !== 'pass')).toBe(true);
    expect(byId(down)['service-token.required']!.reason).toContain('BACKEND_UNAVAILABLE');
  });
});
