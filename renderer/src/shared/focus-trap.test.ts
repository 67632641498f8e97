/** The Tab rule of a modal dialog: wrap at both ends, come back in from outside, stay when nothing can take focus. */
import { describe, expect, it } from 'vitest';
import { tabStep } from './focus-trap';

const items = ['id', 'kind', 'cancel', 'start'];

describe('tabStep', () => {
  it('lets the browser move between elements inside the dialog', () => {
    expect(tabStep(items, 'id', false)).toEqual({ kind: 'browser' });
    expect(tabStep(items, 'cancel', true)).toEqual({ kind: 'browser' });
  });

  it('wraps Tab from the last element to the first, and Shift-Tab from the first to the last', () => {
    expect(tabStep(items, 'start', false)).toEqual({ kind: 'focus', target: 'id' });
    expect(tabStep(items, 'id', true)).toEqual({ kind: 'focus', target: 'start' });
  });

  it('brings focus that is on none of the elements (the dialog itself) to the first, or the last going back', () => {
    expect(tabStep(items, null, false)).toEqual({ kind: 'focus', target: 'id' });
    expect(tabStep(items, 'dialog', true)).toEqual({ kind: 'focus', target: 'start' });
  });

  it('keeps focus where it is when nothing in the dialog can take it', () => {
    expect(tabStep([], 'dialog', false)).toEqual({ kind: 'stay' });
  });

  it('with one element, Tab either way stays on it', () => {
    expect(tabStep(['ok'], 'ok', false)).toEqual({ kind: 'focus', target: 'ok' });
    expect(tabStep(['ok'], 'ok', true)).toEqual({ kind: 'focus', target: 'ok' });
  });
});
