/**
 * The link layer's types: identities, the link record, the events it
 * reports, its timing settings and its options. The behaviour they describe
 * is in link-layer.ts's header (and handshake.ts, failure-detector.ts,
 * outbox.ts for their parts).
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logger.js';
import type { LinkMessage, RejectCode, Role } from '../protocol.js';
import type { Random } from '../random.js';
import type { Conn, Transport } from '../transport/transport.js';

export interface LocalIdentity {
  readonly cluster: string;
  readonly name: string;
  readonly incarnation: string;
  readonly startedAt: number;
  readonly address: string;
  readonly role: Role;
  /** Dial as a client (pogo ctl, see the header): this node accepts no connections and its links carry commands only. */
  readonly client?: boolean;
}

export interface PeerIdentity {
  readonly name: string;
  readonly incarnation: string;
  readonly startedAt: number;
  readonly address: string;
  readonly role: Role;
}

export interface Link {
  readonly peer: PeerIdentity;
  /** The peer is a client (see the header): this link carries its commands and their replies only. */
  readonly client: boolean;
  readonly direction: 'in' | 'out';
  /** For an outgoing link, the address that was dialled. */
  readonly dialledAddress: string | undefined;
  readonly establishedAt: number;
  lastHeardAt: number;
  suspect: boolean;
  rttMs: number | undefined;
  /** The send time (this node's clock) of the newest ping of ours the peer echoed back: it heard us then. */
  confirmedAt: number | undefined;
  /** The seq of that ping: the peer has processed everything this node sent on the link before it. */
  confirmedSeq: number;
  /** @internal The peer's last ping, to echo in our next one: its `seq`, `sentAt` and when it arrived. */
  pingIn: { seq: number; sentAt: number; at: number } | undefined;
  /** The protocol version the peer announced in the handshake. */
  readonly protocol: ProtocolVersion;
  /** The peer's own failure-detection settings as it announced them (undefined: a 2.0 peer, taken to share ours). */
  readonly peerTiming: HeartbeatTiming | undefined;
  /** This link's ping interval and silence thresholds (`linkHeartbeat`): the same at both ends, unless the peer is of protocol 2.0. */
  readonly timing: HeartbeatTiming;
  /** @internal When this link's next ping is due (this node's clock). */
  nextPingAt: number;
  /** @internal */
  readonly conn: Conn;
  /** @internal Frames waiting for the next flush (peers that read batches). */
  outbox: LinkMessage[];
  /** @internal Estimated size of the outbox, bytes. */
  outboxBytes: number;
  /** @internal The pending flush. */
  flushTimer: TimerHandle | undefined;
  /** @internal A flush is queued for the end of this turn's microtasks (a call frame waits). */
  flushQueued: boolean;
}

export interface ProtocolVersion {
  readonly major: number;
  readonly minor: number;
}

/** Why a dial failed: a code the peer sent or this side's own reason; `unreachable`, `already-linked` and `not-a-member` never go on the wire. */
export type DialFailureCode = RejectCode | 'unreachable' | 'already-linked' | 'not-a-member' | 'tls';

export interface DialFailure {
  code: DialFailureCode;
  message: string;
  /** The name of the node that answered, when the handshake got that far. */
  peerName?: string;
}

/**
 * What the link layer reports. Calls are synchronous and never concurrent;
 * handlers must not throw (a throw is caught and logged).
 */
export interface LinkEvents {
  linkUp(link: Link): void;
  /**
   * The link is gone; `byPeer`: the peer closed it on purpose (its process was alive: it timed us out, or
   * replaced the link), or it closed as this node ran again after a stall past the suspect time (failure-detector.ts).
   */
  linkDown(link: Link, reason: string, byPeer: boolean): void;
  message(link: Link, message: LinkMessage): void;
  /** The link's `suspect` flag changed (either way). */
  suspect(link: Link): void;
  dialFailed(address: string, failure: DialFailure): void;
  /** The peer echoed a newer ping of ours (`Link.confirmedSeq` grew): it has processed everything sent before that ping. */
  confirmed(link: Link): void;
  /** Client links (see the header); without these, a client's hello is refused. None of the events above fires for a client link. */
  client?: ClientLinkEvents;
}

/** What the link layer reports of client links (same contract as LinkEvents). */
export interface ClientLinkEvents {
  up(link: Link): void;
  down(link: Link, reason: string): void;
  message(link: Link, message: LinkMessage): void;
}

/** A node's failure-detection settings, or one link's (derived from both ends' by `linkHeartbeat`). */
export interface HeartbeatTiming {
  /** How often the link is pinged, in ms. */
  heartbeatIntervalMs: number;
  /** Silence after which the link is reported suspect, in ms. */
  suspectAfterMs: number;
  /** Silence after which the link is closed and the peer declared down, in ms. */
  heartbeatTimeoutMs: number;
}

/** Counters of a LinkLayer since it was created (`node.status().stats`): frames and batches, bad input, own stalls. */
export interface LinkStats {
  /** Frames received from peers and clients (handshake and link frames, each frame of a batch counted), including invalid ones. */
  framesIn: number;
  /** Link messages sent (each message counted, whether it went alone or in a batch). */
  framesOut: number;
  /** Batches sent: transport frames that carried more than one link message. */
  batchesOut: number;
  /** Frames handed to the transport (a batch counts once). */
  transportFramesOut: number;
  /** Frames received that failed to decode or validate (dropped and logged, never fatal). */
  invalidFrames: number;
  /** Handshakes refused or failed (bad secret, wrong cluster, malformed, ...), except simultaneous dials and duplicate links. */
  handshakesRejected: number;
  /** Milliseconds this node's own timers ran late (event-loop stalls), credited to its links so they are not suspected for them. */
  stalledMs: number;
}

export interface LinkTiming extends HeartbeatTiming {
  /** Longest a connection may take to complete the handshake, in ms. */
  handshakeTimeoutMs: number;
}

/** The link layer's section of the node's config (config-sections.ts maps the flat config onto it). */
export interface LinkConfig {
  /** The cluster secret both ends prove they hold (handshake.ts). */
  secret: string;
  /** Failure detection and the handshake's time limit. */
  timing: LinkTiming;
  /** Connections allowed in their handshake at once; more are refused. */
  maxPendingHandshakes: number;
}

export interface LinkLayerOptions {
  identity: LocalIdentity;
  /** The settings, the node config's `link` section whole. */
  config: LinkConfig;
  transport: Transport;
  clock: Clock;
  random: Random;
  log: Logger;
  events: LinkEvents;
}
