import { afterEach, describe, expect, test } from 'vitest';
import { isMultiTenantError, type TenantManager } from '@openclaw-mt/core';
import { ResidentSet } from '../src/lifecycle/resident-set.js';
import { createTestManager } from './support/fixture.js';

let current: TenantManager | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

const item = (pins = 0) => ({ pins, resident: false });

describe('capacity changed at run time', () => {
  test('a lowered limit evicts the least recently used unpinned item on each later admission', () => {
    const set = new ResidentSet<ReturnType<typeof item>>(4);
    for (const id of ['a', 'b', 'c', 'd']) set.admit(id, item());
    expect(set.setCapacity(2)).toBe(2);
    // Nothing leaves at once.
    expect(set.ids()).toEqual(['d', 'c', 'b', 'a']);
    const admitted = set.admit('e', item());
    expect(admitted).toMatchObject({ admitted: true, victim: { id: 'a' } });
    expect(set.ids()).toEqual(['e', 'd', 'c', 'b']);
  });

  test('pinned items are never the victim; all pinned admits nothing', () => {
    const set = new ResidentSet<ReturnType<typeof item>>(4);
    set.admit('a', item(1));
    set.admit('b', item());
    set.setCapacity(2);
    expect(set.admit('c', item(1))).toMatchObject({ admitted: true, victim: { id: 'b' } });
    expect(set.admit('d', item())).toEqual({ admitted: false });
    const pinnedOnly = new ResidentSet<ReturnType<typeof item>>(3);
    pinnedOnly.admit('a', item(1));
    pinnedOnly.admit('b', item(1));
    pinnedOnly.setCapacity(2);
    expect(pinnedOnly.admit('c', item())).toEqual({ admitted: false });
  });

  test('the limit stays within 1 and the capacity the set was built with', () => {
    const set = new ResidentSet<ReturnType<typeof item>>(4);
    expect(set.setCapacity(10)).toBe(4);
    expect(set.setCapacity(0)).toBe(1);
    expect(set.setCapacity(2.7)).toBe(2);
    expect(() => set.setCapacity(Number.NaN)).toThrow(RangeError);
  });

  test('the manager follows a lowered capacity: idle tenants make room, pinned ones refuse with CAPACITY', async () => {
    const { manager } = createTestManager({ capacity: 3 });
    current = manager;
    for (const id of ['a', 'b', 'c']) (await manager.acquire(id)).release();
    expect(manager.setCapacity(1)).toBe(1);
    expect(manager.stats().capacity).toBe(1);
    const held = await manager.acquire('d');
    expect(manager.stats().resident).toBe(3);
    // Two idle tenants are still over the limit: one leaves per activation, so 'e' gets in by evicting one.
    (await manager.acquire('e')).release();
    expect(manager.stats().resident).toBe(3);
    held.release();
    manager.setCapacity(3);
    expect(manager.capacity).toBe(3);
  });

  test('with every tenant pinned at the lowered capacity, the next one gets CAPACITY', async () => {
    const { manager } = createTestManager({ capacity: 3 });
    current = manager;
    const a = await manager.acquire('a');
    const b = await manager.acquire('b');
    manager.setCapacity(2);
    const error = await manager.acquire('c').catch((caught: unknown) => caught);
    expect(isMultiTenantError(error, 'CAPACITY')).toBe(true);
    a.release();
    b.release();
  });
});
