import { describe, expect, test } from 'vitest';
import { conformanceCases } from '@openclaw-mt/core/testing';
import { runKit } from './kit-verdict.js';
import { mutants } from './mutants.js';
import { referenceAdapter } from './reference-adapter.js';

// The kit is only as good as the mistakes it catches: each mutant breaks exactly one rule, and the kit
// must fail on every one of them, while passing the unbroken reference.
describe('conformance kit mutation score', () => {
  test('the unbroken reference (memory adapter with an outage switch) passes every case', async () => {
    const verdict = await runKit(async (context) => referenceAdapter(context));
    expect(verdict.failed).toBeUndefined();
    expect(verdict.ran).toBe(conformanceCases.filter((c) => !c.name.startsWith('coordinator:')).length);
  });

  test(`there are at least 42 mutants plus one per edge case (${mutants.length})`, () => {
    expect(mutants.length).toBeGreaterThanOrEqual(42 + 15);
    expect(new Set(mutants.map((mutant) => mutant.name)).size).toBe(mutants.length);
  });

  for (const mutant of mutants) {
    test(`caught: ${mutant.name}`, async () => {
      const verdict = await runKit(
        async (context) => referenceAdapter(context, mutant.mutate, { ownQuota: mutant.ownQuota ?? false }),
        mutant.area,
      );
      expect(verdict.failed, `the kit passed a mutant: ${mutant.name}`).toBeDefined();
    });
  }
});
