/**
 * `pogo ctl stop <id>`: a stop of a child the cluster does not hold fails
 * with not-found (exit 1), as Erlang's and Pogo's `not_found`, and says
 * when the child was stopped before; with `--ignore-not-found` (as `kubectl
 * delete --ignore-not-found`) it is no failure, so a script can make sure a
 * child is gone, and retry a stop whose answer was lost. Simulated network
 * and clock: ctl's code (`stopChild`, `runCtl`'s usage check) over a
 * ClientSession on the simulated network.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientSession } from '../src/client-session.js';
import { CtlFailure, EXIT, runCtl, stopChild } from '../src/cli/ctl.js';
import { ctlSession } from './support/ctl-session.js';
import { SimCluster } from './support/sim.js';

const OPERATOR = 'operator-token-0123456789';
let sim: SimCluster | undefined;
afterEach(() => sim?.stopAll());

async function cluster(): Promise<{ sim: SimCluster; session: ClientSession }> {
  sim = new SimCluster(72, { latencyMs: 1, jitterMs: 0 });
  const config = { operatorToken: OPERATOR, preset: 'lan' as const };
  const a = await sim.start('a', [], config);
  await sim.start('b', ['a'], config);
  sim.settle(() => sim!.fullMesh() && sim!.running().every((n) => n.supervisor.isReady), 5_000, 'a-b linked and ready');
  await sim.resolve(a.supervisor.startChild({ id: 'web', start: { worker: 'w' } }));
  const session = await ctlSession(sim, 'a');
  return { sim, session };
}

const plan = (ignoreNotFound: boolean) => ({ token: OPERATOR, by: 'alice', timeoutMs: 5_000, ignoreNotFound });

describe('pogo ctl stop', () => {
  it('stops the child; a second stop fails with not-found, saying it was stopped', async () => {
    const { sim, session } = await cluster();
    expect(await sim.resolve(stopChild(session, { id: 'web' }, plan(false)))).toEqual({ stopped: true, why: '' });
    expect(sim.mustGet('b').supervisor.whereis('web')).toBeUndefined();
    const again = await sim.resolve(stopChild(session, { id: 'web' }, plan(false)).catch((e: unknown) => e));
    expect(again).toBeInstanceOf(CtlFailure);
    expect((again as CtlFailure).exit).toBe(EXIT.failed);
    expect((again as CtlFailure).code).toBe('not-found');
    expect((again as CtlFailure).message).toContain('it was stopped');
  });

  it('with --ignore-not-found, no such child is no failure: stopped already, or never started', async () => {
    const { sim, session } = await cluster();
    await sim.resolve(stopChild(session, { id: 'web' }, plan(true)));
    const again = await sim.resolve(stopChild(session, { id: 'web' }, plan(true)));
    expect(again.stopped).toBe(false);
    expect(again.why).toContain('no child with id "web": it was stopped');
    expect(await sim.resolve(stopChild(session, { id: 'never' }, plan(true)))).toEqual({ stopped: false, why: 'no child with id "never"' });
  });

  it('with --ignore-not-found, other refusals still fail (a viewer token is refused)', async () => {
    const { sim, session } = await cluster();
    const refused = await sim.resolve(stopChild(session, { id: 'web' }, { ...plan(true), token: 'not-the-token' }).catch((e: unknown) => e));
    expect(refused).toBeInstanceOf(CtlFailure);
    expect((refused as CtlFailure).exit).toBe(EXIT.unauthorized);
    expect(sim.mustGet('a').supervisor.whereis('web')).toBeDefined();
  });

  it('--ignore-not-found goes with stop only (a usage error before any cluster is asked)', async () => {
    const out: string[] = [];
    const io = {
      stdout: (t: string): void => void out.push(t),
      stderr: (t: string): void => void out.push(t),
      stdin: () => Promise.resolve(''),
      onStop: () => () => {},
    };
    const code = await runCtl('unpin', ['web'], { seed: ['127.0.0.1:1'], ignoreNotFound: true }, io);
    expect(code).toBe(EXIT.usage);
    expect(out.join('')).toContain('--ignore-not-found goes with stop only');
  });
});
