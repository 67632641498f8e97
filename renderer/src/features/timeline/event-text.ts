/**
 * The renderer's one event formatter: what a cluster event says, for the
 * timeline, a child's history and a node's history alike.
 *
 * `describeEvent` gives the sentence as parts (text, and the child and
 * nodes it names, which views render as links); `eventText` the same as
 * plain text; `subjectsOf` the child and nodes an event is about (for
 * filters and selection). Events are typed down to each field (state.ts
 * ClusterEvent), so nothing here re-reads a field or casts one; a new event
 * type fails to compile until it is described here.
 *
 * A burst of per-child events (the gateway's `activity`, state.ts
 * ActivityView) has its own sentence, `describeActivity`: a burst of one is
 * its event's sentence; a larger one says how many, of what kind, where
 * ("983 moved from s4 to 4 nodes (node down or failing)", "1,000 started
 * on 3 nodes", "12 failed on n2"). `activitySubjects` names the nodes a
 * burst concerns (those in `nodes`, and a move's source).
 */
import type { MoveReason } from 'pogo-core';
import type { ActivityView, ClusterEvent, StoppedEvent } from 'pogo-core/observer-state';
import { changeNamesNode, changeWord } from '../../shared/change-words';
import { formatCount, formatDuration } from '../../shared/format';

/** A piece of an event's sentence: text, or a child / node to link. */
export type Part = string | { child: string } | { node: string };

/** Why a child moved, in words. */
export const MOVE_REASONS: Record<MoveReason, string> = {
  join: 'node joined',
  leave: 'node left',
  pin: 'pinned',
  unpin: 'unpinned',
  drain: 'node draining',
  undrain: 'node undrained',
  resume: 'rebalancing resumed',
  failure: 'node down or failing',
  heal: 'duplicate healed',
};

/** The child id and node names an event is about. */
export function subjectsOf(e: ClusterEvent): { child: string | null; nodes: string[] } {
  switch (e.type) {
    case 'placed':
      return { child: e.id, nodes: e.node !== undefined ? [e.node] : [] };
    case 'started':
    case 'stopped':
    case 'failed':
      return { child: e.id, nodes: [e.node] };
    case 'moved':
      return { child: e.id, nodes: [...new Set([e.from, e.to])] };
    case 'duplicate-resolved':
      return { child: e.id, nodes: [...new Set([e.survivor.node, ...e.stopped.map((s) => s.node)])] };
    case 'node-up':
    case 'node-down':
    case 'converged':
      return { child: null, nodes: [e.node] };
    case 'drain':
      return { child: null, nodes: [...new Set([e.node, e.by])] };
    case 'rebalancing':
      return { child: null, nodes: [e.by] };
  }
}

/** Who stopped a child for good: an operator's stop through this gateway names the user; else a stop command or the child's own end. */
/**
 * Why a stop is told as "lost from sight" (state.ts StopNote `unseen`): the
 * instance went with a member that went silent, so whether it stopped is
 * not known here. "6 stopped on demo-3" of a frozen member's instances,
 * which ran on, was the README's own kill -STOP tour.
 */
const UNSEEN_WHY = ' (its node went silent: stopped if it died, still running if it is frozen or cut off)';

function stoppedBy(e: StoppedEvent): string {
  return e.by !== undefined ? ` by ${e.by || 'an operator'} (stop command)` : ' (stopped by a command, or ended and not restarted)';
}

/** The event as a sentence: "ticker-1 moved demo-1 → demo-2 (node left)". */
export function describeEvent(e: ClusterEvent): Part[] {
  switch (e.type) {
    case 'node-up':
      return [e.role === 'observer' ? 'observer ' : 'node ', { node: e.node }, ' up'];
    case 'node-down':
      return [e.role === 'observer' ? 'observer ' : 'node ', { node: e.node }, ' down', e.reason ? ` (${e.reason})` : ''];
    case 'placed':
      if (e.node === undefined) return [{ child: e.id }, ' has no node to run on'];
      return ['placed ', { child: e.id }, ' on ', { node: e.node }, e.by === 'pin' ? ' (pinned there)' : e.by === 'hash' ? ' (by placement)' : ''];
    case 'started':
      return [{ child: e.id }, ' started on ', { node: e.node }];
    case 'stopped':
      if (e.terminated) return [{ child: e.id }, ` stopped for good${stoppedBy(e)} on `, { node: e.node }];
      if (e.unseen) return [{ child: e.id }, ' lost from sight on ', { node: e.node }, UNSEEN_WHY];
      return [{ child: e.id }, ' stopped on ', { node: e.node }];
    case 'moved':
      return [{ child: e.id }, ' moved ', { node: e.from }, ' → ', { node: e.to }, ` (${MOVE_REASONS[e.reason]})`];
    case 'failed':
      return [
        { child: e.id },
        ' failed on ',
        { node: e.node },
        ` (${e.failures} ${e.failures === 1 ? 'failure' : 'failures'} in a row)`,
        e.error ? `: ${e.error}` : '',
      ];
    case 'duplicate-resolved': {
      if (e.stopped.length === 0) return ['duplicate ', { child: e.id }, ' resolved: kept on ', { node: e.survivor.node }];
      const parts: Part[] = ['duplicate ', { child: e.id }, ' stopped on '];
      e.stopped.forEach((s, i) => parts.push(...(i > 0 ? [', '] : []), { node: s.node }));
      parts.push(' (', { node: e.survivor.node }, '’s kept)');
      return parts;
    }
    case 'drain':
      return [
        'node ',
        { node: e.node },
        e.draining ? ' draining: its children move away and nothing new starts there' : ' undrained: it takes children again',
        ' (command on ',
        { node: e.by },
        ')',
      ];
    case 'rebalancing':
      return [
        e.paused ? 'rebalancing paused: children stay where they run' : 'rebalancing resumed: children go where placement puts them',
        ' (command on ',
        { node: e.by },
        ')',
      ];
    case 'converged': {
      const running = `: ${formatCount(e.children)} ${e.children === 1 ? 'child' : 'children'} running once`;
      if (!changeNamesNode(e.cause)) return [`converged ${formatDuration(e.after)} after ${changeWord(e.cause)} (command on `, { node: e.node }, `)${running}`];
      return [`converged ${formatDuration(e.after)} after `, { node: e.node }, ` ${changeWord(e.cause)}`, running];
    }
  }
}

/** The sentence as plain text. */
export function eventText(e: ClusterEvent): string {
  return partsText(describeEvent(e));
}

function partsText(parts: Part[]): string {
  return parts.map((p) => (typeof p === 'string' ? p : 'child' in p ? p.child : p.node)).join('');
}

/** The nodes a burst concerns: where its events happened (moves: where they went) and a move's source, sorted. */
export function activitySubjects(a: ActivityView): string[] {
  const nodes = new Set(Object.keys(a.nodes));
  if (a.from !== undefined) nodes.add(a.from);
  return [...nodes].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}

/** "n2" when one node, "3 nodes" when several (the breakdown is in the burst's expansion). */
function where(nodes: Record<string, number>): Part[] {
  const names = Object.keys(nodes);
  if (names.length === 1) return [{ node: names[0]! }];
  return [`${formatCount(names.length)} nodes`];
}

/** The burst as a sentence: its event's for a burst of one, else "983 moved from s4 to 4 nodes (node down or failing)". */
export function describeActivity(a: ActivityView): Part[] {
  if (a.count === 1) return describeEvent(a.first);
  const n = formatCount(a.count);
  switch (a.type) {
    case 'moved':
      return [
        `${n} moved `,
        ...(a.from !== undefined ? ['from ', { node: a.from }, ' '] : []),
        'to ',
        ...where(a.nodes),
        a.reason !== undefined ? ` (${MOVE_REASONS[a.reason]})` : '',
      ];
    case 'stopped':
      if (a.first.type === 'stopped' && a.first.terminated) return [`${n} stopped for good${stoppedBy(a.first)} on `, ...where(a.nodes)];
      if (a.first.type === 'stopped' && a.first.unseen) return [`${n} lost from sight on `, ...where(a.nodes), UNSEEN_WHY];
      return [`${n} stopped on `, ...where(a.nodes)];
    case 'started':
    case 'failed':
      return [`${n} ${a.type} on `, ...where(a.nodes)];
    case 'placed': {
      const placed = Object.values(a.nodes).reduce((sum, k) => sum + k, 0);
      const nowhere = a.count - placed;
      if (placed === 0) return [`${n} have no node to run on`];
      return [`${n} placed on `, ...where(a.nodes), nowhere > 0 ? `, ${formatCount(nowhere)} with no node to run on` : ''];
    }
    case 'duplicate-resolved':
      if (Object.keys(a.nodes).length === 0) return [`${n} duplicates resolved`];
      return [`${n} duplicates stopped on `, ...where(a.nodes), ...(a.kept !== undefined ? [' (', { node: a.kept }, '’s kept)'] : [])];
  }
}

/** The burst's sentence as plain text. */
export function activityText(a: ActivityView): string {
  return partsText(describeActivity(a));
}
