/**
 * Syncs: the full snapshot of one node's memberships in one scope, built for
 * a peer whose link came up and applied from a peer, in parts when large.
 *
 * - A sync *replaces* everything the receiver held of the sender in that
 *   scope; the receiver diffs old against new per group and emits monitor
 *   `leave`/`join` events for the difference only (`diffMembers`).
 * - Reassembly: a large sync comes in parts (`more` on all but the last;
 *   the link layer splits it). Each part is applied as it comes, so no single
 *   frame holds this node for long; the groups listed so far are kept per
 *   (peer, scope), and what the peer no longer holds is dropped — and the
 *   scope counts as announced — only with the last part. A peer whose link
 *   goes down or comes up again loses its unfinished parts (`dropPeer`).
 */
import type { Logger } from '../logger.js';
import type { PgEntry, PgSync } from '../protocol.js';
import { diffMembers, toEntry } from './members.js';
import type { GroupMonitors } from './monitors.js';
import type { GroupTable } from './table.js';
import type { PgMember } from './types.js';

/** The sync of `node`'s own memberships in `scopeName` (empty when it holds none). */
export function buildSync(table: GroupTable, node: string, scopeName: string): PgSync {
  const state = table.scopeStates.get(scopeName);
  const groups: PgSync['groups'] = [];
  for (const group of state?.groupsByNode.get(node) ?? []) {
    groups.push({ group, entries: table.entriesOf(state!, group, node).map(toEntry) });
  }
  return { t: 'pg.sync', scope: scopeName, groups };
}

/** Applies peers' syncs, part by part, to the table. */
export class SyncReassembly {
  /** "peer NUL scope" → groups a sync in parts has listed so far (see apply). */
  private readonly partialSyncs = new Map<string, Set<string>>();

  constructor(
    private readonly table: GroupTable,
    private readonly monitors: GroupMonitors,
    private readonly log: Logger,
  ) {}

  /** Forgets `peer`'s unfinished syncs (its link went down or came up again). */
  dropPeer(peer: string): void {
    for (const key of this.partialSyncs.keys()) if (key.startsWith(`${peer}\u0000`)) this.partialSyncs.delete(key);
  }

  /** Applies one sync (or part of one) from `peer`; `accept` turns a group's entries into the members kept (the peer's own pids). */
  apply(peer: string, message: PgSync, accept: (group: string, entries: readonly PgEntry[]) => PgMember[]): void {
    const scope = this.table.ensureScope(message.scope);
    // A large sync comes in parts (`more` on all but the last; link.ts splits it): each part is
    // applied as it comes, so no single frame holds this node for long, and what the peer no
    // longer holds is dropped — and the scope counts as announced — only with the last part.
    const key = `${peer}\u0000${message.scope}`;
    const seen = this.partialSyncs.get(key) ?? new Set<string>();
    this.partialSyncs.delete(key);
    const incoming = new Map<string, PgMember[]>();
    for (const { group, entries } of message.groups) {
      const members = accept(group, entries);
      if (members.length === 0) continue;
      const already = incoming.get(group);
      if (already === undefined) incoming.set(group, members);
      else {
        this.log.debug({ peer, scope: message.scope, group }, 'pg: sync lists a group twice; merging its entries');
        already.push(...members);
      }
    }
    for (const [group, next] of incoming) {
      if (seen.has(group)) {
        // Listed again by a later part: more entries of the same group.
        this.table.appendEntries(scope, group, peer, next);
        this.monitors.enqueue('join', scope.name, group, next);
        continue;
      }
      seen.add(group);
      const { left, joined } = diffMembers(this.table.entriesOf(scope, group, peer), next);
      this.table.replaceEntries(scope, group, peer, next); // also when equal as multisets: adopt the owner's order
      this.monitors.enqueue('leave', scope.name, group, left);
      this.monitors.enqueue('join', scope.name, group, joined);
    }
    if (message.more === true) {
      this.partialSyncs.set(key, seen);
      return;
    }
    scope.announcedBy.add(peer);
    // Race "stale view after a reconnect": the sync replaces what we held of the
    // peer; only the difference is reported to monitors.
    for (const group of [...(scope.groupsByNode.get(peer) ?? [])]) {
      if (seen.has(group)) continue;
      const removed = this.table.replaceEntries(scope, group, peer, []);
      this.monitors.enqueue('leave', scope.name, group, removed);
    }
  }
}
