/**
 * A bounded ring of output lines for one child: the newest `capacity` lines
 * are kept, each cut to `maxLineBytes`, so a chatty child costs bounded memory.
 */
export interface OutputLine {
  /** Monotonic sequence number across both streams (lets readers page). */
  seq: number;
  /** When the line was written (ms, the supervisor's clock). */
  at: number;
  /** The stream it was written to. */
  stream: 'stdout' | 'stderr';
  /** The line, without its line break, cut to the ring's longest line. */
  text: string;
}

export class LogRing {
  private readonly lines: OutputLine[] = [];
  private nextSeq = 1;
  private partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  dropped = 0;

  constructor(
    readonly capacity = 1000,
    readonly maxLineBytes = 4096,
  ) {}

  /** Feeds a chunk of a stream; complete lines go into the ring. */
  write(stream: 'stdout' | 'stderr', chunk: string, at: number): void {
    let text = this.partial[stream] + chunk;
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      this.push(stream, text.slice(0, nl).replace(/\r$/, ''), at);
      text = text.slice(nl + 1);
    }
    // An endless line without a newline is cut into pieces rather than held forever.
    while (text.length > this.maxLineBytes) {
      this.push(stream, text.slice(0, this.maxLineBytes), at);
      text = text.slice(this.maxLineBytes);
    }
    this.partial[stream] = text;
  }

  /** Flushes unterminated last lines (when the process exits). */
  end(at: number): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream] !== '') this.push(stream, this.partial[stream], at);
      this.partial[stream] = '';
    }
  }

  /** Lines with `seq` greater than `afterSeq`, oldest first, at most `limit`. */
  read(afterSeq = 0, limit = this.capacity): OutputLine[] {
    const out = this.lines.filter((l) => l.seq > afterSeq);
    return out.slice(Math.max(0, out.length - limit));
  }

  private push(stream: 'stdout' | 'stderr', text: string, at: number): void {
    const cut = text.length > this.maxLineBytes ? `${text.slice(0, this.maxLineBytes)}…` : text;
    this.lines.push({ seq: this.nextSeq++, at, stream, text: cut });
    if (this.lines.length > this.capacity) {
      this.lines.shift();
      this.dropped++;
    }
  }
}
