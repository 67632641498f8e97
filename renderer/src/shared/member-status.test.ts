/**
 * How a member's readiness reads (member-status.ts `readinessText`): the
 * truth now, not the last word of a member that is down or gone.
 */
import { describe, expect, it } from 'vitest';
import { member } from '../test-cluster';
import { readinessText } from './member-status';

describe('readinessText', () => {
  it('a member down or gone: readiness does not apply, whatever it last said', () => {
    expect(readinessText(member('a', { status: 'down', ready: true }))).toEqual({ text: 'does not apply: it is down, so it takes no children', ok: false });
    expect(readinessText(member('a', { status: 'left', ready: true }))).toEqual({ text: 'does not apply: it has left the cluster', ok: false });
  });

  it('unreachable from here: unknown, with its last word; up: yes or no; an observer: does not apply', () => {
    expect(readinessText(member('a', { status: 'unreachable', ready: true })).text).toBe('unknown: this observer cannot reach it (it last said yes)');
    expect(readinessText(member('a'))).toEqual({ text: 'yes', ok: true });
    expect(readinessText(member('a', { ready: false }))).toEqual({ text: 'no: not taking children (still joining, or leaving)', ok: false });
    expect(readinessText(member('a', { status: 'suspect' })).ok).toBe(true);
    expect(readinessText(member('o', { role: 'observer', ready: false })).text).toBe('does not apply: an observer runs no children');
  });
});
