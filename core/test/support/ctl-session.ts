/**
 * A `pogo ctl` session (a ClientSession, as ctl opens one) on a simulated
 * cluster: linked to `member`, on the simulated network and clock, with the
 * cluster's secret and the lan preset's timing.
 */
import { ClientSession } from '../../src/client-session.js';
import { SIM_SECRET, SimCluster } from './sim.js';

export function ctlSession(sim: SimCluster, member: string): Promise<ClientSession> {
  return sim.resolve(
    ClientSession.open({
      name: 'ctl-host-1',
      cluster: 'pogo',
      secret: SIM_SECRET,
      seeds: [SimCluster.address(member)],
      timing: { heartbeatIntervalMs: 1_000, suspectAfterMs: 2_000, heartbeatTimeoutMs: 3_000, handshakeTimeoutMs: 2_000 },
      transport: sim.network.transport('ctl-host:0'),
      clock: sim.clock,
      random: sim.random,
      log: sim.log,
      timeoutMs: 5_000,
    }),
  );
}
