/**
 * How a frame becomes the text a Socket.IO packet carries, encoded once for
 * every link it goes to.
 *
 * Socket.IO's own encoder does two things per `emit`: it walks the whole
 * value looking for binary attachments (`hasBinary`), then
 * `JSON.stringify`s it. A broadcast goes to every peer, so both ran once
 * per peer over the same objects: a child's register once per member at
 * 20 members, a 1,000-register `rs.delta` part nineteen times. One node
 * making 20,000 `startChild` calls at 20 members spent most of its CPU
 * there (and on the estimate below), long enough for its peers to time its
 * links out (docs/performance.md).
 *
 * `FrameEncoder` (Socket.IO's `parser` option on both ends) writes the
 * packets this transport sends — one `m` event on the main namespace, no
 * acknowledgement id — without the binary walk (a frame is a JSON value by
 * contract: transport.ts) and with `encodeFrame`'s text; every other packet
 * (connect, disconnect, anything Socket.IO itself sends) goes through the
 * stock encoder. The text is exactly what `JSON.stringify` would write, so
 * peers read it with the stock decoder and the wire does not change
 * (frame-encoder.test.ts holds the two equal).
 *
 * Encoded once: the objects a sender hands to several links unchanged —
 * `pg.join` and `pg.leave` messages (process groups broadcast one message
 * object to every peer) and the `entries` of `rs.delta` (the store sends
 * one part to every peer, each in its own envelope with its own sequence
 * number). Their text is kept in a WeakMap keyed by the object, so it lives
 * exactly as long as the message does; registers themselves (held for the
 * life of the store) are never keys. Objects are frozen or never changed
 * once sent (groups/, store/), which is what makes the cache sound.
 */
import { createRequire } from 'node:module';
import type { Encoder as StockEncoder, Packet } from 'socket.io-parser';

/** Socket.IO's parser module (CommonJS: for an ES module importer on Node its package resolves to its debug build). */
const stock = createRequire(import.meta.url)('socket.io-parser') as typeof import('socket.io-parser');

/** Text of objects sent to several links (see the header). */
const texts = new WeakMap<object, string>();

/** Message types whose object is handed to every peer unchanged. */
const SHARED_TYPES: ReadonlySet<unknown> = new Set(['pg.join', 'pg.leave']);

/** The JSON text of `frame`: `JSON.stringify(frame)`, with the shared parts encoded once (see the header). */
export function encodeFrame(frame: unknown): string | undefined {
  if (!isPlainRecord(frame)) return JSON.stringify(frame);
  if (frame['t'] === 'batch' && Array.isArray(frame['frames'])) {
    return writeRecord(frame, 'frames', (frames) => {
      let text = '[';
      const list = frames as unknown[];
      for (let i = 0; i < list.length; i++) text += (i === 0 ? '' : ',') + (encodeMessage(list[i]) ?? 'null');
      return `${text}]`;
    });
  }
  return encodeMessage(frame);
}

function encodeMessage(frame: unknown): string | undefined {
  if (!isPlainRecord(frame)) return JSON.stringify(frame);
  if (SHARED_TYPES.has(frame['t'])) return kept(frame, () => JSON.stringify(frame));
  const entries = frame['entries'];
  if (frame['t'] === 'rs.delta' && Array.isArray(entries)) return writeRecord(frame, 'entries', () => kept(entries, () => JSON.stringify(entries)));
  return JSON.stringify(frame);
}

/** The kept text of `o`, written by `write` the first time. */
function kept(o: object, write: () => string): string {
  let text = texts.get(o);
  if (text === undefined) {
    text = write();
    texts.set(o, text);
  }
  return text;
}

/** `JSON.stringify(o)` for a plain object whose property `special` (an array) is written by `write`, the rest by JSON.stringify. */
function writeRecord(o: Record<string, unknown>, special: string, write: (value: unknown) => string): string {
  let text = '{';
  let first = true;
  for (const key in o) {
    if (!Object.hasOwn(o, key)) continue;
    const value = o[key];
    // As JSON.stringify: a property whose value JSON cannot write (undefined, a function) is left out.
    const written = key === special ? write(value) : (JSON.stringify(value) as string | undefined);
    if (written === undefined) continue;
    text += `${first ? '' : ','}${JSON.stringify(key)}:${written}`;
    first = false;
  }
  return `${text}}`;
}

/** A plain object without toJSON: its text may be written piece by piece. */
function isPlainRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return (proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}

const EVENT = stock.PacketType.EVENT;

/** The encoder of Socket.IO's `parser` option (see the header). */
export class FrameEncoder extends stock.Encoder {
  override encode(packet: Packet): ReturnType<StockEncoder['encode']> {
    const data = packet.data as unknown;
    if (
      packet.type === EVENT &&
      (packet.nsp === '/' || packet.nsp === undefined) &&
      (packet.id === undefined || packet.id === null) &&
      Array.isArray(data) &&
      data.length === 2 &&
      data[0] === 'm'
    ) {
      const text = encodeFrame(data[1]);
      if (text !== undefined) return [`${EVENT}["m",${text}]`];
    }
    return super.encode(packet);
  }
}

/** Socket.IO's `parser` option: the stock parser with `FrameEncoder`. */
export const frameParser = { ...stock, Encoder: FrameEncoder };
