/**
 * Netsplit settings that differ between members: what to tell an operator.
 *
 * Each member announces its `--netsplit` mode, and in majority mode its
 * `--expected-members`, in its member metadata (`netsplit`, since protocol
 * 2.5). Nothing makes the members agree, and nodes whose settings differ
 * link as any others do; but the promise of majority mode holds only if
 * every member keeps it:
 * - an `available` member runs, during a split, the children it cannot see
 *   running — next to the majority side that runs them too;
 * - two `majority` members with different expected members count different
 *   quorums (2 of 3 and 3 of 5): both sides of a split may think they hold
 *   a majority and run the same child.
 * So a node warns once per peer incarnation whose settings differ from its
 * own (node.ts), and `pogo ctl status` lists the members whose settings
 * differ from the others' (cli/ctl.ts). A member of an earlier release
 * announces nothing: nothing is said about it, as nothing is known.
 *
 * Pure functions only (no imports): `pogo ctl` loads this module too.
 */

/** A member's netsplit settings as announced: the mode, and in majority mode the expected members. */
export interface NetsplitSettings {
  /** `available`: each side of a split runs what it cannot see; `majority`: only a side with more than half of the expected members runs children. */
  mode: 'available' | 'majority';
  /** Majority mode only: the members the cluster should have (the quorum is more than half of them). */
  expectedMembers?: number;
}

/** The settings a node announces for its configuration (expected members only count in majority mode). */
export function announcedNetsplit(mode: 'available' | 'majority', expectedMembers: number | undefined): NetsplitSettings {
  return mode === 'majority' && expectedMembers !== undefined ? { mode, expectedMembers } : { mode };
}

/** Whether two members' settings keep the same promise: the same mode, and in majority mode the same expected members. */
export function sameNetsplit(a: NetsplitSettings, b: NetsplitSettings): boolean {
  return a.mode === b.mode && (a.mode === 'available' || a.expectedMembers === b.expectedMembers);
}

/** `available`, or `majority (expected 3)`. */
export function netsplitText(s: NetsplitSettings): string {
  return s.mode === 'majority' ? `majority (expected ${s.expectedMembers ?? '?'})` : 'available';
}

/**
 * The sentence for members `odd` whose settings differ from those of
 * `others`: who runs what, what goes wrong during a split, what to do.
 */
export function netsplitDifference(
  odd: { names: readonly string[]; settings: NetsplitSettings },
  others: { names: readonly string[]; settings: NetsplitSettings },
): string {
  const who = (names: readonly string[]): string => names.join(', ');
  const runs = (names: readonly string[]): string => (names.length === 1 ? 'runs' : 'run');
  const o = odd.settings;
  const r = others.settings;
  const oddFlag = o.mode === 'majority' ? `--netsplit majority --expected-members ${o.expectedMembers ?? '?'}` : '--netsplit available';
  const head = `${who(odd.names)} ${runs(odd.names)} ${oddFlag} while ${who(others.names)} ${runs(others.names)} ${netsplitText(r)}`;
  let harm: string;
  if (o.mode === 'available') harm = `during a split ${who(odd.names)} ${runs(odd.names)} children the others cannot see`;
  else if (r.mode === 'available')
    harm =
      `during a split ${who(others.names)} ${runs(others.names)} children ${who(odd.names)} cannot see, ` +
      'so majority mode keeps no child from running twice';
  else harm = `they count different quorums, so both sides of a split may think they hold a majority and run the same child`;
  return `${head}: ${harm}; give every member the same --netsplit and --expected-members`;
}

/**
 * What `pogo ctl status` warns of: the members (those that announce their
 * settings) grouped by settings; with more than one group, one sentence per
 * group that differs from the largest (ties: the group of the first name).
 * Members that announce nothing are left out.
 */
export function netsplitWarnings(members: ReadonlyArray<{ name: string; netsplit?: NetsplitSettings | undefined }>): string[] {
  const groups: Array<{ names: string[]; settings: NetsplitSettings }> = [];
  for (const m of [...members].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (m.netsplit === undefined) continue;
    const settings = m.netsplit;
    const group = groups.find((g) => sameNetsplit(g.settings, settings));
    if (group) group.names.push(m.name);
    else groups.push({ names: [m.name], settings });
  }
  if (groups.length < 2) return [];
  let reference = groups[0]!;
  for (const g of groups) if (g.names.length > reference.names.length) reference = g;
  return groups.filter((g) => g !== reference).map((g) => netsplitDifference(g, reference));
}
