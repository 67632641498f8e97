/**
 * util/flat-string.ts: the flat copy has exactly the characters of the
 * string it copies, whatever they are (quotes, escapes, lone surrogates,
 * which a JSON round trip must carry unchanged). Flatness itself is V8's
 * representation and not observable from JavaScript; the header says how
 * it was measured.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flatString } from '../src/util/flat-string.js';

describe('flatString', () => {
  it('returns the same characters for any string, built by concatenation or not (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }), { maxLength: 8 }), (parts) => {
        let built = '';
        for (const p of parts) built = `${built}${p}"\\\u0000`;
        expect(flatString(built)).toBe(built);
        expect(flatString(built).length).toBe(built.length);
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it('carries lone surrogates and control characters unchanged', () => {
    for (const s of ['\ud800', 'a\udfffb', '\u2028\u2029', '\t\n\r\b\f', '']) expect(flatString(s)).toBe(s);
  });
});
