/**
 * Operator commands issued to one side of a netsplit, judged by the instance
 * records (support/instance-log.ts: what each node really ran), found by an
 * outsider's tour on real processes in network namespaces
 * (`pogo ctl stop` to the minority of a `--netsplit majority` cluster).
 *
 * A member without its lease cannot see what the majority runs: a stop it is
 * given must not be reported done. It records the stop (the child is stopped
 * everywhere once the split heals, and never comes back) and says, with
 * `no-quorum`, that it could not confirm it. Before, the stop resolved at
 * once ("ok", exit 0) while the majority ran the child on until the heal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CtlFailure, EXIT, stopChild } from '../src/cli/ctl.js';
import { DistError } from '../src/distributed/errors.js';
import type { PogoNode } from '../src/node.js';
import { ctlSession } from './support/ctl-session.js';
import { FAST_TIMING, SimCluster } from './support/sim.js';

const ADDRESS = SimCluster.address;
const OPERATOR = 'operator-token-0123456789';
/** lease 600 ms (the heartbeat timeout), pings every 100 ms, as majority.test.ts. */
const TIMING = FAST_TIMING;
const ids = Array.from({ length: 12 }, (_, i) => `k${i}`);
const names = ['n1', 'n2', 'n3'];

let sim: SimCluster;
afterEach(() => sim?.stopAll());

/** How long a `slow-stop` child takes to stop (simulated time), unless killed first: longer than the lease. */
const SLOW_STOP_MS = 1_500;

async function cluster(seed: number, worker: 'w' | 'slow-stop' = 'w'): Promise<PogoNode[]> {
  sim = new SimCluster(seed, { latencyMs: 1, jitterMs: 4 });
  const clock = sim.clock;
  sim.workers.registry.define('slow-stop', () => ({ stop: () => new Promise<void>((resolve) => clock.setTimeout(resolve, SLOW_STOP_MS)) }));
  const config = { ...TIMING, netsplit: 'majority' as const, expectedMembers: 3, operatorToken: OPERATOR };
  for (const name of names) await sim.start(name, name === 'n1' ? [] : ['n1'], config);
  await sim.until(() => sim.fullMesh() && sim.running().every((x) => x.supervisor.isReady), 10_000, 'mesh and ready');
  for (const id of ids) await sim.resolve(sim.mustGet('n1').supervisor.startChild({ id, start: { worker } }));
  await sim.until(() => sim.exactlyOnce(ids), 5_000, 'children placed');
  return sim.running();
}

function cutOff(node: string): void {
  for (const other of names) if (other !== node) sim.network.cut(ADDRESS(node), ADDRESS(other));
}

/** Runs until n3 runs nothing and n1, n2 run every child once between them. */
async function majorityTookOver(): Promise<void> {
  await sim.until(
    () => sim.mustGet('n3').local.countChildren().active === 0 && ids.every((id) => sim.instances(id).filter((n) => n !== 'n3').length === 1),
    10_000,
    'the majority runs everything, n3 nothing',
  );
}

/** The outcome of a promise, read without awaiting it (the simulated clock runs it). */
function track(p: Promise<unknown>): { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } {
  const t: { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { state: 'pending' };
  p.then(
    () => (t.state = 'resolved'),
    (error: unknown) => Object.assign(t, { state: 'rejected', error }),
  );
  return t;
}

/** Heals, and checks that `id` is stopped everywhere after it and never runs again, by the instance records. */
async function healAndCheckStopped(id: string): Promise<void> {
  sim.network.heal();
  await sim.until(
    () => sim.fullMesh() && sim.instances(id).length === 0 && sim.exactlyOnce(ids.filter((k) => k !== id)),
    20_000,
    'healed: the stopped child runs nowhere, the others once',
  );
  const healedAt = sim.clock.now();
  await sim.run(3_000);
  expect(sim.runs.of(id).filter((span) => span.start.t >= healedAt)).toEqual([]);
  expect(sim.instances(id)).toEqual([]);
  for (const n of sim.running()) expect(n.supervisor.whereis(id)).toBeUndefined();
  expect(sim.runs.overlaps()).toEqual([]);
}

describe('majority mode: a stop given to the cut-off minority', () => {
  it('is not reported done while the majority still runs the child: no-quorum, and it applies at the heal', async () => {
    await cluster(41);
    cutOff('n3');
    await majorityTookOver();
    const id = ids[0]!;
    expect(sim.instances(id)).toHaveLength(1);
    const stop = track(sim.mustGet('n3').supervisor.terminateChild(id));
    await sim.until(() => stop.state !== 'pending', 2_000, 'the stop answers');
    expect(stop.state).toBe('rejected');
    expect((stop.error as DistError).code).toBe('no-quorum');
    expect((stop.error as DistError).message).toContain(`the stop of ${id} is recorded on n3`);
    // The majority still runs it: that is why the stop could not be reported done.
    await sim.run(1_000);
    expect(sim.instances(id)).toHaveLength(1);
    await healAndCheckStopped(id);
  });

  it('issued as the split begins (n3 still holds its lease): answers no-quorum once the lease runs out, never "done"', async () => {
    await cluster(42);
    const id = ids.find((k) => sim.instances(k)[0] !== 'n3')!;
    cutOff('n3');
    const stop = track(sim.mustGet('n3').supervisor.terminateChild(id));
    await sim.until(() => stop.state !== 'pending', 5_000, 'the stop answers');
    expect(stop.state).toBe('rejected');
    expect((stop.error as DistError).code).toBe('no-quorum');
    await majorityTookOver();
    expect(sim.instances(id)).toHaveLength(1);
    await healAndCheckStopped(id);
  });

  it('pogo ctl stop on the minority: exit 1, code no-quorum, saying the stop is recorded but not confirmed', async () => {
    await cluster(43);
    const session = await ctlSession(sim, 'n3');
    cutOff('n3');
    await majorityTookOver();
    const id = ids[1]!;
    const failure = await sim.resolve(
      stopChild(session, { id }, { token: OPERATOR, by: 'alice', timeoutMs: 5_000, ignoreNotFound: false }).catch((e: unknown) => e),
    );
    expect(failure).toBeInstanceOf(CtlFailure);
    expect((failure as CtlFailure).exit).toBe(EXIT.failed);
    expect((failure as CtlFailure).code).toBe('no-quorum');
    expect((failure as CtlFailure).message).toContain('recorded on n3');
    expect((failure as CtlFailure).message).toContain('not confirmed');
    // Retried, even with --ignore-not-found: the same answer, not "nothing to stop" (exit 0) while the majority runs it.
    const retry = await sim.resolve(
      stopChild(session, { id }, { token: OPERATOR, by: 'alice', timeoutMs: 5_000, ignoreNotFound: true }).catch((e: unknown) => e),
    );
    expect(retry).toBeInstanceOf(CtlFailure);
    expect((retry as CtlFailure).code).toBe('no-quorum');
    expect(sim.instances(id)).toHaveLength(1);
    await sim.resolve(session.close());
    await healAndCheckStopped(id);
  });

  it('a stop on the majority side is still done once the majority no longer runs the child', async () => {
    await cluster(44);
    cutOff('n3');
    await majorityTookOver();
    const id = ids[2]!;
    await sim.resolve(sim.mustGet('n1').supervisor.terminateChild(id));
    expect(sim.instances(id)).toEqual([]);
    await healAndCheckStopped(id);
  });
});

describe('majority mode: a stop given to the majority side of a fresh split', () => {
  // The tour: n3 cut off, 'pogo ctl stop' sent to n1 at once for children n3 ran. n1 answered ok when
  // its link to n3 closed (+990 ms), and n3's instances ran on 977 ms more, until n3's lease had run
  // out and its stop time had passed (by n3's own child log). A stop is done only once no instance runs.
  for (const [worker, delayMs] of [
    ['slow-stop', 0],
    ['slow-stop', 300],
    ['w', 0],
  ] as const) {
    it(`${worker} children, the stop ${delayMs} ms after the cut: done only after n3's instance has ended`, async () => {
      await cluster(45 + delayMs, worker);
      const onN3 = ids.filter((k) => sim.instances(k)[0] === 'n3');
      expect(onN3.length).toBeGreaterThan(0);
      const id = onN3[0]!;
      cutOff('n3');
      await sim.run(delayMs);
      const n1 = sim.mustGet('n1');
      let doneAt: number | undefined;
      const stop = track(n1.supervisor.terminateChild(id).then(() => (doneAt = sim.clock.now())));
      await sim.until(() => stop.state !== 'pending', 10_000, 'the stop answers');
      expect(stop.state).toBe('resolved');
      const spans = sim.runs.of(id);
      expect(spans.every((span) => span.end !== undefined && span.end.t <= doneAt!)).toBe(true);
      await healAndCheckStopped(id);
    });
  }
});

describe('majority mode: a stop through a member cut off from the child node only (a partial partition)', () => {
  // The tour: n1 and n3 cut apart, n2 hearing both. A stop sent to n1 of a child n3 runs: n3 counts as
  // present for n1 (only n1 cannot hear it), so n1 cannot confirm the stop, and the stop reaches n3
  // only through n2's anti-entropy pass. ctl said exit 3, "the stop may or may not have been executed".
  it('pogo ctl stop answers exit 1, code timeout, saying the stop is recorded and stands', async () => {
    await cluster(46);
    const id = ids.find((k) => sim.instances(k)[0] === 'n3')!;
    expect(id).toBeDefined();
    const session = await ctlSession(sim, 'n1');
    sim.network.cut(ADDRESS('n1'), ADDRESS('n3'));
    await sim.until(() => !sim.mustGet('n1').upMembers().includes('n3'), 5_000, 'n1 no longer hears n3');
    const failure = await sim.resolve(
      stopChild(session, { id }, { token: OPERATOR, by: 'alice', timeoutMs: 4_000, ignoreNotFound: false }).catch((e: unknown) => e),
    );
    expect(failure).toBeInstanceOf(CtlFailure);
    expect((failure as CtlFailure).exit).toBe(EXIT.failed);
    expect((failure as CtlFailure).code).toBe('timeout');
    expect((failure as CtlFailure).message).toContain(`the stop of ${id} is recorded on n1`);
    await sim.resolve(session.close());
    await healAndCheckStopped(id);
  });
});

describe('majority mode: other changes given to the cut-off minority', () => {
  // The tour: 'pogo ctl drain n2' sent to the cut-off n3 said "ok" (exit 0) while n2 kept its children
  // until the heal. The drain is recorded and acts at the heal; the answer now says so.
  it('drain, pause and resume answer no-quorum, "recorded"; the drain acts at the heal; on the majority side they are done', async () => {
    await cluster(47);
    const minority = await ctlSession(sim, 'n3');
    const majority = await ctlSession(sim, 'n1');
    cutOff('n3');
    await majorityTookOver();
    const drain = await sim.resolve(minority.command('drain', { node: 'n2' }, OPERATOR, 'alice', 5_000));
    expect(drain.ok).toBe(false);
    expect(!drain.ok && drain.error.code).toBe('no-quorum');
    expect(!drain.ok && drain.error.message).toContain('the drain of n2 is recorded on n3');
    for (const op of ['pause', 'resume'] as const) {
      const reply = await sim.resolve(minority.command(op, {}, OPERATOR, 'alice', 5_000));
      expect(!reply.ok && reply.error.code).toBe('no-quorum');
      expect((await sim.resolve(majority.command(op, {}, OPERATOR, 'alice', 5_000))).ok).toBe(true);
    }
    // The majority never heard of the drain: n2 keeps its children until the heal.
    await sim.run(1_000);
    expect(ids.some((id) => sim.instances(id).includes('n2'))).toBe(true);
    await sim.resolve(minority.close());
    await sim.resolve(majority.close());
    sim.network.heal();
    await sim.until(
      () => sim.fullMesh() && sim.exactlyOnce(ids) && ids.every((id) => !sim.instances(id).includes('n2')),
      20_000,
      'healed: n2 drained, every child once elsewhere',
    );
    expect(sim.runs.overlaps()).toEqual([]);
  });
});

describe('available mode: one id started with two different specs on the two sides of a split', () => {
  // The tour: both starts answered ok (exit 0); after the heal the first one started ran everywhere and
  // the other was dropped without a word. The nodes that held the dropped spec now log it.
  it('the first started wins at the heal, and the nodes that ran the other log that it was dropped', async () => {
    sim = new SimCluster(48, { latencyMs: 1, jitterMs: 4 });
    for (const name of names) await sim.start(name, name === 'n1' ? [] : ['n1'], { ...TIMING, netsplit: 'available' as const });
    await sim.until(() => sim.fullMesh() && sim.running().every((x) => x.supervisor.isReady), 10_000, 'mesh and ready');
    cutOff('n3');
    await sim.until(() => !sim.mustGet('n1').upMembers().includes('n3') && sim.mustGet('n3').upMembers().length === 1, 5_000, 'the split is seen');
    await sim.resolve(sim.mustGet('n3').supervisor.startChild({ id: 'z', start: { worker: 'w', args: { side: 'n3' } } }));
    await sim.run(50);
    await sim.resolve(sim.mustGet('n1').supervisor.startChild({ id: 'z', start: { worker: 'w', args: { side: 'n1' } } }));
    const warned = (): string[] =>
      sim.log.entries.filter((e) => e.level === 'warn' && e.message.startsWith('z was started with two different specs apart')).map((e) => e.message);
    expect(warned()).toEqual([]);
    sim.network.heal();
    await sim.until(() => sim.fullMesh() && sim.instances('z').length === 1, 20_000, 'healed: z runs once');
    await sim.run(1_000);
    for (const n of sim.running())
      expect(n.supervisor.whichChildren('global').find((c) => c.id === 'z')?.spec.start).toEqual({ worker: 'w', args: { side: 'n3' } });
    expect(warned().length).toBeGreaterThan(0);
    expect(warned()[0]).toContain('the one started on n1 is dropped');
  });
});

describe('majority mode: pogo ctl status on the cut-off minority', () => {
  it('warns that the member has no majority behind it; a member of the majority does not', async () => {
    await cluster(49);
    const minority = await ctlSession(sim, 'n3');
    const majority = await ctlSession(sim, 'n1');
    cutOff('n3');
    await majorityTookOver();
    const notices = async (session: typeof minority): Promise<readonly string[]> => {
      const reply = await sim.resolve(session.command('status', {}, OPERATOR, 'alice', 5_000));
      expect(reply.ok).toBe(true);
      return (reply.ok && reply.result.notices) || [];
    };
    expect((await notices(minority)).some((n) => n.startsWith('no majority of the expected members confirms hearing this member'))).toBe(true);
    expect(await notices(majority)).toEqual([]);
    await sim.resolve(minority.close());
    await sim.resolve(majority.close());
  });
});

describe('available mode: pogo ctl status on the cut-off minority', () => {
  it('warns that the member hears a minority of the members it knows, naming them; a member of the majority does not', async () => {
    sim = new SimCluster(52, { latencyMs: 1, jitterMs: 4 });
    for (const name of names) await sim.start(name, name === 'n1' ? [] : ['n1'], { ...TIMING, operatorToken: OPERATOR });
    await sim.until(() => sim.fullMesh() && sim.running().every((x) => x.supervisor.isReady), 10_000, 'mesh and ready');
    const minority = await ctlSession(sim, 'n3');
    const majority = await ctlSession(sim, 'n1');
    const notices = async (session: typeof minority): Promise<readonly string[]> => {
      const reply = await sim.resolve(session.command('status', {}, OPERATOR, 'alice', 5_000));
      expect(reply.ok).toBe(true);
      return (reply.ok && reply.result.notices) || [];
    };
    expect(await notices(minority)).toEqual([]);
    cutOff('n3');
    await sim.until(() => sim.mustGet('n3').upMembers().length === 1 && sim.mustGet('n1').upMembers().length === 2, 10_000, 'the split seen');
    // Before: nothing, while its "stop: ok" left the child running on the other side until the heal (the tour).
    expect(await notices(minority)).toEqual([expect.stringMatching(/^it hears 1 of the 3 members it knows \(n1, n2: down as far as it can tell/)]);
    expect(await notices(majority)).toEqual([]);
    await sim.resolve(minority.close());
    await sim.resolve(majority.close());
  });
});

describe('forget given to the cut-off minority', () => {
  // The tour (majority mode, real processes): 'pogo ctl forget n1' and 'forget n2' on the cut-off n3 were
  // accepted; at the heal n1 and n2 took themselves for forgotten, discarded their desired state and took
  // n3's: a child started on their side during the split ran nowhere any more, one stopped there ran again.
  for (const netsplit of ['majority', 'available'] as const) {
    it(`${netsplit} mode: refused (no-quorum); what the majority did during the split stands after the heal`, async () => {
      sim = new SimCluster(50, { latencyMs: 1, jitterMs: 4 });
      const config = { ...TIMING, netsplit, expectedMembers: 3 };
      for (const name of names) await sim.start(name, name === 'n1' ? [] : ['n1'], config);
      await sim.until(() => sim.fullMesh() && sim.running().every((x) => x.supervisor.isReady), 10_000, 'mesh and ready');
      for (const id of ids) await sim.resolve(sim.mustGet('n1').supervisor.startChild({ id, start: { worker: 'w' } }));
      cutOff('n3');
      await sim.until(
        () =>
          !sim
            .mustGet('n3')
            .upMembers()
            .some((n) => n !== 'n3') && !sim.mustGet('n1').upMembers().includes('n3'),
        5_000,
        'the split is seen',
      );
      const n3 = sim.mustGet('n3');
      for (const other of ['n1', 'n2']) {
        let code: string | undefined;
        try {
          n3.supervisor.forget(other);
        } catch (err) {
          code = (err as DistError).code;
        }
        expect(code).toBe('no-quorum');
      }
      const n1 = sim.mustGet('n1');
      await sim.resolve(n1.supervisor.startChild({ id: 'new', start: { worker: 'w' } }));
      await sim.resolve(n1.supervisor.terminateChild(ids[3]!));
      sim.network.heal();
      const live = [...ids.filter((id) => id !== ids[3]), 'new'];
      await sim.until(() => sim.fullMesh() && sim.exactlyOnce(live) && sim.instances(ids[3]!).length === 0, 20_000, 'healed');
      await sim.run(3_000);
      expect(sim.exactlyOnce(live)).toBe(true);
      expect(sim.instances(ids[3]!)).toEqual([]);
      for (const n of sim.running()) expect(n.supervisor.roster()).toEqual({ n1: true, n2: true, n3: true });
    });
  }
});
