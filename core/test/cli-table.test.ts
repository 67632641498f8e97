import { describe, expect, it } from 'vitest';
import { table } from '../src/cli/table.js';

describe('table (pogo ctl and pogo status listings)', () => {
  it('pads each column to its widest cell and trims each line', () => {
    expect(
      table(
        ['ID', 'NODE'],
        [
          ['a', 'n1'],
          ['longer', 'n22'],
        ],
      ),
    ).toBe('ID      NODE\na       n1\nlonger  n22\n');
  });

  it('shows control characters in a cell as ?, so no value can forge a row or send the terminal an escape', () => {
    const out = table(
      ['ID', 'STATE'],
      [
        ['fake\nk999  running', 'running'],
        ['\u001b[31mred', 'pending'],
        ['c1\u009b2J', 'x'],
      ],
    );
    expect(out.split('\n')).toHaveLength(5); // header, three rows, the final newline
    // eslint-disable-next-line no-control-regex -- the control characters are what must be absent
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(out).toContain('fake?k999  running');
    expect(out).toContain('?[31mred');
  });
});
