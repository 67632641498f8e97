/**
 * The `reach` report a member sends when it loses a peer goes out before
 * anything its member-down event sets off (membership.ts, race "a takeover
 * heard before its reason"): the supervisor's starts of the lost member's
 * children travel on the same links, after it, so a peer judging who is
 * cut off (an observer) hears why before it hears what followed.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import type { Link } from '../src/link/types.js';
import { Membership } from '../src/membership.js';
import { SeededRandom } from '../src/random.js';
import { silentLogger } from '../src/logger.js';

const peer = (name: string) => ({ name, incarnation: `${name}-inc`, startedAt: 0, address: `${name}:4370`, role: 'member' as const });

describe('membership: the reach report of a lost peer', () => {
  it('is sent to every linked peer before the member-down event is handed on', () => {
    const clock = new ManualClock(1_000);
    const log: string[] = [];
    const links = new Map<string, Link>();
    const membership: Membership = new Membership({
      self: { ...peer('n1'), labels: {}, workers: [], version: 1, status: 'up', ready: true },
      seeds: [],
      links: {
        dial: () => undefined,
        isDialling: () => false,
        isBusyWith: () => false,
        all: () => [...links.values()],
        get: (name: string) => links.get(name),
        send: (to: string, m: { t: string }) => void log.push(`send ${m.t} to ${to}`),
        sendWithNextFrame: () => undefined,
      } as never,
      clock,
      random: new SeededRandom(1),
      log: silentLogger,
      timing: { gossipIntervalMs: 1_000, reconnectBaseMs: 100, reconnectMaxMs: 1_000, downReapAfterMs: 60_000, leftReapAfterMs: 60_000 },
      onEvent: (e) => {
        // What the supervisor does on a member-down: a start, sent on the links right away.
        if (e.kind === 'member-down') log.push(`member-down ${e.member.name}: starts its children (run: joins sent)`);
      },
    });
    for (const name of ['obs', 'n3']) {
      const link = { peer: peer(name), lastHeardAt: clock.now(), direction: 'out' } as unknown as Link;
      links.set(name, link);
      membership.onLinkUp(link);
    }
    log.length = 0;
    const n3 = links.get('n3')!;
    links.delete('n3');
    membership.onLinkDown(n3, 'heartbeat timeout');
    expect(log).toEqual(['send reach to obs', 'member-down n3: starts its children (run: joins sent)']);
  });
});
