/**
 * chooseMember: the one rule for "which member do I send this command to"
 * (the gateway, `pogo ctl`, the borrowed view).
 */
import { describe, expect, it } from 'vitest';
import { chooseMember, type MemberCandidate } from '../src/choose-member.js';

const m = (name: string, over: Partial<MemberCandidate> = {}): MemberCandidate => ({ name, role: 'member', status: 'up', ready: true, ...over });

describe('chooseMember', () => {
  it('prefers ready and up, then ready and suspect, then up, then suspect; ties to the first listed', () => {
    expect(chooseMember([m('a', { ready: false }), m('b', { status: 'suspect' }), m('c'), m('d')])).toBe('c');
    expect(chooseMember([m('a', { ready: false }), m('b', { status: 'suspect' }), m('c', { status: 'suspect', ready: false })])).toBe('b');
    expect(chooseMember([m('a', { status: 'suspect', ready: false }), m('b', { ready: false })])).toBe('b');
    expect(chooseMember([m('a', { status: 'suspect', ready: false })])).toBe('a');
  });

  it('never picks an observer (it executes nothing) or a member it is not linked to', () => {
    expect(chooseMember([m('obs', { role: 'observer' }), m('down', { status: 'down' }), m('gone', { status: 'left' })])).toBeUndefined();
    expect(chooseMember([m('obs', { role: 'observer' }), m('down', { status: 'down' }), m('x', { ready: false })])).toBe('x');
    expect(chooseMember([])).toBeUndefined();
  });

  it('with requireReady, only a ready member will do', () => {
    expect(chooseMember([m('a', { ready: false }), m('b', { status: 'suspect', ready: false })], { requireReady: true })).toBeUndefined();
    expect(chooseMember([m('a', { ready: false }), m('b', { status: 'suspect' })], { requireReady: true })).toBe('b');
    expect(chooseMember([m('a', { ready: undefined })], { requireReady: true })).toBeUndefined();
  });

  it('a member the others cannot hear (cutOff) only when no other linked member will do, whatever its rank', () => {
    const cutOff = new Set(['a']);
    expect(chooseMember([m('a'), m('b', { status: 'suspect', ready: false })], { cutOff })).toBe('b');
    expect(chooseMember([m('a'), m('b', { status: 'down' })], { cutOff })).toBe('a');
    expect(chooseMember([m('a'), m('b', { ready: false })], { cutOff, requireReady: true })).toBe('a');
    expect(chooseMember([m('a', { ready: false }), m('b', { ready: false })], { cutOff: new Set(['b']), requireReady: true })).toBeUndefined();
  });
});
