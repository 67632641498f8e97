/**
 * The borrowed view of members beyond the observer's links
 * (observer/remote-view.ts): asked for while some member is unreachable,
 * and gone as soon as every member is reached again.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import type { PogoNode } from '../src/node.js';
import { BORROW_EVERY_MS, RemoteView } from '../src/observer/remote-view.js';

type Status = 'up' | 'down' | 'left';

function fakeNode(clock: ManualClock, table: Map<string, Status>) {
  let asked = 0;
  const node = {
    clock,
    members: () => [...table].map(([name, status]) => ({ name, status, role: 'member' as const, ready: true, incarnation: `${name}-1` })),
    // Who the others cannot hear (member-to-ask.ts): nobody here.
    unheardBy: () => [],
    command: async () => {
      asked++;
      return { ok: true, result: { node: 'a', members: [], children: [] } };
    },
  };
  return { node: node as unknown as PogoNode, asked: () => asked };
}

describe('RemoteView', () => {
  it('race "a borrowed view outlives the gap": once every member is reached, the view is gone at the next read, not at the next round', async () => {
    const clock = new ManualClock();
    const table = new Map<string, Status>([
      ['a', 'up'],
      ['b', 'down'], // learned from gossip, not linked yet (a member joining)
    ]);
    const fake = fakeNode(clock, table);
    let changes = 0;
    const view = new RemoteView(fake.node, () => changes++);
    view.start();
    clock.advance(BORROW_EVERY_MS);
    await Promise.resolve();
    await Promise.resolve();
    expect(fake.asked()).toBe(1);
    expect(view.current).toBeDefined();
    // The observer links b: no round has run since, and the borrowed view is no longer what it shows.
    table.set('b', 'up');
    expect(view.current).toBeUndefined();
    clock.advance(BORROW_EVERY_MS);
    expect(fake.asked()).toBe(1);
    view.stop();
  });
});
