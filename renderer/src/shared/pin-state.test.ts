/**
 * A child's pin tag (pin-state.ts): plain "pinned" only while the pin is
 * honoured; otherwise why not, and where the child runs meanwhile.
 */
import { describe, expect, it } from 'vitest';
import { child, member } from '../test-cluster';
import { pinState } from './pin-state';

const members = (...list: ReturnType<typeof member>[]) => Object.fromEntries(list.map((m) => [m.name, m]));

describe('pinState', () => {
  it('none without a pin; "pinned" while it runs on its pin', () => {
    expect(pinState(child('c'), members(member('a')))).toBeNull();
    expect(pinState(child('c', { node: 'a', pin: 'a' }), members(member('a')))).toMatchObject({ text: 'pinned', honoured: true });
  });

  it('a pin whose node is down says so, and where the child runs instead, or that it runs nowhere', () => {
    const down = members(member('a'), member('b', { status: 'down', reachable: false }));
    expect(pinState(child('c', { node: 'a', pin: 'b' }), down)).toMatchObject({ text: 'pinned to b (down), runs on a', honoured: false });
    const nowhere = pinState(child('c', { node: null, pid: null, instances: [], pin: 'b' }), down)!;
    expect(nowhere).toMatchObject({ text: 'pinned to b (down), runs nowhere', honoured: false });
    expect(nowhere.title).toBe('Pinned to b, which is down: the pin is not honoured while it is; the child runs nowhere.');
  });

  it('gone, draining or not ready is not honoured either; a pin to a node up that the child is on its way to is', () => {
    expect(pinState(child('c', { node: 'a', pin: 'z' }), members(member('a')))).toMatchObject({ text: 'pinned to z (gone), runs on a', honoured: false });
    expect(pinState(child('c', { node: 'a', pin: 'b' }), members(member('a'), member('b', { draining: true })))?.text).toBe(
      'pinned to b (draining), runs on a',
    );
    expect(pinState(child('c', { node: 'a', pin: 'b' }), members(member('a'), member('b', { ready: false })))?.text).toBe('pinned to b (not ready), runs on a');
    expect(pinState(child('c', { node: 'a', pin: 'b' }), members(member('a'), member('b')))).toMatchObject({
      text: 'pinned to b, moving there',
      honoured: true,
    });
  });
});
