/**
 * The live audit log's bookkeeping (audit-log.ts): where the reader is in
 * each member's log, and adding what comes back once each, in order,
 * bounded.
 */
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from 'pogo-core';
import { auditCursors, auditKey, mergeAudit } from './audit-log';

const entry = (node: string, seq: number | undefined, at: number, incarnation: string | undefined = 'i1', extra: Partial<AuditEntry> = {}): AuditEntry => ({
  at,
  node,
  from: 'obs',
  by: 'alice',
  op: 'stop',
  args: [`c${seq ?? at}`],
  ok: true,
  result: 'ok',
  ...(seq !== undefined ? { seq } : {}),
  ...(incarnation !== undefined ? { incarnation } : {}),
  ...extra,
});

describe('audit cursors', () => {
  it('per member, the newest entry of its latest incarnation; none for a member whose entries carry no numbers', () => {
    const held = [entry('a', 1, 10), entry('b', 1, 11, 'j1'), entry('a', 2, 12), entry('c', undefined, 13, undefined), entry('b', 2, 14, 'j1')];
    expect(auditCursors(held)).toEqual({ a: { incarnation: 'i1', seq: 2 }, b: { incarnation: 'j1', seq: 2 } });
    // b restarted: its new incarnation's entries are newer, and the cursor follows them even with lower numbers.
    expect(auditCursors([...held, entry('b', 1, 20, 'j2')])).toEqual({ a: { incarnation: 'i1', seq: 2 }, b: { incarnation: 'j2', seq: 1 } });
    expect(auditCursors([])).toEqual({});
  });
});

describe('merging what comes back', () => {
  it('adds each entry once, oldest first; nothing new keeps the very same list', () => {
    const held = [entry('a', 1, 10), entry('b', 1, 12)];
    const merged = mergeAudit(held, [entry('a', 2, 11), entry('b', 1, 12)]);
    expect(merged.map(auditKey)).toEqual([entry('a', 1, 10), entry('a', 2, 11), entry('b', 1, 12)].map(auditKey));
    expect(mergeAudit(merged, [entry('a', 2, 11)])).toBe(merged);
  });

  it('a restarted member answering its whole log again adds only its new life; an older member (no numbers) is told apart by what its entries say', () => {
    const held = [entry('a', 1, 10), entry('a', 2, 11)];
    const again = mergeAudit(held, [entry('a', 1, 20, 'i2')]);
    expect(again).toHaveLength(3);
    const old = [entry('o', undefined, 5, undefined), entry('o', undefined, 6, undefined, { op: 'drain' })];
    const withOld = mergeAudit(again, old);
    expect(withOld).toHaveLength(5);
    expect(mergeAudit(withOld, old)).toBe(withOld);
  });

  it('keeps the newest entries only, up to the bound', () => {
    const held = Array.from({ length: 5 }, (_, i) => entry('a', i + 1, i));
    const merged = mergeAudit(held, [entry('a', 6, 5), entry('a', 7, 6)], 5);
    expect(merged.map((e) => e.seq)).toEqual([3, 4, 5, 6, 7]);
  });
});
