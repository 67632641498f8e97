import { describe, expect, it } from 'vitest';
import { hasControlCharacter, printable, printableLines } from '../src/util/printable.js';

describe('printable text for terminals and logs', () => {
  const nasty = 'a\u0000b\u001b[31mc\u007fd\u009b2Je\tf\ng\rh';

  it('printable shows every control character (C0, DEL, C1) as ?', () => {
    expect(printable(nasty)).toBe('a?b?[31mc?d?2Je?f?g?h');
  });

  it('printableLines keeps line breaks and shows every other control character as ?', () => {
    expect(printableLines(nasty)).toBe('a?b?[31mc?d?2Je?f\ng?h');
  });

  it('hasControlCharacter holds for exactly the characters printable replaces', () => {
    for (let c = 0; c < 0x3000; c++) {
      const ch = String.fromCharCode(c);
      expect(hasControlCharacter(`id-${ch}`), `U+${c.toString(16)}`).toBe(printable(ch) !== ch);
    }
  });

  it('leaves printable text alone, non-Latin letters and emoji included', () => {
    const text = 'moved café-1 to n2 (子供 🚀)\nsecond line';
    expect(printableLines(text)).toBe(text);
    expect(printable('café 子供 🚀')).toBe('café 子供 🚀');
  });
});
