/**
 * Placement: which member must run a child. A pure function of the spec, the
 * candidate members, the pin, drains and start failures.
 *
 * 1. Filters: a candidate must be an up member (not an observer) that is
 *    ready, not draining, has the worker type (or allows the command), and
 *    carries every label the spec asks for. A node where the child failed to
 *    start `maxStartFailures` times is skipped (fallback to the next node).
 * 2. A pin wins while the pinned node passes the filters.
 * 3. Otherwise weighted rendezvous (HRW) hashing of the child id: each
 *    candidate scores `-capacity / ln(h)`, h = hash(id, node) in (0, 1); the
 *    highest score wins, ties broken by node name. A node joining or leaving
 *    changes the owner only of the ids it wins or held (≈ 1/N), and every
 *    node computes the same answer from the same view.
 */
import { Hash53, hash53 } from '../hash.js';
import { isCommandStart, type ChildSpec } from '../supervisor/child-spec.js';

export { hash53 };

/** A node placement may put a child on, with what it offers. */
export interface Candidate {
  /** The node's name. */
  name: string;
  /** Its role; only members run children. */
  role: 'member' | 'observer';
  /** Whether it is up: linked (and its groups seen), or believed running by the netsplit policy. */
  up: boolean;
  /**
   * Why it is not up, in an operator's words (`explain`): "not up" when not
   * given. The node placing cannot tell a dead member from one it is cut
   * off from, so the words say what it knows (candidates.ts).
   */
  notUp?: string;
  /** Whether it has become ready to take children. */
  ready: boolean;
  /** Whether it is being drained (takes no children). */
  draining: boolean;
  /** Its labels (config `labels`); a spec's labels must all match. */
  labels: Record<string, string>;
  /** The worker types it has registered. */
  workers: readonly string[];
  /** The OS commands it allows children to run (config `allowCommands`, matched exactly). */
  commands: readonly string[];
  /** Its placement weight relative to other nodes (config `capacity`, default 1). */
  capacity: number;
}

export interface PlacementInput {
  id: string;
  spec: ChildSpec;
  candidates: readonly Candidate[];
  pin: string | null | undefined;
  /** node → failed starts of this child there. */
  failures: ReadonlyMap<string, number>;
  maxStartFailures: number;
}

/** How placement judged one candidate node for a child (eligible or why not, and its score). */
export interface CandidateVerdict {
  /** The candidate's name. */
  node: string;
  /** Why the node cannot run the child; empty when eligible. */
  excludedBy: string[];
  /** The candidate's rendezvous-hash score (higher wins); `undefined` when it is excluded. */
  score: number | undefined;
}

/** The outcome of placing one child: the chosen node (if any) and every candidate's verdict. */
export interface Placement {
  /** The node that must run the child; `undefined` when no node is eligible. */
  owner: string | undefined;
  /** 'pin' when the pin decided, 'hash' when HRW did, 'none' when no node is eligible. */
  by: 'pin' | 'hash' | 'none';
  /** Every candidate, eligible ones first in HRW order. */
  verdicts: CandidateVerdict[];
}

/** Weighted rendezvous score of `node` for `id`. */
export function hrwScore(id: string, node: string, capacity: number): number {
  return scoreOf(hash53(`${id}\u0000${node}`), capacity);
}

/** The id's part of every candidate's hash (`id NUL`): the same scores as `hrwScore`, the id hashed once. */
export function hrwPrefix(id: string): Hash53 {
  return new Hash53().add(id).add('\u0000');
}

/** `hrwScore(id, node, capacity)` from `hrwPrefix(id)`. */
export function hrwScoreFrom(prefix: Hash53, node: string, capacity: number): number {
  return scoreOf(prefix.finish(node), capacity);
}

function scoreOf(hash: number, capacity: number): number {
  return -capacity / Math.log((hash + 0.5) / 2 ** 53);
}

export function exclusions(c: Candidate, spec: ChildSpec, failures: number, maxStartFailures: number): string[] {
  const out: string[] = [];
  if (c.role !== 'member') out.push('observer');
  if (!c.up) out.push(c.notUp ?? 'not up');
  else if (!c.ready) out.push('not ready');
  if (c.draining) out.push('draining');
  if (isCommandStart(spec.start)) {
    if (!c.commands.includes(spec.start.command)) out.push(`command ${spec.start.command} not allowed`);
  } else if (!c.workers.includes(spec.start.worker)) {
    out.push(`no worker type ${spec.start.worker}`);
  }
  for (const [key, value] of Object.entries(spec.labels)) {
    if (c.labels[key] !== value) out.push(`label ${key}=${value} missing`);
  }
  if (failures >= maxStartFailures) out.push(`failed to start ${failures} times`);
  return out;
}

/**
 * `exclusions(...).length > 0` without the reasons: the hot path (every
 * candidate of every child placed) allocates nothing. placement.test.ts
 * holds the two equal.
 */
export function isExcluded(c: Candidate, spec: ChildSpec, failures: number, maxStartFailures: number): boolean {
  if (c.role !== 'member' || !c.up || !c.ready || c.draining || failures >= maxStartFailures) return true;
  const start = spec.start;
  if (isCommandStart(start) ? !c.commands.includes(start.command) : !c.workers.includes(start.worker)) return true;
  const labels = spec.labels;
  for (const key in labels) if (Object.hasOwn(labels, key) && c.labels[key] !== labels[key]) return true;
  return false;
}

export function place(input: PlacementInput): Placement {
  const verdicts: CandidateVerdict[] = input.candidates.map((c) => {
    const excludedBy = exclusions(c, input.spec, input.failures.get(c.name) ?? 0, input.maxStartFailures);
    return { node: c.name, excludedBy, score: excludedBy.length === 0 ? hrwScore(input.id, c.name, c.capacity) : undefined };
  });
  verdicts.sort((a, b) => {
    if (a.score !== undefined && b.score !== undefined) return b.score - a.score || (a.node < b.node ? -1 : 1);
    if (a.score !== undefined) return -1;
    if (b.score !== undefined) return 1;
    return a.node < b.node ? -1 : 1;
  });
  if (input.pin) {
    const pinned = verdicts.find((v) => v.node === input.pin);
    if (pinned && pinned.score !== undefined) return { owner: pinned.node, by: 'pin', verdicts };
  }
  const best = verdicts[0];
  if (best && best.score !== undefined) return { owner: best.node, by: 'hash', verdicts };
  return { owner: undefined, by: 'none', verdicts };
}

/**
 * Whether any candidate may run the child (no start failures counted):
 * `place(...).owner !== undefined` for an empty failure map, without the
 * verdicts, scores or their sort — the check every `startChild` makes
 * before it records a spec. placement.test.ts holds the two equal.
 */
export function anyEligible(spec: ChildSpec, candidates: readonly Candidate[], maxStartFailures: number): boolean {
  for (const c of candidates) if (!isExcluded(c, spec, 0, maxStartFailures)) return true;
  return false;
}

/** Fast path for the hot loop: owner only, no verdict list. Same answer as `place`. */
export function owner(input: PlacementInput): string | undefined {
  let bestNode: string | undefined;
  let bestScore = -Infinity;
  let pinOk = false;
  let prefix: Hash53 | undefined;
  const failures = input.failures;
  for (const c of input.candidates) {
    if (isExcluded(c, input.spec, failures.size === 0 ? 0 : (failures.get(c.name) ?? 0), input.maxStartFailures)) continue;
    if (input.pin && c.name === input.pin) pinOk = true;
    const score = hrwScoreFrom((prefix ??= hrwPrefix(input.id)), c.name, c.capacity);
    if (score > bestScore || (score === bestScore && bestNode !== undefined && c.name < bestNode)) {
      bestScore = score;
      bestNode = c.name;
    }
  }
  return pinOk ? input.pin! : bestNode;
}

/**
 * Whether candidates joining (`gained`, every other input as before) can
 * change the owner `owner` chose for `id` (`current`: that owner's
 * candidate, or undefined when none was eligible). Under HRW a newcomer
 * takes an id only if it outscores the owner (or it is the pin); everyone
 * else's scores stay. Start failures are not read: a newcomer they would
 * exclude counts as eligible, so the answer may be a needless true, never a
 * wrong false. Pure; the pause rule is not covered (the caller sweeps every
 * id while paused).
 */
export function gainMayMove(
  input: { id: string; spec: ChildSpec; pin: string | null | undefined; current: Candidate | undefined },
  gained: readonly Candidate[],
): boolean {
  const { id, spec, pin, current } = input;
  const pinHolds = current !== undefined && pin !== null && pin !== undefined && pin === current.name;
  let currentScore: number | undefined;
  let prefix: Hash53 | undefined;
  for (const g of gained) {
    if (isExcluded(g, spec, 0, Infinity)) continue;
    if (current === undefined || g.name === pin) return true;
    if (pinHolds) continue;
    prefix ??= hrwPrefix(id);
    currentScore ??= hrwScoreFrom(prefix, current.name, current.capacity);
    const score = hrwScoreFrom(prefix, g.name, g.capacity);
    if (score > currentScore || (score === currentScore && g.name < current.name)) return true;
  }
  return false;
}

/**
 * The member among `joining` that would own the child were those members
 * ready, or undefined when the owner would be one of the candidates
 * already placeable. `joining`: members linked but not ready yet, as
 * candidates (their entries in `input.candidates` are replaced by them, and
 * those not listed there are added). Start failures and the pin count as
 * in `owner`: a child pinned to a joining member is its.
 */
export function joiningOwner(input: PlacementInput, joining: readonly Candidate[]): string | undefined {
  if (joining.length === 0) return undefined;
  const byName = new Map(joining.map((c) => [c.name, c]));
  const candidates = input.candidates.map((c) => byName.get(c.name) ?? c);
  for (const c of joining) if (!input.candidates.some((x) => x.name === c.name)) candidates.push(c);
  const found = owner({ ...input, candidates });
  return found !== undefined && byName.has(found) ? found : undefined;
}

/**
 * Where a child must run now: `owner`, then the pause rule — while
 * rebalancing is paused, a child that runs once, on a node that could still
 * run it, stays there (a pin or a drain still moves it: they are not
 * rebalancing). While paused, `resumeTo` is where it would run once
 * rebalancing resumes: the same placement without the pause rule, which is
 * `owner` itself unless the pause rule kept the child where it runs.
 */
export function placeChild(
  input: PlacementInput,
  runners: ReadonlyArray<{ node: string }>,
  paused: boolean,
): { owner: string | undefined; by: 'pin' | 'hash' | 'none'; resumeTo?: string } {
  const unpaused = owner(input);
  let found = unpaused;
  const by: 'pin' | 'hash' | 'none' = found === undefined ? 'none' : input.pin !== undefined && input.pin !== null && found === input.pin ? 'pin' : 'hash';
  if (paused && found !== undefined && by === 'hash' && runners.length === 1) {
    const runner = runners[0]!.node;
    const c = input.candidates.find((x) => x.name === runner);
    if (c && !isExcluded(c, input.spec, input.failures.get(runner) ?? 0, input.maxStartFailures)) found = runner;
  }
  return paused && unpaused !== undefined ? { owner: found, by, resumeTo: unpaused } : { owner: found, by };
}
