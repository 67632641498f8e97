/**
 * The Transport seam: the one narrow interface between the cluster logic and
 * the network (after hashicorp/memberlist's transport.go).
 *
 * A transport moves JSON-compatible values over ordered, reliable,
 * bidirectional connections. It knows nothing about nodes, names or secrets:
 * authentication, the one-link-per-pair rule and failure detection live above
 * it, in `link.ts`, so they behave identically on every transport.
 *
 * Contract for implementations:
 * - Messages on one connection arrive in the order they were sent (per-pair
 *   FIFO, as Erlang distribution and one WebSocket both guarantee).
 * - `onOpen` fires at most once, before any `onMessage`; `onClose` fires
 *   exactly once, after which nothing else fires. A dial that fails fires
 *   `onClose` without `onOpen`.
 * - Handlers are never called synchronously from `dial`, `send` or `close`,
 *   and a handler that throws is caught by the caller of the handler, never
 *   by the transport's I/O loop. Values received are untrusted: the link
 *   layer validates every one.
 * - A transport that refuses connections by itself, below the link layer
 *   (TLS failures, malformed HTTP, its own connection limits), logs each
 *   refusal with its reason to the logger given to `useLog`.
 */
import type { Logger } from '../logger.js';

/**
 * Why a dial failed when what answered there will not link with this node
 * as it is configured, whatever the retries: `tls`, the two ends disagree on
 * TLS (the peer's certificate is not one this node trusts, the peer does not
 * speak TLS, or it serves TLS to a node that does not). A live service
 * answers there — most likely the cluster itself — so it counts as a refusal
 * (membership.ts `REFUSALS`), not as nobody there yet.
 */
export type TransportRefusal = 'tls';

/** The callbacks a transport calls for a connection (message, close). */
export interface ConnHandlers {
  /** The connection is open; fires at most once, before any message. */
  onOpen(): void;
  /** A message arrived (untrusted: validate it). */
  onMessage(message: unknown): void;
  /**
   * The connection closed, with why; fires exactly once, and nothing fires after it. `byPeer`: the
   * other end closed it on purpose, so its process was alive then (not a reset, a lost connection
   * or this end's own close). `refused`: a dial that failed because what answered will not link
   * with this node as configured (`TransportRefusal`).
   */
  onClose(reason: string, byPeer?: boolean, refused?: TransportRefusal): void;
  /** A frame arrived that the transport could not accept (e.g. an unknown event); it was dropped. */
  onInvalid?(reason: string): void;
}

/** One connection of a transport: send frames, close, learn the peer's address. */
export interface Conn {
  /** Unique per transport instance, for logs. */
  readonly id: string;
  /** `out` when this side dialled. */
  readonly direction: 'in' | 'out';
  /** The address dialled (out) or the remote socket address (in), for logs. */
  readonly remote: string;
  /**
   * Incoming connections only: set when the transport authenticated the peer
   * itself and refused it (a TLS client certificate that does not chain to
   * the pinned CA). The link layer then refuses the connection with this
   * reason before any handshake, so both sides log why.
   */
  readonly authError?: string;
  /** Handlers must be set synchronously, right after `dial` or inside `onConnection`. */
  setHandlers(handlers: ConnHandlers): void;
  /** Queues a message; a no-op once closed. */
  send(message: unknown): void;
  /**
   * Closes the connection; the peer sees `onClose` too (unless the network lost it). `abrupt`: as
   * a process that dies would, so that the peer sees the connection drop, not a close made on purpose.
   */
  close(reason: string, abrupt?: boolean): void;
}

/** The seam between a node and its network: listen, connect, close. */
export interface Transport {
  /** Starts accepting connections. Resolves with the bound address (`host:port`). */
  listen(onConnection: (conn: Conn) => void): Promise<string>;
  /** Dials `address` (`host:port`). The result reports `onOpen` or `onClose`. */
  dial(address: string): Conn;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
  /** Bytes carried so far, where the transport can count them. */
  readonly bytes?: { in: number; out: number };
  /** Where to log the refusals the transport makes itself (the link layer passes the node's logger). */
  useLog?(log: Logger): void;
}
