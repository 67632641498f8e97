/**
 * The Output panel's content (ChildOutput.tsx), built from the gateway's
 * output events (pogo-core/ui-protocol OutputEvent) by one pure function,
 * `applyOutputEvent`, tested without rendering.
 *
 * The panel holds output lines and notes between them: where the child
 * moved or was restarted (lines before a note are the old process's, after
 * it the new one's) and how many lines were lost. Every entry has a key
 * unique in the panel (line numbers start again with each new process).
 * At most `limit` entries are kept, the newest.
 *
 * Merging: lines come numbered (`seq`) by the ring of the node they were
 * read from. A chunk of the same process, or of the same ring after a
 * restart in place, adds only the lines numbered above the newest one held
 * (a chunk sent again adds nothing); a chunk of a new process (`moved`,
 * `replaced`) adds all of its lines after a note. A `watch` chunk starts
 * the panel; arriving again after a reconnect, it is merged like the
 * change it amounts to (same process: nothing new but the new lines).
 */
import type { OutputEvent, OutputLinesEvent, OutputStatusEvent } from 'pogo-core/ui-protocol';

export type OutputEntry =
  { kind: 'line'; key: number; seq: number; at: number; stream: 'stdout' | 'stderr'; text: string } | { kind: 'note'; key: number; text: string };

export interface OutputPanel {
  entries: OutputEntry[];
  /** The node and instance the last lines came from (null before the first chunk). */
  node: string | null;
  pid: string | null;
  /** The newest line number held from that node's ring. */
  lastSeq: number;
  /** Why no lines come now, when the gateway said so; cleared by the next lines. */
  status: { state: OutputStatusEvent['state']; message: string } | null;
  nextKey: number;
}

export const OUTPUT_LIMIT = 500;

export function emptyPanel(): OutputPanel {
  return { entries: [], node: null, pid: null, lastSeq: 0, status: null, nextKey: 1 };
}

/** The part of a pid after the node and incarnation, which is what tells instances apart on screen. */
export function shortPid(pid: string): string {
  return pid.split('/').at(-1) ?? pid;
}

type Change = 'fresh' | Exclude<OutputLinesEvent['change'], 'watch'>;

/** What a `watch` chunk amounts to for a panel that already shows something. */
function changeOf(panel: OutputPanel, e: OutputLinesEvent): Change {
  if (e.change !== 'watch') return e.change;
  if (panel.node === null) return 'fresh';
  if (panel.node !== e.node) return 'moved';
  if (panel.pid === e.pid) return 'none';
  // Same node, another process: its ring went on (a restart in place) if it holds lines past ours or none at all.
  return e.lines.length === 0 || e.lines.at(-1)!.seq > panel.lastSeq ? 'restarted' : 'replaced';
}

function noteFor(change: Change, e: OutputLinesEvent): string | undefined {
  const pid = shortPid(e.pid);
  switch (change) {
    case 'moved':
      return `now on ${e.node}: a new process (${pid}); its output starts here`;
    case 'replaced':
      return `started again on ${e.node}: a new process (${pid}); its output starts here`;
    case 'restarted':
      return `restarted in place on ${e.node} (${pid})`;
    default:
      return undefined;
  }
}

export function applyOutputEvent(panel: OutputPanel, e: OutputEvent, limit = OUTPUT_LIMIT): OutputPanel {
  if (e.kind === 'status') return { ...panel, status: { state: e.state, message: e.message } };
  const change = changeOf(panel, e);
  const continues = change === 'none' || change === 'restarted';
  const fresh = change === 'fresh';
  let key = panel.nextKey;
  const added: OutputEntry[] = [];
  const note = noteFor(change, e);
  if (note !== undefined) added.push({ kind: 'note', key: key++, text: note });
  if (e.skipped > 0)
    added.push({
      kind: 'note',
      key: key++,
      text: `${e.skipped.toLocaleString('en-US')} line${e.skipped === 1 ? '' : 's'} not shown: the child wrote faster than they were read`,
    });
  const lines = continues ? e.lines.filter((l) => l.seq > panel.lastSeq) : e.lines;
  for (const l of lines) added.push({ kind: 'line', key: key++, seq: l.seq, at: l.at, stream: l.stream, text: l.text });
  const entries = fresh ? added : added.length > 0 ? [...panel.entries, ...added] : panel.entries;
  const lastSeq = continues ? Math.max(panel.lastSeq, lines.at(-1)?.seq ?? 0) : (e.lines.at(-1)?.seq ?? 0);
  return { entries: entries.length > limit ? entries.slice(-limit) : entries, node: e.node, pid: e.pid, lastSeq, status: null, nextKey: key };
}

/** Lines in the panel (not notes). */
export function lineCount(panel: OutputPanel): number {
  let n = 0;
  for (const e of panel.entries) if (e.kind === 'line') n++;
  return n;
}

/** True when a scrolled box shows its bottom (within `slack` px): the log then follows new lines. */
export function isNearBottom(scrollTop: number, scrollHeight: number, clientHeight: number, slack = 8): boolean {
  return scrollHeight - scrollTop - clientHeight <= slack;
}
