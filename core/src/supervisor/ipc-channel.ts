/**
 * The ChildChannel (child-channel.ts) of an OS-process child that opted in
 * with `ipc` in its spec: calls and casts out, replies back, over a port —
 * a stream socket carrying json-lines, or Node's IPC channel (ipc-ports.ts).
 * The messages are in ipc-protocol.ts.
 *
 * A call takes the next id, is written out and waits in `pending` for the
 * child's `{"id":N,…}` or for its timer (the injected clock):
 *
 *   reply            → resolved with it
 *   {"error":…}      → `handler-error` with the child's message
 *   no reply in time → `timeout`; the id leaves `pending`, so a late reply is
 *                      "no pending call" (logged, dropped) and can never
 *                      answer a later call (ids are never reused). A timer
 *                      that runs late (the node was frozen) expires the
 *                      call a turn later, after the poll phase: a reply the
 *                      child wrote in time, waiting in the socket, answers
 *                      it (race "a caller woken from a freeze",
 *                      distributed/call-table.ts)
 *   too-large reply  → `too-large` when its line starts with its id, else the
 *                      call times out (the line is dropped, id unknown)
 *   instance gone    → `not-running` (see below)
 *
 * Refused at once, before anything is written:
 *
 *   message over `maxMessageBytes`           → `too-large`
 *   more than `maxQueuedBytes` not yet taken → `timeout` (the child is not
 *     by the child (backpressure)              reading; waiting would not help
 *                                              within any sensible timeout)
 *   the child closed its end of the channel → `no-handler` (nothing listens)
 *   the instance exited                      → `not-running`
 *
 * A cast is refused the same ways, by throwing the MessageError; once
 * written, nothing more is known of it (at most once).
 *
 * The end of an instance, and why pending calls fail with `not-running`:
 * the router needs "this instance is gone: wait for the next one" for them.
 * The call was written to the child and may have been handled, so the router
 * must not resend it to the next instance if it promises at most once.
 *
 * Race: a child writes its reply and exits at once. The process's `exit`
 * can be seen before the reply is read from the socket, so pending calls
 * are failed only when both the exit was seen (`exited`) and the child's
 * side of the channel has ended (`inputEnded`: every reply it wrote has been
 * read). A channel whose input never ends (a grandchild that escaped the
 * process group holds the descriptor) leaves its pending calls to their
 * timeouts, which always bound them.
 *
 * A child that closes its end but keeps running: later calls fail at once
 * with `no-handler`; calls already written can no longer be answered and
 * fail with `not-running` when it exits, or with `timeout`.
 *
 * Dropped input (bad lines, unknown ids) is logged with its reason: the
 * first DROP_LOG_FIRST of an instance each, then one in DROP_LOG_EVERY, so
 * a child that floods its channel cannot flood the node's log.
 */
import { setDeadline, type Clock, type TimerHandle } from '../clock.js';
import type { JsonValue } from '../groups.js';
import type { Logger } from '../logger.js';
import { MessageError, type ChildChannel } from './child-channel.js';
import { decodeChildLine, decodeChildMessage, encodeCall, encodeCast, replyIdOfHead, type ChildMessage, type NodeToChildMessage } from './ipc-protocol.js';
import type { LineEvent } from './line-codec.js';

/** Default longest message either way, in bytes of JSON (a json-lines line without its `\n`). */
export const DEFAULT_IPC_MAX_MESSAGE_BYTES = 1024 * 1024;
/** Default most bytes written but not yet taken by the child, before calls are refused. */
export const DEFAULT_IPC_MAX_QUEUED_BYTES = 4 * 1024 * 1024;
export const DROP_LOG_FIRST = 10;
export const DROP_LOG_EVERY = 1000;

/** Whether the `n`th dropped input of an instance (from 1) is logged. */
export function shouldLogDrop(n: number): boolean {
  return n <= DROP_LOG_FIRST || n % DROP_LOG_EVERY === 0;
}

/** Where a channel's messages go: one transport to one child (ipc-ports.ts). */
export interface IpcPort {
  /** Names the transport in errors and logs ("fd 3", "the Node.js IPC channel"). */
  readonly via: string;
  /**
   * Sends one message (`text` is its JSON, `message` the same as an object).
   * Calls `done` exactly once, when the transport has handed it to the OS or
   * failed (never synchronously required; never throws).
   */
  send(text: string, message: NodeToChildMessage, done: (err?: Error | null) => void): void;
}

export interface IpcLimits {
  /** Longest message either way, bytes of JSON. */
  maxMessageBytes: number;
  /** Most bytes written but not yet taken by the child; then calls are refused with `timeout`. */
  maxQueuedBytes: number;
}

interface Pending {
  resolve(reply: JsonValue): void;
  reject(err: MessageError): void;
  timer: TimerHandle;
}

/** How often `settled` looks whether the calls under way have been answered, in ms. */
const SETTLE_POLL_MS = 10;

export class IpcChannel implements ChildChannel {
  /** The next call id; ids are never reused within an instance. */
  private nextId = 1;
  /** Calls written (or being written) and not yet answered, by id. */
  private readonly pending = new Map<number, Pending>();
  /** Bytes handed to the port whose `done` has not come yet. */
  private queuedBytes = 0;
  /** Set when the child's side has ended: no reply can come any more. */
  private inputClosed: string | undefined;
  /** Set when the process has exited (its exit described). */
  private exitedAs: string | undefined;
  /** Inputs dropped so far (for rate-limited logging). */
  private drops = 0;
  private port: IpcPort | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly limits: IpcLimits,
  ) {}

  /** Connects the transport; calls made before this are refused as `no-handler`. */
  attach(port: IpcPort): void {
    this.port = port;
  }

  /** Calls waiting for a reply. */
  get pendingCalls(): number {
    return this.pending.size;
  }

  /**
   * Resolves true once no call waits for a reply, false when some still do
   * after `withinMs` (or the process has exited). A planned move lets the
   * calls under way be answered before its stop (os-child.ts
   * `takeHandover`), looking every SETTLE_POLL_MS.
   */
  async settled(withinMs: number): Promise<boolean> {
    const until = this.clock.now() + withinMs;
    while (this.pending.size > 0 && this.exitedAs === undefined) {
      const left = until - this.clock.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => this.clock.setTimeout(resolve, Math.min(SETTLE_POLL_MS, left)));
    }
    return this.pending.size === 0;
  }

  /** Inputs from the child dropped so far (bad lines, unknown ids, too large). */
  get dropped(): number {
    return this.drops;
  }

  call(body: JsonValue, timeoutMs: number): Promise<JsonValue> {
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0))
      return Promise.reject(new MessageError('timeout', `timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}`));
    const id = this.nextId++;
    const text = encode(() => encodeCall(id, body));
    if (text instanceof MessageError) return Promise.reject(text);
    const tooMuch = this.overLimits(text);
    if (tooMuch) return Promise.reject(tooMuch);
    return new Promise<JsonValue>((resolve, reject) => {
      // Race "a caller woken from a freeze": a late timer lets the poll phase read a reply already in the socket first.
      const timer = setDeadline(this.clock, this.clock.now() + timeoutMs, () => {
        if (!this.pending.delete(id)) return;
        reject(new MessageError('timeout', `no reply from the child within ${timeoutMs} ms`));
      });
      this.pending.set(id, { resolve, reject, timer });
      this.write(text, { id, type: 'call', body });
    });
  }

  cast(body: JsonValue): void {
    const refused = this.refusal();
    if (refused) throw refused;
    const text = encode(() => encodeCast(body));
    if (text instanceof MessageError) throw text;
    const tooMuch = this.overLimits(text);
    if (tooMuch) throw tooMuch;
    this.write(text, { type: 'cast', body });
  }

  // ---- from the port ------------------------------------------------------

  /** One framing event from a json-lines stream (line-codec.ts). */
  onLine(event: LineEvent): void {
    switch (event.kind) {
      case 'line':
        return this.take(decodeChildLine(event.text));
      case 'too-large':
        return this.tooLarge(event.bytes, replyIdOfHead(event.head), event.head);
      case 'not-utf8':
        return this.drop(`a line of ${event.bytes} bytes that is not UTF-8`);
      case 'unterminated':
        return this.drop(`${event.bytes} bytes after the last newline when the channel ended (a message must end with \\n)`);
    }
  }

  /** One message from Node's IPC channel (already parsed by Node). */
  onMessage(value: unknown): void {
    let bytes: number;
    try {
      bytes = Buffer.byteLength(JSON.stringify(value) ?? '');
    } catch {
      return this.drop('a message that cannot be measured as JSON');
    }
    if (bytes > this.limits.maxMessageBytes) {
      const id = value !== null && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'number' ? (value as { id: number }).id : undefined;
      return this.tooLarge(bytes, id, undefined);
    }
    this.take(decodeChildMessage(value));
  }

  /** The child's side ended (EOF, disconnect, or a transport error): no more replies can come. */
  inputEnded(reason: string): void {
    if (this.inputClosed !== undefined) return;
    this.inputClosed = reason;
    if (this.exitedAs !== undefined) this.failPending();
  }

  /** The process exited (`how` describes it); pending calls fail once its input has ended too (race: replies still in the socket). */
  exited(how: string): void {
    if (this.exitedAs !== undefined) return;
    this.exitedAs = how;
    if (this.inputClosed !== undefined) this.failPending();
  }

  // ---- internals ----------------------------------------------------------

  private refusal(): MessageError | undefined {
    if (this.exitedAs !== undefined) return new MessageError('not-running', `the instance has exited (${this.exitedAs})`);
    if (this.inputClosed !== undefined || !this.port)
      return new MessageError('no-handler', `the child does not take messages: ${this.inputClosed ?? 'no channel'}`);
    return undefined;
  }

  private overLimits(text: string): MessageError | undefined {
    // Cheap first: a string of n UTF-16 units is at most 3n bytes of UTF-8.
    const bytes = text.length * 3 <= this.limits.maxMessageBytes ? text.length : Buffer.byteLength(text);
    if (bytes > this.limits.maxMessageBytes)
      return new MessageError('too-large', `the message is ${bytes} bytes of JSON; a child takes at most ${this.limits.maxMessageBytes}`);
    if (this.queuedBytes + bytes > this.limits.maxQueuedBytes) {
      return new MessageError(
        'timeout',
        `the child is not reading its messages: ${this.queuedBytes} bytes wait to be ` +
          `written to it over ${this.port!.via} (at most ${this.limits.maxQueuedBytes})`,
      );
    }
    return undefined;
  }

  private write(text: string, message: NodeToChildMessage): void {
    // UTF-16 units: a lower bound of the bytes, and free; the bound is a guard, not an accounting.
    const bytes = text.length + 1;
    this.queuedBytes += bytes;
    this.port!.send(text, message, (err) => {
      this.queuedBytes -= bytes;
      // A failed write means the child's end is gone; whether the process lives on is learnt from its exit.
      if (err) this.inputEnded(`writing to ${this.port!.via} failed: ${err.message}`);
    });
  }

  private take(message: ChildMessage): void {
    if (!message.ok) return this.drop(message.reason);
    const call = this.pending.get(message.id);
    if (!call) return this.drop(`a reply for id ${message.id}, which has no pending call (it timed out, or was never made)`);
    this.pending.delete(message.id);
    this.clock.clearTimeout(call.timer);
    if ('reply' in message) call.resolve(message.reply);
    else call.reject(new MessageError('handler-error', message.error));
  }

  private tooLarge(bytes: number, id: number | undefined, head: string | undefined): void {
    const call = id === undefined ? undefined : this.pending.get(id);
    if (call && id !== undefined) {
      this.pending.delete(id);
      this.clock.clearTimeout(call.timer);
      call.reject(new MessageError('too-large', `the child's reply is ${bytes} bytes; at most ${this.limits.maxMessageBytes} are taken`));
    }
    this.drop(
      `a message of ${bytes} bytes (at most ${this.limits.maxMessageBytes})${call ? `: call ${id} failed with too-large` : ''}`,
      head === undefined ? {} : { head },
    );
  }

  private drop(reason: string, fields: Record<string, unknown> = {}): void {
    this.drops++;
    if (!shouldLogDrop(this.drops)) return;
    const more = this.drops === DROP_LOG_FIRST ? `; further drops are logged once per ${DROP_LOG_EVERY}` : '';
    this.log.warn({ ...fields, dropped: this.drops, via: this.port?.via }, `dropped input from the child: ${reason}${more}`);
  }

  private failPending(): void {
    for (const [id, call] of this.pending) {
      this.pending.delete(id);
      this.clock.clearTimeout(call.timer);
      call.reject(
        new MessageError('not-running', `the instance exited (${this.exitedAs}) before it replied; the message was delivered and may have been handled`),
      );
    }
  }
}

/**
 * Encodes a message, or says why its body cannot be sent. The router checks
 * bodies before they get here; this only keeps a bad one from becoming a
 * broken line. `handler-error` is the nearest code: the message cannot be handled.
 */
function encode(make: () => string | undefined): string | MessageError {
  try {
    return make() ?? new MessageError('handler-error', 'the message body is not JSON (undefined or a function)');
  } catch (err) {
    return new MessageError('handler-error', `the message body is not JSON: ${(err as Error).message}`);
  }
}
