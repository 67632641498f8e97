/**
 * transport/frame-encoder.ts writes exactly what Socket.IO's stock encoder
 * writes (so peers read it with the stock decoder and the wire does not
 * change), and writes a shared part once for every link it goes to. The
 * one difference by design: binary inside a frame is written as JSON.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { FrameEncoder, encodeFrame } from '../src/transport/frame-encoder.js';

const stock = createRequire(import.meta.url)('socket.io-parser') as typeof import('socket.io-parser');
const EVENT = stock.PacketType.EVENT;

/** What each encoder writes for one packet. */
function both(packet: import('socket.io-parser').Packet): [unknown, unknown] {
  return [new FrameEncoder().encode(structuredClone(packet)), new stock.Encoder().encode(structuredClone(packet))];
}

const m = (frame: unknown) => ({ type: EVENT, nsp: '/', data: ['m', frame] });

// Values as frames carry them: JSON values, and objects with properties JSON leaves out (undefined).
const value = fc.letrec((tie) => ({
  any: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 2 }), tie('record'), fc.array(tie('any'), { maxLength: 3 })),
  record: fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(tie('any'), fc.constant(undefined)), { maxKeys: 4 }),
})).any;
const store = (t: string) =>
  fc.record({
    t: fc.constant(t),
    scope: fc.string({ maxLength: 8 }),
    seq: fc.nat(),
    entries: fc.array(fc.tuple(fc.string({ maxLength: 8 }), value), { maxLength: 4 }),
    more: fc.option(fc.constant(true), { nil: undefined }),
  });
const join = fc.record({
  t: fc.constant('pg.join'),
  scope: fc.string({ maxLength: 8 }),
  group: fc.string({ maxLength: 8 }),
  entries: fc.array(fc.record({ pid: fc.string({ maxLength: 8 }), value }), { maxLength: 3 }),
});
const message = fc.oneof(store('rs.delta'), store('rs.regs'), join, fc.record({ t: fc.constant('ping'), seq: fc.nat() }), value);
const frame = fc.oneof(message, fc.record({ t: fc.constant('batch'), frames: fc.array(message, { maxLength: 5 }) }));

describe('frame encoder', () => {
  it('writes every frame exactly as the stock encoder does: batches, store parts, pg messages, any JSON value', () => {
    fc.assert(
      fc.property(frame, (f) => {
        const [ours, theirs] = both(m(f));
        expect(ours).toEqual(theirs);
        // Encoded again (the kept texts now in use), still the same.
        expect(new FrameEncoder().encode(m(f))).toEqual(new stock.Encoder().encode(m(f)));
      }),
      { numRuns: 3000, seed: 4242 },
    );
  });

  it('leaves every other packet to the stock encoder: connect with auth, acknowledgements, other namespaces, other events, binary', () => {
    const packets = [
      { type: stock.PacketType.CONNECT, nsp: '/', data: { token: 'x' } },
      { type: stock.PacketType.DISCONNECT, nsp: '/' },
      { type: EVENT, nsp: '/', id: 7, data: ['m', { t: 'ping' }] },
      { type: EVENT, nsp: '/admin', data: ['m', { t: 'ping' }] },
      { type: EVENT, nsp: '/', data: ['other', { t: 'ping' }] },
      { type: EVENT, nsp: '/', data: ['m', { t: 'ping' }, 'extra'] },
      { type: EVENT, nsp: '/', data: ['m', undefined] },
    ];
    for (const p of packets) {
      const [ours, theirs] = both(p);
      expect(ours).toEqual(theirs);
    }
  });

  it('writes binary inside a frame as JSON (a Buffer by its toJSON), never as an attachment the receiver drops with its whole batch', () => {
    const f = {
      t: 'batch',
      frames: [
        { t: 'ping', seq: 1 },
        { t: 'call.reply', body: Buffer.from('abc') },
      ],
    };
    expect(new FrameEncoder().encode(m(f))).toEqual([`2["m",${JSON.stringify(f)}]`]);
    expect(new stock.Encoder().encode(m(f))).toHaveLength(2); // the stock encoder: a binary packet and its attachment
  });

  it('writes a shared part once: a pg message and the entries of a store part keep their text while they live', () => {
    const entries = [['c:a', { specs: [{ rev: '1', spec: { id: 'a' } }] }]];
    const part = (seq: number) => ({ t: 'rs.delta', scope: 'pogo', seq, entries });
    const joinMessage = { t: 'pg.join', scope: 'pogo', group: 'run:a', entries: [{ pid: 'n1/x/1', value: { rev: '1' } }] };
    const stringify = vi.spyOn(JSON, 'stringify');
    let first: string | undefined;
    let second: string | undefined;
    try {
      first = encodeFrame({ t: 'batch', frames: [part(1), joinMessage] });
      // Another peer's batch: its own envelope (sequence number) around the same entries, the same pg message.
      second = encodeFrame({ t: 'batch', frames: [part(2), joinMessage] });
      expect(stringify.mock.calls.filter(([v]) => v === entries)).toHaveLength(1);
      expect(stringify.mock.calls.filter(([v]) => v === joinMessage)).toHaveLength(1);
    } finally {
      stringify.mockRestore();
    }
    expect(first).toBe(JSON.stringify({ t: 'batch', frames: [part(1), joinMessage] }));
    expect(second).toBe(JSON.stringify({ t: 'batch', frames: [part(2), joinMessage] }));
  });

  it('decodes with the stock decoder to the value the stock encoder would have sent', () => {
    fc.assert(
      fc.property(frame, (f) => {
        const [text] = new FrameEncoder().encode(m(f)) as [string];
        const decoder = new stock.Decoder();
        let got: unknown;
        decoder.on('decoded', (p: { data?: unknown[] }) => (got = p.data?.[1]));
        decoder.add(text);
        expect(got).toEqual(JSON.parse(JSON.stringify(f)));
      }),
      { numRuns: 500, seed: 77 },
    );
  });
});
