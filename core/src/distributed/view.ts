/**
 * The read model of the distributed supervisor: what one child looks like
 * from this node (its register from the replicated store, its live
 * instances and failed starts from pg, where placement puts it), and the
 * public shapes built from that (`GlobalChild`, counts, `Explanation`).
 *
 * Everything here is pure. Views are immutable snapshots: the reconciler
 * keeps the last one per child and derives events from the pair (events.ts),
 * so reading a child never emits anything.
 */
import type { ChildStatus } from '../supervisor/local-supervisor.js';
import type { ChildSpec } from '../supervisor/child-spec.js';
import type { CandidateVerdict } from './placement.js';
import type { ChildRegister, SpecEntry, Ver } from './registers.js';

/**
 * A live instance: its `run:<id>` membership. Usually the very member pg
 * holds (frozen: a view keeps it without a copy; live-state.ts `runners`),
 * so its revision and restarts stay in the member's value: a runner object
 * of its own per child in every node's last views was 56 bytes a child
 * (1.1 MiB at 20,000 children), and garbage at every reconcile.
 */
export interface Runner {
  readonly node: string;
  readonly pid: string;
  readonly value: {
    /** The spec revision it runs. */
    readonly rev: Ver;
    /** Restarts in place of this instance on its node (absent: none). */
    readonly restarts?: number | undefined;
  };
  /** The OS process id, for an OS-process child (its `os:<id>` entry). */
  readonly osPid?: number;
}

/** Restarts in place of this instance on its node. */
export function restartsOf(r: Runner): number {
  return r.value.restarts ?? 0;
}

/** A node about to start a child (majority mode), from its `claim:<id>` membership (decide.ts: claims). */
export interface Claim {
  readonly node: string;
  readonly rev: Ver;
}

/** Failed starts of the live revision on one node, from its `fail:<id>` membership. */
export interface FailureRecord {
  readonly failures: number;
  readonly lastError: string;
}

/** How a child's node was chosen: pinned, by hash, or not placed. */
export type PlacedBy = 'pin' | 'hash' | 'none';

/**
 * Why a child moved: its previous node left, was drained, went down or kept
 * failing to start it (`leave`, `drain`, `failure`); a pin was set or
 * removed (`pin`, `unpin`); several instances met after a heal (`heal`); or
 * its new node gained it: it joined, was undrained, or rebalancing resumed
 * (`join`, `undrain`, `resume`).
 */
export type MoveReason = 'join' | 'leave' | 'pin' | 'unpin' | 'drain' | 'undrain' | 'resume' | 'failure' | 'heal';

/** One child as this node sees it now. */
export interface ChildView {
  readonly id: string;
  readonly register: ChildRegister;
  /** The live spec (smallest rev above the floor), if any. */
  readonly live: SpecEntry | undefined;
  /** Instances on nodes this node can see, of any revision. */
  readonly runners: readonly Runner[];
  /** Claims to start it (majority mode), this node's included. */
  readonly claims: readonly Claim[];
  /** Failed starts of the live revision, by node. */
  readonly failures: ReadonlyMap<string, FailureRecord>;
  /** Where it must run now. */
  readonly owner: string | undefined;
  readonly by: PlacedBy;
  /** Why the owner is what it is (the reason a following move reports). */
  readonly cause: MoveReason;
  /** While rebalancing is paused: where it would run once it resumes (placement.ts `placeChild`). */
  readonly resumeTo?: string;
  /**
   * A member still joining (linked, not ready yet) that would own this
   * child once ready, which no node runs: this node, its owner for now,
   * waits for it instead of starting the child and handing it over
   * (placement.ts `joiningOwner`; the reconciler's header: joining members).
   */
  readonly heldFor?: string;
  /**
   * With no owner now: the member that will own it once the members not
   * ready yet are (this node before its readiness, a member joining): the
   * child is pending, not unplaceable.
   */
  readonly onceReady?: string;
}

/** The cluster-wide status of a child. */
export type GlobalStatus = 'running' | 'pending' | 'moving' | 'duplicate' | 'failing' | 'unplaceable';

/** A cluster-wide child: its spec, where it runs and its global status. */
export interface GlobalChild {
  /** The child's id (unique in the cluster). */
  id: string;
  /** The live spec of the child. */
  spec: ChildSpec;
  /** The revision of the live spec: the version of the start request that wrote it. */
  rev: Ver;
  /** The child's cluster-wide status. */
  status: GlobalStatus;
  /** Where it runs (the first instance, if several). */
  node: string | undefined;
  /** Pid of that instance; `undefined` when none runs. */
  pid: string | undefined;
  /** The OS process id of that instance, for an OS-process child. */
  osPid?: number;
  /** Every live instance (more than one only transiently). */
  instances: Array<{ node: string; pid: string; osPid?: number }>;
  /** Restarts in place of the current instance, on its node. */
  restarts: number;
  /** Where placement says it must run. */
  owner: string | undefined;
  /** The node the child is pinned to; `undefined` when unpinned. */
  pin: string | undefined;
  /** Failed starts of the live revision, by node, with each node's last error. */
  failures: Array<{ node: string; failures: number; lastError: string }>;
  /** The last error of the first node in `failures`; `undefined` when no start failed. */
  lastError: string | undefined;
  /** While rebalancing is paused: where it would run once it resumes. */
  resumeTo?: string;
}

/** A child this node runs, as the distributed supervisor reports it. */
export interface LocalChild {
  /** The child's id. */
  id: string;
  /** This node's name. */
  node: string;
  /** The instance's pid in this node's local supervisor; `undefined` while none runs. */
  pid: string | undefined;
  /** The instance's status in the local supervisor. */
  status: ChildStatus;
  /** Restarts of the instance on this node. */
  restarts: number;
  /** The node the child is pinned to; `undefined` when unpinned. */
  pin: string | undefined;
  /** Why the instance last failed; `undefined` when it has not. */
  lastError: string | undefined;
}

/** How many cluster-wide children are in each global status. */
export interface ChildCountsGlobal {
  /** Children with a live spec (the sum of the status counts below). */
  specs: number;
  /** Children with one instance, on the node placement chose. */
  running: number;
  /** Children with no instance yet, and no failed start. */
  pending: number;
  /** Children whose one instance runs on a node other than the one placement chose (a move in progress). */
  moving: number;
  /** Children with more than one instance (transiently, e.g. after a partition heals). */
  duplicate: number;
  /** Children with no instance whose starts have failed. */
  failing: number;
  /** Children no node is eligible to run (and none failed). */
  unplaceable: number;
  /** Instances this node runs. */
  local: number;
}

/** Why a child runs where it does: the placement verdict for every candidate node. */
export interface Explanation {
  /** The child's id. */
  id: string;
  /** Its live spec. */
  spec: ChildSpec;
  /** The node placement chose; `undefined` when none is eligible. */
  owner: string | undefined;
  /** Whether the pin or the hash chose the owner, or `none`. */
  by: PlacedBy;
  /** The node it is pinned to; `undefined` when unpinned. */
  pin: string | undefined;
  /** Whether rebalancing is paused cluster-wide. */
  paused: boolean;
  /**
   * While paused: where placement would put it (by `by`) once rebalancing resumes. When it differs from
   * `owner`, the child is held where it runs (`owner`) only because of the pause.
   */
  resumeTo?: string;
  /** Its live instances: node, pid, and OS pid for an OS-process child. */
  instances: Array<{ node: string; pid: string; osPid?: number }>;
  /** Every candidate node's verdict, eligible ones first in rendezvous-hash order. */
  candidates: CandidateVerdict[];
  /** What keeps the child from starting or moving now, in words (netsplit leases, readiness, quorum); empty when nothing does. */
  waiting: string[];
}

/**
 * What became of a start (`submitChild`): the child's status, where it runs
 * or the last error of a failed start; `finished` when its spec is gone
 * again (it ended for good on its own, or was stopped).
 */
export interface Submitted {
  /** The child's id. */
  id: string;
  /** Its cluster-wide status, or `finished` when its spec is gone. */
  state: GlobalStatus | 'finished';
  /** Node of the instance of the live revision (else of any instance), or of the last failed start; absent when neither exists. */
  node?: string;
  /** Pid of that instance; absent when none runs. */
  pid?: string;
  /** OS process id of that instance, for an OS-process child. */
  osPid?: number;
  /** The last failed start's error, when no instance runs. */
  lastError?: string;
}

export const EMPTY_REGISTER: ChildRegister = Object.freeze({ specs: Object.freeze([]) as unknown as SpecEntry[] });

/** The status of a child from its view. */
export function statusOf(v: ChildView): GlobalStatus {
  if (v.runners.length > 1) return 'duplicate';
  if (v.runners.length === 1) return v.owner !== undefined && v.runners[0]!.node !== v.owner ? 'moving' : 'running';
  if (v.owner === undefined) return v.failures.size > 0 ? 'failing' : v.onceReady !== undefined ? 'pending' : 'unplaceable';
  for (const f of v.failures.values()) if (f.failures > 0) return 'failing';
  return 'pending';
}

/** The public shape of a child with a live spec. */
export function globalChild(v: ChildView, live: SpecEntry): GlobalChild {
  const failures = [...v.failures].map(([node, f]) => ({ node, failures: f.failures, lastError: f.lastError }));
  const first = v.runners[0];
  return {
    id: v.id,
    spec: live.spec,
    rev: live.rev,
    status: statusOf(v),
    node: first?.node,
    pid: first?.pid,
    ...(first?.osPid !== undefined ? { osPid: first.osPid } : {}),
    instances: v.runners.map(instanceOf),
    restarts: first === undefined ? 0 : restartsOf(first),
    owner: v.owner,
    pin: live.pin?.node ?? undefined,
    failures,
    lastError: failures[0]?.lastError,
    ...(v.resumeTo !== undefined ? { resumeTo: v.resumeTo } : {}),
  };
}

/** A runner as the public shapes list it. */
export function instanceOf(r: Runner): { node: string; pid: string; osPid?: number } {
  return r.osPid === undefined ? { node: r.node, pid: r.pid } : { node: r.node, pid: r.pid, osPid: r.osPid };
}

/** A submitted child's state from its view (the instance of the live revision first; else the last failed start). */
export function submitted(v: ChildView): Submitted {
  const runner = v.runners.find((r) => r.value.rev === v.live?.rev) ?? v.runners[0];
  const failure = [...v.failures].at(-1);
  return {
    id: v.id,
    state: statusOf(v),
    ...(runner ? { node: runner.node, pid: runner.pid } : failure ? { node: failure[0] } : {}),
    ...(runner?.osPid !== undefined ? { osPid: runner.osPid } : {}),
    ...(failure && !runner ? { lastError: failure[1].lastError } : {}),
  };
}

/** Adds one child to counts. */
export function countInto(counts: ChildCountsGlobal, v: ChildView): void {
  if (!v.live) return;
  counts.specs++;
  counts[statusOf(v)]++;
}

export function emptyCounts(local: number): ChildCountsGlobal {
  return { specs: 0, running: 0, pending: 0, moving: 0, duplicate: 0, failing: 0, unplaceable: 0, local };
}
