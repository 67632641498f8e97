/**
 * What a node column says it holds: its cards ("7 children", or "0 of 5
 * children shown" with a search or a status filter on), and the instances
 * it runs of children whose cards are in other columns (board-index.ts
 * `copies`). A card sits in the column of its child's first instance, so a
 * member cut off from the others in netsplit mode `available`, which runs a
 * copy of every child of the members it lost, said "0 children" while it
 * ran them all (an outsider's tour). Its column now says how many run
 * there in all, and where the cards of those children are. They are
 * "duplicates", not "copies": which instance is the extra one is not the
 * column's to say (the cut-off member's own children run there as the
 * originals, and their card may be in the column of the member that
 * restarted them):
 * "12 running: 0 children + 12 duplicates of children shown on n1 (7), n2 (5)".
 * Pure, so it is tested without a board.
 */

const children = (n: number): string => (n === 1 ? 'child' : 'children');

/**
 * The column's count line. `shown`: its cards after the search and the
 * status filter; `all`: its cards before them; `copies`: column → how many
 * children whose card is in that column run an instance on this node too
 * ('' is the "Not running" column, never one here in practice).
 */
export function columnCountText(shown: number, all: number, copies: ReadonlyMap<string, number> | undefined): string {
  const cards = shown === all ? `${all} ${children(all)}` : `${shown} of ${all} ${children(all)} shown`;
  const elsewhere = [...(copies ?? [])].filter(([, n]) => n > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const n = copyCount(copies);
  if (n === 0) return cards;
  const where = elsewhere.map(([column, k]) => `${column === '' ? 'Not running' : column} (${k})`).join(', ');
  return `${all + n} running: ${cards} + ${n} ${n === 1 ? 'duplicate' : 'duplicates'} of ${children(n)} shown on ${where}`;
}

/** How many children run an instance on the node whose card is in another column. */
export function copyCount(copies: ReadonlyMap<string, number> | undefined): number {
  let n = 0;
  for (const k of copies?.values() ?? []) n += k;
  return n;
}
