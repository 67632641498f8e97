import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ChildView } from 'pogo-core/observer-state';
import { buildIndex, nextIndex } from './board-index';

const child = (id: string, node: string | null, status: ChildView['status'] = 'running'): ChildView => ({
  id,
  status,
  node,
  pid: node ? `<${id}>` : null,
  owner: node,
  pin: null,
  instances: [],
  restarts: 0,
  worker: 'w',
  command: null,
  restart: 'permanent',
  handoff: 'stop-first',
  lastError: null,
  failures: [],
  unverified: false,
});

const plain = (i: ReturnType<typeof buildIndex>) => ({
  byNode: Object.fromEntries(Object.entries(i.byNode).map(([n, l]) => [n, l.map((c) => c.id)])),
  counts: Object.fromEntries(i.counts),
  total: i.total,
  unverified: i.unverified,
  copies: Object.fromEntries([...i.copies].map(([n, at]) => [n, Object.fromEntries(at)])),
});

describe('board index', () => {
  it('groups by node, sorted by id, and counts statuses', () => {
    const i = buildIndex({ b: child('b', 'n1'), a: child('a', 'n1'), c: child('c', null, 'pending') });
    expect(plain(i)).toEqual({ byNode: { n1: ['a', 'b'], '': ['c'] }, counts: { running: 2, pending: 1 }, total: 3, unverified: 0, copies: {} });
  });

  it('counts the children shown as last seen (unverified), also when an update changes them', () => {
    const first = buildIndex({ a: { ...child('a', 'n1'), unverified: true }, b: child('b', 'n1') });
    expect(first.unverified).toBe(1);
    const next = nextIndex(first, { a: child('a', 'n1'), b: { ...child('b', 'n1'), unverified: true }, c: { ...child('c', 'n2'), unverified: true } });
    expect(next.unverified).toBe(2);
    expect(nextIndex(next, { b: child('b', 'n1') }).unverified).toBe(0);
  });

  it('counts, per node, the children running there too whose card is in another column (a cut-off member copies)', () => {
    const twice = (id: string, home: string, also: string): ChildView => ({
      ...child(id, home, 'duplicate'),
      instances: [
        { node: home, pid: `<${id}@${home}>` },
        { node: also, pid: `<${id}@${also}>` },
      ],
    });
    const first = buildIndex({ a: twice('a', 'n1', 'n3'), b: twice('b', 'n2', 'n3'), c: twice('c', 'n1', 'n3'), d: child('d', 'n3') });
    expect(plain(first).copies).toEqual({ n3: { n1: 2, n2: 1 } });
    // The copies heal one by one (the duplicate stopped on n3), and one card moves to n3's column.
    const next = nextIndex(first, { a: child('a', 'n1'), b: twice('b', 'n3', 'n2'), c: twice('c', 'n1', 'n3'), d: child('d', 'n3') });
    expect(plain(next).copies).toEqual({ n3: { n1: 1 }, n2: { n3: 1 } });
    expect(first.copies.get('n3')?.get('n1')).toBe(2);
    expect(plain(nextIndex(next, { d: child('d', 'n3') })).copies).toEqual({});
  });

  it('an update touches only the columns a change touched (others keep their arrays)', () => {
    const children: Record<string, ChildView> = {};
    for (let n = 1; n <= 3; n++) for (let k = 0; k < 100; k++) children[`c${n}-${k}`] = child(`c${n}-${k}`, `n${n}`);
    const first = buildIndex(children);
    const next = { ...children, 'c1-5': child('c1-5', 'n2'), zz: child('zz', 'n1', 'pending') };
    const i = nextIndex(first, next);
    expect(i.byNode['n3']).toBe(first.byNode['n3']);
    expect(i.byNode['n1']).not.toBe(first.byNode['n1']);
    expect(plain(i)).toEqual(plain(buildIndex(next)));
    expect(nextIndex(i, next)).toBe(i);
  });

  it('equals a rebuild after any sequence of sets and removals', () => {
    const op = fc.record({
      id: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'constructor', 'toString'),
      node: fc.constantFrom(null, 'n1', 'n2', 'constructor'),
      also: fc.constantFrom(null, 'n1', 'toString'),
      status: fc.constantFrom('running', 'pending', 'failing'),
      remove: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(fc.array(op, { maxLength: 5 }), { maxLength: 20 }), (rounds) => {
        let children: Record<string, ChildView> = {};
        let index = buildIndex(children);
        for (const round of rounds) {
          children = { ...children };
          for (const o of round) {
            if (o.remove) delete children[o.id];
            else {
              const c = child(o.id, o.node, o.status);
              const nodes: Array<string | null> = [o.node, o.also];
              const instances = nodes.filter((n): n is string => n !== null).map((node) => ({ node, pid: `<${o.id}@${node}>` }));
              children[o.id] = { ...c, instances };
            }
          }
          index = nextIndex(index, children);
          expect(plain(index)).toEqual(plain(buildIndex(children)));
        }
      }),
    );
  });
});
