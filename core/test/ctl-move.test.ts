/**
 * `pogo ctl move <id> <node>` when the node cannot start the child (frozen:
 * here cut off from every peer, so it answers nothing): the member holds
 * the pin and keeps the move going, so ctl must not blame the member as
 * unreachable (exit 3). It waits for the move's answer most of its
 * `--timeout`, then asks `explain` and says where the move stands: exit 1,
 * the pin named, where the child still runs. Simulated network and clock
 * (no wall-clock waits): ctl's code (`moveChild`) over a ClientSession on
 * the simulated network.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientSession } from '../src/client-session.js';
import { CtlFailure, EXIT, moveChild } from '../src/cli/ctl.js';
import { ctlSession } from './support/ctl-session.js';
import { SimCluster } from './support/sim.js';

const OPERATOR = 'operator-token-0123456789';
let sim: SimCluster | undefined;
afterEach(() => sim?.stopAll());

async function cluster(): Promise<{ sim: SimCluster; session: ClientSession }> {
  sim = new SimCluster(71, { latencyMs: 1, jitterMs: 0 });
  const config = { operatorToken: OPERATOR, preset: 'lan' as const };
  const a = await sim.start('a', [], config);
  await sim.start('b', ['a'], config);
  await sim.start('c', ['a'], config);
  sim.settle(() => sim!.fullMesh() && sim!.running().every((n) => n.supervisor.isReady), 5_000, 'a-b-c linked and ready');
  await sim.resolve(a.supervisor.startChild({ id: 'web', start: { worker: 'w' } }));
  const session = await ctlSession(sim, 'a');
  return { sim, session };
}

const failure = async (p: Promise<unknown>): Promise<CtlFailure> => {
  try {
    await p;
  } catch (err) {
    if (err instanceof CtlFailure) return err;
    throw err;
  }
  throw new Error('expected the move to fail');
};

describe('pogo ctl move to a node that does not answer', () => {
  it('says the move stands (pinned, not running there yet) with exit 1, not that the member was unreachable', async () => {
    const { sim, session } = await cluster();
    const runsOn = sim.mustGet('a').supervisor.whereis('web')!.node;
    const target = runsOn === 'b' ? 'c' : 'b'; // not a: the session's member
    // The target freezes: nothing reaches it, nothing comes from it.
    const others = ['a', 'b', 'c'].filter((n) => n !== target).map(SimCluster.address);
    sim.network.partition([SimCluster.address(target)], [...others, 'ctl-host:0']);

    const f = await failure(sim.resolve(moveChild(session, { id: 'web', node: target }, { token: OPERATOR, by: 'alice', timeoutMs: 15_000 })));
    expect(f.exit).toBe(EXIT.failed);
    expect(f.code).toBe('timeout');
    expect(f.message).toMatch(
      new RegExp(
        `^the move of web to ${target} is not done after 13000 ms: a holds it — web is pinned to ${target} and moves there as soon as ${target} can start it`,
      ),
    );
    expect(f.message).toContain(`pogo ctl unpin web hands it back to hashing`);
    expect(f.result).toMatchObject({ id: 'web', node: target, pin: target });
    // The pin is really held: the move goes on.
    expect(sim.mustGet('a').supervisor.explain('web').pin).toBe(target);
  });

  it('a move that completes in time answers with the new instance, as before', async () => {
    const { sim, session } = await cluster();
    const runsOn = sim.mustGet('a').supervisor.whereis('web')!.node;
    const target = ['a', 'b', 'c'].find((n) => n !== runsOn)!;
    const r = await sim.resolve(moveChild(session, { id: 'web', node: target }, { token: OPERATOR, by: 'alice', timeoutMs: 15_000 }));
    expect(r).toMatchObject({ id: 'web', node: target });
  });
});
