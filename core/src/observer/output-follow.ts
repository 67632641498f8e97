/**
 * Live output: while a UI session watches an OS-process child's output,
 * the gateway reads it from the node the child runs on and pushes what is
 * new to that session (ui-protocol.ts `watchOutput`, `output`).
 *
 * Why the gateway polls: a member keeps each OS child's stdout and stderr
 * in a bounded ring (supervisor/log-ring.ts; lines numbered by `seq`, on
 * that node) and answers `logs { id, after }` with the lines after a
 * cursor. The gateway asks with its cursor every `pollMs` (500 ms) while —
 * and only while — someone watches: no new member protocol, nothing done
 * on any member for a child nobody looks at, and the cost is bounded by the
 * watches (at most MAX_WATCHES_PER_SESSION per session, and the gateway
 * bounds its sessions). One poll at a time per watch: the next is timed
 * from the answer, after a failure from `retryMs` (2 s). A watch ends on
 * `unwatchOutput`, when its session goes, or when the child leaves the
 * cluster.
 *
 * Following the child (`followStep`, pure): each poll first looks at where
 * the observer sees the child now (node, pid, restarts in place).
 *   - same node, same pid: read after the cursor;
 *   - another node: a new process with a ring of its own — read it from
 *     the start (`moved`);
 *   - same node, new pid, more restarts: restarted in place; the ring is
 *     the same child record's, so its numbering goes on (`restarted`);
 *   - same node, new pid, no more restarts: a new child record there (it
 *     left and came back), a new ring — from the start (`replaced`);
 *   - running nowhere: nothing to read until it runs again (`not-running`);
 *   - not in the cluster any more: the watch ends (`gone`).
 * The cursor moves only with an answer, so a failed poll is asked again.
 *
 * Races: the observer's view of the child may lag the cluster by a moment.
 * A poll sent to the node the child just left answers `not-found` and is
 * retried (status `unavailable` until the view catches up); a restart the
 * view has not seen yet is harmless (the ring is the same). Lines of the
 * old instance still unread when a restart is noticed arrive after the
 * `restarted` mark. The ring answers at most 500 lines a poll, the newest:
 * a child that writes faster loses lines, counted in `skipped`.
 *
 * Every session's watch polls with that session's own credential and
 * name, so a watch can read no more than the session's `logs` could. A
 * member refusing the credential ends the watch (`refused`): it would
 * refuse every later poll too, and audit each refusal.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { accessRefusal } from './command-router.js';
import type { SessionData } from './server.js';
import type { ChildView } from './state.js';
import {
  parseWatchOutput,
  type CommandFailure,
  type OutputEvent,
  type OutputLinesEvent,
  type OutputStatusEvent,
  type UiResults,
  type WatchAck,
} from './ui-protocol.js';

export const MAX_WATCHES_PER_SESSION = 4;
/** A member's answers that end a watch: the credential will not do. */
const REFUSALS: ReadonlySet<string> = new Set(['unauthorized', 'forbidden', 'commands-disabled']);
const POLL_MS = 500;
const RETRY_MS = 2_000;

/** Where a watch has read up to: the instance it read last and the last line `seq` it got from that node's ring. */
export interface FollowCursor {
  node: string;
  pid: string;
  restarts: number;
  after: number;
}

export type FollowStep =
  { kind: 'gone' } | { kind: 'not-running' } | { kind: 'read'; node: string; pid: string; restarts: number; after: number; change: OutputLinesEvent['change'] };

/** What the next poll does, from the cursor (none before the first read) and the child as the observer sees it now. See the header. */
export function followStep(cursor: FollowCursor | undefined, child: Pick<ChildView, 'node' | 'pid' | 'restarts'> | undefined): FollowStep {
  if (!child) return { kind: 'gone' };
  if (child.node === null || child.pid === null) return { kind: 'not-running' };
  const at = { node: child.node, pid: child.pid, restarts: child.restarts };
  if (!cursor) return { kind: 'read', ...at, after: 0, change: 'watch' };
  if (cursor.node !== child.node) return { kind: 'read', ...at, after: 0, change: 'moved' };
  if (cursor.pid === child.pid) return { kind: 'read', ...at, after: cursor.after, change: 'none' };
  if (child.restarts > cursor.restarts) return { kind: 'read', ...at, after: cursor.after, change: 'restarted' };
  return { kind: 'read', ...at, after: 0, change: 'replaced' };
}

/** Lines lost between the cursor and the first line read (0 when reading from the start, where older lines are history, not a loss). */
export function skippedLines(after: number, firstSeq: number | undefined): number {
  return after > 0 && firstSeq !== undefined && firstSeq > after + 1 ? firstSeq - after - 1 : 0;
}

export interface OutputFollowersOptions {
  clock: Clock;
  /** The child as the observer sees it now. */
  child(id: string): ChildView | undefined;
  /** Asks `node` for the output of `id` after `after`, with the session's credential. */
  read(
    node: string,
    id: string,
    after: number,
    session: SessionData,
  ): Promise<{ ok: true; result: UiResults['logs']['lines'] } | { ok: false; error: CommandFailure }>;
  /** Sends an event to one session. */
  send(session: string, event: OutputEvent): void;
  pollMs?: number;
  retryMs?: number;
}

interface Watch {
  session: string;
  data: SessionData;
  id: string;
  cursor: FollowCursor | undefined;
  /** The last status sent (not repeated while it holds). */
  status: string | undefined;
  timer: TimerHandle | undefined;
  closed: boolean;
}

export class OutputFollowers {
  /** session → child id → watch */
  private readonly watches = new Map<string, Map<string, Watch>>();

  constructor(private readonly o: OutputFollowersOptions) {}

  /** Watches running now (for tests and limits). */
  get size(): number {
    let n = 0;
    for (const m of this.watches.values()) n += m.size;
    return n;
  }

  /** A session's `watchOutput`: checked, then the first poll at once. Never throws. */
  watch(session: string, data: SessionData, raw: unknown): WatchAck {
    const request = parseWatchOutput(raw);
    if (!request.ok) return { ok: false, error: { code: 'bad-request', message: request.message } };
    const refusal = accessRefusal('logs', data.access);
    if (refusal) return { ok: false, error: { code: 'read-only', message: refusal.replace(/^logs /, 'live output ') } };
    const { id } = request.value;
    const mine = this.watches.get(session) ?? new Map<string, Watch>();
    // Again for the same id: start afresh (a client that reconnected and asks again).
    this.end(mine.get(id));
    mine.delete(id);
    if (mine.size >= MAX_WATCHES_PER_SESSION)
      return { ok: false, error: { code: 'bad-request', message: `a session may watch the output of at most ${MAX_WATCHES_PER_SESSION} children at once` } };
    const watch: Watch = { session, data, id, cursor: undefined, status: undefined, timer: undefined, closed: false };
    mine.set(id, watch);
    this.watches.set(session, mine);
    this.schedule(watch, 0);
    return { ok: true };
  }

  /** A session's `unwatchOutput`. */
  unwatch(session: string, raw: unknown): void {
    const request = parseWatchOutput(raw);
    if (!request.ok) return;
    const mine = this.watches.get(session);
    this.end(mine?.get(request.value.id));
    mine?.delete(request.value.id);
    if (mine?.size === 0) this.watches.delete(session);
  }

  /** The session went: every watch of it ends. */
  drop(session: string): void {
    for (const watch of this.watches.get(session)?.values() ?? []) this.end(watch);
    this.watches.delete(session);
  }

  close(): void {
    for (const session of [...this.watches.keys()]) this.drop(session);
  }

  private end(watch: Watch | undefined): void {
    if (!watch) return;
    watch.closed = true;
    this.o.clock.clearTimeout(watch.timer);
  }

  private schedule(watch: Watch, ms: number): void {
    if (watch.closed) return;
    watch.timer = this.o.clock.setTimeout(() => void this.poll(watch), ms);
  }

  private status(watch: Watch, state: OutputStatusEvent['state'], message: string): void {
    const key = `${state}:${message}`;
    if (watch.status === key) return;
    watch.status = key;
    this.o.send(watch.session, { id: watch.id, kind: 'status', state, message });
  }

  private async poll(watch: Watch): Promise<void> {
    if (watch.closed) return;
    const step = followStep(watch.cursor, this.o.child(watch.id));
    if (step.kind === 'gone') {
      this.status(watch, 'gone', `${watch.id} is no longer in the cluster`);
      this.unwatch(watch.session, { id: watch.id });
      return;
    }
    if (step.kind === 'not-running') {
      this.status(watch, 'not-running', `${watch.id} runs on no node right now; its output follows when it runs again`);
      this.schedule(watch, this.o.pollMs ?? POLL_MS);
      return;
    }
    let reply: Awaited<ReturnType<OutputFollowersOptions['read']>>;
    try {
      reply = await this.o.read(step.node, watch.id, step.after, watch.data);
    } catch (err) {
      reply = { ok: false, error: { code: 'failed', message: err instanceof Error ? err.message : String(err) } };
    }
    if (watch.closed) return;
    if (!reply.ok && REFUSALS.has(reply.error.code)) {
      this.status(watch, 'refused', `${step.node}: ${reply.error.code}: ${reply.error.message}`);
      this.unwatch(watch.session, { id: watch.id });
      return;
    }
    if (!reply.ok) {
      this.status(watch, 'unavailable', `${step.node}: ${reply.error.code}: ${reply.error.message}`);
      this.schedule(watch, this.o.retryMs ?? RETRY_MS);
      return;
    }
    const lines = reply.result;
    const last = lines.at(-1)?.seq ?? step.after;
    watch.cursor = { node: step.node, pid: step.pid, restarts: step.restarts, after: Math.max(step.after, last) };
    if (lines.length > 0 || step.change !== 'none' || watch.status !== undefined) {
      watch.status = undefined;
      this.o.send(watch.session, {
        id: watch.id,
        kind: 'lines',
        node: step.node,
        pid: step.pid,
        change: step.change,
        lines,
        skipped: skippedLines(step.after, lines[0]?.seq),
      });
    }
    this.schedule(watch, this.o.pollMs ?? POLL_MS);
  }
}
