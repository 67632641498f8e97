/**
 * The audit log as the Audit view keeps it live: the whole log once, then,
 * every AUDIT_POLL_MS while the view is open, only what is new.
 *
 * Each member numbers its entries within its incarnation (`seq`,
 * `incarnation`; core commands.ts). The reader sends, per member, where it
 * is (`auditCursors`: the newest entry it holds from that member's latest
 * incarnation) and each member answers only newer entries, or its whole
 * log when it restarted since; the gateway merges them. `mergeAudit` adds
 * them to what is held, once each (keyed by member, incarnation and seq),
 * oldest first, keeping the newest AUDIT_KEEP. Entries of a member of an
 * older release carry no numbers: it answers its whole log each time, and
 * its entries are told apart by what they say.
 *
 * Cost: one small `audit` per member per poll (usually answering nothing),
 * one poll in flight at a time, only while the view is open.
 */
import type { AuditEntry } from 'pogo-core';
import type { AuditCursors } from 'pogo-core/ui-protocol';

/** How often an open Audit view asks for new entries, ms. */
export const AUDIT_POLL_MS = 2_000;
/** Entries an open view keeps (the newest). */
export const AUDIT_KEEP = 5_000;

/** What makes an entry itself: its member, incarnation and number; for an older member's, what it says. */
export function auditKey(e: AuditEntry): string {
  if (e.seq !== undefined && e.incarnation !== undefined) return `${e.node}\u0000${e.incarnation}\u0000${e.seq}`;
  return `${e.node}\u0000${e.at}\u0000${e.by}\u0000${e.op}\u0000${e.result}\u0000${JSON.stringify(e.args)}`;
}

/** Per member: the newest entry held from its latest incarnation (the one of its newest entry). */
export function auditCursors(entries: readonly AuditEntry[]): AuditCursors {
  const latest = new Map<string, AuditEntry>();
  for (const e of entries) {
    if (e.seq === undefined || e.incarnation === undefined) continue;
    const held = latest.get(e.node);
    if (!held || e.at > held.at || (e.at === held.at && e.incarnation === held.incarnation && e.seq > held.seq!)) latest.set(e.node, e);
  }
  const cursors: AuditCursors = {};
  for (const [node, newest] of latest) {
    let seq = newest.seq!;
    for (const e of entries) if (e.node === node && e.incarnation === newest.incarnation && e.seq! > seq) seq = e.seq!;
    cursors[node] = { incarnation: newest.incarnation!, seq };
  }
  return cursors;
}

/** `held` plus the entries of `incoming` it does not have, oldest first, the newest `keep` of them; `held` itself when nothing is new. */
export function mergeAudit(held: readonly AuditEntry[], incoming: readonly AuditEntry[], keep = AUDIT_KEEP): readonly AuditEntry[] {
  const seen = new Set(held.map(auditKey));
  const added = incoming.filter((e) => {
    const key = auditKey(e);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (added.length === 0 && held.length <= keep) return held;
  // A stable sort: entries of one member at the same ms keep their order.
  const merged = [...held, ...added].sort((a, b) => a.at - b.at);
  return merged.length > keep ? merged.slice(merged.length - keep) : merged;
}
