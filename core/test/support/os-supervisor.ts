/**
 * A LocalSupervisor for tests that start real OS-process children on this
 * machine (system clock and randomness, a memory log, no network). Every
 * supervisor made here is stopped by `stopSupervisors()` (call it in
 * afterEach), which also stops the children it started.
 */
import { SystemClock } from '../../src/clock.js';
import { ProcessGroups } from '../../src/groups.js';
import { MemoryLogger } from '../../src/logger.js';
import { CryptoRandom } from '../../src/random.js';
import { LocalSupervisor, type LocalSupervisorOptions } from '../../src/supervisor/local-supervisor.js';
import { WorkerRegistry } from '../../src/supervisor/workers.js';

const INC = 'abcdef0123456789';
const made: LocalSupervisor[] = [];

/** A supervisor of node n1 that may run `allow`; `extra` overrides or adds options. */
export function osSupervisor(allow: string[], extra: Partial<LocalSupervisorOptions> = {}): { sup: LocalSupervisor; log: MemoryLogger } {
  const log = new MemoryLogger();
  let n = 1;
  const sup = new LocalSupervisor({
    node: 'n1',
    clock: new SystemClock(),
    random: new CryptoRandom(),
    log,
    groups: new ProcessGroups({ node: 'n1', incarnation: INC, channel: { send() {} }, log }),
    workers: new WorkerRegistry(),
    allowCommands: allow,
    newPid: () => `n1/${INC}/c${n++}`,
    failingBackoffBaseMs: 60_000,
    ...extra,
  });
  made.push(sup);
  return { sup, log };
}

/** Stops every supervisor osSupervisor made (and so their children). */
export async function stopSupervisors(): Promise<void> {
  await Promise.all(made.splice(0).map((s) => s.stopAll()));
}
