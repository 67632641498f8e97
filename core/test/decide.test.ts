/**
 * The decision core (distributed/decide.ts) without a network: each rule of
 * DESIGN §3.5 that a single node's decision carries, row by row, and
 * properties over random views (at most one action, and never a start or a
 * stop that the rules forbid).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide, type ClusterView, type LocalClaim, type LocalInstance } from '../src/distributed/decide.js';
import { hrwScore } from '../src/distributed/placement.js';
import type { ChildRegister, SpecEntry } from '../src/distributed/registers.js';
import type { ChildView, Runner } from '../src/distributed/view.js';
import { parseChildSpec } from '../src/supervisor/child-spec.js';
import { candidate } from './support/members.js';

const REV = '0000000001.000001.n1';
const NEW_REV = '0000000002.000001.n2';
const cluster = (over: Partial<ClusterView> = {}): ClusterView => ({
  self: 'n1',
  candidates: ['n1', 'n2', 'n3'].map((n) => candidate(n)),
  mayRun: true,
  mayStart: true,
  gated: new Set(),
  claims: false,
  ...over,
});
const entry = (handoff: 'stop-first' | 'start-first' = 'stop-first', rev = REV): SpecEntry => ({
  rev,
  spec: parseChildSpec({ id: 'c', start: { worker: 'w' }, handoff }),
});
const run = (node: string, rev = REV): Runner => ({ node, pid: `${node}/0123456789abcdef/c1`, value: { rev, restarts: 0 } });
function view(over: Partial<ChildView> & { handoff?: 'stop-first' | 'start-first'; dead?: boolean } = {}): ChildView {
  const live = over.dead ? undefined : (over.live ?? entry(over.handoff));
  const register: ChildRegister = live ? { specs: [live] } : { floor: REV, specs: [] };
  return { id: 'c', register, live, runners: [], claims: [], failures: new Map(), owner: 'n1', by: 'hash', cause: 'join', ...over };
}
const running: LocalInstance = { rev: REV, running: true };
const stoppedHere: LocalInstance = { rev: REV, running: false };

describe('decide: one node, one child, one action (DESIGN §3.5)', () => {
  it('terminate wins: a child whose spec is gone is stopped here and never started', () => {
    expect(decide(view({ dead: true, owner: undefined }), running, cluster())).toEqual({ do: 'stop', why: 'terminated' });
    expect(decide(view({ dead: true, owner: undefined }), undefined, cluster())).toEqual({ do: 'nothing' });
  });

  it('netsplit: without the right to run (majority mode, no lease) it stops what runs here and starts nothing', () => {
    expect(decide(view(), running, cluster({ mayRun: false }))).toEqual({ do: 'stop', why: 'no majority' });
    expect(decide(view(), undefined, cluster({ mayRun: false }))).toEqual({ do: 'nothing' });
  });

  it('the owner starts the live spec; not before it may start (readiness, majority gate)', () => {
    const v = view();
    expect(decide(v, undefined, cluster())).toEqual({ do: 'start', entry: v.live });
    expect(decide(v, stoppedHere, cluster())).toEqual({ do: 'start', entry: v.live });
    expect(decide(v, undefined, cluster({ mayStart: false }))).toEqual({ do: 'nothing' });
    expect(decide(v, running, cluster())).toEqual({ do: 'nothing' });
  });

  it('one instance on planned moves: stop-first waits for the old instance; start-first starts at once', () => {
    expect(decide(view({ runners: [run('n2')] }), undefined, cluster())).toEqual({ do: 'nothing' });
    const sf = view({ handoff: 'start-first', runners: [run('n2')] });
    expect(decide(sf, undefined, cluster())).toEqual({ do: 'start', entry: sf.live });
  });

  it('a node that runs a child it does not own moves it (stop-first), or waits for the owner to run it (start-first)', () => {
    expect(decide(view({ owner: 'n2', runners: [run('n1')] }), running, cluster())).toEqual({ do: 'move', to: 'n2' });
    expect(decide(view({ handoff: 'start-first', owner: 'n2', runners: [run('n1')] }), running, cluster())).toEqual({ do: 'nothing' });
    // Once the owner's instance runs, ours stops: a duplicate for stop-first, the end of the overlap for start-first.
    expect(decide(view({ owner: 'n2', runners: [run('n1'), run('n2')] }), running, cluster())).toEqual({
      do: 'stop-duplicate',
      survivor: run('n2'),
      report: true,
    });
    expect(decide(view({ handoff: 'start-first', owner: 'n2', runners: [run('n1'), run('n2')] }), running, cluster())).toEqual({
      do: 'stop-duplicate',
      survivor: run('n2'),
      report: false,
    });
  });

  it('after a heal, several instances and none on the owner: the best-ranked runner by HRW keeps it', () => {
    const runners = [run('n1'), run('n2')];
    const best = hrwScore('c', 'n1', 1) > hrwScore('c', 'n2', 1) ? 'n1' : 'n2';
    const v = view({ owner: 'n3', runners });
    const mine = decide(v, running, cluster());
    const theirs = decide(v, running, cluster({ self: 'n2' }));
    if (best === 'n1') {
      expect(mine).toEqual({ do: 'move', to: 'n3' });
      expect(theirs).toEqual({ do: 'stop-duplicate', survivor: run('n1'), report: true });
    } else {
      expect(mine).toEqual({ do: 'stop-duplicate', survivor: run('n2'), report: true });
      expect(theirs).toEqual({ do: 'move', to: 'n3' });
    }
  });

  it('no owner anywhere (nothing eligible): what runs keeps running', () => {
    expect(decide(view({ owner: undefined, by: 'none', runners: [run('n1')] }), running, cluster())).toEqual({ do: 'nothing' });
  });

  it('a local instance of a replaced revision stops; a stopped one that is not ours to run is cleaned up', () => {
    const v = view({ live: entry('stop-first', NEW_REV) });
    expect(decide(v, running, cluster())).toEqual({ do: 'stop', why: 'spec replaced' });
    expect(decide(view({ owner: 'n2' }), stoppedHere, cluster())).toEqual({ do: 'stop', why: 'not the owner' });
  });
});

describe('decide: claims (majority mode): two owners never both start', () => {
  const claiming = (over: Partial<ClusterView> = {}) => cluster({ claims: true, ...over });
  const claimOf = (node: string, rev = REV) => ({ node, rev });

  it('the owner claims first, waits while its claim is pending, starts once every present member has heard of it, then withdraws it', () => {
    const v = view();
    expect(decide(v, undefined, claiming())).toEqual({ do: 'claim', rev: REV });
    expect(decide(view({ claims: [claimOf('n1')] }), undefined, claiming(), 'pending')).toEqual({ do: 'nothing' });
    expect(decide(view({ claims: [claimOf('n1')] }), undefined, claiming(), 'confirmed')).toEqual({ do: 'start', entry: v.live });
    expect(decide(view({ claims: [claimOf('n1')] }), running, claiming(), 'confirmed')).toEqual({ do: 'unclaim' });
  });

  it("another node's claim of the live revision holds this one back; one of an older revision does not", () => {
    expect(decide(view({ claims: [claimOf('n2')] }), undefined, claiming())).toEqual({ do: 'nothing' });
    expect(decide(view({ claims: [claimOf('n2', '0000000000.000001.n2')] }), undefined, claiming())).toEqual({ do: 'claim', rev: REV });
  });

  it('a claim is withdrawn when the child is terminated, the lease lapsed, ownership moved or the gate closed', () => {
    const mine = [claimOf('n1')];
    expect(decide(view({ dead: true, claims: mine }), undefined, claiming(), 'pending')).toEqual({ do: 'unclaim' });
    expect(decide(view({ claims: mine }), undefined, claiming({ mayRun: false }), 'confirmed')).toEqual({ do: 'unclaim' });
    expect(decide(view({ owner: 'n2', claims: mine }), undefined, claiming(), 'confirmed')).toEqual({ do: 'unclaim' });
    expect(decide(view({ claims: mine }), undefined, claiming({ mayStart: false }), 'confirmed')).toEqual({ do: 'unclaim' });
  });

  it('two claims that crossed (each node its own owner): exactly one keeps its claim, the same on both sides', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('c', 'x', 'job-7', 'a/b'),
        fc.subarray(['n1', 'n2', 'n3', 'n4'], { minLength: 2, maxLength: 2 }),
        fc.constantFrom<LocalClaim>('pending', 'confirmed'),
        (id, pair, state) => {
          const claims = pair.map((n) => claimOf(n));
          const keeps = pair.filter((n) => {
            // Each believes itself the owner (views of the desired state differ for a moment).
            const a = decide(
              { ...view({ claims, owner: n }), id },
              undefined,
              claiming({ self: n, candidates: ['n1', 'n2', 'n3', 'n4'].map((n) => candidate(n)) }),
              state,
            );
            return a.do !== 'unclaim';
          });
          expect(keeps).toHaveLength(1);
        },
      ),
      { numRuns: 300, seed: 1307 },
    );
  });

  it('with claims on, a start needs a confirmed claim of its own and no higher-ranked rival', () => {
    fc.assert(
      fc.property(fc.subarray(['n2', 'n3']), fc.constantFrom<LocalClaim>(undefined, 'pending', 'confirmed'), fc.boolean(), (rivals, state, mayStart) => {
        const claims = [...(state ? [claimOf('n1')] : []), ...rivals.map((n) => claimOf(n))];
        const a = decide(view({ claims }), undefined, claiming({ mayStart }), state);
        if (a.do === 'start') {
          expect(state).toBe('confirmed');
          expect(mayStart).toBe(true);
          for (const r of rivals) expect(hrwScore('c', 'n1', 1)).toBeGreaterThan(hrwScore('c', r, 1));
        }
        if (a.do === 'claim') expect(rivals).toEqual([]);
      }),
      { numRuns: 300, seed: 1308 },
    );
  });
});

describe('decide: an owner that may not start yet', () => {
  it('a stop-first move to an owner whose start gate is closed waits, running; the rest is as before', () => {
    // Race "the owner is ready but may not start yet": stopping now would leave the child running nowhere
    // until every peer has heard of the owner's readiness (1–2 s at 20 members under load).
    const gated = cluster({ gated: new Set(['n2']) });
    expect(decide(view({ owner: 'n2', runners: [run('n1')] }), running, gated)).toEqual({ do: 'nothing' });
    expect(decide(view({ owner: 'n3', runners: [run('n1')] }), running, gated)).toEqual({ do: 'move', to: 'n3' });
    expect(decide(view({ handoff: 'start-first', owner: 'n2', runners: [run('n1')] }), running, gated)).toEqual({ do: 'nothing' });
    // Once the owner's instance runs, ours stops whatever its gate says now.
    expect(decide(view({ owner: 'n2', runners: [run('n1'), run('n2')] }), running, gated)).toEqual({ do: 'stop-duplicate', survivor: run('n2'), report: true });
    // Nothing else waits on it: a terminated child still stops, an old revision still goes.
    expect(decide(view({ dead: true, owner: undefined }), running, gated)).toEqual({ do: 'stop', why: 'terminated' });
    expect(decide(view({ owner: 'n2', runners: [run('n1')] }), { rev: '0000000000.000001.n1', running: true }, gated)).toEqual({
      do: 'stop',
      why: 'spec replaced',
    });
  });
});

describe('decide: a child held for a joining member', () => {
  it('the owner for now starts nothing while a member still joining would own it; claims are withdrawn', () => {
    // Race "the first member ready after a whole-cluster restart": it started every child and handed two
    // thirds of them over a moment later. `heldFor` is set only for a child that runs nowhere.
    const held = view({ heldFor: 'n2' });
    expect(decide(held, undefined, cluster())).toEqual({ do: 'nothing' });
    expect(decide(held, stoppedHere, cluster())).toEqual({ do: 'nothing' });
    expect(decide(held, undefined, cluster({ claims: true }), 'pending')).toEqual({ do: 'unclaim' });
    expect(decide(held, undefined, cluster({ claims: true }))).toEqual({ do: 'nothing' });
    // Nothing else reads it: a terminated child still stops, and without it the owner starts.
    expect(decide(view({ dead: true, owner: undefined, heldFor: 'n2' }), running, cluster())).toEqual({ do: 'stop', why: 'terminated' });
    const v = view();
    expect(decide(v, undefined, cluster())).toEqual({ do: 'start', entry: v.live });
  });
});

describe('decide: properties over random views', () => {
  const nodes = ['n1', 'n2', 'n3'];
  const arb = fc.record({
    dead: fc.boolean(),
    handoff: fc.constantFrom<'stop-first' | 'start-first'>('stop-first', 'start-first'),
    owner: fc.option(fc.constantFrom(...nodes), { nil: undefined }),
    runners: fc.subarray(nodes),
    local: fc.constantFrom<'none' | 'running' | 'stopped' | 'old'>('none', 'running', 'stopped', 'old'),
    mayRun: fc.boolean(),
    mayStart: fc.boolean(),
    gated: fc.subarray(nodes),
  });

  it('never starts unless it owns a live spec, may run and may start, runs nothing and the handoff allows; never stops what is not here', () => {
    fc.assert(
      fc.property(arb, (x) => {
        const v = view({ dead: x.dead, handoff: x.handoff, owner: x.owner, runners: x.runners.map((n) => run(n)) });
        const local: LocalInstance | undefined =
          x.local === 'none' ? undefined : x.local === 'old' ? { rev: '0000000000.000001.n1', running: true } : { rev: REV, running: x.local === 'running' };
        const a = decide(v, local, cluster({ mayRun: x.mayRun, mayStart: x.mayStart, gated: new Set(x.gated) }));
        if (a.do === 'start') {
          expect(v.live).toBeDefined();
          expect(v.owner).toBe('n1');
          expect(x.mayRun && x.mayStart).toBe(true);
          expect(local?.running ?? false).toBe(false);
          if (x.handoff === 'stop-first') expect(v.runners.filter((r) => r.node !== 'n1')).toEqual([]);
        }
        if (a.do === 'stop' || a.do === 'stop-duplicate' || a.do === 'move') expect(local).toBeDefined();
        if (a.do === 'stop-duplicate') expect(a.survivor.node).not.toBe('n1');
        if (!x.mayRun && local) expect(a).toEqual({ do: 'stop', why: x.dead ? 'terminated' : 'no majority' });
        if (x.dead) expect(a.do === 'start' || a.do === 'move').toBe(false);
        if (a.do === 'move') expect(x.gated).not.toContain(a.to);
      }),
      { numRuns: 2000, seed: 1305 },
    );
  });

  it('two nodes that see the same instances never both keep a duplicate: exactly one survivor', () => {
    fc.assert(
      fc.property(fc.subarray(nodes, { minLength: 2 }), fc.option(fc.constantFrom(...nodes), { nil: undefined }), (runnerNodes, owner) => {
        const v = view({ owner, runners: runnerNodes.map((n) => run(n)) });
        const keeps = runnerNodes.filter((n) => {
          const a = decide(v, running, cluster({ self: n }));
          return a.do === 'nothing' || (a.do === 'move' && owner !== undefined && !runnerNodes.includes(owner));
        });
        // The owner's instance survives when it runs one; otherwise every runner but the best-ranked stops,
        // and the best-ranked one hands over to the owner (a planned move) or, without an owner, keeps running.
        expect(keeps.length).toBe(1);
      }),
      { numRuns: 500, seed: 1306 },
    );
  });
});
