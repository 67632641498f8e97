/**
 * How a message reaches one running instance of a child (issue 16).
 *
 * The distributed layer routes a `call` or `cast` to the node that runs the
 * child; there the local supervisor hands it to the instance's channel. A
 * channel is what a kind of child offers to take messages:
 *
 * - a worker registers `ctx.onMessage(handler)`: the handler's return value
 *   (or resolved promise) is the reply, a throw is `handler-error`;
 * - an OS-process child opts in with `ipc: 'json-lines'` (a line protocol on
 *   a file descriptor) or `ipc: 'node'` (Node.js's own IPC channel).
 *
 * A child with no handler has a channel that fails with `no-handler`; a
 * child of a kind that cannot take messages has none (`channel` undefined),
 * which the caller reports as `no-handler` too.
 *
 * Delivery is at most once: a channel never retries. A reply that does not
 * come within the caller's `timeoutMs` is `timeout`, and a late reply is
 * dropped, never delivered to a later call.
 */
import type { JsonValue } from '../groups.js';

/** How long a call waits for its reply when it names no timeout (ms). */
export const DEFAULT_CALL_TIMEOUT_MS = 5_000;

/** The codes a MessageError can carry. */
export const MESSAGE_ERROR_CODES = ['not-found', 'not-running', 'no-handler', 'handler-error', 'timeout', 'too-large', 'overloaded'] as const;
/** Why a message or call to a child failed. */
export type MessageErrorCode = (typeof MESSAGE_ERROR_CODES)[number];

/** A call or cast that failed; `code` says how (see MESSAGE_ERROR_CODES). */
export class MessageError extends Error {
  constructor(
    /** How the call or cast failed, for programs to test. */
    readonly code: MessageErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MessageError';
  }
}

/** The message channel to one local child: send a message or make a call. */
export interface ChildChannel {
  /**
   * Delivers `body` to the instance and resolves with its reply, or rejects
   * with a MessageError (`no-handler`, `handler-error`, `timeout`,
   * `too-large`). Never rejects with anything else.
   */
  call(body: JsonValue, timeoutMs: number): Promise<JsonValue>;
  /** Delivers `body` without waiting for a reply; throws MessageError('no-handler') when nothing listens. */
  cast(body: JsonValue): void;
}
