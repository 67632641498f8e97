/**
 * Where a child may be moved from the UI (move-target.ts): a node that
 * cannot take it is refused with the reason, whichever control asks.
 */
import { describe, expect, it } from 'vitest';
import { child, member } from '../test-cluster';
import { moveRefusal, viewRefusal } from './move-target';

describe('moveRefusal', () => {
  const c = child('w-1', { node: 'a', worker: 'w' });

  it('a member up, ready, not draining, with the worker type, other than its own node, takes it', () => {
    expect(moveRefusal(c, member('b'))).toBeNull();
    // Suspect, or unreachable from this observer only: the cluster still hears it.
    expect(moveRefusal(c, member('b', { status: 'suspect' }))).toBeNull();
    expect(moveRefusal(c, member('b', { status: 'unreachable', reachable: false }))).toBeNull();
  });

  it('refuses a node down, gone, an observer, not ready, draining, without the worker type, and the node it runs on, saying which', () => {
    expect(moveRefusal(c, member('b', { status: 'down', reachable: false }))).toBe('b is down');
    expect(moveRefusal(c, member('b', { status: 'left', reachable: false }))).toBe('b has left the cluster');
    expect(moveRefusal(c, member('obs', { role: 'observer' }))).toBe('obs is an observer: it runs no children');
    expect(moveRefusal(c, member('b', { ready: false }))).toBe('b is not ready: it takes no children (still joining, or leaving)');
    expect(moveRefusal(c, member('b', { draining: true }))).toBe('b is draining: it takes no children');
    expect(moveRefusal(c, member('b', { workers: ['other'] }))).toBe('b has no worker type w');
    expect(moveRefusal(c, member('a'))).toBe('it runs on a already');
    // Cut off: the observer reaches it, the other members do not (they would refuse it as not up).
    expect(moveRefusal(c, member('b', { unheardBy: ['a', 'c'] }))).toBe('b is cut off: a, c cannot hear it');
  });

  it('a node a child runs on beside another instance (a duplicate) may be chosen; an OS-process child needs no worker type', () => {
    const twice = child('w-1', {
      node: 'a',
      worker: 'w',
      instances: [
        { node: 'a', pid: 'a/x/1' },
        { node: 'b', pid: 'b/x/2' },
      ],
    });
    expect(moveRefusal(twice, member('a'))).toBeNull();
    expect(moveRefusal(child('os-1', { worker: null, command: 'node' }), member('b', { workers: [] }))).toBeNull();
  });
});

describe('viewRefusal', () => {
  const c = child('w-1', { node: 'a', worker: 'w' });

  it('an observer that reaches no more members than it cannot reach offers no move at all: it may be on the minority side', () => {
    const members = {
      a: member('a', { status: 'unreachable', reachable: false }),
      b: member('b', { status: 'unreachable', reachable: false }),
      c: member('c'),
    };
    expect(viewRefusal(members)).toBe('this observer reaches only c, not a, b: the cluster may be split, and a move would wait until it heals');
    expect(moveRefusal(c, members.c, members)).toBe(viewRefusal(members));
    // One member lost of three (mixed timing, a firewall): moves are offered as before.
    const one = { ...members, b: member('b') };
    expect(viewRefusal(one)).toBeNull();
    expect(moveRefusal(c, one.b, one)).toBeNull();
    // Members down or gone do not count.
    expect(viewRefusal({ a: member('a', { status: 'down', reachable: false }), b: member('b'), c: member('c') })).toBeNull();
  });
});
