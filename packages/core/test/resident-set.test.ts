import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ResidentSet } from '../src/lifecycle/resident-set.js';

interface Item {
  id: string;
  pins: number;
  resident: boolean;
}

/** The reference model: an array in most-recently-used-first order and a pin count per id. */
interface Model {
  capacity: number;
  order: string[];
  pins: Map<string, number>;
  items: Map<string, Item>;
}

interface Real {
  set: ResidentSet<Item>;
}

const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

function touch(model: Model, id: string): void {
  model.order.splice(model.order.indexOf(id), 1);
  model.order.unshift(id);
}

function checkInvariants(model: Model, real: Real): void {
  expect(real.set.ids()).toEqual(model.order);
  expect(real.set.size).toBeLessThanOrEqual(model.capacity);
  const pinned = model.order.filter((id) => (model.pins.get(id) ?? 0) > 0).length;
  expect(real.set.pinned).toBe(pinned);
}

class Admit implements fc.Command<Model, Real> {
  constructor(
    readonly id: string,
    readonly pinned: boolean,
  ) {}
  check(model: Readonly<Model>) {
    return !model.order.includes(this.id);
  }
  run(model: Model, real: Real) {
    const item: Item = { id: this.id, pins: this.pinned ? 1 : 0, resident: false };
    const result = real.set.admit(this.id, item);
    const allPinned = model.order.length === model.capacity && model.order.every((id) => (model.pins.get(id) ?? 0) > 0);
    if (allPinned) {
      expect(result.admitted).toBe(false);
      expect(item.resident).toBe(false);
    } else {
      expect(result.admitted).toBe(true);
      model.order.unshift(this.id);
      model.pins.set(this.id, item.pins);
      model.items.set(this.id, item);
      let victim: string | undefined;
      if (model.order.length > model.capacity) {
        // A pinned tail is moved to the front; the first unpinned one from the tail is evicted.
        for (;;) {
          const tail = model.order.pop()!;
          if ((model.pins.get(tail) ?? 0) > 0) model.order.unshift(tail);
          else {
            victim = tail;
            break;
          }
        }
      }
      expect(result.admitted && result.victim?.id).toBe(victim ?? undefined);
      if (victim !== undefined) {
        expect(model.pins.get(victim)).toBe(0);
        expect(model.items.get(victim)!.resident).toBe(false);
        model.pins.delete(victim);
        model.items.delete(victim);
      }
    }
    checkInvariants(model, real);
  }
  toString() {
    return `admit(${this.id}${this.pinned ? ', pinned' : ''})`;
  }
}

class Get implements fc.Command<Model, Real> {
  constructor(readonly id: string) {}
  check() {
    return true;
  }
  run(model: Model, real: Real) {
    const item = real.set.get(this.id);
    expect(item).toBe(model.items.get(this.id));
    if (item) touch(model, this.id);
    checkInvariants(model, real);
  }
  toString() {
    return `get(${this.id})`;
  }
}

class Pin implements fc.Command<Model, Real> {
  constructor(readonly id: string) {}
  check(model: Readonly<Model>) {
    return model.order.includes(this.id);
  }
  run(model: Model, real: Real) {
    real.set.pin(model.items.get(this.id)!);
    model.pins.set(this.id, (model.pins.get(this.id) ?? 0) + 1);
    checkInvariants(model, real);
  }
  toString() {
    return `pin(${this.id})`;
  }
}

class Unpin implements fc.Command<Model, Real> {
  constructor(readonly id: string) {}
  check(model: Readonly<Model>) {
    return (model.pins.get(this.id) ?? 0) > 0;
  }
  run(model: Model, real: Real) {
    const freed = real.set.unpin(model.items.get(this.id)!);
    const left = model.pins.get(this.id)! - 1;
    model.pins.set(this.id, left);
    expect(freed).toBe(left === 0);
    checkInvariants(model, real);
  }
  toString() {
    return `unpin(${this.id})`;
  }
}

class Remove implements fc.Command<Model, Real> {
  constructor(readonly id: string) {}
  check(model: Readonly<Model>) {
    return model.order.includes(this.id);
  }
  run(model: Model, real: Real) {
    const item = model.items.get(this.id)!;
    expect(real.set.remove(this.id, { ...item })).toBe(false);
    expect(real.set.remove(this.id, item)).toBe(true);
    model.order.splice(model.order.indexOf(this.id), 1);
    model.pins.delete(this.id);
    model.items.delete(this.id);
    checkInvariants(model, real);
  }
  toString() {
    return `remove(${this.id})`;
  }
}

describe('ResidentSet (the pinned LRU)', () => {
  test('behaves like the reference model under random command sequences', () => {
    const id = fc.constantFrom(...ids);
    const commands = [
      fc.tuple(id, fc.boolean()).map(([key, pinned]) => new Admit(key, pinned)),
      id.map((key) => new Get(key)),
      id.map((key) => new Pin(key)),
      id.map((key) => new Unpin(key)),
      id.map((key) => new Remove(key)),
    ];
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.commands(commands, { maxCommands: 200 }), (capacity, cmds) => {
        const model: Model = { capacity, order: [], pins: new Map(), items: new Map() };
        fc.modelRun(() => ({ model, real: { set: new ResidentSet<Item>(capacity) } }), cmds);
      }),
      { numRuns: 1_000 },
    );
  });

  test('never evicts a pinned item and refuses admission when all are pinned', () => {
    const set = new ResidentSet<Item>(2);
    const a: Item = { id: 'a', pins: 1, resident: false };
    const b: Item = { id: 'b', pins: 1, resident: false };
    set.admit('a', a);
    set.admit('b', b);
    expect(set.admit('c', { id: 'c', pins: 0, resident: false })).toEqual({ admitted: false });
    expect(set.ids()).toEqual(['b', 'a']);
    set.unpin(a);
    const result = set.admit('c', { id: 'c', pins: 0, resident: false });
    expect(result).toEqual({ admitted: true, victim: { id: 'a', item: a } });
  });

  test('rejects a non-positive capacity', () => {
    expect(() => new ResidentSet(0)).toThrow(RangeError);
  });
});
