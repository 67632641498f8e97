/**
 * Framing of the `json-lines` child protocol (ipc-protocol.ts): a byte
 * stream cut into lines at `\n`, each line decoded as UTF-8. Pure: it knows
 * nothing of JSON, sockets or children, and is fed whatever chunks the
 * stream delivers.
 *
 * - Lines are cut on the byte 0x0A. That byte never occurs inside a
 *   multi-byte UTF-8 sequence, so cutting bytes before decoding is safe, and
 *   a character split across two chunks is joined again before it is
 *   decoded (decoding each chunk on its own would mangle it).
 * - A `\r` before the `\n` is dropped (a child writing CRLF is understood);
 *   an empty line is skipped, never reported.
 * - A line longer than `maxLineBytes` (not counting the `\n`) is not
 *   buffered: the decoder keeps its first HEAD_BYTES bytes, discards the
 *   rest up to the next `\n`, and reports it as `too-large` with its length
 *   and head (the caller reads the reply id from the head:
 *   `replyIdOfHead` in ipc-protocol.ts). Memory held per stream is at most
 *   `maxLineBytes` plus one chunk.
 * - A line that is not valid UTF-8 is reported as `not-utf8`.
 * - At the end of the stream, bytes after the last `\n` are reported as
 *   `unterminated` (a child that died mid-line), never taken as a message.
 */

/** Bytes of an over-size line kept for the report (enough for `{"id":123456789012345,`). */
export const HEAD_BYTES = 64;

export type LineEvent =
  | { kind: 'line'; text: string }
  | { kind: 'too-large'; bytes: number; head: string }
  | { kind: 'not-utf8'; bytes: number }
  | { kind: 'unterminated'; bytes: number };

const NEWLINE = 0x0a;
const CR = 0x0d;

export class LineDecoder {
  /** Bytes of the current line so far (not yet ended by `\n`), when it is within the limit. */
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** Set while skipping an over-size line: its length so far and its head. */
  private skipping: { bytes: number; head: string } | undefined;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  constructor(readonly maxLineBytes: number) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) throw new RangeError(`maxLineBytes must be a positive whole number, got ${maxLineBytes}`);
  }

  /** Feeds one chunk; returns the events of every line it completes (in order). */
  push(chunk: Uint8Array): LineEvent[] {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const events: LineEvent[] = [];
    let from = 0;
    while (from < buf.length) {
      const nl = buf.indexOf(NEWLINE, from);
      const end = nl < 0 ? buf.length : nl;
      this.take(buf.subarray(from, end));
      if (nl < 0) break;
      const event = this.finishLine();
      if (event) events.push(event);
      from = nl + 1;
    }
    return events;
  }

  /** The stream ended: reports a last line that had no `\n` (never decoded as a message). */
  end(): LineEvent[] {
    const bytes = this.skipping ? this.skipping.bytes : this.partBytes;
    this.reset();
    return bytes > 0 ? [{ kind: 'unterminated', bytes }] : [];
  }

  /** Adds bytes to the current line, switching to skipping once it passes the limit. */
  private take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.skipping) {
      this.skipping.bytes += piece.length;
      return;
    }
    // One byte of room for a `\r` before the `\n`, which does not count (checked again in finishLine).
    if (this.partBytes + piece.length > this.maxLineBytes + 1) {
      // Keep only the head; the rest of the line is counted and dropped.
      const line = Buffer.concat([...this.parts, piece.subarray(0, Math.max(0, HEAD_BYTES - this.partBytes))]);
      this.skipping = { bytes: this.partBytes + piece.length, head: line.subarray(0, HEAD_BYTES).toString('utf8') };
      this.parts = [];
      this.partBytes = 0;
      return;
    }
    this.parts.push(piece);
    this.partBytes += piece.length;
  }

  private finishLine(): LineEvent | undefined {
    if (this.skipping) {
      const { bytes, head } = this.skipping;
      this.reset();
      return { kind: 'too-large', bytes, head };
    }
    let line = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partBytes);
    this.reset();
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    if (line.length === 0) return undefined;
    if (line.length > this.maxLineBytes) return { kind: 'too-large', bytes: line.length, head: line.subarray(0, HEAD_BYTES).toString('utf8') };
    try {
      return { kind: 'line', text: this.utf8.decode(line) };
    } catch {
      return { kind: 'not-utf8', bytes: line.length };
    }
  }

  private reset(): void {
    this.parts = [];
    this.partBytes = 0;
    this.skipping = undefined;
  }
}

/** One message as a protocol line: its JSON text and the `\n`. */
export function encodeLine(json: string): string {
  return `${json}\n`;
}
