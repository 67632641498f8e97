/**
 * The audit log says when a command was given, not when it finished. Found
 * by an outsider's tour (ctl during a netsplit): a `pogo ctl move` to a node
 * that could not start the child yet was audited when the move finished — at
 * the heal, seconds after ctl had reported its timeout — so it appeared after
 * commands given later, although its pin had been written first (and the
 * newest pin wins: the audit must let an operator tell which that is).
 * Simulated network and clock; ctl's session to a member.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../src/observer/ui-protocol.js';
import { ctlSession } from './support/ctl-session.js';
import { SimCluster } from './support/sim.js';

const OPERATOR = 'operator-token-0123456789';
/** How long a `slow-stop` child takes to stop (simulated time): a stop-first move waits that long. */
const SLOW_STOP_MS = 1_500;
let sim: SimCluster | undefined;
afterEach(() => sim?.stopAll());

describe('audit: when a command was given', () => {
  it('a move that waits for its old instance to stop is audited at the moment it was given, before a stop given during the wait', async () => {
    sim = new SimCluster(73, { latencyMs: 1, jitterMs: 0 });
    const clock = sim.clock;
    sim.workers.registry.define('slow-stop', () => ({ stop: () => new Promise<void>((resolve) => clock.setTimeout(resolve, SLOW_STOP_MS)) }));
    const config = { operatorToken: OPERATOR, preset: 'lan' as const };
    const a = await sim.start('a', [], config);
    await sim.start('b', ['a'], config);
    sim.settle(() => sim!.fullMesh() && sim!.running().every((n) => n.supervisor.isReady), 5_000, 'a-b linked and ready');
    await sim.resolve(a.supervisor.startChild({ id: 'slow', start: { worker: 'slow-stop' } }));
    await sim.resolve(a.supervisor.startChild({ id: 'quick', start: { worker: 'w' } }));
    const from = sim.instances('slow')[0]!;
    const to = from === 'a' ? 'b' : 'a';
    const session = await ctlSession(sim, 'a');

    const movedAt = clock.now();
    const move = session.command('move', { id: 'slow', node: to }, OPERATOR, 'alice', 10_000);
    await sim.run(200);
    const stoppedAt = clock.now();
    const stop = await sim.resolve(session.command('stop', { id: 'quick' }, OPERATOR, 'alice', 10_000));
    expect(stop.ok).toBe(true);
    const moved = await sim.resolve(move);
    expect(moved.ok).toBe(true);
    expect(clock.now() - movedAt).toBeGreaterThanOrEqual(SLOW_STOP_MS);

    // As `pogo ctl audit` asks: every member's log, merged in time order.
    const audit = await sim.resolve(session.command('audit-all', {}, OPERATOR, 'alice', 10_000));
    expect(audit.ok).toBe(true);
    const { entries } = (audit as { ok: true; result: { entries: AuditEntry[] } }).result;
    const ops = entries.map((e) => `${e.op} ${e.args.join(' ')}`);
    expect(ops).toEqual([`move slow ${to}`, 'stop quick']);
    const [moveEntry, stopEntry] = entries;
    // Given after movedAt (the link's latency), before the stop was: not when the move finished.
    expect(moveEntry!.at).toBeGreaterThanOrEqual(movedAt);
    expect(moveEntry!.at).toBeLessThan(stoppedAt);
    expect(stopEntry!.at).toBeGreaterThanOrEqual(stoppedAt);
    await sim.resolve(session.close());
  });
});
