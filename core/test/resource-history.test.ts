/**
 * The gateway's resource series (observer/resource-history.ts) and their
 * patches (state.ts): bounded the same way at both ends, so a client that
 * applies every patch holds exactly what a fresh snapshot would give.
 */
import { describe, expect, it } from 'vitest';
import { ResourceHistory, toPoint } from '../src/observer/resource-history.js';
import {
  MAX_RESOURCE_POINTS,
  RESOURCE_WINDOW_MS,
  applyPatch,
  boundResourcePoints,
  diffState,
  emptyState,
  keyed,
  keyedState,
  type ClusterState,
  type ResourcePoint,
} from '../src/observer/state.js';
import { SeededRandom } from '../src/random.js';
import type { ResourceFigures } from '../src/resources.js';

const figures = (cpu: number, lag = true): ResourceFigures => ({
  intervalMs: 2_000,
  cpu,
  rss: 70_000_000 + cpu,
  heapUsed: 9_000_000,
  heapTotal: 12_000_000,
  ...(lag ? { lag: { mean: 0.5, p99: 2, max: cpu } } : {}),
});
const point = (at: number): ResourcePoint => toPoint(figures(at % 97), at);

describe('boundResourcePoints', () => {
  it('keeps the newest points within the window and the count', () => {
    const minute = Array.from({ length: 30 }, (_, i) => point(i * 2_000));
    expect(boundResourcePoints(minute)).toBe(minute);
    const long = Array.from({ length: 400 }, (_, i) => point(i * 2_000));
    const kept = boundResourcePoints(long);
    expect(kept.at(-1)).toBe(long.at(-1));
    expect(kept[0]!.at).toBe(long.at(-1)!.at - RESOURCE_WINDOW_MS);
    const fast = Array.from({ length: 1_000 }, (_, i) => point(i * 100));
    expect(boundResourcePoints(fast)).toHaveLength(MAX_RESOURCE_POINTS);
  });

  it('always keeps the newest point', () => {
    const gap = [point(0), point(RESOURCE_WINDOW_MS * 5)];
    expect(boundResourcePoints(gap)).toEqual([gap[1]]);
    expect(boundResourcePoints([])).toEqual([]);
  });
});

describe('ResourceHistory', () => {
  it('keeps a series per node, stamped on arrival, lag absent as null', () => {
    const h = new ResourceHistory();
    h.add('a', figures(3), 1_000);
    const first = h.current;
    h.add('b', figures(4, false), 1_500);
    h.add('a', figures(5), 3_000);
    expect(first['a']!.points).toHaveLength(1); // an earlier view is never changed
    expect(h.current['a']!.points.map((p) => [p.at, p.cpu, p.lagMax])).toEqual([
      [1_000, 3, 3],
      [3_000, 5, 5],
    ]);
    expect(h.current['b']).toEqual({
      intervalMs: 2_000,
      points: [{ at: 1_500, cpu: 4, rss: 70_000_004, heapUsed: 9_000_000, heapTotal: 12_000_000, lagMean: null, lagP99: null, lagMax: null }],
    });
  });

  it('keeps arrival order when the clock steps back', () => {
    const h = new ResourceHistory();
    h.add('a', figures(1), 10_000);
    h.add('a', figures(2), 9_000);
    h.add('a', figures(3), 10_001);
    expect(h.current['a']!.points.map((p) => p.at)).toEqual([10_000, 10_001, 10_002]);
  });

  it('forgets nodes that left the member table', () => {
    const h = new ResourceHistory();
    h.add('a', figures(1), 1);
    h.add('b', figures(1), 1);
    expect(h.retain(new Set(['a', 'b']))).toBe(false);
    expect(h.retain(new Set(['a']))).toBe(true);
    expect(Object.keys(h.current)).toEqual(['a']);
  });

  it('takes the reports of nodes named like Object’s own properties (constructor, toString)', () => {
    const h = new ResourceHistory();
    h.add('constructor', figures(1), 1);
    h.add('toString', figures(2), 1);
    h.add('constructor', figures(3), 2);
    expect(h.current['constructor']?.points.map((p) => p.at)).toEqual([1, 2]);
    expect(h.current['toString']?.points).toHaveLength(1);
  });
});

describe('resource patches', () => {
  const stateOf = (h: ResourceHistory): ClusterState => ({ ...emptyState(), resources: { ...h.current } });

  it('a client applying every patch (some twice, some with their ack lost) holds what a fresh snapshot holds', () => {
    const rng = new SeededRandom(11);
    const h = new ResourceHistory();
    let client = stateOf(h);
    // What the gateway believes the client has: the last state it acknowledged (patches.ts).
    let acked = client;
    let now = 0;
    let replaced = 0;
    for (let i = 0; i < 2_000; i++) {
      now += 300 + rng.int(2_000);
      const node = `n${rng.int(4)}`;
      if (rng.next() < 0.02) h.retain(new Set(['n0', 'n1', 'n2', 'n3'].filter((n) => n !== node)));
      else h.add(node, figures(rng.int(100), rng.next() < 0.9), now);
      if (rng.next() < 0.3) continue; // several changes in one patch
      const next = stateOf(h);
      const patch = diffState(acked, next);
      if (!patch) continue;
      replaced += patch.resources?.set?.filter((s) => s.replace).length ?? 0;
      client = applyPatch(client, patch);
      if (rng.next() < 0.1) client = applyPatch(client, patch); // delivered twice
      expect(client.resources).toEqual(next.resources);
      if (rng.next() < 0.9) acked = next; // else its ack is lost: the next patch is computed from the older state
    }
    // Nodes that left and came back were sent whole.
    expect(replaced).toBeGreaterThan(0);
  });

  it('a patch carries only the new points; a series the client does not hold comes whole', () => {
    const h = new ResourceHistory();
    for (let i = 0; i < 10; i++) h.add('a', figures(i), i * 2_000);
    const before = stateOf(h);
    h.add('a', figures(50), 20_000);
    const patch = diffState(before, stateOf(h))!;
    expect(patch.resources).toEqual({ set: [{ node: 'a', intervalMs: 2_000, points: [toPoint(figures(50), 20_000)] }] });

    const stranger: ClusterState = { ...emptyState(), resources: { a: { intervalMs: 2_000, points: [point(5)] } } };
    const whole = diffState(stranger, stateOf(h))!;
    expect(whole.resources?.set?.[0]).toMatchObject({ node: 'a', replace: true });
    expect(applyPatch(stranger, whole).resources).toEqual(stateOf(h).resources);
  });

  it('unchanged series give no patch; a node gone is removed', () => {
    const h = new ResourceHistory();
    h.add('a', figures(1), 1);
    h.add('b', figures(1), 1);
    const a = stateOf(h);
    expect(diffState(a, { ...a, resources: { ...a.resources } })).toBeUndefined();
    h.retain(new Set(['a']));
    expect(diffState(a, stateOf(h))).toEqual({ resources: { remove: ['b'] } });
  });
});

describe('keyed collections with names an ordinary object mishandles', () => {
  it('a node named constructor, a child named __proto__ and a group named toString go through patches as entries', () => {
    const base = emptyState();
    const h = new ResourceHistory();
    h.add('constructor', figures(1), 1);
    const member = { name: 'constructor' } as unknown as ClusterState['members'][string];
    const child = { id: '__proto__', node: 'constructor' } as unknown as ClusterState['children'][string];
    const next: ClusterState = {
      ...base,
      members: keyed({ constructor: member }),
      children: (() => {
        const c = keyed<ClusterState['children'][string]>();
        c['__proto__'] = child;
        return c;
      })(),
      groups: keyed({ app: keyed({ toString: keyed({ constructor: 2 }) }) }),
      resources: keyed(h.current),
    };
    const patch = diffState(base, next)!;
    // As the client takes it: through JSON (an own "__proto__" key, as JSON.parse makes it).
    const client = applyPatch(keyedState(base), JSON.parse(JSON.stringify(patch)) as typeof patch);
    expect(Object.keys(client.children)).toEqual(['__proto__']);
    expect(client.children['__proto__']).toMatchObject({ id: '__proto__' });
    expect(Object.getPrototypeOf(client.children)).toBeNull();
    expect(client.members['constructor']).toMatchObject({ name: 'constructor' });
    expect(client.members['toString']).toBeUndefined();
    expect(client.groups['app']?.['toString']).toEqual({ constructor: 2 });
    expect(client.resources['constructor']?.points).toHaveLength(1);
    expect(client.resources['toString']).toBeUndefined();
    // A first series for a node named like Object's own function: taken, not thrown on.
    const more = applyPatch(client, { resources: { set: [{ node: 'toString', intervalMs: 2_000, points: [point(3)] }] } });
    expect(more.resources['toString']?.points).toHaveLength(1);
  });

  it("samples' children per node, from a snapshot and from patches, have no prototype: a node named constructor absent from a second reads undefined", () => {
    const second = (at: number, perNode: Record<string, number>): ClusterState['samples'][number] => ({
      at,
      starts: 0,
      stops: 0,
      restarts: 0,
      moves: 0,
      failures: 0,
      members: 2,
      perNode,
    });
    // As the client takes them: through JSON, ordinary objects.
    const snapshot = JSON.parse(JSON.stringify({ ...emptyState(), samples: [second(0, { n1: 2 })] })) as ClusterState;
    const client = keyedState(snapshot);
    const patch = JSON.parse(JSON.stringify({ samples: [second(1_000, { constructor: 1, n1: 1 })] })) as Parameters<typeof applyPatch>[1];
    const next = applyPatch(client, patch);
    expect(next.samples.map((x) => x.perNode)).toEqual<Array<Record<string, number>>>([{ n1: 2 }, { constructor: 1, n1: 1 }]);
    for (const x of next.samples) {
      expect(Object.getPrototypeOf(x.perNode)).toBeNull();
      expect(x.perNode['toString']).toBeUndefined();
      expect(x.perNode['hasOwnProperty']).toBeUndefined();
    }
    expect(next.samples[0]!.perNode['constructor']).toBeUndefined();
    expect(next.samples[1]!.perNode['constructor']).toBe(1);
  });
});
