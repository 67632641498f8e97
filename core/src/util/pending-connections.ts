/**
 * The TCP connections an HTTP server has accepted that have not yet become
 * Socket.IO connections — unauthenticated, so whoever is on the other end
 * of the port decides how many there are. Used by the cluster port
 * (transport/socketio.ts) and the gateway (observer/server.ts).
 *
 * Bounded two ways:
 * - at most `max` at once: one more closes the **oldest** of them, not the
 *   newcomer. An honest client becomes a Socket.IO connection within a few
 *   round trips, so it is never the oldest for long, while connections held
 *   open and silent are (closing the newcomer instead let 300 of them keep
 *   every peer, `pogo ctl` and observer out of a node);
 * - each must become a Socket.IO connection within `idleMs`, or it is
 *   closed: one that sends nothing at all is not covered by the HTTP
 *   server's header and request timeouts.
 *
 * Connections that did become Socket.IO connections (`upgraded`) are no
 * longer counted here: whatever limits them is the layer above's.
 *
 * Race "closed while evicted": a socket evicted as the oldest still emits
 * `close`; it is found by identity, so it never removes a newer connection
 * from the same address and port. `upgraded` finds it by address and port
 * instead: under TLS, Socket.IO's request holds the TLS socket, not the TCP
 * socket the server accepted.
 */
import type { Server, Socket } from 'node:net';

export interface PendingConnectionsOptions {
  /** Connections open at once without having become Socket.IO connections. */
  max: number;
  /** How long one may stay so, ms. */
  idleMs: number;
  /** A connection closed here, and why ('too-many-connections' or 'idle'), for the caller's log and counters. */
  refused(kind: 'too-many-connections' | 'idle', remote: string | undefined, reason: string): void;
}

/** `remoteAddress|remotePort`: the same for a TCP socket and the TLS socket over it. */
function socketKey(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}|${socket.remotePort ?? '?'}`;
}

export class PendingConnections {
  private readonly open = new Map<string, Socket>();

  constructor(private readonly o: PendingConnectionsOptions) {}

  /** Counts every connection `server` (HTTP or HTTPS) accepts from now on. */
  watch(server: Server): void {
    server.on('connection', (socket: Socket) => this.admit(socket));
  }

  /** Connections open now that have not become Socket.IO connections. */
  get size(): number {
    return this.open.size;
  }

  /** `socket` (the connection under a Socket.IO connection) became one: it is no longer pending. */
  upgraded(socket: Socket | undefined): void {
    if (socket === undefined) return;
    const key = socketKey(socket);
    this.open.get(key)?.setTimeout(0);
    this.open.delete(key);
  }

  /** Closes every pending connection (the server is closing). */
  closeAll(): void {
    for (const socket of this.open.values()) socket.destroy();
    this.open.clear();
  }

  private admit(socket: Socket): void {
    if (this.open.size >= this.o.max) {
      // Room for the newcomer: the oldest goes (a Map iterates in insertion order).
      const [oldestKey, oldest] = this.open.entries().next().value as [string, Socket];
      this.open.delete(oldestKey);
      this.o.refused(
        'too-many-connections',
        oldest.remoteAddress,
        `too many unauthenticated connections (limit ${this.o.max}); closed the oldest for a newer one`,
      );
      oldest.destroy();
    }
    const key = socketKey(socket);
    this.open.set(key, socket);
    socket.setTimeout(this.o.idleMs);
    socket.once('timeout', () => {
      if (this.open.get(key) !== socket) return;
      this.open.delete(key);
      this.o.refused('idle', socket.remoteAddress, `no Socket.IO connection within ${this.o.idleMs} ms`);
      socket.destroy();
    });
    socket.once('close', () => {
      if (this.open.get(key) === socket) this.open.delete(key);
    });
  }
}
