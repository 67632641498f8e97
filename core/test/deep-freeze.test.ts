import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deepFreeze } from '../src/util/deep-freeze.js';

/** Every object and array reachable from `v`. */
function everyObject(v: unknown, out: object[] = []): object[] {
  if (v !== null && typeof v === 'object') {
    out.push(v);
    for (const x of Object.values(v)) everyObject(x, out);
  }
  return out;
}

describe('deepFreeze', () => {
  it('freezes a register-shaped value all the way down, arrays of objects included', () => {
    const v = { specs: [{ rev: 'r1', spec: { id: 'a', start: { worker: 'w', args: [1, { deep: [2, [3]] }] }, labels: {} } }] };
    expect(deepFreeze(v)).toBe(v);
    for (const o of everyObject(v)) expect(Object.isFrozen(o)).toBe(true);
    expect(() => {
      (v.specs[0]!.spec.start.args[1] as { deep: unknown[] }).deep.push(4);
    }).toThrow(TypeError);
  });

  it('leaves scalars as they are', () => {
    for (const x of [null, undefined, 0, 'a', true]) expect(deepFreeze(x)).toBe(x);
  });

  it('freezes every object of any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const copy = JSON.parse(JSON.stringify(v)) as unknown;
        deepFreeze(copy);
        for (const o of everyObject(copy)) if (!Object.isFrozen(o)) return false;
        expect(copy).toEqual(JSON.parse(JSON.stringify(v)));
        return true;
      }),
      { numRuns: 300 },
    );
  });
});
