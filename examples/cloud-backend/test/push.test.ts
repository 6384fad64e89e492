import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { PUSH_SIGNATURE_HEADER, pushEventSchema, verifyPushSignature } from '@openclaw-mt/core/cloud';
import { SECRETS, startBackend } from './helpers.js';

const PUSH_SECRET = 'push-secret-for-tests-0123456789-abcdef';
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A gateway stand-in that checks each push's signature and records it; `answers` scripts its statuses. */
async function receiver(answers: number[] = []) {
  const received: Array<{ valid: boolean; body: ReturnType<typeof pushEventSchema.parse> }> = [];
  const attempts: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const status = answers.shift() ?? 200;
      attempts.push(status);
      if (status === 200) {
        const verdict = verifyPushSignature({
          header: req.headers[PUSH_SIGNATURE_HEADER] as string,
          body,
          secrets: [PUSH_SECRET],
          nowMs: Date.now(),
        });
        received.push({ valid: verdict.ok, body: pushEventSchema.parse(JSON.parse(body)) });
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/cloud-events`, received, attempts };
}

const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

describe('token events (v1.1) and signed pushes', () => {
  test('revocation, rotation, suspension and deletion are in the feed and pushed, signed, to every target', async () => {
    const [first, second] = [await receiver(), await receiver()];
    const env = await startBackend({ push: { secrets: [PUSH_SECRET], targets: [first.url, second.url] } });
    cleanups.push(() => env.close());
    const { api } = env;
    const alice = await api.register('alice@example.com');
    const kept = await api.issueToken(alice.session);
    const revoked = await api.issueToken(alice.session);
    expect((await api.revokeToken(alice.session, revoked.tokenId)).status).toBe(204);
    const rotated = await api.call('POST', `/openclaw/gateway/tokens/${kept.tokenId}/rotate`, {
      bearer: alice.session,
      body: { graceSeconds: 60 },
    });
    expect(rotated.status).toBe(201);
    expect((await api.admin('suspend', alice.userId)).status).toBe(200);
    await env.backend.push!.idle();

    for (const target of [first, second]) {
      expect(target.received.every((push) => push.valid)).toBe(true);
      const tokens = target.received.flatMap((push) => push.body.tokens ?? []);
      expect(tokens.map((event) => [event.type, event.tokenHash])).toEqual([
        ['revoked', sha256(revoked.token)],
        ['rotated', sha256(kept.token)],
      ]);
      expect(tokens[1]!.expiresAt).toBeGreaterThan(Date.now());
      const users = target.received.flatMap((push) => push.body.users ?? []);
      expect(users.at(-1)).toMatchObject({ userId: alice.userId, status: 'suspended' });
      // One event id per change; ids never repeat.
      const ids = target.received.map((push) => push.body.id);
      expect(new Set(ids).size).toBe(ids.length);
    }

    // The feed carries the same: users and token events in one change order.
    const feed = await api.configs('?limit=1000');
    expect(feed.body.tokens?.map((event) => event.type)).toEqual(['revoked', 'rotated']);
    expect(JSON.stringify(feed.body)).not.toContain(revoked.token);

    // Deleting a user revokes every token it still has: one event each.
    const bob = await api.register('bob@example.com');
    const bobToken = await api.issueToken(bob.session);
    const deleted = await api.call('DELETE', `/admin/users/${bob.userId}`, { bearer: SECRETS.adminToken });
    expect(deleted.status).toBe(200);
    await env.backend.push!.idle();
    expect(first.received.flatMap((push) => push.body.tokens ?? []).at(-1)).toMatchObject({
      type: 'revoked',
      tokenHash: sha256(bobToken.token),
      userId: bob.userId,
    });
    for (const line of env.log.lines) expect(line).not.toContain(PUSH_SECRET);
  });

  test('a failing target is retried with backoff; a 4xx is not retried; the feed still has the change', async () => {
    const flaky = await receiver([503, 503]);
    const refusing = await receiver([401]);
    const env = await startBackend({ push: { secrets: [PUSH_SECRET], targets: [flaky.url, refusing.url] } });
    cleanups.push(() => env.close());
    const alice = await env.api.register('alice@example.com');
    await env.api.admin('suspend', alice.userId);
    await env.backend.push!.idle();
    expect(flaky.attempts.slice(0, 3)).toEqual([503, 503, 200]);
    expect(refusing.attempts.slice(0, 1)).toEqual([401]);
    expect(env.log.lines.some((line) => line.includes('refused with 401; not retried'))).toBe(true);
  });
});
