/**
 * A burst of refused commands does not push the operators' commands out of
 * the audit log. Found by an outsider's tour on real nodes: a client holding
 * the cluster secret and no token (or a viewer token) sent 1,100 `drain`s;
 * each refusal was audited in the one ring of 1,000 entries, and `pogo ctl
 * audit` no longer showed the `pause` and `resume` an operator had given a
 * moment before. Refusals now have a ring of their own, and a reply too
 * small for every entry keeps the allowed commands first (refusals with
 * 2 KiB of arguments each filled the 512 KiB reply on their own).
 * Simulated network and clock; ctl's session to a member.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../src/observer/ui-protocol.js';
import { ctlSession } from './support/ctl-session.js';
import { SimCluster } from './support/sim.js';

const OPERATOR = 'operator-token-0123456789';
const VIEWER = 'viewer-token-0123456789ab';
let sim: SimCluster | undefined;
afterEach(() => sim?.stopAll());

describe('audit: a flood of refusals', () => {
  it('keeps the commands an operator gave, in the log and in the reply', async () => {
    sim = new SimCluster(91, { latencyMs: 1, jitterMs: 0 });
    const config = { operatorToken: OPERATOR, viewerToken: VIEWER, preset: 'lan' as const };
    await sim.start('a', [], config);
    sim.settle(() => sim!.running().every((n) => n.supervisor.isReady), 5_000, 'a ready');
    const session = await ctlSession(sim, 'a');
    expect((await sim.resolve(session.command('pause', {}, OPERATOR, 'alice', 10_000))).ok).toBe(true);
    expect((await sim.resolve(session.command('resume', {}, OPERATOR, 'alice', 10_000))).ok).toBe(true);

    // More refusals than the ring holds, each with arguments near the size the audit keeps verbatim.
    const big = 'x'.repeat(1_900);
    const credentials = ['', 'not-a-token', VIEWER];
    for (let i = 0; i < 1_200; i += 100) {
      const replies = await sim.resolve(
        Promise.all(Array.from({ length: 100 }, (_, j) => session.command('drain', { node: `${big}${i + j}` }, credentials[(i + j) % 3]!, 'mallory', 10_000))),
      );
      expect(replies.every((r) => !r.ok && (r.error.code === 'unauthorized' || r.error.code === 'forbidden'))).toBe(true);
    }

    for (const op of ['audit', 'audit-all'] as const) {
      const reply = await sim.resolve(session.command(op, {}, VIEWER, 'alice', 10_000));
      expect(reply.ok).toBe(true);
      const result = (reply as { ok: true; result: AuditEntry[] | { entries: AuditEntry[] } }).result;
      const entries = Array.isArray(result) ? result : result.entries;
      const allowed = entries.filter((e) => e.by === 'alice').map((e) => e.op);
      expect(allowed, op).toEqual(['pause', 'resume']);
      // The refusals are there too, as many as fit, newest last and in order.
      expect(entries.length).toBeGreaterThan(100);
      expect(entries.at(-1)!.by).toBe('mallory');
      const seqs = entries.map((e) => e.seq!);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    }
    await sim.resolve(session.close());
  });
});
