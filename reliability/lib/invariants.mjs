/**
 * What the chaos script expects of the cluster, and the checks of
 * DESIGN §3.5 made after each quiet period.
 *
 * The ledger records every start and stop request the script made and what
 * it knows of its outcome, per child id:
 *   live        startChild resolved (running, every up member holds the spec)
 *   terminated  terminateChild resolved
 *   never       the request was refused before anything was written
 *               (no-quorum, unplaceable, not linked to the member, ...)
 *   ambiguous   the reply never came (timeout, the member died or lost its
 *               link mid-request): either outcome is allowed, but the cluster
 *               must agree with itself (a live spec runs once, a dead one nowhere)
 *   starting / stopping   a request in flight
 * Ids are never reused, so each id has at most one start and one stop.
 *
 * Checks after quiescence (`checkQuiescent`), each a named invariant:
 *   one-instance      every live spec runs on exactly one node (by the
 *                     nodes' own child logs, not by the groups)
 *   no-lost-spec      every start that resolved, never stopped, is still a
 *                     live spec and runs
 *   terminate-wins    a terminated child is no live spec and runs nowhere
 *   terminate-final   once its termination is final — a quiescent point has
 *                     passed after it (chaos), or its terminate resolved with
 *                     no partition about (soak) — a terminated child never
 *                     starts again anywhere (`noteUps`, fed with every child log)
 *   nothing-else      nothing runs that is not a live spec
 *   views-agree       the observer's `run:` groups match what the nodes
 *                     run, and every member counts every live spec
 * The same mirror of the in-memory chaos simulation's end-of-run checks
 * (core/test/support/chaos-sim.ts), on real processes.
 */

/** @typedef {import('../../core/dist/index.js').CommandOutcome} CommandOutcome */
/** @typedef {import('../../bench/lib/types.js').ChildLogEntry} ChildLogEntry */
/** @typedef {import('../../bench/lib/types.js').CountsReply} CountsReply */
/** @typedef {'none' | 'live' | 'terminated' | 'never' | 'ambiguous' | 'starting' | 'stopping'} LedgerState */
/** @typedef {{ state: LedgerState, history: string[], terminatedAt?: number }} LedgerEntry */
/** @typedef {{ invariant: string, ids: string[], detail: string }} Violation */

/**
 * Replies that prove nothing was written: the start did not happen.
 * @type {Set<string | undefined>}
 */
const REFUSED = new Set([
  'no-quorum',
  'unplaceable',
  'invalid-spec',
  'conflict',
  'shutting-down',
  'commands-disabled',
  'unauthorized',
  'forbidden',
  'bad-request',
  'not-a-member',
]);

export class Ledger {
  /** @param {string} [sealedBy] what makes a termination final, for messages */
  constructor(sealedBy = 'a quiescent point after its terminate') {
    this.sealedBy = sealedBy;
  }

  /**
   * id → { state, history: [text] }
   * @type {Map<string, LedgerEntry>}
   */
  ids = new Map();
  /**
   * id → epoch ms after which it must never start again.
   * @type {Map<string, number>}
   */
  sealed = new Map();
  /**
   * Violations found between checks (children coming back).
   * @type {Array<{ id: string, node: string, at: number, afterMs: number }>}
   */
  cameBack = [];

  /**
   * @param {string} id
   * @returns {LedgerEntry}
   */
  entry(id) {
    let e = this.ids.get(id);
    if (!e) this.ids.set(id, (e = { state: 'none', history: [] }));
    return e;
  }

  /**
   * Children the setup started (all resolved).
   * @param {Iterable<string>} ids
   */
  addLive(ids) {
    for (const id of ids) this.entry(id).state = 'live';
  }

  /**
   * @param {string} id
   * @param {string} target
   */
  startRequested(id, target) {
    const e = this.entry(id);
    e.state = 'starting';
    e.history.push(`start via ${target}`);
  }

  /**
   * @param {string} id
   * @param {CommandOutcome} reply
   */
  startDone(id, reply) {
    const e = this.entry(id);
    const error = reply.ok ? undefined : reply.error;
    if (reply.ok) e.state = 'live';
    else if (REFUSED.has(error?.code) || (error?.code === 'unreachable' && /^not linked/.test(error.message))) e.state = 'never';
    else e.state = 'ambiguous';
    e.history.push(reply.ok ? 'start ok' : `start ${error?.code}`);
  }

  /**
   * @param {string} id
   * @param {string} target
   */
  stopRequested(id, target) {
    const e = this.entry(id);
    e.state = 'stopping';
    e.history.push(`stop via ${target}`);
  }

  /**
   * @param {string} id
   * @param {CommandOutcome} reply
   * @param {number} at
   */
  stopDone(id, reply, at) {
    const e = this.entry(id);
    const error = reply.ok ? undefined : reply.error;
    if (reply.ok) {
      e.state = 'terminated';
      e.terminatedAt = at;
    } else if (error?.code === 'no-quorum') {
      // A stop given to a member cut off from the majority is recorded there and acts once the majority
      // hears that member again (distributed-supervisor.ts terminateChild), which its death before the
      // heal prevents: either outcome.
      e.state = 'ambiguous';
    } else if (error?.code === 'not-found' || REFUSED.has(error?.code) || (error?.code === 'unreachable' && /^not linked/.test(error.message))) {
      // The member did not know the child (the other side of a partition) or refused: nothing written.
      e.state = 'live';
    } else e.state = 'ambiguous';
    e.history.push(reply.ok ? 'stop ok' : `stop ${error?.code}`);
  }

  live() {
    return [...this.ids].filter(([, e]) => e.state === 'live').map(([id]) => id);
  }

  /** @param {LedgerState} state */
  count(state) {
    let n = 0;
    for (const e of this.ids.values()) if (e.state === state) n++;
    return n;
  }

  /**
   * After a quiescent point at `at`: every child terminated before it must never start again.
   * @param {number} at
   */
  seal(at) {
    for (const [id, e] of this.ids)
      if (e.state === 'terminated' && /** @type {number} */ (e.terminatedAt) <= at && !this.sealed.has(id)) this.sealed.set(id, at);
  }

  /**
   * Seals one child at `at` (when no split can hide the tombstone from anyone, e.g. right after its terminate resolved).
   * @param {string} id
   * @param {number} at
   */
  sealOne(id, at) {
    if (!this.sealed.has(id)) this.sealed.set(id, at);
  }

  /**
   * Child-log events of one node: a sealed child starting again is a violation.
   * @param {string} nodeName
   * @param {Iterable<ChildLogEntry>} events
   */
  noteUps(nodeName, events) {
    for (const [id, kind, t] of events) {
      if (kind !== 'up') continue;
      const since = this.sealed.get(id);
      if (since !== undefined && t > since) this.cameBack.push({ id, node: nodeName, at: t, afterMs: t - since });
    }
  }
}

/**
 * The checks after a quiet period.
 * @param {object} state
 * @param {Ledger} state.ledger the Ledger
 * @param {Iterable<string>} state.liveSpecs ids of the live specs, as the observer sees them
 * @param {Map<string, string[]>} state.where id → names of the nodes whose processes run it (ground truth)
 * @param {Map<string, number>} state.observerRuns id → instances in the observer's `run:` groups
 * @param {Map<string, CountsReply>} state.counts member name → its `counts` reply
 * @returns {{ violations: Violation[], lost: string[], duplicates: string[] }}
 */
export function checkQuiescent({ ledger, liveSpecs, where, observerRuns, counts }) {
  /** @type {Violation[]} */
  const violations = [];
  /**
   * @param {string} invariant
   * @param {string[]} ids
   * @param {string} detail
   */
  const add = (invariant, ids, detail) => {
    if (ids.length > 0) violations.push({ invariant, ids, detail });
  };
  const live = new Set(liveSpecs);
  /** @type {string[]} */
  const duplicates = [];
  /** @type {string[]} */
  const missing = [];
  for (const id of live) {
    const n = where.get(id)?.length ?? 0;
    if (n > 1) duplicates.push(id);
    if (n === 0) missing.push(id);
  }
  add(
    'one-instance',
    duplicates,
    `live specs running more than once after quiescence: ${duplicates
      .slice(0, 20)
      .map((id) => `${id} on ${/** @type {string[]} */ (where.get(id)).join('+')}`)
      .join(', ')}`,
  );
  add('one-instance', missing, 'live specs running nowhere after quiescence');

  /** @type {string[]} */
  const lost = [];
  for (const [id, e] of ledger.ids) {
    if (e.state !== 'live') continue;
    if (!live.has(id) || (where.get(id)?.length ?? 0) === 0) lost.push(id);
  }
  add('no-lost-spec', lost, 'startChild resolved and the child was never stopped, but it is not running');

  /** @type {string[]} */
  const termLive = [];
  /** @type {string[]} */
  const termRunning = [];
  for (const [id, e] of ledger.ids) {
    if (e.state !== 'terminated' && e.state !== 'never') continue;
    if (live.has(id)) termLive.push(id);
    if ((where.get(id)?.length ?? 0) > 0) termRunning.push(id);
  }
  add('terminate-wins', termLive, 'terminated (or refused) children whose spec is live again');
  add('terminate-wins', termRunning, 'terminated (or refused) children still running');
  const back = ledger.cameBack.splice(0);
  add(
    'terminate-final',
    [...new Set(back.map((b) => b.id))],
    `terminated children started again after ${ledger.sealedBy}: ${back
      .slice(0, 10)
      .map((b) => `${b.id} on ${b.node} ${b.afterMs.toFixed(1)} ms later`)
      .join(', ')}`,
  );

  const orphans = [...where.keys()].filter((id) => !live.has(id));
  add(
    'nothing-else',
    orphans,
    `children running that are no live spec: ${orphans
      .slice(0, 20)
      .map((id) => `${id} on ${/** @type {string[]} */ (where.get(id)).join('+')}`)
      .join(', ')}`,
  );

  /** @type {string[]} */
  const disagree = [];
  for (const id of new Set([...where.keys(), ...observerRuns.keys()])) {
    if ((where.get(id)?.length ?? 0) !== (observerRuns.get(id) ?? 0)) disagree.push(id);
  }
  add(
    'views-agree',
    disagree,
    `the observer's run groups differ from what the nodes run: ${disagree
      .slice(0, 10)
      .map((id) => `${id} groups ${observerRuns.get(id) ?? 0} vs nodes ${where.get(id)?.length ?? 0}`)
      .join(', ')}`,
  );
  for (const [name, c] of counts) {
    if (c.cluster.specs !== live.size || c.cluster.running !== live.size || c.cluster.duplicate !== 0) {
      violations.push({
        invariant: 'views-agree',
        ids: [],
        detail:
          `${name} counts ${c.cluster.specs} specs, ${c.cluster.running} running, ` +
          `${c.cluster.duplicate} duplicate; the observer sees ${live.size} live specs`,
      });
    }
  }
  return { violations, lost, duplicates };
}

/**
 * id → instance count in the observer's `run:` groups (a RunTracker).
 * @param {import('../../bench/lib/cluster.mjs').RunTracker} tracker
 * @returns {Map<string, number>}
 */
export function observerRuns(tracker) {
  /** @type {Map<string, number>} */
  const out = new Map();
  for (const [id, inst] of tracker.instances) out.set(id, inst.size);
  return out;
}
