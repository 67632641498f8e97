/**
 * How fast this host runs the benchmark's kind of JavaScript right now: a
 * fixed workload timed in the runner's process, best of several.
 *
 * This machine's speed drifts by 10–30 % within minutes with what else its
 * host runs (the same build's start rate was 7,127 /s at 06:20 and 10,829
 * /s at 07:52 on 2026-12-07, every process's CPU per child a third lower),
 * and neither the load average nor the steal time in /proc/stat shows it.
 * So each scenario records how long this workload took just before it ran:
 * two runs whose figures differ by about as much as their workload times do
 * most likely differ by the host, not by the code (first measured in a fast
 * hour only: how closely it follows the nodes' CPU per child over slow hours
 * is still to be seen). `node bench/tools/compare-runs.mjs` prints both.
 *
 * The workload is a small copy of what a node does per child: JSON text of
 * 10,000 register-like records parsed, frozen, keyed into a Map by a built
 * string, looked up again and written back to JSON; about 9 ms a round on
 * this machine. Best of fifteen (about 0.15 s): the first rounds warm the
 * JIT, and a round that a context switch or a collection interrupted says
 * nothing about the host (15 rounds gave 8.7–9.5 ms with CI loading both
 * cores, where 7 gave 8.7–17.8).
 * Single-threaded, so it measures one core as this process gets it: a loaded
 * machine shows as a slow one, which for the figures that follow is true.
 */

const RECORDS = 10_000;
const TEXT = JSON.stringify(
  Array.from({ length: RECORDS }, (_, i) => ({
    specs: [{ rev: `00mxd0qvki.${i.toString(36).padStart(6, '0')}.n1`, spec: { id: `c${i}`, start: { worker: 'idle' } } }],
  })),
);

/** One round of the workload; returns a checksum so that nothing is optimised away. */
function round() {
  const records = /** @type {Array<{ specs: Array<{ rev: string, spec: { id: string } }> }>} */ (JSON.parse(TEXT));
  /** @type {Map<string, object>} */
  const byKey = new Map();
  for (const r of records) {
    const entry = r.specs[0];
    Object.freeze(entry.spec);
    Object.freeze(entry);
    byKey.set(`c:${entry.spec.id}`, Object.freeze(r));
  }
  let sum = 0;
  for (let i = 0; i < RECORDS; i++) if (byKey.has(`c:c${i}`)) sum++;
  return sum + JSON.stringify([...byKey.values()]).length;
}

/**
 * The workload's best time in ms over `rounds` rounds (lower: a faster host now).
 * @param {number} [rounds]
 * @returns {number}
 */
export function referenceWorkMs(rounds = 15) {
  let best = Infinity;
  let check = 0;
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    check += round();
    best = Math.min(best, performance.now() - t0);
  }
  if (check <= 0) throw new Error('host-speed: the workload did nothing');
  return Math.round(best * 100) / 100;
}
