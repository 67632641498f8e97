/**
 * Tests for process groups (groups.ts).
 *
 * `Net` wires several ProcessGroups through a fake network: every message is
 * JSON-encoded and decoded with the real wire schema (so each message we send
 * must be valid on the wire), kept in a FIFO queue per directed pair, and
 * delivered either at once (`autoFlush`) or when the test says so. Links can
 * be brought up and down; a link going down loses what was in flight on it,
 * and `sever` breaks a link without telling either side (a half-open link).
 * `connect` calls `peerUp` on both sides before delivering anything, as the
 * link layer does (each side is up before the other can read its frames).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyJson } from '../src/groups/members.js';
import { MemoryLogger, type CapturedLog } from '../src/logger.js';
import { decodeMessage, type PgJoin, type PgLeave, type PgSync } from '../src/protocol.js';
import { SeededRandom } from '../src/random.js';
import { PgError, ProcessGroups, diffMembers, type JsonValue, type PgEvent, type PgMember, type PgMessage } from '../src/groups.js';

const INC = '0123abcd';
const pidOf = (node: string, id: string, incarnation = INC): string => `${node}/${incarnation}/${id}`;
const member = (node: string, id: string, value?: JsonValue): PgMember =>
  value === undefined ? { pid: pidOf(node, id), node } : { pid: pidOf(node, id), node, value };

interface Envelope {
  from: string;
  to: string;
  message: PgMessage;
}

class Net {
  readonly log = new MemoryLogger();
  /** Every message accepted by the network, in send order. */
  readonly sent: Envelope[] = [];
  private readonly nodes = new Map<string, ProcessGroups>();
  private readonly links = new Set<string>();
  /** "from>to" → messages in flight, FIFO. */
  private readonly inFlight = new Map<string, PgMessage[]>();
  private holding = 0;
  private flushing = false;

  constructor(
    names: string[],
    private readonly autoFlush = true,
  ) {
    for (const name of names) this.start(name, INC);
  }

  /** (Re)starts a node with an empty state, as after a process restart. */
  start(name: string, incarnation: string): ProcessGroups {
    const groups = new ProcessGroups({
      node: name,
      incarnation,
      log: this.log.child({ node: name }),
      channel: { send: (peer, message) => this.send(name, peer, message) },
    });
    this.nodes.set(name, groups);
    return groups;
  }

  node(name: string): ProcessGroups {
    const groups = this.nodes.get(name);
    if (groups === undefined) throw new Error(`no node ${name}`);
    return groups;
  }

  names(): string[] {
    return [...this.nodes.keys()];
  }

  isLinked(a: string, b: string): boolean {
    return this.links.has(linkKey(a, b));
  }

  connect(a: string, b: string): void {
    this.links.add(linkKey(a, b));
    this.holding++;
    this.node(a).peerUp(b);
    this.node(b).peerUp(a);
    this.holding--;
    if (this.autoFlush) this.flush();
  }

  disconnect(a: string, b: string): void {
    this.sever(a, b);
    this.node(a).peerDown(b);
    this.node(b).peerDown(a);
  }

  /** Breaks the link without telling either side; what was in flight is lost. */
  sever(a: string, b: string): void {
    this.links.delete(linkKey(a, b));
    this.inFlight.delete(`${a}>${b}`);
    this.inFlight.delete(`${b}>${a}`);
  }

  connectAll(): void {
    const names = this.names();
    for (let i = 0; i < names.length; i++)
      for (let j = i + 1; j < names.length; j++) if (!this.isLinked(names[i]!, names[j]!)) this.connect(names[i]!, names[j]!);
  }

  pending(): number {
    let n = 0;
    for (const queue of this.inFlight.values()) n += queue.length;
    return n;
  }

  /** Delivers the oldest message of one directed pair; false when nothing is in flight. */
  deliverOne(pick: (n: number) => number = () => 0): boolean {
    const pairs = [...this.inFlight.keys()];
    if (pairs.length === 0) return false;
    const key = pairs[pick(pairs.length)]!;
    const queue = this.inFlight.get(key)!;
    const message = queue.shift()!;
    if (queue.length === 0) this.inFlight.delete(key);
    const [from, to] = key.split('>') as [string, string];
    this.node(to).handleMessage(from, message);
    return true;
  }

  flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.deliverOne());
    } finally {
      this.flushing = false;
    }
  }

  private send(from: string, to: string, message: PgMessage): void {
    // Through the wire format: JSON, then the real schema.
    const decoded = decodeMessage(JSON.parse(JSON.stringify(message)));
    if (!decoded.ok) throw new Error(`invalid message from ${from} to ${to}: ${decoded.reason}`);
    if (!decoded.message.t.startsWith('pg.')) throw new Error(`unexpected message ${decoded.message.t}`);
    this.sent.push({ from, to, message });
    if (!this.isLinked(from, to)) return; // no link: the frame goes nowhere
    const key = `${from}>${to}`;
    let queue = this.inFlight.get(key);
    if (queue === undefined) this.inFlight.set(key, (queue = []));
    queue.push(decoded.message as PgSync | PgJoin | PgLeave);
    if (this.autoFlush && this.holding === 0) this.flush();
  }
}

function linkKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

function single(node = 'a', log = new MemoryLogger()): { groups: ProcessGroups; log: MemoryLogger; sent: Envelope[] } {
  const sent: Envelope[] = [];
  const groups = new ProcessGroups({ node, incarnation: INC, log, channel: { send: (to, message) => sent.push({ from: node, to, message }) } });
  return { groups, log, sent };
}

/** Records the events a listener receives. */
function recorder(): { events: PgEvent[]; listener: (e: PgEvent) => void } {
  const events: PgEvent[] = [];
  return { events, listener: (e) => events.push(e) };
}

const ev = (kind: PgEvent['kind'], scope: string, group: string, members: PgMember[]): PgEvent => ({ kind, scope, group, members });
const warnings = (log: MemoryLogger): CapturedLog[] => log.entries.filter((e) => e.level === 'warn');

describe('local memberships', () => {
  it('lists a pid once per join and needs as many leaves', () => {
    const { groups } = single();
    const p = pidOf('a', 'p1');
    groups.join('s', 'g', p);
    groups.join('s', 'g', p);
    expect(groups.getMembers('s', 'g')).toEqual([member('a', 'p1'), member('a', 'p1')]);
    expect(groups.leave('s', 'g', p)).toBe(true);
    expect(groups.getMembers('s', 'g')).toEqual([member('a', 'p1')]);
    expect(groups.leave('s', 'g', p)).toBe(true);
    expect(groups.getMembers('s', 'g')).toEqual([]);
    expect(groups.leave('s', 'g', p)).toBe(false);
  });

  it('returns false when leaving as a non-member, in an unknown scope, or with a foreign pid', () => {
    const { groups } = single();
    groups.join('s', 'g', pidOf('a', 'p1'));
    expect(groups.leave('s', 'g', pidOf('a', 'p2'))).toBe(false);
    expect(groups.leave('s', 'other', pidOf('a', 'p1'))).toBe(false);
    expect(groups.leave('nope', 'g', pidOf('a', 'p1'))).toBe(false);
    expect(groups.leave('s', 'g', pidOf('b', 'p1'))).toBe(false);
    expect(groups.getMembers('s', 'g')).toEqual([member('a', 'p1')]);
  });

  it('removes empty groups but keeps the locally created scope', () => {
    const { groups } = single();
    groups.join('s', 'g2', pidOf('a', 'p1'));
    groups.join('s', 'g1', pidOf('a', 'p1'));
    expect(groups.whichGroups('s')).toEqual(['g1', 'g2']);
    groups.leave('s', 'g1', pidOf('a', 'p1'));
    expect(groups.whichGroups('s')).toEqual(['g2']);
    expect(groups.snapshot()).toEqual({ s: { g2: [member('a', 'p1')] } });
    groups.leave('s', 'g2', pidOf('a', 'p1'));
    expect(groups.whichGroups('s')).toEqual([]);
    expect(groups.scopes()).toEqual(['s']);
    expect(groups.snapshot()).toEqual({ s: {} });
  });

  it('rejects pids of other nodes, of an earlier incarnation, and malformed ones', () => {
    const { groups } = single();
    expect(() => groups.join('s', 'g', pidOf('b', 'p1'))).toThrow(PgError);
    expect(() => groups.join('s', 'g', pidOf('b', 'p1'))).toThrow(/only processes of this node \(a\/0123abcd\) may join/);
    expect(() => groups.join('s', 'g', pidOf('a', 'p1', 'ffffffff'))).toThrow(/only processes of this node/);
    expect(() => groups.join('s', 'g', 'not-a-pid')).toThrow(/not a pid/);
    expect(groups.scopes()).toEqual([]);
  });

  it('rejects invalid names and values that are not JSON', () => {
    const { groups } = single();
    const p = pidOf('a', 'p1');
    expect(() => groups.join('', 'g', p)).toThrow(/invalid pg scope name/);
    expect(() => groups.join('s', '', p)).toThrow(/invalid pg group name/);
    expect(() => groups.join('s', 'g', p, Number.NaN)).toThrow(/value must be plain JSON/);
    expect(() => groups.join('s', 'g', p, { when: new Date(0) } as unknown as JsonValue)).toThrow(PgError);
    expect(() => groups.createScope('')).toThrow(PgError);
    expect(groups.whichGroups('s')).toEqual([]);
  });

  it('keeps a copy of each value, frozen, so callers cannot change the state', () => {
    const { groups } = single();
    const value = { spec: { id: 'x', args: [1, 2] } };
    groups.join('s', 'g', pidOf('a', 'p1'), value);
    value.spec.args.push(3);
    const [m] = groups.getMembers('s', 'g');
    expect(m).toEqual(member('a', 'p1', { spec: { id: 'x', args: [1, 2] } }));
    expect(Object.isFrozen(m)).toBe(true);
    expect(() => (m!.value as { spec: { args: number[] } }).spec.args.push(4)).toThrow(TypeError);
  });

  it('leaveAll removes every membership of a pid in every scope', () => {
    const { groups, sent } = single();
    groups.peerUp('b');
    const p1 = pidOf('a', 'p1');
    const p2 = pidOf('a', 'p2');
    groups.join('s1', 'g', p1);
    groups.join('s1', 'g', p2);
    groups.join('s1', 'g', p1, 7);
    groups.join('s2', 'h', p1);
    sent.length = 0;
    expect(groups.leaveAll(p1)).toBe(3);
    expect(groups.getMembers('s1', 'g')).toEqual([member('a', 'p2')]);
    expect(groups.whichGroups('s2')).toEqual([]);
    expect(groups.leaveAll(p1)).toBe(0);
    expect(sent.map((e) => e.message)).toEqual([
      { t: 'pg.leave', scope: 's1', group: 'g', pids: [p1, p1] },
      { t: 'pg.leave', scope: 's2', group: 'h', pids: [p1] },
    ]);
  });

  it('lists scopes and groups sorted and gives a JSON-serialisable snapshot', () => {
    const { groups } = single();
    groups.createScope('zeta');
    groups.createScope('zeta');
    groups.join('alpha', 'b', pidOf('a', 'p1'), { n: 1 });
    groups.join('alpha', 'a', pidOf('a', 'p2'));
    expect(groups.scopes()).toEqual(['alpha', 'zeta']);
    expect(groups.whichGroups('alpha')).toEqual(['a', 'b']);
    const snapshot = groups.snapshot();
    expect(snapshot).toEqual({ alpha: { a: [member('a', 'p2')], b: [member('a', 'p1', { n: 1 })] }, zeta: {} });
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
    expect(Object.keys(snapshot)).toEqual(['alpha', 'zeta']);
  });

  it('handles a group named __proto__ like any other', () => {
    const { groups } = single();
    groups.join('s', '__proto__', pidOf('a', 'p1'));
    const snapshot = groups.snapshot();
    expect(Object.keys(snapshot['s']!)).toEqual(['__proto__']);
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual({ s: { ['__proto__']: [member('a', 'p1')] } });
  });
});

describe('copyJson (a local join copies its value)', () => {
  it('makes what a trip through JSON text makes, and shares nothing with the original', () => {
    const odd = fc.constantFrom<JsonValue>(-0, { ['__proto__']: 1 } as JsonValue, JSON.parse('{"__proto__":{"a":[1,-0]}}') as JsonValue, [-0, { b: null }]);
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<JsonValue>, odd), (v) => {
        const copy = copyJson(v);
        const viaText = JSON.parse(JSON.stringify(v)) as JsonValue;
        expect(copy).toStrictEqual(viaText);
        expect(JSON.stringify(copy)).toBe(JSON.stringify(viaText));
        if (v !== null && typeof v === 'object') expect(copy).not.toBe(v);
        if (copy !== null && typeof copy === 'object' && !Array.isArray(copy)) expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
      }),
      { numRuns: 2000, seed: 1401 },
    );
  });
});

describe('diffMembers', () => {
  it('computes the multiset difference by pid and value', () => {
    const previous = [member('a', 'p1'), member('a', 'p1'), member('a', 'p2', { x: 1, y: 2 }), member('a', 'p3', 1)];
    const next = [member('a', 'p2', { y: 2, x: 1 }), member('a', 'p1'), member('a', 'p3', 2), member('a', 'p4')];
    expect(diffMembers(previous, next)).toEqual({ left: [member('a', 'p1'), member('a', 'p3', 1)], joined: [member('a', 'p3', 2), member('a', 'p4')] });
    expect(diffMembers(next, next)).toEqual({ left: [], joined: [] });
  });
});

describe('two or more linked nodes', () => {
  it('exchange their memberships on link up, then deltas', () => {
    const net = new Net(['a', 'b']);
    net.node('a').join('s', 'g', pidOf('a', 'p1'), { role: 'x' });
    net.node('b').join('s', 'g', pidOf('b', 'p1'));
    net.node('b').createScope('only-b');
    expect(net.node('a').getMembers('s', 'g')).toEqual([member('a', 'p1', { role: 'x' })]);

    net.connect('a', 'b');
    expect(net.node('a').peers()).toEqual(['b']);
    expect(net.node('a').getMembers('s', 'g')).toEqual([member('a', 'p1', { role: 'x' }), member('b', 'p1')]);
    expect(net.node('b').getMembers('s', 'g')).toEqual([member('b', 'p1'), member('a', 'p1', { role: 'x' })]);
    expect(net.node('a').getLocalMembers('s', 'g')).toEqual([member('a', 'p1', { role: 'x' })]);
    expect(net.node('a').scopes()).toEqual(['only-b', 's']);
    // An empty local scope is still synced (a sync with no groups).
    expect(net.sent.some((e) => e.from === 'b' && e.message.t === 'pg.sync' && e.message.scope === 'only-b' && e.message.groups.length === 0)).toBe(true);

    net.node('a').join('s', 'h', pidOf('a', 'p2'));
    net.node('b').leave('s', 'g', pidOf('b', 'p1'));
    expect(net.node('b').getMembers('s', 'h')).toEqual([member('a', 'p2')]);
    expect(net.node('a').getMembers('s', 'g')).toEqual([member('a', 'p1', { role: 'x' })]);
    expect(net.node('a').whichGroups('s')).toEqual(['g', 'h']);

    // A scope created while linked is announced at once.
    net.node('a').createScope('late');
    expect(net.node('b').scopes()).toEqual(['late', 'only-b', 's']);
  });

  it('list local members first, then peers by name, in join order within a node', () => {
    const net = new Net(['c', 'a', 'b']);
    net.connectAll();
    net.node('c').join('s', 'g', pidOf('c', 'p1'));
    net.node('a').join('s', 'g', pidOf('a', 'p2'));
    net.node('a').join('s', 'g', pidOf('a', 'p1'));
    net.node('b').join('s', 'g', pidOf('b', 'p1'));
    expect(
      net
        .node('b')
        .getMembers('s', 'g')
        .map((m) => m.pid),
    ).toEqual([pidOf('b', 'p1'), pidOf('a', 'p2'), pidOf('a', 'p1'), pidOf('c', 'p1')]);
    expect(
      net
        .node('c')
        .getMembers('s', 'g')
        .map((m) => m.pid),
    ).toEqual([pidOf('c', 'p1'), pidOf('a', 'p2'), pidOf('a', 'p1'), pidOf('b', 'p1')]);
  });

  it('monitor gives a snapshot then local and remote join/leave events', () => {
    const net = new Net(['a', 'b']);
    net.node('a').join('s', 'g', pidOf('a', 'p1'));
    const onGroup = recorder();
    const onScope = recorder();
    const groupMonitor = net.node('a').monitor('s', 'g', onGroup.listener);
    const scopeMonitor = net.node('a').monitor('s', undefined, onScope.listener);
    expect(groupMonitor.snapshot).toEqual([member('a', 'p1')]);
    expect(scopeMonitor.snapshot).toEqual(new Map([['g', [member('a', 'p1')]]]));

    net.node('b').join('s', 'g', pidOf('b', 'p1')); // not linked yet: a sees nothing
    expect(onGroup.events).toEqual([]);
    net.connect('a', 'b');
    net.node('a').join('s', 'g', pidOf('a', 'p2'), 5);
    net.node('b').join('s', 'other', pidOf('b', 'p2'));
    net.node('b').leave('s', 'g', pidOf('b', 'p1'));
    net.node('a').leave('s', 'g', pidOf('a', 'p1'));

    const expected = [
      ev('join', 's', 'g', [member('b', 'p1')]),
      ev('join', 's', 'g', [member('a', 'p2', 5)]),
      ev('join', 's', 'other', [member('b', 'p2')]),
      ev('leave', 's', 'g', [member('b', 'p1')]),
      ev('leave', 's', 'g', [member('a', 'p1')]),
    ];
    expect(onScope.events).toEqual(expected);
    expect(onGroup.events).toEqual(expected.filter((e) => e.group === 'g'));

    groupMonitor.unsubscribe();
    groupMonitor.unsubscribe();
    scopeMonitor.unsubscribe();
    net.node('a').join('s', 'g', pidOf('a', 'p3'));
    expect(onScope.events).toHaveLength(expected.length);
    expect(onGroup.events).toHaveLength(expected.filter((e) => e.group === 'g').length);
  });

  it('monitoring a scope that does not exist yet works and does not create it', () => {
    const net = new Net(['a', 'b']);
    const onScope = recorder();
    const monitor = net.node('a').monitor('later', undefined, onScope.listener);
    expect(monitor.snapshot).toEqual(new Map());
    expect(net.node('a').scopes()).toEqual([]);
    net.connect('a', 'b');
    net.node('b').join('later', 'g', pidOf('b', 'p1'));
    expect(onScope.events).toEqual([ev('join', 'later', 'g', [member('b', 'p1')])]);
  });
});

describe('sync replaces what a node held of a peer', () => {
  it('after a half-open link, the new sync replaces stale entries and monitors see only the diff', () => {
    const net = new Net(['a', 'b']);
    net.connect('a', 'b');
    const a = net.node('a');
    a.join('s', 'keep', pidOf('a', 'p1'));
    a.join('s', 'gone', pidOf('a', 'p2'));
    a.join('s', 'value', pidOf('a', 'p3'), 1);
    a.join('t', 'x', pidOf('a', 'p4'));

    // The link dies silently; b still believes a is up, and a's changes are lost in flight.
    net.sever('a', 'b');
    a.peerDown('b');
    a.leave('s', 'gone', pidOf('a', 'p2'));
    a.leave('s', 'value', pidOf('a', 'p3'));
    a.join('s', 'value', pidOf('a', 'p3'), 2);
    a.join('s', 'new', pidOf('a', 'p5'));
    a.leave('t', 'x', pidOf('a', 'p4'));
    expect(net.node('b').getMembers('s', 'gone')).toEqual([member('a', 'p2')]);

    const onScope = recorder();
    const onT = recorder();
    net.node('b').monitor('s', undefined, onScope.listener);
    net.node('b').monitor('t', undefined, onT.listener);
    // The link comes back (for b: the old link is replaced by a new one).
    net.connect('a', 'b');

    for (const scope of ['s', 't']) {
      for (const group of a.whichGroups(scope)) expect(net.node('b').getMembers(scope, group)).toEqual(a.getLocalMembers(scope, group));
      expect(net.node('b').whichGroups(scope)).toEqual(a.whichGroups(scope));
    }
    expect(net.node('b').whichGroups('s')).toEqual(['keep', 'new', 'value']);
    expect(net.node('b').whichGroups('t')).toEqual([]);
    expect(onScope.events).toEqual(
      expect.arrayContaining([
        ev('leave', 's', 'gone', [member('a', 'p2')]),
        ev('leave', 's', 'value', [member('a', 'p3', 1)]),
        ev('join', 's', 'value', [member('a', 'p3', 2)]),
        ev('join', 's', 'new', [member('a', 'p5')]),
      ]),
    );
    expect(onScope.events).toHaveLength(4); // nothing for "keep"
    expect(onT.events).toEqual([ev('leave', 't', 'x', [member('a', 'p4')])]);
  });

  it('a restarted peer (new incarnation) replaces its old memberships on link up', () => {
    const net = new Net(['a', 'b']);
    net.connect('a', 'b');
    net.node('a').join('s', 'g', pidOf('a', 'p1'));
    net.sever('a', 'b');
    const restarted = net.start('a', 'ffff0000');
    restarted.join('s', 'g', pidOf('a', 'p1', 'ffff0000'));
    const onGroup = recorder();
    net.node('b').monitor('s', 'g', onGroup.listener);
    net.connect('a', 'b');
    expect(net.node('b').getMembers('s', 'g')).toEqual([{ pid: pidOf('a', 'p1', 'ffff0000'), node: 'a' }]);
    expect(onGroup.events).toEqual([ev('leave', 's', 'g', [member('a', 'p1')]), ev('join', 's', 'g', [{ pid: pidOf('a', 'p1', 'ffff0000'), node: 'a' }])]);
  });
});

describe('peers that are not up', () => {
  it('ignores deltas and syncs from a peer that is not up, before link up and after link down', () => {
    const { groups, log } = single('b');
    const join: PgJoin = { t: 'pg.join', scope: 's', group: 'g', entries: [{ pid: pidOf('a', 'p1') }] };
    groups.handleMessage('a', join);
    groups.handleMessage('a', { t: 'pg.sync', scope: 's', groups: [{ group: 'g', entries: [{ pid: pidOf('a', 'p1') }] }] });
    expect(groups.getMembers('s', 'g')).toEqual([]);
    expect(groups.scopes()).toEqual([]);
    expect(log.entries.filter((e) => e.level === 'debug' && /not up/.test(e.message))).toHaveLength(2);

    groups.peerUp('a');
    groups.handleMessage('a', join);
    expect(groups.getMembers('s', 'g')).toEqual([member('a', 'p1')]);
    groups.peerDown('a');
    groups.handleMessage('a', { t: 'pg.join', scope: 's', group: 'g', entries: [{ pid: pidOf('a', 'p2') }] });
    expect(groups.getMembers('s', 'g')).toEqual([]);
    expect(groups.scopes()).toEqual([]);
  });

  it('peerDown drops every entry of that peer in every scope, with leave events', () => {
    const net = new Net(['a', 'b', 'c']);
    net.connectAll();
    net.node('a').join('s', 'g', pidOf('a', 'p1'));
    net.node('a').join('s', 'g', pidOf('a', 'p2'));
    net.node('a').join('t', 'h', pidOf('a', 'p1'), 'v');
    net.node('c').join('s', 'g', pidOf('c', 'p1'));
    net.node('b').join('t', 'h', pidOf('b', 'p1'));
    const onS = recorder();
    const onT = recorder();
    net.node('b').monitor('s', undefined, onS.listener);
    net.node('b').monitor('t', undefined, onT.listener);

    net.disconnect('a', 'b');
    expect(net.node('b').getMembers('s', 'g')).toEqual([member('c', 'p1')]);
    expect(net.node('b').getMembers('t', 'h')).toEqual([member('b', 'p1')]);
    expect(net.node('b').peers()).toEqual(['c']);
    expect(onS.events).toEqual([ev('leave', 's', 'g', [member('a', 'p1'), member('a', 'p2')])]);
    expect(onT.events).toEqual([ev('leave', 't', 'h', [member('a', 'p1', 'v')])]);
    // c still sees a: visibility is per link.
    expect(net.node('c').getMembers('s', 'g')).toEqual([member('c', 'p1'), member('a', 'p1'), member('a', 'p2')]);
  });

  it('forgets a scope known only from a peer when that peer goes down', () => {
    const net = new Net(['a', 'b']);
    net.node('a').createScope('mine');
    net.connect('a', 'b');
    expect(net.node('b').scopes()).toEqual(['mine']);
    net.disconnect('a', 'b');
    expect(net.node('b').scopes()).toEqual([]);
    expect(net.node('a').scopes()).toEqual(['mine']);
  });
});

describe('bad input from peers', () => {
  it('drops a remote entry whose pid belongs to another node and logs a warning', () => {
    const { groups, log } = single('b');
    groups.peerUp('a');
    groups.handleMessage('a', { t: 'pg.join', scope: 's', group: 'g', entries: [{ pid: pidOf('c', 'p1') }, { pid: pidOf('a', 'p1') }] });
    expect(groups.getMembers('s', 'g')).toEqual([member('a', 'p1')]);
    groups.handleMessage('a', {
      t: 'pg.sync',
      scope: 's',
      groups: [
        { group: 'g', entries: [{ pid: pidOf('b', 'p9') }] },
        { group: 'h', entries: [{ pid: pidOf('a', 'p2') }] },
      ],
    });
    expect(groups.whichGroups('s')).toEqual(['h']);
    groups.handleMessage('a', { t: 'pg.leave', scope: 's', group: 'h', pids: [pidOf('c', 'p1')] });
    expect(groups.getMembers('s', 'h')).toEqual([member('a', 'p2')]);

    const warns = warnings(log);
    expect(warns).toHaveLength(3);
    for (const w of warns) {
      expect(w.fields).toMatchObject({ peer: 'a', reason: expect.stringMatching(/^pid belongs to node (b|c), not to the sender$/) });
      expect(w.message).toContain('from a');
    }
    expect(warns[0]!.fields).toMatchObject({ pid: pidOf('c', 'p1'), t: 'pg.join', scope: 's', group: 'g' });
  });

  it('warns and carries on when a peer leaves entries we do not hold', () => {
    const { groups, log } = single('b');
    groups.peerUp('a');
    groups.handleMessage('a', { t: 'pg.join', scope: 's', group: 'g', entries: [{ pid: pidOf('a', 'p1') }] });
    groups.handleMessage('a', { t: 'pg.leave', scope: 's', group: 'g', pids: [pidOf('a', 'p2'), pidOf('a', 'p1')] });
    groups.handleMessage('a', { t: 'pg.leave', scope: 'unknown', group: 'g', pids: [pidOf('a', 'p1')] });
    expect(groups.getMembers('s', 'g')).toEqual([]);
    expect(warnings(log).map((w) => w.fields['pid'])).toEqual([pidOf('a', 'p2'), pidOf('a', 'p1')]);
  });

  it('never throws out of handleMessage, whatever arrives', () => {
    const { groups, log } = single('b');
    groups.peerUp('a');
    const junk = [
      null,
      { t: 'pg.nope', scope: 's' },
      { t: 'pg.join', scope: 's', group: 'g', entries: null },
      { t: 'pg.sync', scope: 's', groups: [{ group: 'g', entries: [{ pid: 42 }] }] },
    ];
    for (const message of junk) expect(() => groups.handleMessage('a', message as unknown as PgMessage)).not.toThrow();
    expect(log.entries.some((e) => e.level === 'error' || e.level === 'warn')).toBe(true);
  });

  it('merges a group listed twice in one sync', () => {
    const { groups } = single('b');
    groups.peerUp('a');
    groups.handleMessage('a', {
      t: 'pg.sync',
      scope: 's',
      groups: [
        { group: 'g', entries: [{ pid: pidOf('a', 'p1') }] },
        { group: 'g', entries: [{ pid: pidOf('a', 'p2') }] },
      ],
    });
    expect(groups.getMembers('s', 'g')).toEqual([member('a', 'p1'), member('a', 'p2')]);
  });
});

describe('monitor listeners', () => {
  it('a throwing listener does not break the module or other listeners', () => {
    const { groups, log } = single();
    const good = recorder();
    groups.monitor('s', 'g', () => {
      throw new Error('boom');
    });
    groups.monitor('s', 'g', good.listener);
    groups.monitor('s', undefined, () => {
      throw new Error('boom');
    });
    groups.join('s', 'g', pidOf('a', 'p1'));
    groups.leave('s', 'g', pidOf('a', 'p1'));
    groups.join('s', 'g', pidOf('a', 'p2'));
    expect(good.events.map((e) => e.kind)).toEqual(['join', 'leave', 'join']);
    expect(groups.getMembers('s', 'g')).toEqual([member('a', 'p2')]);
    expect(log.entries.filter((e) => e.level === 'error' && /listener threw/.test(e.message))).toHaveLength(6);
  });

  it('events stay in order when a listener changes groups or subscribes from its callback', () => {
    const { groups } = single();
    const seen: string[] = [];
    const late = recorder();
    let lateSnapshot: PgMember[] | undefined;
    groups.monitor('s', undefined, (e) => {
      seen.push(`${e.kind} ${e.group} ${e.members.map((m) => m.pid).join(',')}`);
      if (e.group === 'g' && e.kind === 'join') {
        groups.join('s', 'echo', pidOf('a', 'p9'));
        lateSnapshot = groups.monitor('s', 'echo', late.listener).snapshot;
      }
    });
    const second: string[] = [];
    groups.monitor('s', undefined, (e) => second.push(`${e.kind} ${e.group}`));
    groups.join('s', 'g', pidOf('a', 'p1'));
    expect(seen).toEqual([`join g ${pidOf('a', 'p1')}`, `join echo ${pidOf('a', 'p9')}`]);
    expect(second).toEqual(['join g', 'join echo']);
    // The late subscriber's snapshot already holds p9, so it gets no event for it.
    expect(lateSnapshot).toEqual([member('a', 'p9')]);
    expect(late.events).toEqual([]);
  });
});

describe('scale', () => {
  it('replicates and cleans up 10,000 single-member groups', () => {
    const net = new Net(['a', 'b']);
    net.connect('a', 'b');
    const a = net.node('a');
    for (let i = 0; i < 10_000; i++) a.join('s', `g${i}`, pidOf('a', `p${i}`), { i });
    expect(net.node('b').whichGroups('s')).toHaveLength(10_000);
    expect(net.node('b').getMembers('s', 'g1234')).toEqual([member('a', 'p1234', { i: 1234 })]);
    for (let i = 0; i < 10_000; i += 2) a.leaveAll(pidOf('a', `p${i}`));
    expect(net.node('b').whichGroups('s')).toHaveLength(5_000);
    net.disconnect('a', 'b');
    expect(net.node('b').whichGroups('s')).toEqual([]);
    net.connect('a', 'b');
    expect(net.node('b').whichGroups('s')).toHaveLength(5_000);
  });
});

describe('randomized: joins, leaves and link flaps on 5 nodes converge', () => {
  const NAMES = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const SCOPES = ['s1', 's2', 's3'];
  // Sorted (whichGroups' order), and with name prefixes for hasGroupsWithPrefix: 'z' has none.
  const GROUPS = ['x:g0', 'x:g1', 'y:g2', 'y:g3', 'z'];
  const PREFIXES = ['x:', 'y:', 'z'];
  const key = (m: PgMember): string => `${m.pid}|${JSON.stringify(m.value ?? null)}`;
  const sortedKeys = (members: readonly PgMember[]): string[] => members.map(key).sort();

  for (let seed = 1; seed <= 30; seed++) {
    it(`seed ${seed}`, () => {
      const rng = new SeededRandom(seed);
      const pick = <T>(items: readonly T[]): T => items[rng.int(items.length)]!;
      const net = new Net(NAMES, false);
      /** The reference model: `node|scope|group` → that node's local members in join order. */
      const model = new Map<string, PgMember[]>();
      const localScopes = new Map<string, Set<string>>(NAMES.map((n) => [n, new Set()]));
      /** Per node and scope, the state rebuilt from a scope monitor's snapshot and events. */
      const rebuilt = new Map<string, Map<string, PgMember[]>>();
      const monitorErrors: string[] = [];
      for (const node of NAMES) {
        for (const scope of SCOPES) {
          const view = new Map<string, PgMember[]>();
          rebuilt.set(`${node}|${scope}`, view);
          const { snapshot } = net.node(node).monitor(scope, undefined, (e) => {
            const list = view.get(e.group) ?? [];
            if (e.kind === 'join') list.push(...e.members);
            else
              for (const m of e.members) {
                const i = list.findIndex((x) => key(x) === key(m));
                if (i < 0) monitorErrors.push(`${node}: leave of ${key(m)} not in ${scope}/${e.group}`);
                else list.splice(i, 1);
              }
            if (list.length === 0) view.delete(e.group);
            else view.set(e.group, list);
          });
          expect(snapshot.size).toBe(0);
        }
      }

      for (let step = 0; step < 400; step++) {
        const r = rng.int(100);
        const node = pick(NAMES);
        const scope = pick(SCOPES);
        const group = pick(GROUPS);
        const pid = pidOf(node, `p${rng.int(4)}`);
        const modelKey = `${node}|${scope}|${group}`;
        if (r < 35) {
          const value = rng.int(3) === 0 ? undefined : rng.int(3);
          net.node(node).join(scope, group, pid, value);
          model.set(modelKey, [...(model.get(modelKey) ?? []), value === undefined ? { pid, node } : { pid, node, value }]);
          localScopes.get(node)!.add(scope);
        } else if (r < 55) {
          const list = model.get(modelKey) ?? [];
          const i = list.findIndex((m) => m.pid === pid);
          expect(net.node(node).leave(scope, group, pid)).toBe(i >= 0);
          if (i >= 0) list.splice(i, 1);
        } else if (r < 60) {
          let expected = 0;
          for (const [k, list] of model) {
            if (!k.startsWith(`${node}|`)) continue;
            const kept = list.filter((m) => m.pid !== pid);
            expected += list.length - kept.length;
            model.set(k, kept);
          }
          expect(net.node(node).leaveAll(pid)).toBe(expected);
        } else if (r < 62) {
          net.node(node).createScope(scope);
          localScopes.get(node)!.add(scope);
        } else if (r < 75) {
          const other = pick(NAMES.filter((n) => n !== node));
          if (!net.isLinked(node, other)) net.connect(node, other);
          else if (rng.int(3) > 0) net.disconnect(node, other);
          else {
            // Half-open: only `node` notices; `other` keeps stale entries until the next link up.
            net.sever(node, other);
            net.node(node).peerDown(other);
          }
        } else {
          for (let k = rng.int(6); k > 0; k--) net.deliverOne((n) => rng.int(n));
        }
        expect(net.node(node).getLocalMembers(scope, group)).toEqual(model.get(modelKey) ?? []);
        // The prefix counts agree with the groups held, stale entries of a half-open link included.
        for (const prefix of PREFIXES) {
          const held = net
            .node(node)
            .whichGroups(scope)
            .some((g) => g.includes(':') && g.startsWith(prefix));
          expect(net.node(node).hasGroupsWithPrefix(scope, prefix)).toBe(held);
        }
      }

      net.connectAll();
      net.flush();
      expect(net.pending()).toBe(0);

      const allScopes = [...new Set([...localScopes.values()].flatMap((s) => [...s]))].sort();
      for (const viewer of NAMES) {
        const groups = net.node(viewer);
        expect(groups.peers()).toEqual(NAMES.filter((n) => n !== viewer));
        expect(groups.scopes()).toEqual(allScopes);
        for (const scope of SCOPES) {
          const expectedGroups: string[] = [];
          for (const group of GROUPS) {
            const owners = [viewer, ...NAMES.filter((n) => n !== viewer).sort()];
            const expected = owners.flatMap((owner) => model.get(`${owner}|${scope}|${group}`) ?? []);
            expect(groups.getMembers(scope, group)).toEqual(expected);
            if (expected.length > 0) expectedGroups.push(group);
            expect(sortedKeys(rebuilt.get(`${viewer}|${scope}`)!.get(group) ?? [])).toEqual(sortedKeys(expected));
          }
          expect(groups.whichGroups(scope)).toEqual(expectedGroups);
        }
      }
      expect(monitorErrors).toEqual([]);
      expect(warnings(net.log)).toEqual([]);
    });
  }
});

describe('groups by prefix', () => {
  it("hasGroupsWithPrefix follows groups made and gone, local and a peer's, through joins, leaves, syncs and a peer going down", () => {
    const net = new Net(['a', 'b']);
    const a = net.node('a');
    const b = net.node('b');
    const has = (node: ProcessGroups, prefix: string) => node.hasGroupsWithPrefix('s', prefix);
    expect(has(b, 'fail:')).toBe(false);
    a.join('s', 'fail:c1', pidOf('a', 'p1')); // before the link: b learns it from the sync
    b.join('s', 'fail:c2', pidOf('b', 'p2'));
    b.join('s', 'plain', pidOf('b', 'p3')); // no ':' in its name: counted under no prefix
    expect(has(b, 'fail:')).toBe(true);
    expect(has(b, 'run:')).toBe(false);
    expect(has(b, 'plain')).toBe(false);
    net.connect('a', 'b');
    b.leave('s', 'fail:c2', pidOf('b', 'p2'));
    expect(has(b, 'fail:')).toBe(true); // a's fail:c1 is still there
    a.join('s', 'fail:c1', pidOf('a', 'p4')); // a second member: still one group
    a.leave('s', 'fail:c1', pidOf('a', 'p1'));
    expect(has(b, 'fail:')).toBe(true);
    net.disconnect('a', 'b'); // a's groups go with its link
    expect(has(b, 'fail:')).toBe(false);
    expect(has(a, 'fail:')).toBe(true);
    a.leave('s', 'fail:c1', pidOf('a', 'p4'));
    expect(has(a, 'fail:')).toBe(false);
    expect(has(a, 'nope:')).toBe(false);
    expect(a.hasGroupsWithPrefix('no-such-scope', 'fail:')).toBe(false);
  });
});

describe('value sharers', () => {
  it("give a scope's values, local, delta and sync, to its sharer before they are frozen; other scopes and the wire are untouched", () => {
    const net = new Net(['a', 'b']);
    const held = { tag: 'kept-string' };
    const seen: Array<[string, string, JsonValue]> = [];
    // b's sharer for scope s swaps an equal `tag` for the one b holds.
    net.node('b').shareValues('s', (group, value) => {
      seen.push(['b', group, structuredClone(value)]);
      if (typeof value === 'object' && value !== null && !Array.isArray(value) && value['tag'] === held.tag) value['tag'] = held.tag;
    });
    net.node('a').join('s', 'g', pidOf('a', 'p1'), { tag: `kept-${'string'}` }); // before the link: reaches b in the sync
    net.connect('a', 'b');
    net.node('a').join('s', 'h', pidOf('a', 'p2'), { tag: 'kept-string', n: 1 }); // a delta
    net.node('b').join('s', 'g', pidOf('b', 'p3'), { tag: 'kept-string' }); // local
    net.node('a').join('t', 'g', pidOf('a', 'p4'), { tag: 'kept-string' }); // another scope: no sharer
    expect(seen.map(([, group]) => group)).toEqual(['g', 'h', 'g']);
    const b = net.node('b');
    expect(b.getMembers('s', 'g')).toEqual([member('b', 'p3', { tag: 'kept-string' }), member('a', 'p1', { tag: 'kept-string' })]);
    expect(b.getMembers('s', 'h')).toEqual([member('a', 'p2', { tag: 'kept-string', n: 1 })]);
    expect(Object.isFrozen(b.getMembers('s', 'h')[0]!.value)).toBe(true);
    // What b sends is the same JSON.
    expect(net.node('a').getMembers('s', 'g')).toEqual([member('a', 'p1', { tag: 'kept-string' }), member('b', 'p3', { tag: 'kept-string' })]);
    // Stopped: no more calls.
    b.shareValues('s', undefined);
    net.node('a').join('s', 'g', pidOf('a', 'p5'), { tag: 'kept-string' });
    expect(seen).toHaveLength(3);
  });

  it('a sharer that throws leaves the value as decoded, and the node goes on', () => {
    const net = new Net(['a', 'b']);
    net.connect('a', 'b');
    net.node('b').shareValues('s', () => {
      throw new Error('broken sharer');
    });
    net.node('a').join('s', 'g', pidOf('a', 'p1'), { v: 1 });
    net.node('b').join('s', 'g', pidOf('b', 'p2'), { v: 2 });
    expect(net.node('b').getMembers('s', 'g')).toEqual([member('b', 'p2', { v: 2 }), member('a', 'p1', { v: 1 })]);
  });
});

describe('change stamps', () => {
  it('a group stamp changes with every change of its members, local or replicated, and is never reused', () => {
    const net = new Net(['a', 'b']);
    net.connect('a', 'b');
    const a = net.node('a');
    const b = net.node('b');
    expect(b.stamp('s', 'g')).toBe(0);
    a.join('s', 'g', pidOf('a', 'p1'), { v: 1 });
    const joined = b.stamp('s', 'g');
    expect(joined).toBeGreaterThan(0);
    b.join('s', 'other', pidOf('b', 'p2'));
    expect(b.stamp('s', 'g')).toBe(joined); // another group's change leaves it alone
    b.join('s', 'g', pidOf('b', 'p3'));
    const both = b.stamp('s', 'g');
    expect(both).toBeGreaterThan(joined);
    a.leave('s', 'g', pidOf('a', 'p1'));
    const left = b.stamp('s', 'g');
    expect(left).toBeGreaterThan(both);
    b.leave('s', 'g', pidOf('b', 'p3'));
    expect(b.stamp('s', 'g')).toBe(0); // the group is gone
    b.join('s', 'g', pidOf('b', 'p3'));
    expect(b.stamp('s', 'g')).toBeGreaterThan(left); // recreated: a new stamp, not an old one
    const before = b.stamp('s', 'g');
    a.join('s', 'g', pidOf('a', 'p4'));
    expect(b.stamp('s', 'g')).toBeGreaterThan(before);
    const withPeer = b.stamp('s', 'g');
    net.disconnect('a', 'b'); // the peer's members go
    expect(b.stamp('s', 'g')).toBeGreaterThan(withPeer);
  });

  it('a group keeps its members in order when the node whose members came first goes (the table holds the first node apart)', () => {
    const net = new Net(['a', 'b', 'c', 'd']);
    net.connectAll();
    const a = net.node('a');
    net.node('c').join('s', 'g', pidOf('c', 'p1')); // first in a's table
    net.node('b').join('s', 'g', pidOf('b', 'p1'));
    net.node('d').join('s', 'g', pidOf('d', 'p1'));
    a.join('s', 'g', pidOf('a', 'p1'));
    const pids = () => a.getMembers('s', 'g').map((m) => m.pid);
    expect(pids()).toEqual([pidOf('a', 'p1'), pidOf('b', 'p1'), pidOf('c', 'p1'), pidOf('d', 'p1')]);
    const all = a.stamp('s', 'g');
    net.disconnect('a', 'c'); // the first node's members go: another node's take its place
    expect(pids()).toEqual([pidOf('a', 'p1'), pidOf('b', 'p1'), pidOf('d', 'p1')]);
    const withoutC = a.stamp('s', 'g');
    expect(withoutC).toBeGreaterThan(all);
    net.node('b').join('s', 'g', pidOf('b', 'p2'));
    a.leave('s', 'g', pidOf('a', 'p1'));
    expect(pids()).toEqual([pidOf('b', 'p1'), pidOf('b', 'p2'), pidOf('d', 'p1')]);
    net.disconnect('a', 'b');
    expect(pids()).toEqual([pidOf('d', 'p1')]);
    expect(a.stamp('s', 'g')).toBeGreaterThan(withoutC);
    net.disconnect('a', 'd');
    expect(pids()).toEqual([]);
    expect(a.stamp('s', 'g')).toBe(0);
    expect(a.whichGroups('s')).toEqual([]);
  });

  it('values from peers are frozen; equal values compare equal in any key order (diffs do not see a change)', () => {
    const net = new Net(['a', 'b', 'c']);
    net.connectAll();
    net.node('b').join('s', 'g', pidOf('b', 'p1'), { spec: { id: 'x', args: [1, 2] }, rev: 'r1' });
    net.node('c').join('s', 'g', pidOf('c', 'p1'), { spec: { id: 'x', args: [1, 2] }, rev: 'r1' });
    net.node('c').join('s', 'g', pidOf('c', 'p2'), { rev: 'r1', spec: { args: [1, 2], id: 'x' } }); // equal, keys in another order
    const [fromB, fromC, reordered] = net.node('a').getMembers('s', 'g');
    expect(fromB!.value).toEqual(fromC!.value);
    expect(Object.isFrozen(fromB!.value)).toBe(true);
    expect(Object.isFrozen((fromB!.value as { spec: object }).spec)).toBe(true);
    expect(reordered!.value).toEqual(fromB!.value);
    expect(diffMembers([{ ...fromB!, pid: reordered!.pid }], [reordered!])).toEqual({ left: [], joined: [] });
  });

  it("a local join keeps no handle on the caller's object", () => {
    const net = new Net(['a']);
    const value = { n: 1, nested: { m: 2 } };
    net.node('a').join('s', 'g', pidOf('a', 'p1'), value);
    value.nested.m = 3;
    expect(net.node('a').getMembers('s', 'g')[0]!.value).toEqual({ n: 1, nested: { m: 2 } });
  });
});

describe('a sync in parts', () => {
  it('applies each part as it comes; drops what the peer no longer holds, and counts as announced, only with the last part', () => {
    const log = new MemoryLogger();
    const a = new ProcessGroups({ node: 'a', incarnation: INC, log, channel: { send: () => {} } });
    const events: string[] = [];
    a.monitor('s', undefined, (e) => events.push(`${e.kind} ${e.group}`));
    a.peerUp('b');
    const entry = (id: string) => ({ pid: pidOf('b', id) });
    a.handleMessage('b', {
      t: 'pg.sync',
      scope: 's',
      groups: [
        { group: 'old1', entries: [entry('p1')] },
        { group: 'kept', entries: [entry('p2')] },
      ],
    });
    expect(a.announced('s', 'b')).toBe(true);
    // The peer's link went down and up again: its new snapshot comes in two parts.
    a.peerDown('b');
    a.peerUp('b');
    a.handleMessage('b', { t: 'pg.sync', scope: 's', groups: [{ group: 'old1', entries: [entry('p1')] }], more: true });
    expect(a.announced('s', 'b')).toBe(false);
    expect(a.whichGroups('s')).toEqual(['old1']);
    a.handleMessage('b', {
      t: 'pg.sync',
      scope: 's',
      groups: [
        { group: 'new', entries: [entry('p3')] },
        { group: 'old1', entries: [entry('p4')] },
      ],
      more: true,
    });
    expect(a.getMembers('s', 'old1').map((m) => m.pid)).toEqual([pidOf('b', 'p1'), pidOf('b', 'p4')]); // listed again: appended
    a.handleMessage('b', { t: 'pg.sync', scope: 's', groups: [{ group: 'last', entries: [entry('p5')] }] });
    expect(a.announced('s', 'b')).toBe(true);
    expect(a.whichGroups('s')).toEqual(['last', 'new', 'old1']);
    expect(log.entries.filter((e) => e.level === 'warn' || e.level === 'error')).toEqual([]);
  });

  it('a sync in parts cut off by the link going down leaves nothing half-done behind', () => {
    const a = new ProcessGroups({ node: 'a', incarnation: INC, log: new MemoryLogger(), channel: { send: () => {} } });
    a.peerUp('b');
    a.handleMessage('b', { t: 'pg.sync', scope: 's', groups: [{ group: 'g1', entries: [{ pid: pidOf('b', 'p1') }] }], more: true });
    a.peerDown('b');
    expect(a.whichGroups('s')).toEqual([]);
    a.peerUp('b');
    a.handleMessage('b', { t: 'pg.sync', scope: 's', groups: [{ group: 'g2', entries: [{ pid: pidOf('b', 'p2') }] }] });
    expect(a.whichGroups('s')).toEqual(['g2']);
    expect(a.announced('s', 'b')).toBe(true);
  });
});
