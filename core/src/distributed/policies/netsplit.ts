/**
 * Netsplit policies: what a node does about members it cannot hear. One
 * policy per file behind this interface (as ProcessHub keeps its partition
 * tolerance strategies), chosen by `--netsplit`:
 *
 * - available (netsplit-available.ts, the default, as Pogo): a member that is
 *   not linked is absent at once; each side of a split runs what it cannot
 *   see, and duplicates are stopped after the heal.
 * - majority (netsplit-majority.ts): a lease. A node runs children only while
 *   a majority of the expected members has recently confirmed hearing it; a
 *   member that a node cannot hear stays present (its children stay put)
 *   until enough members agree they cannot hear it either and its lease must
 *   have run out and its children stopped, by its own clock.
 *
 * Policies are pure functions of a `NetsplitInputs` snapshot that the
 * reconciler builds from membership and links; time is an input.
 */

/** What this node knows about one other member (observers are not listed). */
export interface MemberReach {
  readonly name: string;
  readonly incarnation: string;
  /** linked: a link is up (heard recently or suspect); down: no link; left: it announced its leave (its children are stopped). */
  readonly state: 'linked' | 'down' | 'left';
  /** When this node last heard from this incarnation (its clock); undefined if never. */
  readonly lastHeardAt: number | undefined;
  /** The send time (this node's clock) of the newest ping of ours it echoed back: it heard us then. */
  readonly confirmedAt: number | undefined;
  /** Its advertised lease: it runs children only this long after its last confirmation by a majority... */
  readonly leaseMs: number;
  /** ...and then gives them this long to stop before killing them. */
  readonly stopMs: number;
  /** Linked members that report they cannot hear it, and since when (this node's clock, conservative: never earlier than true). */
  readonly unheardBy: ReadonlyArray<{ readonly reporter: string; readonly since: number }>;
  /** Down because it closed the link itself, on purpose, at this time (this node's clock): it was alive then. */
  readonly closedByPeerAt?: number | undefined;
}

export interface NetsplitInputs {
  readonly now: number;
  readonly self: { readonly name: string; readonly startedAt: number; readonly leaseMs: number };
  /** Every other member known (by name, current incarnation). */
  readonly members: readonly MemberReach[];
}

export interface Presence {
  /** Counts for placement: it may run children (linked, or unreachable but possibly still running). */
  readonly present: boolean;
  /** Why, for `explain` (empty when simply linked). */
  readonly why: string;
}

export interface NetsplitPolicy {
  readonly mode: 'available' | 'majority';
  /** Whether this node may run children now; false: stop them all, start nothing. */
  mayRun(inputs: NetsplitInputs): boolean;
  /** Whether `member` counts for placement now. */
  presence(inputs: NetsplitInputs, member: MemberReach): Presence;
  /** The next moment an answer above may change by time alone (a lease running out), if any. */
  nextChangeAt(inputs: NetsplitInputs): number | undefined;
  /** This node's own state, in words (`explain`, logs). */
  describeSelf(inputs: NetsplitInputs): string;
}
