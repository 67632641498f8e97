/**
 * The wake gate (distributed/wake.ts) as pure functions: which stalls start
 * a watch, which links it waits for, when the gate opens again and when the
 * watch ends (race "woken from a stall").
 */
import { describe, expect, it } from 'vitest';
import { memberEntry } from './support/members.js';
import { expired, resync, wokeFromStall, type Wake } from '../src/distributed/wake.js';

const member = memberEntry;
const timing = { heartbeatIntervalMs: 1_000, leaseMs: 3_000 };
/** n1 ran again at 20,000 after 5,000 ms stalled. */
const woke: Wake = { at: 20_000, from: 15_000, stalledMs: 5_000, awaiting: new Set() };
const all = () => true;

describe('wake gate: which stalls start a watch', () => {
  it('a stall past the heartbeat timeout less an interval, once', () => {
    expect(wokeFromStall(1_999, 10_000, -Infinity, timing)).toBeUndefined();
    expect(wokeFromStall(2_000, 10_000, -Infinity, timing)).toEqual({ at: 10_000, from: 8_000, stalledMs: 2_000, awaiting: new Set() });
    // The same stall, still reported a tick after it ended, is not a new one.
    expect(wokeFromStall(2_010, 10_010, 10_000, timing)).toBeUndefined();
    // A later one is.
    expect(wokeFromStall(2_500, 14_000, 10_000, timing)?.from).toBe(11_500);
  });

  it('never shorter than a heartbeat interval, whatever the lease', () => {
    expect(wokeFromStall(900, 10_000, -Infinity, { heartbeatIntervalMs: 1_000, leaseMs: 1_500 })).toBeUndefined();
    expect(wokeFromStall(1_000, 10_000, -Infinity, { heartbeatIntervalMs: 1_000, leaseMs: 1_500 })).toBeDefined();
  });
});

describe('wake gate: resync', () => {
  it('a stall no link went down in: open, and the watch ends after a heartbeat interval', () => {
    const members = [member('n1'), member('n2', 'up', { since: 16_000 }), member('n3')];
    expect(resync(woke, members, 'n1', 20_100, 1_000, all)).toEqual({ open: true, wake: woke, firstDown: false });
    expect(resync(woke, members, 'n1', 21_000, 1_000, all)).toEqual({ open: true, wake: undefined, firstDown: false });
  });

  it('a link that went down in the stall closes the gate until that peer is linked and synced again', () => {
    const down = [member('n1'), member('n2', 'down', { since: 20_050 }), member('n3')];
    const first = resync(woke, down, 'n1', 20_060, 1_000, all);
    expect(first.open).toBe(false);
    expect(first.firstDown).toBe(true);
    expect(first.wake?.awaiting).toEqual(new Set(['n2']));
    expect(woke.awaiting.size).toBe(0); // the given watch is not changed
    const again = resync(first.wake!, down, 'n1', 20_070, 1_000, all);
    expect(again.firstDown).toBe(false);
    // Linked again but not synced yet, past the watch: still closed.
    const back = [member('n1'), member('n2', 'up', { since: 22_000 }), member('n3')];
    expect(resync(again.wake!, back, 'n1', 22_000, 1_000, (p) => p !== 'n2')).toMatchObject({ open: false });
    // Synced: open, and the watch is over.
    expect(resync(again.wake!, back, 'n1', 22_100, 1_000, all)).toEqual({ open: true, wake: undefined, firstDown: false });
  });

  it('a link down since before the stall began is not waited for, nor an observer, nor a member that left', () => {
    const members = [
      member('n1'),
      member('n2', 'down', { since: 14_000 }),
      member('obs', 'down', { role: 'observer', since: 19_000 }),
      member('n3', 'left', { since: 19_000 }),
    ];
    expect(resync(woke, members, 'n1', 20_100, 1_000, all)).toEqual({ open: true, wake: woke, firstDown: false });
  });

  it('an awaited member that left, or that membership no longer lists, is gone: not waited for', () => {
    const waiting: Wake = { ...woke, awaiting: new Set(['n2', 'n3']) };
    const members = [member('n1'), member('n2', 'left', { since: 21_000 })];
    expect(resync(waiting, members, 'n1', 21_500, 1_000, all)).toEqual({ open: true, wake: undefined, firstDown: false });
  });

  it('links that go down only after the watch are not added to it', () => {
    const members = [member('n1'), member('n2', 'down', { since: 21_500 })];
    expect(resync(woke, members, 'n1', 21_600, 1_000, all)).toEqual({ open: true, wake: undefined, firstDown: false });
  });
});

describe('wake gate: the ready timeout bounds the wait', () => {
  it('expires only with someone still awaited, at the ready timeout from the wake', () => {
    const waiting: Wake = { ...woke, awaiting: new Set(['n2']) };
    expect(expired(waiting, 24_999, 5_000)).toBe(false);
    expect(expired(waiting, 25_000, 5_000)).toBe(true);
    expect(expired(woke, 25_000, 5_000)).toBe(false);
  });
});
