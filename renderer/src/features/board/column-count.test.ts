import { describe, expect, it } from 'vitest';
import { columnCountText, copyCount } from './column-count';

describe('columnCountText', () => {
  it('says the cards alone when the node runs no copies', () => {
    expect(columnCountText(1, 1, undefined)).toBe('1 child');
    expect(columnCountText(7, 7, new Map())).toBe('7 children');
    expect(columnCountText(0, 5, new Map())).toBe('0 of 5 children shown');
  });

  it('counts the copies a node runs of children whose cards are elsewhere, and names where those cards are', () => {
    expect(
      columnCountText(
        0,
        0,
        new Map([
          ['n2', 5],
          ['n1', 7],
        ]),
      ),
    ).toBe('12 running: 0 children + 12 duplicates of children shown on n1 (7), n2 (5)');
    expect(columnCountText(1, 1, new Map([['n1', 1]]))).toBe('2 running: 1 child + 1 duplicate of child shown on n1 (1)');
    expect(columnCountText(0, 2, new Map([['n1', 3]]))).toBe('5 running: 0 of 2 children shown + 3 duplicates of children shown on n1 (3)');
  });

  it('counts copies by column', () => {
    expect(copyCount(undefined)).toBe(0);
    expect(
      copyCount(
        new Map([
          ['a', 2],
          ['b', 1],
        ]),
      ),
    ).toBe(3);
  });
});
