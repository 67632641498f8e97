/**
 * A member entry as membership holds it (membership.ts `Member`), for the
 * pure decisions' tests (readiness, candidates, the wake gate, the netsplit
 * snapshot): an up member of role member, incarnation `i1`, with `over`
 * laid on top.
 */
import type { Member } from '../../src/membership.js';

export function memberEntry(name: string, status: Member['status'] = 'up', over: Partial<Member> = {}): Member {
  return {
    name,
    incarnation: 'i1',
    startedAt: 0,
    address: `${name}.example:4370`,
    role: 'member',
    labels: {},
    workers: [],
    version: 1,
    status,
    since: 0,
    reason: 'test',
    ...over,
  };
}
