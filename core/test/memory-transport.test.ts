/**
 * The in-memory network's faults (transport/memory.ts), on bare connections
 * without nodes: one-way cuts, cuts and heals of single pairs, heals that
 * reach one peer before another, a cut and a heal in one instant, dials
 * across a cut, and the old symmetric partition/heal.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { SeededRandom } from '../src/random.js';
import { MemoryNetwork } from '../src/transport/memory.js';
import type { Conn } from '../src/transport/transport.js';

/** What one end of a connection saw, with the simulated time of each event. */
interface End {
  conn: Conn;
  events: string[];
}

function setup(seed = 1, options: { latencyMs?: number; jitterMs?: number } = {}) {
  const clock = new ManualClock(0);
  const network = new MemoryNetwork({
    clock,
    random: new SeededRandom(seed),
    latencyMs: options.latencyMs ?? 1,
    jitterMs: options.jitterMs ?? 0,
    connectTimeoutMs: 500,
  });
  const accepted = new Map<string, End[]>();
  const watch = (conn: Conn, into: string[]): End => {
    conn.setHandlers({
      onOpen: () => into.push(`${clock.now()} open`),
      onMessage: (m) => into.push(`${clock.now()} msg ${JSON.stringify(m)}`),
      onClose: (reason) => into.push(`${clock.now()} close ${reason}`),
    });
    return { conn, events: into };
  };
  const listen = async (address: string): Promise<void> => {
    const list: End[] = [];
    accepted.set(address, list);
    await network.transport(address).listen((conn) => list.push(watch(conn, [])));
  };
  /** Dials `to` from a fresh transport at `from` (not listening: a client only). */
  const dial = (from: string, to: string): End => watch(network.transport(from).dial(to), []);
  /** The accepted end of the `i`-th connection made to `address`. */
  const server = (address: string, i = 0): End => {
    const end = accepted.get(address)?.[i];
    if (!end) throw new Error(`no connection ${i} accepted at ${address}`);
    return end;
  };
  return { clock, network, listen, dial, server };
}

/** A connection a → b, open on both ends. */
async function linked(s: ReturnType<typeof setup>, a: string, b: string, i = 0): Promise<{ client: End; server: End }> {
  const client = s.dial(a, b);
  s.clock.advance(10);
  const server = s.server(b, i);
  expect(client.events.at(-1)).toMatch(/open$/);
  expect(server.events.at(-1)).toMatch(/open$/);
  return { client, server };
}

const messages = (end: End): string[] => end.events.filter((e) => e.includes(' msg ')).map((e) => e.slice(e.indexOf('msg ') + 4));

describe('memory network: one-way cuts', () => {
  it('holds frames from → to while frames to → from flow; after the heal the held ones arrive in order', async () => {
    const s = setup();
    await s.listen('b');
    const { client, server } = await linked(s, 'a', 'b');
    s.network.cutOneWay('a', 'b');
    expect(s.network.isCut('a', 'b')).toBe(true);
    expect(s.network.isCut('b', 'a')).toBe(false);
    client.conn.send('a1');
    client.conn.send('a2');
    server.conn.send('b1');
    s.clock.advance(100);
    expect(messages(server)).toEqual([]);
    expect(messages(client)).toEqual(['"b1"']);
    s.network.healOneWay('a', 'b');
    expect(messages(server)).toEqual([]); // never inside the call
    s.clock.advance(0);
    expect(messages(server)).toEqual(['"a1"', '"a2"']);
  });

  it('the side that hears nothing closes (its own timeout); its close reaches the other side after one latency, across the open direction', async () => {
    const s = setup();
    await s.listen('b');
    const { client, server } = await linked(s, 'a', 'b');
    s.network.cutOneWay('a', 'b');
    client.conn.send('held');
    s.clock.advance(50);
    server.conn.close('heartbeat timeout');
    s.clock.advance(5);
    expect(client.events.at(-1)).toBe('61 close heartbeat timeout');
    // The frame held towards the closed end dies with it.
    s.network.heal();
    s.clock.advance(10);
    expect(messages(server)).toEqual([]);
  });

  it('a close from the side that is cut off stays held until the heal', async () => {
    const s = setup();
    await s.listen('b');
    const { client, server } = await linked(s, 'a', 'b');
    s.network.cutOneWay('a', 'b');
    client.conn.send('last words');
    client.conn.close('heartbeat timeout');
    s.clock.advance(1_000);
    expect(server.events.at(-1)).toMatch(/open$/);
    s.network.healOneWay('a', 'b');
    s.clock.advance(1);
    expect(server.events.slice(-2)).toEqual(['1010 msg "last words"', '1010 close heartbeat timeout']);
  });

  it('a dial fails with a connect timeout when either direction is cut (a handshake needs both)', async () => {
    const s = setup();
    await s.listen('b');
    s.network.cutOneWay('b', 'a');
    const d1 = s.dial('a', 'b');
    s.clock.advance(499);
    expect(d1.events).toEqual([]);
    s.clock.advance(1);
    expect(d1.events).toEqual(['500 close connect timeout']);
    s.network.healOneWay('b', 'a');
    s.network.cutOneWay('a', 'b');
    const d2 = s.dial('a', 'b');
    s.clock.advance(500);
    expect(d2.events).toEqual(['1000 close connect timeout']);
  });
});

describe('memory network: single pairs', () => {
  it('cut(a, b) cuts that pair only (a partial partition): a still talks to c, and c to b', async () => {
    const s = setup();
    await s.listen('b');
    await s.listen('c');
    const ab = await linked(s, 'a', 'b');
    const ac = await linked(s, 'a', 'c');
    const cb = await linked(s, 'c', 'b', 1);
    s.network.cut('a', 'b');
    for (const p of [ab, ac, cb]) {
      p.client.conn.send('ping');
      p.server.conn.send('pong');
    }
    s.clock.advance(10);
    expect([messages(ab.server), messages(ab.client)]).toEqual([[], []]);
    expect([messages(ac.server), messages(ac.client)]).toEqual([['"ping"'], ['"pong"']]);
    expect([messages(cb.server), messages(cb.client)]).toEqual([['"ping"'], ['"pong"']]);
    expect(s.network.cutsNow()).toEqual([
      ['a', 'b'],
      ['b', 'a'],
    ]);
  });

  it('a heal can reach one peer before another: healPair(a, b) leaves a–c cut', async () => {
    const s = setup();
    await s.listen('b');
    await s.listen('c');
    const ab = await linked(s, 'a', 'b');
    const ac = await linked(s, 'a', 'c');
    s.network.partition(['a'], ['b', 'c']);
    ab.client.conn.send('to b');
    ac.client.conn.send('to c');
    s.clock.advance(100);
    s.network.healPair('a', 'b');
    s.clock.advance(3);
    expect(messages(ab.server)).toEqual(['"to b"']);
    expect(messages(ac.server)).toEqual([]);
    s.network.healPair('c', 'a'); // order of the addresses does not matter
    s.clock.advance(1);
    expect(messages(ac.server)).toEqual(['"to c"']);
  });

  it('a cut and a heal in the same instant act together, whatever their order (a rolling partition)', async () => {
    const run = async (healFirst: boolean): Promise<string[]> => {
      const s = setup();
      await s.listen('b');
      await s.listen('c');
      const ab = await linked(s, 'a', 'b');
      const ac = await linked(s, 'a', 'c');
      s.network.cut('a', 'b');
      ab.client.conn.send('held for b');
      s.clock.advance(100);
      // Heal a–b and cut a–c at one moment; a frame sent in that instant to c is held, the old one to b flows.
      if (healFirst) s.network.healPair('a', 'b');
      s.network.cut('a', 'c');
      if (!healFirst) s.network.healPair('a', 'b');
      ac.client.conn.send('held for c');
      expect(messages(ab.server)).toEqual([]);
      s.clock.advance(5);
      return [...ab.server.events, ...ac.server.events];
    };
    const a = await run(true);
    const b = await run(false);
    expect(a).toEqual(b);
    expect(a.filter((e) => e.includes('msg'))).toEqual(['120 msg "held for b"']);
  });

  it('partition/heal: every pair across the sides is cut both ways, and heal() removes every cut', async () => {
    const s = setup();
    await s.listen('b');
    await s.listen('c');
    const ab = await linked(s, 'a', 'b');
    const bc = await linked(s, 'b', 'c');
    s.network.partition(['a', 'b'], ['c']);
    expect(s.network.isCut('a', 'b')).toBe(false);
    expect(s.network.isCut('b', 'c') && s.network.isCut('c', 'b') && s.network.isCut('a', 'c') && s.network.isCut('c', 'a')).toBe(true);
    ab.client.conn.send(1);
    bc.client.conn.send(2);
    bc.server.conn.send(3);
    s.clock.advance(50);
    expect([messages(ab.server), messages(bc.server), messages(bc.client)]).toEqual([['1'], [], []]);
    s.network.heal();
    expect(s.network.cutsNow()).toEqual([]);
    s.clock.advance(1);
    expect([messages(bc.server), messages(bc.client)]).toEqual([['2'], ['3']]);
  });

  it('a dial that waits on a cut connects if the cut heals before the connect timeout (a retransmitted SYN)', async () => {
    const s = setup();
    await s.listen('b');
    s.network.cut('a', 'b');
    const d = s.dial('a', 'b');
    s.clock.advance(200);
    s.network.healPair('a', 'b');
    s.clock.advance(299);
    expect(d.events).toEqual([]);
    s.clock.advance(2);
    expect(d.events).toEqual(['501 open']);
  });

  it('frames on one connection stay in order through jitter, cuts and heals (same seed, same times)', async () => {
    const run = async (): Promise<string[]> => {
      const s = setup(7, { latencyMs: 1, jitterMs: 5 });
      await s.listen('b');
      const { client, server } = await linked(s, 'a', 'b');
      for (let i = 0; i < 30; i++) {
        if (i === 10) s.network.cutOneWay('a', 'b');
        if (i === 20) s.network.healOneWay('a', 'b');
        client.conn.send(i);
        s.clock.advance(2);
      }
      s.clock.advance(20);
      expect(messages(server)).toEqual(Array.from({ length: 30 }, (_, i) => String(i)));
      return server.events;
    };
    expect(await run()).toEqual(await run());
  });
});
