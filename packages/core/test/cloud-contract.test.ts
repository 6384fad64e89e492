import { readFile, writeFile } from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { cloudContractJsonSchema, configUserSchema, configsPageSchema, verifyResponseSchema } from '@openclaw-mt/core/cloud';
import { isValidTenantId } from '@openclaw-mt/core/contracts';

const SCHEMA_FILE = new URL('../../../docs/cloud-backend-api.schema.json', import.meta.url);
const DOC_FILE = new URL('../../../docs/cloud-backend-api.md', import.meta.url);

describe('wire contract v1.1', () => {
  // The committed JSON Schema is generated from the zod schemas the client validates with. To refresh it:
  //   UPDATE_CONTRACT_SCHEMA=1 npx vitest run --project core test/cloud-contract
  test('docs/cloud-backend-api.schema.json is up to date with the zod schemas', async () => {
    const generated = `${JSON.stringify(cloudContractJsonSchema(), null, 2)}\n`;
    if (process.env.UPDATE_CONTRACT_SCHEMA) await writeFile(SCHEMA_FILE, generated);
    const committed = await readFile(SCHEMA_FILE, 'utf8').catch(() => '(missing)');
    expect(committed, 'the committed schema is stale: run with UPDATE_CONTRACT_SCHEMA=1 and commit the result').toBe(generated);
  });

  test('every example in docs/cloud-backend-api.md marked with a message validates against the committed JSON Schema', async () => {
    const schema = JSON.parse(await readFile(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
    const doc = await readFile(DOC_FILE, 'utf8');
    const examples = [...doc.matchAll(/<!-- example: (\w+) -->\n```json\n([\s\S]*?)```/g)].map(([, name, text]) => ({
      name: name!,
      text: text!,
    }));
    expect(examples.map((example) => example.name)).toEqual(['IssuedToken', 'VerifyResponse', 'ConfigsPage', 'PushEvent']);
    for (const { name, text } of examples) {
      const validator = z.fromJSONSchema({ ...schema, $ref: `#/$defs/${name}` } as Parameters<typeof z.fromJSONSchema>[0]);
      const parsed = validator.safeParse(JSON.parse(text));
      expect(parsed.success, `${name}: ${parsed.error?.message ?? ''}`).toBe(true);
    }
    // The same validator refuses what the contract refuses.
    const page = z.fromJSONSchema({ ...schema, $ref: '#/$defs/ConfigsPage' } as Parameters<typeof z.fromJSONSchema>[0]);
    expect(
      page.safeParse({
        users: [],
        tokens: [{ tokenHash: 'not-hex', userId: 'a', type: 'revoked', at: 1 }],
        nextCursor: 'c',
        hasMore: false,
      }).success,
    ).toBe(false);
  });

  test('the documented examples parse', () => {
    expect(verifyResponseSchema.parse({ userId: 'alice', status: 'active', expiresAt: 1767225600000, configVersion: 3 })).toBeDefined();
    expect(verifyResponseSchema.parse({ userId: 'alice', status: 'suspended', expiresAt: null })).toBeDefined();
    expect(
      configsPageSchema.parse({
        users: [
          { userId: 'alice', status: 'active', config: { model: 'gpt-4o' }, version: 3, updatedAt: 1767225600000 },
          { userId: 'bob', status: 'deleted', config: {}, version: 7, updatedAt: 1767225600000 },
        ],
        nextCursor: 'eyJ2IjoxLCJzIjo0Mn0',
        hasMore: false,
      }),
    ).toBeDefined();
  });

  test('snake_case, wrong types and missing fields are refused', () => {
    expect(verifyResponseSchema.safeParse({ user_id: 'alice', status: 'active' }).success).toBe(false);
    expect(verifyResponseSchema.safeParse({ userId: 'alice', status: 'revoked' }).success).toBe(false);
    expect(configUserSchema.safeParse({ userId: 'a', status: 'active', config: {}, version: 0, updatedAt: 1 }).success).toBe(false);
    expect(configUserSchema.safeParse({ userId: 'a', status: 'active', config: [], version: 1, updatedAt: 1 }).success).toBe(false);
    expect(
      configUserSchema.safeParse({ userId: 'a', status: 'active', config: { __proto__: 1 }, version: 1, updatedAt: 1.5 }).success,
    ).toBe(false);
    expect(configsPageSchema.safeParse({ users: [], nextCursor: '', hasMore: false }).success).toBe(false);
  });

  test('property: the schema accepts exactly the user ids core accepts as tenant ids', () => {
    const alphabet = fc.constantFrom(...'aZ09._-/ \u00e9\u0000'.split(''));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: alphabet, maxLength: 110 }), fc.string(), fc.uuid()), (userId) => {
        const accepted = verifyResponseSchema.safeParse({ userId, status: 'active' }).success;
        expect(accepted).toBe(isValidTenantId(userId));
      }),
      { numRuns: 2_000 },
    );
  });
});
