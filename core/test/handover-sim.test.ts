/**
 * Handover on the simulated network (support/sim.ts): the keyed counter
 * (workers/examples.ts `kv-counter`) keeps its counts across a pin, a
 * drain and a graceful leave of its node, and starts from zero after its
 * node crashes (no handover from a crash). A failing onHandover is logged
 * and the next instance starts fresh.
 *
 * Race "a handler outlives the handover" (supervisor/worker-child.ts): a
 * counter whose async handler takes 1 s of simulated time is called every
 * 200 ms, so about five calls are in its handler when a pin, a drain or a
 * graceful leave moves it. Every reply a caller got as a success must be in
 * the state handed over: no two successful replies carry the same count,
 * and the new instance goes on from the highest. (Before the fix the state
 * was taken at once, the old instance then answered the calls under way,
 * and the new instance handed out the same counts again.)
 */
import { describe, expect, it } from 'vitest';
import type { Clock } from '../src/clock.js';
import type { NodeConfigInput } from '../src/config.js';
import type { JsonValue } from '../src/groups.js';
import { MessageError } from '../src/supervisor/child-channel.js';
import { WorkerRegistry, type WorkerFactory } from '../src/supervisor/workers.js';
import { kvCounter } from '../src/workers/examples.js';
import { SimCluster } from './support/sim.js';
import { StallableClock } from './support/stallable-clock.js';

async function cluster(seed: number, registry: WorkerRegistry, config: Partial<NodeConfigInput> = {}, sim = new SimCluster(seed)): Promise<SimCluster> {
  await sim.start('n1', [], config, registry);
  await sim.start('n2', ['n1'], config, registry);
  await sim.start('n3', ['n1'], config, registry);
  await sim.until(() => sim.fullMesh() && sim.running().every((n) => n.supervisor.isReady), 30_000, 'mesh');
  return sim;
}

const value = async (sim: SimCluster, op: 'add' | 'get'): Promise<{ value: number; node: string }> =>
  (await sim.resolve(sim.mustGet('n1').supervisor.call('kv', { op, key: 'k' }, { timeoutMs: 20_000 }))) as { value: number; node: string };

describe('handover of a moving child’s state', () => {
  it('the counter keeps its count across a pin, a drain and a graceful leave, and starts from zero after a crash', async () => {
    const registry = new WorkerRegistry();
    registry.define('kv-counter', kvCounter);
    const sim = await cluster(3, registry);
    const n1 = sim.mustGet('n1');
    await sim.resolve(n1.supervisor.startChild({ id: 'kv', start: { worker: 'kv-counter' } }));
    await sim.resolve(n1.supervisor.moveChild('kv', 'n2'));
    for (let i = 0; i < 5; i++) await value(sim, 'add');
    // pin
    await sim.resolve(n1.supervisor.moveChild('kv', 'n3'));
    expect(await value(sim, 'get')).toMatchObject({ value: 5, node: 'n3' });
    // drain
    n1.supervisor.unpin('kv');
    n1.supervisor.drain('n3');
    await sim.until(() => n1.supervisor.whereis('kv') !== undefined && n1.supervisor.whereis('kv')!.node !== 'n3', 20_000, 'kv off n3');
    expect((await value(sim, 'add')).value).toBe(6);
    n1.supervisor.undrain('n3');
    // graceful leave of the node that runs it
    await sim.resolve(n1.supervisor.moveChild('kv', 'n2'));
    await sim.leave('n2');
    const afterLeave = await value(sim, 'add');
    expect(afterLeave.value).toBe(7);
    expect(afterLeave.node).not.toBe('n2');
    // crash: nothing handed over
    const host = afterLeave.node;
    if (host === 'n1') await sim.resolve(n1.supervisor.moveChild('kv', 'n3'));
    const victim = n1.supervisor.whereis('kv')!.node;
    sim.crash(victim);
    // A call sent into the link before its loss shows would have an unknown outcome (at most once): call once it shows.
    await sim.until(() => !n1.upMembers().includes(victim), 30_000, 'the crash noticed');
    expect(await value(sim, 'add')).toMatchObject({ value: 1, node: 'n1' });
    sim.stopAll();
  }, 120_000);

  it('a move to a node that freezes then: the node that handed the state over and starts the child again takes it back', async () => {
    // Race "the node it was handed to never ran it" (calls.ts; an outsider's re-check): n2 handed the count over to n1, frozen
    // at that moment, and stopped the counter; n1 was timed out, and n2 started the counter again from zero.
    const registry = new WorkerRegistry();
    registry.define('kv-counter', kvCounter);
    const sim = new SimCluster(171);
    const frozen = new StallableClock(sim.clock);
    await sim.start('n1', [], {}, registry, frozen);
    const n2 = await sim.start('n2', ['n1'], {}, registry);
    await sim.until(() => sim.fullMesh() && sim.running().every((n) => n.supervisor.isReady), 30_000, 'mesh');
    const add = async () => (await sim.resolve(n2.supervisor.call('kv', { op: 'add', key: 'k' }, { timeoutMs: 20_000 }))) as { value: number; node: string };
    await sim.resolve(n2.supervisor.startChild({ id: 'kv', start: { worker: 'kv-counter' } }));
    await sim.resolve(n2.supervisor.moveChild('kv', 'n2'));
    for (let i = 0; i < 5; i++) await add();
    frozen.held = true;
    sim.network.partition(['n1:4370'], ['n2:4370']);
    void n2.supervisor.moveChild('kv', 'n1').catch(() => {});
    await sim.until(() => n2.member('n1')?.status === 'down' && n2.supervisor.whereis('kv')?.node === 'n2', 30_000, 'kv back on n2');
    expect(await add()).toMatchObject({ value: 6, node: 'n2' });
    expect(sim.log.entries.some((e) => e.fields['node'] === 'n2' && /never ran it: the new instance here takes that state back/.test(e.message))).toBe(true);
    // n1 wakes, resyncs, and the pin moves the counter to it, with the count.
    sim.network.heal();
    sim.clock.advance(5);
    frozen.release();
    await sim.until(() => sim.fullMesh() && n2.supervisor.whereis('kv')?.node === 'n1' && sim.exactlyOnce(['kv']), 30_000, 'kv on n1');
    expect(await add()).toMatchObject({ value: 7, node: 'n1' });
    sim.stopAll();
  }, 120_000);

  it('a move back to its pin when a heal reaches the source last: the state waits for the link (majority mode)', async () => {
    // Race "a heal that reaches one peer first" (calls.ts; an outsider's tour, network namespaces, majority mode):
    // kv pinned to n3 ran on n2 while n3 was cut off; the heal reached n1 first, n2 saw n3 present through it and
    // moved kv back to its pin while its own link to n3 was still down: "handover not sent: no link to the next
    // node", and kv started on n3 from zero (704 counts given out a second time).
    const registry = new WorkerRegistry();
    registry.define('kv-counter', kvCounter);
    const sim = await cluster(23, registry, { netsplit: 'majority', expectedMembers: 3 });
    const n1 = sim.mustGet('n1');
    const n2 = sim.mustGet('n2');
    const add = async () => (await sim.resolve(n1.supervisor.call('kv', { op: 'add', key: 'k' }, { timeoutMs: 30_000 }))) as { value: number; node: string };
    await sim.resolve(n1.supervisor.startChild({ id: 'kv', start: { worker: 'kv-counter' } }));
    await sim.resolve(n1.supervisor.moveChild('kv', 'n3'));
    expect(await add()).toMatchObject({ value: 1, node: 'n3' });
    sim.network.partition(['n3:4370'], ['n1:4370', 'n2:4370']);
    await sim.until(() => ['n1', 'n2'].includes(n1.supervisor.whereis('kv')?.node ?? ''), 60_000, 'kv taken over');
    const taken = await add();
    expect(taken.value).toBe(1); // n3's instance was cut off: nothing handed over
    for (let i = 0; i < 4; i++) await add();
    // The heal reaches n1 first; n2's link to n3 comes back 1.5 s later.
    sim.network.healPair('n3:4370', 'n1:4370');
    sim.clock.advance(1500);
    sim.network.heal();
    await sim.until(() => sim.fullMesh() && n1.supervisor.whereis('kv')?.node === 'n3' && sim.exactlyOnce(['kv']), 60_000, 'kv back on n3');
    expect(await add()).toMatchObject({ value: 6, node: 'n3' });
    // The race was played: n2 moved kv with no link to n3, and its state waited for that link.
    expect(sim.log.entries.some((e) => e.fields['node'] === n2.name && e.message === 'no link to the next node yet; the handover waits for it')).toBe(true);
    sim.stopAll();
  }, 120_000);

  it('the lease runs out during a handover: the old instance stops within it, before the majority starts the child', async () => {
    // Race "the lease runs out during a handover" (local-instances.ts; an outsider's tour, network namespaces, majority
    // mode): n2's instance, closed to messages while a 15 s handler finished (handover timeout 20 s), was still running
    // when its lease ran out; `hurry` stopped only instances already stopping, so it ran on for 13.5 s beside the one
    // the majority had started.
    const sim = new SimCluster(29);
    const records: Array<{ ev: 'up' | 'down'; node: string; at: number }> = [];
    const registry = new WorkerRegistry();
    registry.define('slow', (_args, ctx) => {
      records.push({ ev: 'up', node: ctx.node, at: sim.clock.now() });
      ctx.onHandover(() => ({ from: ctx.node }));
      ctx.onMessage(async () => {
        await new Promise<void>((resolve) => sim.clock.setTimeout(resolve, 15_000));
        return null;
      });
      return { stop: () => void records.push({ ev: 'down', node: ctx.node, at: sim.clock.now() }) };
    });
    await cluster(29, registry, { netsplit: 'majority', expectedMembers: 3, handoverTimeoutMs: 20_000 }, sim);
    const n1 = sim.mustGet('n1');
    await sim.resolve(n1.supervisor.startChild({ id: 's', start: { worker: 'slow' } }));
    await sim.resolve(n1.supervisor.moveChild('s', 'n2'));
    void n1.supervisor.call('s', 1, { timeoutMs: 60_000 }).catch(() => {});
    await sim.run(200);
    void n1.supervisor.moveChild('s', 'n3').catch(() => {});
    await sim.until(() => sim.log.entries.some((e) => e.fields['node'] === 'n2' && e.message === 'stopping local instance'), 5_000, 'the move on n2');
    sim.network.partition(['n2:4370'], ['n1:4370', 'n3:4370']);
    const cutAt = sim.clock.now();
    const takeover = () => records.find((r) => r.ev === 'up' && r.node !== 'n2' && r.at >= cutAt);
    await sim.until(() => takeover() !== undefined, 60_000, 'the majority starts s');
    const startedAt = takeover()!.at;
    const oldDown = records.find((r) => r.ev === 'down' && r.node === 'n2');
    expect(oldDown, 'n2 still ran s when the majority started it').toBeDefined();
    expect(oldDown!.at).toBeLessThanOrEqual(startedAt);
    sim.stopAll();
  }, 120_000);

  it('an onHandover that throws is logged and the next instance starts fresh; calls meanwhile wait for it', async () => {
    const registry = new WorkerRegistry();
    registry.define('bad', (_args, ctx) => {
      ctx.onHandover(() => {
        throw new Error('cannot serialise');
      });
      ctx.onMessage(() => ({ handover: ctx.handover ?? null }));
      return { stop() {} };
    });
    const sim = await cluster(4, registry);
    const n1 = sim.mustGet('n1');
    await sim.resolve(n1.supervisor.startChild({ id: 'b', start: { worker: 'bad' } }));
    await sim.resolve(n1.supervisor.moveChild('b', 'n2'));
    const during = n1.supervisor.call('b', null, { timeoutMs: 20_000 });
    await sim.resolve(n1.supervisor.moveChild('b', 'n3'));
    expect(await sim.resolve(during)).toEqual({ handover: null });
    expect(await sim.resolve(n1.supervisor.callDetailed('b', null))).toMatchObject({ reply: { handover: null }, node: 'n3' });
    expect(
      sim.log.entries.some((e) => e.message === 'handover failed; the next instance starts fresh' && /cannot serialise/.test(String(e.fields['err']))),
    ).toBe(true);
    sim.stopAll();
  }, 120_000);

  describe('a handler outlives the handover', () => {
    /** The outsider's repro: the count goes up once each handler's simulated work (`handlerMs`) is done. */
    const slowCounter =
      (clock: Clock, handlerMs: number): WorkerFactory =>
      (_args, ctx) => {
        let count = (ctx.handover as { count?: number } | undefined)?.count ?? 0;
        ctx.onHandover(() => ({ count }));
        ctx.onMessage(async (m) => {
          await new Promise<void>((resolve) => clock.setTimeout(resolve, handlerMs));
          count++;
          return { count, node: ctx.node, seq: m };
        });
        return { stop() {} };
      };

    type Settled = { ok: true; count: number; node: string } | { ok: false; code: string; message: string };
    const settle = (p: Promise<JsonValue>): Promise<Settled> =>
      p.then(
        (r) => ({ ok: true as const, ...(r as { count: number; node: string }) }),
        (err: MessageError) => ({ ok: false as const, code: err.code, message: err.message }),
      );

    /** Five calls 200 ms apart from n1, `move` begun after the fifth; returns every outcome and the next call's count. */
    async function callsAcrossAMove(sim: SimCluster, move: () => Promise<unknown>): Promise<{ outcomes: Settled[]; next: Settled }> {
      const n1 = sim.mustGet('n1');
      const calls: Array<Promise<Settled>> = [];
      for (let seq = 1; seq <= 5; seq++) {
        calls.push(settle(n1.supervisor.call('slow', seq, { timeoutMs: 5_000 })));
        await sim.run(200);
      }
      const moving = move();
      const outcomes = await sim.resolve(Promise.all(calls));
      await sim.resolve(moving);
      const next = await sim.resolve(settle(n1.supervisor.call('slow', 'next', { timeoutMs: 20_000 })));
      return { outcomes, next };
    }

    /** Every success is in the state handed over: distinct counts, and the next instance goes on from the highest. */
    function expectNoCountGivenTwice({ outcomes, next }: { outcomes: Settled[]; next: Settled }, from: string): void {
      const counts = outcomes.flatMap((o) => (o.ok ? [o.count] : []));
      expect(new Set(counts).size).toBe(counts.length);
      expect(next).toMatchObject({ ok: true, count: Math.max(0, ...counts) + 1 });
      expect((next as { node: string }).node).not.toBe(from);
    }

    for (const [how, seed] of [
      ['a pin', 11],
      ['a drain', 12],
      ['a graceful leave', 13],
    ] as const) {
      it(`every call answered before ${how} moves the child is in the state its next instance gets`, async () => {
        const sim = new SimCluster(seed);
        const registry = new WorkerRegistry();
        registry.define('slow-counter', slowCounter(sim.clock, 1_000));
        await cluster(seed, registry, {}, sim);
        const n1 = sim.mustGet('n1');
        await sim.resolve(n1.supervisor.startChild({ id: 'slow', start: { worker: 'slow-counter' } }));
        await sim.resolve(n1.supervisor.moveChild('slow', 'n2'));
        const move =
          how === 'a pin'
            ? () => n1.supervisor.moveChild('slow', 'n3')
            : how === 'a drain'
              ? async () => {
                  n1.supervisor.unpin('slow');
                  n1.supervisor.drain('n2');
                  await sim.until(() => n1.supervisor.whereis('slow') !== undefined && n1.supervisor.whereis('slow')!.node !== 'n2', 20_000, 'slow off n2');
                }
              : () => sim.mustGet('n2').stop('test leave');
        const result = await callsAcrossAMove(sim, move);
        // Within the handover timeout (5 s) every handler under way finishes: all five calls succeed.
        expect(result.outcomes).toMatchObject([1, 2, 3, 4, 5].map((count) => ({ ok: true, count, node: 'n2' })));
        expectNoCountGivenTwice(result, 'n2');
        sim.stopAll();
      }, 120_000);
    }

    for (const [how, seed] of [
      ['a pin', 31],
      ['a drain', 32],
    ] as const)
      it(`${how} whose node dies while the handlers finish: the state goes where the child runs next, or stays to be taken back`, async () => {
        // Race "the node it goes to dies during the handover" (calls.ts; an outsider's tour, real processes: ctl move, or a
        // drain, and the target SIGKILLed half a second later): the state waited 5 s for a link to a dead node, calls
        // unanswered meanwhile, and was dropped — the child started from zero (31 to 176 acknowledged counts lost).
        const sim = new SimCluster(seed);
        const registry = new WorkerRegistry();
        registry.define('slow-counter', slowCounter(sim.clock, 1_000));
        await cluster(seed, registry, {}, sim);
        const n3 = sim.mustGet('n3');
        await sim.resolve(n3.supervisor.startChild({ id: 'slow', start: { worker: 'slow-counter' } }));
        await sim.resolve(n3.supervisor.moveChild('slow', 'n2'));
        // The node it goes to: n1 for the pin; for the drain, the one placement picks once n2 is drained.
        let target = 'n1';
        if (how === 'a drain') {
          const ranked = n3.supervisor.explain('slow').candidates.filter((c) => c.node !== 'n2' && c.excludedBy.length === 0);
          ranked.sort((a, b) => (b.score ?? 0) - (a.score ?? 0));
          target = ranked[0]!.node;
        }
        // The caller: a node that survives.
        const caller = target === 'n3' ? sim.mustGet('n1') : n3;
        const calls: Array<Promise<Settled>> = [];
        for (let seq = 1; seq <= 3; seq++) {
          calls.push(settle(caller.supervisor.call('slow', seq, { timeoutMs: 10_000 })));
          await sim.run(200);
        }
        if (how === 'a pin') void caller.supervisor.moveChild('slow', target).catch(() => {});
        else {
          caller.supervisor.unpin('slow');
          caller.supervisor.drain('n2');
        }
        // The handlers under way take up to a second; the node it goes to dies meanwhile.
        await sim.run(300);
        sim.crash(target);
        const outcomes = await sim.resolve(Promise.all(calls));
        const t0 = sim.clock.now();
        const next = await sim.resolve(settle(caller.supervisor.call('slow', 'next', { timeoutMs: 20_000 })));
        const counts = outcomes.flatMap((o) => (o.ok ? [o.count] : []));
        expect(counts, JSON.stringify({ target, outcomes })).toEqual([1, 2, 3]);
        // Nothing lost: the next instance goes on from the last count given out, wherever it runs.
        expect(next).toMatchObject({ ok: true, count: 4 });
        expect((next as { node: string }).node).not.toBe(target);
        // Not after the whole handover timeout (5 s) of waiting for a link to a dead node.
        expect(sim.clock.now() - t0).toBeLessThan(4_000);
        expect(sim.log.entries.some((e) => /did not take the child's state/.test(e.message))).toBe(true);
        sim.stopAll();
      }, 120_000);

    it('a handler still running past the handover timeout answers timeout (outcome unknown), never its reply', async () => {
      const sim = new SimCluster(14);
      const registry = new WorkerRegistry();
      registry.define('slow-counter', slowCounter(sim.clock, 3_000));
      await cluster(14, registry, { handoverTimeoutMs: 1_000 }, sim);
      const n1 = sim.mustGet('n1');
      await sim.resolve(n1.supervisor.startChild({ id: 'slow', start: { worker: 'slow-counter' } }));
      await sim.resolve(n1.supervisor.moveChild('slow', 'n2'));
      const n1Calls = [settle(n1.supervisor.call('slow', 1, { timeoutMs: 10_000 }))];
      await sim.run(2_500);
      n1Calls.push(settle(n1.supervisor.call('slow', 2, { timeoutMs: 10_000 })));
      await sim.run(200);
      // Call 1 ends 300 ms into the move (inside the bound); call 2 would end at 2.8 s, past the 1 s bound.
      const moving = n1.supervisor.moveChild('slow', 'n3');
      const [first, second] = await sim.resolve(Promise.all(n1Calls));
      await sim.resolve(moving);
      expect(first).toMatchObject({ ok: true, count: 1, node: 'n2' });
      expect(second).toMatchObject({ ok: false, code: 'timeout' });
      expect((second as { message: string }).message).toMatch(/handed its state over.*may or may not have been handled/);
      expect(await sim.resolve(settle(n1.supervisor.call('slow', 'next', { timeoutMs: 20_000 })))).toMatchObject({ ok: true, count: 2, node: 'n3' });
      expect(sim.log.entries.some((e) => /message handlers still running after 1000 ms/.test(e.message))).toBe(true);
      sim.stopAll();
    }, 120_000);
  });
});
