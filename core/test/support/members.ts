/**
 * What the pure decisions' tests are given about members:
 *
 * - `memberEntry`: a member entry as membership holds it (membership.ts
 *   `Member`), for readiness, candidates, the wake gate, the netsplit
 *   snapshot: an up member of role member, incarnation `i1`;
 * - `candidate`: a placement candidate (placement.ts `Candidate`), for
 *   placement, `decide` and the sweep plan: an up, ready member that runs
 *   worker type `w`, capacity 1.
 *
 * Each with `over` laid on top.
 */
import type { Candidate } from '../../src/distributed/placement.js';
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

export function candidate(name: string, over: Partial<Candidate> = {}): Candidate {
  return { name, role: 'member', up: true, ready: true, draining: false, labels: {}, workers: ['w'], commands: [], capacity: 1, ...over };
}
