/**
 * The replicated store's protocol (store/replication.ts) on a hand-driven
 * network: per-link FIFO queues delivered in a seeded random interleaving,
 * links that drop (losing what is in flight) and come back. Checks what the
 * design promises: one delta per peer per turn, a node restarted into many
 * peers receives each register about once, replicas converge whatever the
 * delivery, acknowledgements wait until changes are acted on, and bad input
 * is dropped without harm.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { deepFreeze } from '../src/util/deep-freeze.js';
import { MemoryLogger } from '../src/logger.js';
import { desiredStateKinds, isCollected, type ChildRegister } from '../src/distributed/registers.js';
import type { StoreMessage } from '../src/protocol.js';
import { SeededRandom } from '../src/random.js';
import { Replica } from '../src/store/replica.js';
import { Replication } from '../src/store/replication.js';
import { parseChildSpec } from '../src/supervisor/child-spec.js';

const NOW = 1_764_000_000_000;
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const ver = (t: number, seq: number, node: string) => `${t.toString(36).padStart(10, '0')}.${seq.toString(36).padStart(6, '0')}.${node}`;

let counter = 0;
function child(id: string, node = 'n1'): ChildRegister {
  counter++;
  return deepFreeze({ specs: [{ rev: ver(NOW, counter, node), spec: parseChildSpec({ id, start: { worker: 'w', args: { counter } } }) }] });
}
function tombstone(of: ChildRegister, node = 'n1'): ChildRegister {
  counter++;
  return deepFreeze({ floor: of.specs.at(-1)?.rev ?? ver(NOW, counter, node), floorAt: NOW, specs: [] });
}

interface Wire {
  from: string;
  to: string;
  queue: StoreMessage[];
}

/** Nodes with a replica each, and directed FIFO links between them. */
class Net {
  readonly clock = new ManualClock(NOW);
  readonly log = new MemoryLogger();
  readonly nodes = new Map<string, { replica: Replica; rep: Replication; settled: number | undefined; changes: string[] }>();
  readonly wires = new Map<string, Wire>();
  /** Every message sent, for counting. */
  readonly sent: Array<{ from: string; to: string; m: StoreMessage }> = [];
  constructor(readonly random = new SeededRandom(7)) {}

  add(name: string, options: { observer?: boolean } = {}): Replication {
    const replica = new Replica(desiredStateKinds);
    const state = { replica, rep: undefined as unknown as Replication, settled: undefined as number | undefined, changes: [] as string[] };
    state.rep = new Replication({
      scope: 'pogo',
      replica,
      clock: this.clock,
      log: this.log,
      observer: options.observer ?? false,
      antiEntropyIntervalMs: 30_000,
      send: (peer, m) => {
        this.sent.push({ from: name, to: peer, m });
        this.wires.get(`${name}>${peer}`)?.queue.push(m);
      },
      onChange: (keys) => state.changes.push(...keys),
      settledTick: () => state.settled ?? replica.tick,
    });
    this.nodes.set(name, state);
    return state.rep;
  }

  get(name: string) {
    return this.nodes.get(name)!;
  }

  link(a: string, b: string): void {
    this.wires.set(`${a}>${b}`, { from: a, to: b, queue: [] });
    this.wires.set(`${b}>${a}`, { from: b, to: a, queue: [] });
    const role = (n: string) => ((this.get(n).rep as unknown as { o: { observer: boolean } }).o.observer ? 'observer' : 'member');
    this.get(a).rep.peerUp(b, role(b));
    this.get(b).rep.peerUp(a, role(a));
  }

  cut(a: string, b: string): void {
    this.wires.delete(`${a}>${b}`);
    this.wires.delete(`${b}>${a}`);
    this.get(a).rep.peerDown(b);
    this.get(b).rep.peerDown(a);
  }

  linked(a: string, b: string): boolean {
    return this.wires.has(`${a}>${b}`);
  }

  /** Delivers one message from a random non-empty link; false when all are empty. */
  deliverOne(): boolean {
    const busy = [...this.wires.values()].filter((w) => w.queue.length > 0);
    if (busy.length === 0) return false;
    const wire = busy[this.random.int(busy.length)]!;
    this.get(wire.to).rep.handle(wire.from, wire.queue.shift()!);
    return true;
  }

  /** Delivers until nothing is in flight (microtask flushes and the 0 ms timers of pull answers included). */
  async quiesce(limit = 1_000_000): Promise<void> {
    for (let i = 0; i < limit; i++) {
      await flush();
      if (!this.deliverOne()) {
        await flush();
        this.clock.advance(0);
        if ([...this.wires.values()].every((w) => w.queue.length === 0)) return;
      }
    }
    throw new Error('the network did not quiesce');
  }

  contents(name: string): string {
    return JSON.stringify(
      [...this.get(name).replica.all()]
        .filter(([k, v]) => !(k.startsWith('c:') && isCollected(v as ChildRegister)))
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, desiredStateKinds(k)!.text(v)]),
    );
  }
}

describe('replicated store: deltas', () => {
  it('a turn of 1,000 writes goes to each peer as one delta message (in parts of 1,000), and nothing is re-broadcast', async () => {
    const net = new Net();
    for (const n of ['a', 'b', 'c']) net.add(n);
    net.link('a', 'b');
    net.link('a', 'c');
    net.link('b', 'c');
    await net.quiesce();
    net.sent.length = 0;
    const a = net.get('a').rep;
    for (let i = 0; i < 1000; i++) a.write(`c:k${i}`, child(`k${i}`));
    await net.quiesce();
    const deltas = net.sent.filter((s) => s.m.t === 'rs.delta');
    expect(deltas.map((d) => `${d.from}>${d.to}`).sort()).toEqual(['a>b', 'a>c']);
    expect(deltas.every((d) => d.m.t === 'rs.delta' && d.m.entries.length === 1000)).toBe(true);
    expect(net.contents('b')).toBe(net.contents('a'));
    expect(net.contents('c')).toBe(net.contents('a'));
    // Acknowledged: one ack per receiving peer.
    expect(
      net.sent
        .filter((s) => s.m.t === 'rs.ack')
        .map((s) => `${s.from}>${s.to}`)
        .sort(),
    ).toEqual(['b>a', 'c>a']);
    expect(a.holdsWrite('b', a.tick) && a.holdsWrite('c', a.tick)).toBe(true);
  });

  it('writes of one key in a turn travel once, with the merged value', async () => {
    const net = new Net();
    net.add('a');
    net.add('b');
    net.link('a', 'b');
    await net.quiesce();
    net.sent.length = 0;
    const reg = child('x');
    net.get('a').rep.write('c:x', reg);
    net.get('a').rep.write('c:x', tombstone(reg));
    await net.quiesce();
    const deltas = net.sent.filter((s) => s.m.t === 'rs.delta');
    expect(deltas).toHaveLength(1);
    expect(deltas[0]!.m.t === 'rs.delta' && deltas[0]!.m.entries).toHaveLength(1);
    expect(net.contents('b')).toBe(net.contents('a'));
  });

  it('an acknowledgement waits until the receiver has acted on the change (settledTick)', async () => {
    const net = new Net();
    net.add('a');
    net.add('b');
    net.link('a', 'b');
    await net.quiesce();
    const b = net.get('b');
    b.settled = b.replica.tick; // b has acted on nothing newer than now
    const a = net.get('a').rep;
    a.write('c:x', child('x'));
    const tick = a.tick;
    await net.quiesce();
    expect(b.replica.has('c:x')).toBe(true);
    expect(a.holdsWrite('b', tick)).toBe(false);
    b.settled = undefined; // acted on
    b.rep.kick();
    await net.quiesce();
    expect(a.holdsWrite('b', tick)).toBe(true);
  });
});

describe('replicated store: anti-entropy by digests', () => {
  it('a node restarted empty into 8 members receives each register about once, not once per member', async () => {
    const net = new Net();
    const names = Array.from({ length: 8 }, (_, i) => `m${i}`);
    for (const n of names) net.add(n);
    for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) net.link(names[i]!, names[j]!);
    await net.quiesce();
    for (let i = 0; i < 3000; i++) net.get(names[i % 8]!).rep.write(`c:k${i}`, child(`k${i}`));
    await net.quiesce();
    net.add('fresh');
    net.sent.length = 0;
    for (const n of names) net.link('fresh', n);
    await net.quiesce();
    expect(net.contents('fresh')).toBe(net.contents('m0'));
    const received = net.sent.filter((s) => s.to === 'fresh' && s.m.t === 'rs.regs').reduce((n, s) => n + (s.m.t === 'rs.regs' ? s.m.entries.length : 0), 0);
    expect(received).toBe(3000); // each register once
    // And it told every member that it holds their state (rs.synced), so they know it holds every write.
    for (const n of names) expect(net.get(n).rep.holdsState('fresh', net.get(n).replica.tick)).toBe(true);
  });

  it('a node coming back with a stale copy receives just what changed, and the members take what only it had', async () => {
    const net = new Net();
    for (const n of ['a', 'b', 'c']) net.add(n);
    net.link('a', 'b');
    net.link('a', 'c');
    net.link('b', 'c');
    const regs = Array.from({ length: 2000 }, (_, i) => child(`k${i}`));
    regs.forEach((r, i) => net.get('a').rep.write(`c:k${i}`, r));
    await net.quiesce();
    net.cut('c', 'a');
    net.cut('c', 'b');
    for (let i = 0; i < 50; i++) net.get('a').rep.write(`c:k${i}`, tombstone(regs[i]!)); // terminated while c was away
    net.get('c').rep.write('c:only-c', child('only-c', 'n3')); // started on c's side
    await net.quiesce();
    net.sent.length = 0;
    net.link('c', 'a');
    net.link('c', 'b');
    await net.quiesce();
    for (const n of ['b', 'c']) expect(net.contents(n)).toBe(net.contents('a'));
    const toC = net.sent.filter((s) => s.to === 'c' && s.m.t === 'rs.regs').reduce((n, s) => n + (s.m.t === 'rs.regs' ? s.m.entries.length : 0), 0);
    expect(toC).toBeLessThanOrEqual(50 * 2); // the 50 tombstones (at most from both members), not 2,000
    expect(toC).toBeGreaterThanOrEqual(50);
  });

  it('pulls are answered at most 1,000 registers a turn over all of them, a part of each in turn; a link lost mid-answer ends it', async () => {
    // Race "a pull storm": a node that answered every pull at once spent seconds in one turn (no ping
    // answered, so its links dropped, so it was pulled from again).
    const net = new Net();
    net.add('big');
    for (let i = 0; i < 3000; i++) net.get('big').rep.write(`c:k${i}`, child(`k${i}`));
    await net.quiesce();
    const pullers = ['e1', 'e2', 'e3'];
    for (const n of pullers) net.add(n);
    net.sent.length = 0;
    for (const n of pullers) net.link('big', n);
    const answered = (to?: string) =>
      net.sent
        .filter((s) => s.from === 'big' && s.m.t === 'rs.regs' && (to === undefined || s.to === to))
        .reduce((n, s) => n + (s.m.t === 'rs.regs' ? s.m.entries.length : 0), 0);
    /** Delivers everything in flight without letting a timer run: one timer turn of the answerer's. */
    const deliverTurn = async () => {
      for (let i = 0; i < 10_000; i++) {
        await flush();
        if (!net.deliverOne()) return;
      }
    };
    await deliverTurn();
    expect(net.sent.filter((s) => s.to === 'big' && s.m.t === 'rs.pull')).toHaveLength(3);
    expect(answered()).toBeLessThanOrEqual(1000);
    const perTurn: number[] = [answered()];
    for (let turn = 0; turn < 3; turn++) {
      net.clock.step(net.clock.now()); // one timer (advance would also run the ones it sets for now)
      await deliverTurn();
      perTurn.push(answered() - perTurn.reduce((a, b) => a + b, 0));
    }
    expect(
      perTurn.every((n) => n <= 1000),
      perTurn.join(', '),
    ).toBe(true);
    // Each puller got a part by now (in turn, not one after the other).
    for (const n of pullers) expect(answered(n)).toBeGreaterThan(0);
    // e3's link drops mid-answer: nothing more goes to it on that link, and on the next it is answered anew.
    const toE3 = answered('e3');
    expect(toE3).toBeLessThan(3000);
    net.cut('big', 'e3');
    net.clock.step(net.clock.now());
    await deliverTurn();
    expect(answered('e3')).toBe(toE3);
    net.link('big', 'e3');
    await net.quiesce();
    for (const n of pullers) expect(net.contents(n)).toBe(net.contents('big'));
    // Every answer ended with one last part (no `more`), and e1 and e2 received each register once.
    const lasts = net.sent.filter((s) => s.from === 'big' && s.m.t === 'rs.regs' && !s.m.more);
    expect(new Set(lasts.map((s) => `${s.to}:${s.m.t === 'rs.regs' ? s.m.pull : ''}`)).size).toBe(lasts.length);
    expect(answered('e1')).toBe(3000);
    expect(answered('e2')).toBe(3000);
  });

  it('a small peer and a large one: the coarse digest is refined before pulling', async () => {
    const net = new Net();
    net.add('big');
    net.add('small');
    for (let i = 0; i < 5000; i++) net.get('big').rep.write(`c:k${i}`, child(`k${i}`));
    net.get('small').rep.write('c:s', child('s', 'n2'));
    await net.quiesce();
    net.sent.length = 0;
    net.link('big', 'small');
    await net.quiesce();
    expect(net.contents('small')).toBe(net.contents('big'));
    expect(net.sent.some((s) => s.m.t === 'rs.digest-req' && s.from === 'big')).toBe(true);
    const pullFromBig = net.sent.filter((s) => s.from === 'big' && s.m.t === 'rs.pull');
    const haveListed = pullFromBig.reduce((n, s) => n + (s.m.t === 'rs.pull' ? s.m.have.length : 0), 0);
    expect(haveListed).toBeLessThan(50); // the big one lists only its few keys that share a bucket with the small one's
  });

  it('an observer pulls and receives deltas, is never pulled from, sends no digest, and drops its replica when it has no member left', async () => {
    const net = new Net();
    net.add('m');
    net.add('o', { observer: true });
    for (let i = 0; i < 20; i++) net.get('m').rep.write(`c:k${i}`, child(`k${i}`));
    net.link('m', 'o');
    await net.quiesce();
    net.get('m').rep.write('c:late', child('late'));
    await net.quiesce();
    expect(net.contents('o')).toBe(net.contents('m'));
    expect(net.sent.filter((s) => s.from === 'o').every((s) => s.m.t === 'rs.pull')).toBe(true);
    // Its own write is acknowledged by the member; and once it has no member left it keeps nothing.
    const o = net.get('o').rep;
    o.write('c:from-o', child('from-o', 'o'));
    await net.quiesce();
    expect(o.holdsWrite('m', o.tick)).toBe(true);
    expect(net.get('m').replica.has('c:from-o')).toBe(true);
    net.cut('m', 'o');
    expect(net.get('o').replica.size).toBe(0);
  });

  it('converges whatever the interleaving, with links lost and restored mid-flight (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1_000_000 }), async (seed) => {
        const rng = new SeededRandom(seed);
        const net = new Net(new SeededRandom(seed + 1));
        const names = ['a', 'b', 'c', 'd'];
        for (const n of names) net.add(n);
        for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) net.link(names[i]!, names[j]!);
        const latest = new Map<string, ChildRegister>();
        for (let step = 0; step < 60; step++) {
          const roll = rng.next();
          const node = names[rng.int(names.length)]!;
          if (roll < 0.5) {
            const id = `k${rng.int(12)}`;
            const held = net.get(node).replica.get(`c:${id}`) as ChildRegister | undefined;
            const reg = held && held.specs.length > 0 && rng.next() < 0.4 ? tombstone(held, node) : child(id, node);
            net.get(node).rep.write(`c:${id}`, reg);
            latest.set(id, reg);
          } else if (roll < 0.6) {
            const other = names[rng.int(names.length)]!;
            if (other !== node && net.linked(node, other)) net.cut(node, other);
          } else if (roll < 0.7) {
            const other = names[rng.int(names.length)]!;
            if (other !== node && !net.linked(node, other)) net.link(node, other);
          }
          for (let k = rng.int(6); k > 0; k--) {
            await flush();
            net.deliverOne();
          }
        }
        for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) if (!net.linked(names[i]!, names[j]!)) net.link(names[i]!, names[j]!);
        await net.quiesce();
        // Writes made while a pair was cut reach it through the other nodes' anti-entropy: one round does it.
        for (const n of names) net.get(n).rep.antiEntropy();
        await net.quiesce();
        for (const n of names) expect(net.contents(n)).toBe(net.contents('a'));
      }),
      { numRuns: 60, seed: 1304 },
    );
  });
});

describe('replicated store: bad input', () => {
  it('drops bad registers with a reason, applies the good ones, ignores old sequence numbers and stray answers', async () => {
    const net = new Net();
    net.add('a');
    net.add('b');
    net.link('a', 'b');
    await net.quiesce();
    const b = net.get('b');
    const good = child('g');
    b.rep.handle('a', {
      t: 'rs.delta',
      scope: 'pogo',
      seq: 99,
      entries: [
        ['c:g', good],
        ['c:h', { specs: 'no' }],
        ['zz:1', {}],
        ['c:i', { specs: [{ rev: ver(NOW + 10 * 3600_000, 1, 'a'), spec: { id: 'i', start: { worker: 'w' } } }] }],
      ],
    });
    expect(b.replica.has('c:g')).toBe(true);
    expect(b.replica.has('c:h') || b.replica.has('zz:1') || b.replica.has('c:i')).toBe(false);
    expect(net.log.entries.filter((e) => /dropped a register/.test(e.message))).toHaveLength(3);
    b.rep.handle('a', { t: 'rs.delta', scope: 'pogo', seq: 5, entries: [['c:late', child('late')]] });
    expect(b.replica.has('c:late')).toBe(false);
    b.rep.handle('a', { t: 'rs.regs', scope: 'pogo', seq: 100, pull: 12345, entries: [] });
    b.rep.handle('a', { t: 'rs.pull', scope: 'pogo', pull: 1, level: 2, buckets: [0, 3, 4095], have: [] });
    b.rep.handle('nobody', { t: 'rs.ack', scope: 'pogo', seq: 1 });
    await net.quiesce();
    expect(net.contents('b')).toContain('c:g'); // and b still answers: nothing it was sent broke it
  });
});
