/**
 * The verdict on one wake-from-a-pause round (reliability/wake.mjs), from
 * the instance intervals the members recorded themselves (lib/overlap.mjs's
 * ChildRecord), not from what the cluster reports. Pure: it reads the
 * record and the round's moments, starts nothing, so it is unit-tested on
 * synthetic records (core/test/wake-judge.test.ts).
 *
 * One round: member `frozen` (one node process) gets SIGSTOP at `stopAt`
 * and SIGCONT at `contAt`; the cluster is quiet again at `endAt`. Every
 * time is in the script's time base (epoch ms). The checks:
 *
 *   wake-start     (both modes) the woken node starts no child that is
 *                  running on another node at that moment: every instance
 *                  the frozen process started at or after `stopAt` (it
 *                  cannot start anything before it wakes), checked against
 *                  every instance of the same child on another process
 *                  that was up at that moment and went down later than the
 *                  calibrated clock error allows;
 *   duplicate      (available) the duplicates the freeze made — an instance
 *                  of the frozen process running since before `stopAt`, and
 *                  one a peer started after `stopAt` — are down to one
 *                  instance within `resolveBoundMs` of `contAt`; the time
 *                  each took is reported;
 *   frozen-overlap (majority) the one overlap docs/reliability.md allows a
 *                  frozen node: its own instance, running since before the
 *                  freeze, ends within `wakeStopBoundMs` of the wake ("its
 *                  worker children run on for a moment when it wakes"), the
 *                  other instance started on a peer no earlier than
 *                  `stopAt + takeoverAfterMs` (the majority waits for the
 *                  frozen node's lease and stop time from the last moment it
 *                  heard it), and only if the freeze was longer than the
 *                  lease;
 *   overlap        (both) any other pair of instances of one child that ran
 *                  at the same time, beyond the clock error.
 *
 * Overlaps no longer than the pair's clock error (conversionBound, or
 * `toleranceMs` when given) are left out, as in majority.mjs and
 * restarts.mjs.
 */
import { beyondClockError, conversionBound } from './overlap.mjs';

/** @typedef {import('./overlap.mjs').Overlap} Overlap */
/** @typedef {ReturnType<import('./overlap.mjs').ChildRecord['overlaps']>[number]['a']} Instance */

/**
 * A round's moments and bounds.
 * @typedef {object} WakeRound
 * @property {'available' | 'majority'} judge the rule the overlaps are judged by (the members' netsplit mode, or the other one for the control)
 * @property {object} frozen the frozen node process (BenchNode, or any object the record's instances refer to)
 * @property {number} roundStart overlaps that begin before this belong to an earlier round
 * @property {number} stopAt SIGSTOP
 * @property {number} contAt SIGCONT
 * @property {number} endAt the cluster quiet again, the child logs read up to here
 * @property {number} resolveBoundMs (available) a duplicate of the freeze must be down to one instance this long after the wake
 * @property {number} wakeStopBoundMs (majority) the frozen node's own instances must be down this long after the wake
 * @property {number} takeoverAfterMs (majority) a peer's instance may start this long after the SIGSTOP, not earlier
 * @property {number} leaseMs (majority) the frozen node's lease: the exception holds only for a freeze longer than it
 * @property {number} [toleranceMs] overlaps up to this many ms are left out (default: the pair's calibrated clock error)
 */

/**
 * A start on the woken node while a peer ran the child.
 * @typedef {{ id: string, at: number, on: string, elsewhere: Array<{ proc: string, up: number, down: number | undefined }> }} WakeStart
 */

/**
 * What one round showed.
 * @typedef {object} WakeVerdict
 * @property {number} wakeStarts instances the frozen process started after the SIGSTOP
 * @property {WakeStart[]} wakeStartsOverPeers those of them started while another node ran the child (must be 0)
 * @property {Array<{ id: string, resolveMs: number | undefined }>} duplicates children the freeze left running twice, with the time
 *   from the wake until one instance was left (undefined: not resolved)
 * @property {number} allowedOverlaps (majority) overlaps within the frozen-node exception
 * @property {number | undefined} ranOnAfterWakeMs (majority) the longest the frozen node's own instances of an allowed overlap ran after the wake
 * @property {number | undefined} earliestTakeoverMs (majority) the earliest a peer started one of those children, after the SIGSTOP
 * @property {number} overlapsWithinError overlaps left out as within the clock error
 * @property {Array<{ invariant: string, ids: string[], detail: string }>} violations
 */

/**
 * @param {Instance} iv
 * @param {number} t0
 */
const span = (iv, t0) => spanOf(iv.proc, iv.up, iv.down, t0);

/**
 * @param {string} proc
 * @param {number} up
 * @param {number | undefined} down
 * @param {number} t0
 */
const spanOf = (proc, up, down, t0) => `${proc} [${(up - t0).toFixed(1)}, ${down === undefined ? 'running' : (down - t0).toFixed(1)}]`;

/**
 * The verdict on one round (see the module header).
 * @param {import('./overlap.mjs').ChildRecord} record
 * @param {WakeRound} r
 * @param {number} [now] open intervals count until then (default: r.endAt)
 * @returns {WakeVerdict}
 */
export function judgeWakeRound(record, r, now = r.endAt) {
  /** @type {WakeVerdict} */
  const v = {
    wakeStarts: 0,
    wakeStartsOverPeers: [],
    duplicates: [],
    allowedOverlaps: 0,
    ranOnAfterWakeMs: undefined,
    earliestTakeoverMs: undefined,
    overlapsWithinError: 0,
    violations: [],
  };
  const t0 = r.stopAt;
  /** @param {Instance} iv */
  const onFrozen = (iv) => iv.ref === r.frozen;

  // wake-start: every instance the frozen process started once it had been stopped.
  for (const [id, list] of record.byId) {
    for (const iv of list) {
      if (!onFrozen(iv) || iv.up < r.stopAt) continue;
      v.wakeStarts++;
      const elsewhere = list.filter(
        (o) =>
          o.ref !== iv.ref && o.up <= iv.up && (o.down === undefined || o.down - iv.up > (r.toleranceMs ?? conversionBound(iv, /** @type {Instance} */ (o)))),
      );
      if (elsewhere.length > 0)
        v.wakeStartsOverPeers.push({ id, at: iv.up, on: iv.proc, elsewhere: elsewhere.map((o) => ({ proc: o.proc, up: o.up, down: o.down })) });
    }
  }
  if (v.wakeStartsOverPeers.length > 0)
    v.violations.push({
      invariant: 'wake-start',
      ids: v.wakeStartsOverPeers.map((s) => s.id),
      detail:
        `the woken node started ${v.wakeStartsOverPeers.length} children (of ${v.wakeStarts} it started after the SIGSTOP) while another ` +
        `node ran them (ms since the SIGSTOP): ${v.wakeStartsOverPeers
          .slice(0, 8)
          .map((s) => `${s.id} on ${s.on} at ${(s.at - t0).toFixed(1)} over ${s.elsewhere.map((e) => spanOf(e.proc, e.up, e.down, t0)).join(', ')}`)
          .join('; ')}`,
    });
  const startedOverPeer = new Set(v.wakeStartsOverPeers.map((s) => `${s.id} ${s.at}`));

  /** @type {Overlap[]} */
  const counted = [];
  for (const o of record.overlaps(now)) {
    if (o.from < r.roundStart) continue;
    if (!beyondClockError(o, r.toleranceMs)) v.overlapsWithinError++;
    else counted.push(o);
  }
  /** id → when the last overlap of a freeze duplicate ended (undefined: it has not) */
  /** @type {Map<string, number | undefined>} */
  const resolvedAt = new Map();
  /** @type {string[]} */
  const other = [];
  /** @type {string[]} */
  const outside = [];
  for (const o of counted) {
    // Reported as wake-start already.
    if ((onFrozen(o.b) && startedOverPeer.has(`${o.id} ${o.b.up}`)) || (onFrozen(o.a) && startedOverPeer.has(`${o.id} ${o.a.up}`))) continue;
    const mine = onFrozen(o.a) ? o.a : onFrozen(o.b) ? o.b : undefined;
    const theirs = mine === o.a ? o.b : o.a;
    const frozenPair = mine !== undefined && !onFrozen(theirs) && mine.up < r.stopAt && theirs.up >= r.stopAt;
    if (!frozenPair) {
      other.push(`${o.id}: ${o.ms.toFixed(1)} ms on ${span(o.a, t0)} and ${span(o.b, t0)}`);
      continue;
    }
    if (r.judge === 'available') {
      const open = o.a.down === undefined && o.b.down === undefined;
      const prev = resolvedAt.has(o.id) ? resolvedAt.get(o.id) : -Infinity;
      resolvedAt.set(o.id, open || prev === undefined ? undefined : Math.max(/** @type {number} */ (prev), o.to));
      continue;
    }
    // majority: the frozen node's exception, exactly.
    const why = [];
    if (r.contAt - r.stopAt <= r.leaseMs) why.push(`the freeze (${Math.round(r.contAt - r.stopAt)} ms) was not longer than the lease (${r.leaseMs} ms)`);
    if (theirs.up < r.stopAt + r.takeoverAfterMs)
      why.push(
        `${theirs.proc} started it ${(theirs.up - r.stopAt).toFixed(1)} ms after the SIGSTOP, before the ${r.takeoverAfterMs} ms the majority must wait`,
      );
    if (mine.down === undefined || mine.down > r.contAt + r.wakeStopBoundMs)
      why.push(
        `${mine.proc}'s instance ran until ${mine.down === undefined ? 'the end' : `${(mine.down - r.contAt).toFixed(1)} ms after the wake`}` +
          `, past the ${r.wakeStopBoundMs} ms allowed`,
      );
    if (why.length > 0) {
      outside.push(`${o.id}: ${o.ms.toFixed(1)} ms on ${span(o.a, t0)} and ${span(o.b, t0)}: ${why.join('; ')}`);
      continue;
    }
    v.allowedOverlaps++;
    v.ranOnAfterWakeMs = Math.max(v.ranOnAfterWakeMs ?? 0, /** @type {number} */ (mine.down) - r.contAt);
    v.earliestTakeoverMs = Math.min(v.earliestTakeoverMs ?? Infinity, theirs.up - r.stopAt);
  }
  for (const [id, at] of resolvedAt) v.duplicates.push({ id, resolveMs: at === undefined ? undefined : at - r.contAt });
  const late = v.duplicates.filter((d) => d.resolveMs === undefined || d.resolveMs > r.resolveBoundMs);
  if (late.length > 0)
    v.violations.push({
      invariant: 'duplicate',
      ids: late.map((d) => d.id),
      detail:
        `${late.length} of the ${v.duplicates.length} duplicates the freeze made were not down to one instance within ${r.resolveBoundMs} ms of the wake: ` +
        late
          .slice(0, 8)
          .map((d) => `${d.id} ${d.resolveMs === undefined ? 'still twice' : `after ${Math.round(d.resolveMs)} ms`}`)
          .join(', '),
    });
  if (outside.length > 0)
    v.violations.push({
      invariant: 'frozen-overlap',
      ids: [...new Set(outside.map((l) => l.split(':')[0] ?? ''))],
      detail: `${outside.length} overlaps outside the frozen-node exception of majority mode (ms since the SIGSTOP): ${outside.slice(0, 8).join('; ')}`,
    });
  if (other.length > 0)
    v.violations.push({
      invariant: 'overlap',
      ids: [...new Set(other.map((l) => l.split(':')[0] ?? ''))],
      detail:
        `${other.length} pairs of instances ran at the same time other than as the freeze explains (ms since the SIGSTOP): ` + other.slice(0, 8).join('; '),
    });
  return v;
}
