/**
 * The json-lines framing (supervisor/line-codec.ts), pure: lines cut at
 * `\n` whatever the chunking, multi-byte characters split across chunks,
 * CRLF, blank lines, over-size lines (skipped with their head), bad UTF-8
 * and a last line without `\n`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HEAD_BYTES, LineDecoder, encodeLine, type LineEvent } from '../src/supervisor/line-codec.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Feeds `data` cut at `cuts` (byte offsets) and collects every event, including the end's. */
function feed(decoder: LineDecoder, data: Buffer, cuts: number[] = []): LineEvent[] {
  const events: LineEvent[] = [];
  let from = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < data.length)].sort((a, b) => a - b).concat(data.length)) {
    events.push(...decoder.push(data.subarray(from, cut)));
    from = cut;
  }
  return events;
}

describe('LineDecoder', () => {
  it('cuts lines at \\n and keeps a partial line until its end arrives', () => {
    const d = new LineDecoder(1024);
    expect(d.push(bytes('{"id":1,"re'))).toEqual([]);
    expect(d.push(bytes('ply":2}\n{"id":2'))).toEqual([{ kind: 'line', text: '{"id":1,"reply":2}' }]);
    expect(d.push(bytes(',"reply":3}\n\n'))).toEqual([{ kind: 'line', text: '{"id":2,"reply":3}' }]);
    expect(d.end()).toEqual([]);
  });

  it('joins a multi-byte character split across chunks before decoding it', () => {
    const text = '{"reply":"é ☃ 🎉"}';
    const data = bytes(`${text}\n`);
    const snowman = data.indexOf(Buffer.from('☃'));
    const party = data.indexOf(Buffer.from('🎉'));
    // Cut inside the 3-byte snowman and inside the 4-byte emoji.
    expect(feed(new LineDecoder(1024), data, [snowman + 1, snowman + 2, party + 1, party + 3])).toEqual([{ kind: 'line', text }]);
  });

  it('gives the same lines for every way of cutting the bytes into chunks', () => {
    const line = fc.string({ unit: 'binary', maxLength: 20 }).filter((s) => !s.includes('\n') && !s.includes('\r') && s.length > 0);
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(200), { maxLength: 8 }), (lines, cuts) => {
        const data = bytes(lines.map((l) => `${l}\n`).join(''));
        expect(feed(new LineDecoder(1024), data, cuts)).toEqual(lines.map((text) => ({ kind: 'line', text })));
      }),
      { numRuns: 500, seed: 1601 },
    );
  });

  it('drops a \\r before the \\n and skips blank lines', () => {
    expect(feed(new LineDecoder(1024), bytes('a\r\n\r\n\nb\n'))).toEqual([
      { kind: 'line', text: 'a' },
      { kind: 'line', text: 'b' },
    ]);
  });

  it('reports an over-size line once, with its length and head, without buffering it, and goes on after it', () => {
    const d = new LineDecoder(100);
    const big = `{"id":42,"reply":"${'x'.repeat(1000)}"}`;
    const events = feed(d, bytes(`ok1\n${big}\nok2\n`), [10, 50, 300, 700]);
    expect(events).toEqual([
      { kind: 'line', text: 'ok1' },
      { kind: 'too-large', bytes: big.length, head: big.slice(0, HEAD_BYTES) },
      { kind: 'line', text: 'ok2' },
    ]);
  });

  it('takes a line of exactly the limit, also with a \\r, and refuses one byte more', () => {
    const d = new LineDecoder(10);
    expect(d.push(bytes('0123456789\n'))).toEqual([{ kind: 'line', text: '0123456789' }]);
    expect(d.push(bytes('0123456789\r\n'))).toEqual([{ kind: 'line', text: '0123456789' }]);
    expect(d.push(bytes('0123456789A\n'))).toEqual([{ kind: 'too-large', bytes: 11, head: '0123456789A' }]);
    expect(d.push(bytes('0123456789AB\r\n'))).toEqual([{ kind: 'too-large', bytes: 13, head: '0123456789AB\r' }]);
  });

  it('reports a line that is not UTF-8, and the lines around it stay intact', () => {
    const data = Buffer.concat([bytes('a\n'), Buffer.from([0xff, 0xfe, 0x41, 0x0a]), bytes('b\n')]);
    expect(feed(new LineDecoder(64), data)).toEqual([
      { kind: 'line', text: 'a' },
      { kind: 'not-utf8', bytes: 3 },
      { kind: 'line', text: 'b' },
    ]);
  });

  it('at the end, reports bytes after the last \\n as unterminated (never as a message)', () => {
    const d = new LineDecoder(64);
    expect(d.push(bytes('a\n{"id":1,"rep'))).toEqual([{ kind: 'line', text: 'a' }]);
    expect(d.end()).toEqual([{ kind: 'unterminated', bytes: 12 }]);
    expect(d.end()).toEqual([]);
    // An over-size partial line too.
    const e = new LineDecoder(4);
    e.push(bytes('0123456789'));
    expect(e.end()).toEqual([{ kind: 'unterminated', bytes: 10 }]);
  });

  it('refuses a limit that is not a positive whole number', () => {
    expect(() => new LineDecoder(0)).toThrow(/positive whole number/);
    expect(() => new LineDecoder(1.5)).toThrow(/positive whole number/);
  });

  it('encodeLine ends a message with \\n', () => {
    expect(encodeLine('{"type":"cast","body":1}')).toBe('{"type":"cast","body":1}\n');
  });
});
