/**
 * The decision core: what this node does about one child, as a pure function
 * of the child's view and the cluster's (DESIGN §3.5). No side effects: the
 * reconciler (reconciler.ts) executes the actions, and every rule below is
 * unit-tested without a network (decide.test.ts).
 *
 * A node acts only on its own instance — it is the only writer of its own
 * memberships — so the answer is at most one action:
 *   - the spec is gone (terminated): stop the local instance;
 *   - this node may not run children (majority mode without a lease): stop it;
 *   - the local instance runs another revision than the live spec: stop it
 *     (the new revision starts once it is gone);
 *   - this node is the owner and runs nothing: start it — unless it may not
 *     start yet (readiness, or majority mode waiting to see every present
 *     member), a member still joining would own it (`heldFor`: it starts
 *     there, once, instead of here and then moving), or the spec's handoff
 *     waits for another instance to stop;
 *   - this node runs it and is not the owner:
 *       * the owner's instance runs too: stop ours (a duplicate: the owner's
 *         survives; for start-first, the end of a planned overlap);
 *       * several instances, none on the owner (a heal, or no node eligible
 *         at all): the best-ranked runner by HRW keeps it, the others stop;
 *       * no owner anywhere: keep running (nowhere better to go);
 *       * otherwise a planned move: stop-first stops now (rate-limited by the
 *         executor), start-first waits for the owner's instance. Race "the
 *         owner is ready but may not start yet": a node just ready starts
 *         nothing until every peer has heard of its readiness (node.ts),
 *         which under load took its peers 1–2 s while they stopped what it
 *         owns; its share ran nowhere meanwhile. A stop-first move to an
 *         owner whose start gate is closed (`gated`) waits, running, until it
 *         opens.
 *
 * Claims (majority mode, `cluster.claims`): race "two owners". Two nodes can
 * each believe they own a child — their views of the desired state differ
 * for a moment (a pin or an undrain that has reached one of them), or a
 * fresh split has cut them apart while both still hold their leases — and
 * each would start it, seeing no instance of the other's yet. So an owner
 * first *claims* the start (`claim:<id>`, visible to every linked node) and
 * starts only once every present member has heard of the claim (echoed a
 * ping sent after it: links are FIFO, so an instance or a claim of theirs
 * made before reaches this node first). A node that sees another's claim
 * does not claim; two claims that crossed are settled the same way on both
 * sides — the claimant ranked higher by HRW keeps its claim, the other
 * withdraws. A partitioned peer never hears the claim: nothing starts until
 * the netsplit policy has fenced it, or the partition heals.
 */
import { hrwScore, type Candidate } from './placement.js';
import type { HandoffPolicy } from './policies/handoff.js';
import { startFirst } from './policies/handoff-start-first.js';
import { stopFirst } from './policies/handoff-stop-first.js';
import type { SpecEntry, Ver } from './registers.js';
import type { ChildView, Runner } from './view.js';

/** This node's own instance of the child, as its local supervisor has it. */
export interface LocalInstance {
  readonly rev: Ver;
  /** Anything but 'stopped' counts as running here (starting, running, stopping, failing). */
  readonly running: boolean;
}

/** This node's claim to start a child (majority mode): made, and heard of by every present member or not yet. */
export type LocalClaim = 'pending' | 'confirmed' | undefined;

/** What `decide` needs to know of the cluster, as this node sees it. */
export interface ClusterView {
  readonly self: string;
  readonly candidates: readonly Candidate[];
  /** This node may run children (netsplit policy: its lease, in majority mode). */
  readonly mayRun: boolean;
  /** This node may start children now (ready, and in majority mode linked to every present member). */
  readonly mayStart: boolean;
  /** Starts are claimed first (majority mode: see the header). */
  readonly claims: boolean;
  /** Ready members whose start gate is closed (member metadata `startable: false`): a stop-first move to one waits. */
  readonly gated: ReadonlySet<string>;
}

export type Action =
  | { readonly do: 'start'; readonly entry: SpecEntry }
  /** Announce that this node is about to start revision `rev` (majority mode). */
  | { readonly do: 'claim'; readonly rev: Ver }
  /** Withdraw this node's claim. */
  | { readonly do: 'unclaim' }
  | { readonly do: 'stop'; readonly why: string }
  /** Stop ours because `survivor` keeps running; `report`: a resolved duplicate (stop-first), not the end of a planned overlap. */
  | { readonly do: 'stop-duplicate'; readonly survivor: Runner; readonly report: boolean }
  /** A planned move: stop ours so that the owner can start (the executor applies the move rate limit). */
  | { readonly do: 'move'; readonly to: string }
  | { readonly do: 'nothing' };

const NOTHING: Action = { do: 'nothing' };

export function handoffOf(entry: SpecEntry | undefined): HandoffPolicy {
  return entry?.spec.handoff === 'start-first' ? startFirst : stopFirst;
}

export function decide(child: ChildView, local: LocalInstance | undefined, cluster: ClusterView, claim: LocalClaim = undefined): Action {
  const idle: Action = claim ? { do: 'unclaim' } : NOTHING;
  const live = child.live;
  if (!live) return local ? { do: 'stop', why: 'terminated' } : idle;
  if (!cluster.mayRun) return local ? { do: 'stop', why: 'no majority' } : idle;
  if (local && local.rev !== live.rev) return { do: 'stop', why: 'spec replaced' };
  const me = cluster.self;
  const owner = child.owner;
  // Runners on other nodes, counted without a new array (decide runs at every reconcile of every child).
  let others = 0;
  for (let i = 0; i < child.runners.length; i++) if (child.runners[i]!.node !== me) others++;
  const handoff = handoffOf(live);
  if (owner === me) {
    if (local?.running) return idle; // running: a claim has done its job
    if (!cluster.mayStart) return idle;
    if (child.heldFor !== undefined) return idle; // a joining member will own it: it starts there, once
    if (!handoff.ownerMayStart(others)) return idle; // wait for the old instance to stop
    if (!cluster.claims) return { do: 'start', entry: live };
    const rivals = child.claims.filter((c) => c.node !== me && c.rev === live.rev);
    if (!claim) return rivals.length > 0 ? NOTHING : { do: 'claim', rev: live.rev };
    if (
      rivals.length > 0 &&
      !ranksFirst(
        child.id,
        me,
        rivals.map((c) => c.node),
        cluster.candidates,
      )
    )
      return { do: 'unclaim' };
    return claim === 'confirmed' ? { do: 'start', entry: live } : NOTHING;
  }
  if (!local?.running) return local ? { do: 'stop', why: 'not the owner' } : idle;
  // The owner is another node here, so its runner is one of the others.
  const ownerRun = owner === undefined ? undefined : child.runners.find((r) => r.node === owner);
  if (ownerRun) return { do: 'stop-duplicate', survivor: ownerRun, report: handoff.reportsDuplicates };
  if (others > 0) {
    // Several instances and none on the owner (a heal; or no owner at all): the best-ranked runner survives.
    const best = bestRanked(
      child.id,
      child.runners.map((r) => r.node),
      cluster.candidates,
    );
    if (best !== me) return { do: 'stop-duplicate', survivor: child.runners.find((r) => r.node === best)!, report: handoff.reportsDuplicates };
  }
  if (owner === undefined) return NOTHING; // nowhere better to go: keep running
  if (!handoff.stopBeforeOwnerRuns) return NOTHING; // start-first: the owner starts first; we stop once it runs
  if (cluster.gated.has(owner)) return NOTHING; // it could not start it yet: keep it running until it can
  return { do: 'move', to: owner };
}

/** The node ranked first by HRW among `nodes` (ties by name): every node that sees the same set picks the same one. */
function bestRanked(id: string, nodes: readonly string[], candidates: readonly Candidate[]): string {
  const capacity = (n: string) => candidates.find((c) => c.name === n)?.capacity ?? 1;
  return [...nodes].sort((a, b) => hrwScore(id, b, capacity(b)) - hrwScore(id, a, capacity(a)) || (a < b ? -1 : 1))[0]!;
}

function ranksFirst(id: string, me: string, rivals: readonly string[], candidates: readonly Candidate[]): boolean {
  return bestRanked(id, [me, ...rivals], candidates) === me;
}
