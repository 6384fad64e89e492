import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { KeyedMutex } from '@openclaw-mt/core/helpers';

/** Yields to the event loop `turns` times, so tasks interleave without any timing assumption. */
async function yieldTurns(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('KeyedMutex', () => {
  test('per key, tasks run one at a time in call order; a failing task does not block the queue; keys are forgotten', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), turns: fc.nat(4), fails: fc.boolean() }), {
          minLength: 1,
          maxLength: 30,
        }),
        async (tasks) => {
          const mutex = new KeyedMutex();
          const running = new Map<string, number>();
          const started: Array<{ key: string; index: number }> = [];
          let overlapOnOneKey = false;
          const runs = tasks.map((task, index) =>
            mutex.run(task.key, async () => {
              started.push({ key: task.key, index });
              running.set(task.key, (running.get(task.key) ?? 0) + 1);
              if (running.get(task.key)! > 1) overlapOnOneKey = true;
              await yieldTurns(task.turns);
              running.set(task.key, running.get(task.key)! - 1);
              if (task.fails) throw new Error(`task ${index} failed`);
              return index;
            }),
          );
          const outcomes = await Promise.allSettled(runs);
          expect(overlapOnOneKey).toBe(false);
          for (const key of ['a', 'b', 'c']) {
            const order = started.filter((entry) => entry.key === key).map((entry) => entry.index);
            expect(order).toEqual(tasks.flatMap((task, index) => (task.key === key ? [index] : [])));
            expect(mutex.isBusy(key)).toBe(false);
          }
          outcomes.forEach((outcome, index) => {
            if (tasks[index]!.fails) expect(outcome.status).toBe('rejected');
            else expect(outcome).toEqual({ status: 'fulfilled', value: index });
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  test('different keys do not wait for each other', async () => {
    const mutex = new KeyedMutex();
    let releaseA!: () => void;
    const a = mutex.run('a', () => new Promise<void>((resolve) => (releaseA = resolve)));
    expect(mutex.isBusy('a')).toBe(true);
    expect(await mutex.run('b', async () => 'b done')).toBe('b done');
    expect(mutex.isBusy('b')).toBe(false);
    releaseA();
    await a;
    expect(mutex.isBusy('a')).toBe(false);
  });
});
