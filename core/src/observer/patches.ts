/**
 * Patches: keeping every connected UI's state current at a bounded cost.
 *
 * A client gets `snapshot` (the whole state for its access level) when it
 * connects, then `patch` messages (state.ts diffState) at most once per
 * gateway tick, each acknowledged by the client. A client that has not
 * acknowledged its last patch gets nothing until it does; the next patch
 * then covers everything since the state it acknowledged (coalesced), so a
 * slow client costs one retained state, not a queue. An acknowledgement
 * that does not come within ACK_TIMEOUT_MS counts as lost: the client
 * stays where it was, and the next patch is computed from there (patches
 * apply idempotently, so one that did arrive after all does no harm).
 *
 * A session whose access changes (it locked or unlocked: command-router.ts)
 * gets a new snapshot for its new access (`resend`). Race: a patch of the
 * old access may still be unacknowledged then; its late ack must not set
 * the feed's base back to the old access's state, so each snapshot starts a
 * new generation and an ack of an older one is ignored.
 */
import type { Socket } from 'socket.io';
import { sessionAccess, type SessionData, type UiServer } from './server.js';
import { diffState, type Access, type ClusterState } from './state.js';
import type { ClientToServerEvents, ServerToClientEvents } from './ui-protocol.js';

const ACK_TIMEOUT_MS = 30_000;

type UiSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SessionData>;

interface Feed {
  access: Access;
  /** The last state the client has (acknowledged, or the snapshot). */
  sent: ClusterState;
  /** A patch is out and not yet acknowledged. */
  awaiting: boolean;
  /** Counts snapshots sent: an ack of a patch sent before the latest snapshot is ignored. */
  generation: number;
}

export class PatchFeed {
  private readonly feeds = new Map<string, Feed>();

  constructor(
    private readonly io: UiServer,
    private readonly current: (access: Access) => ClusterState,
  ) {}

  get size(): number {
    return this.feeds.size;
  }

  /** Sends the socket its snapshot and feeds it patches until it disconnects. */
  add(socket: UiSocket): void {
    const access = sessionAccess(socket.data);
    const feed: Feed = { access, sent: this.current(access), awaiting: false, generation: 0 };
    this.feeds.set(socket.id, feed);
    socket.emit('snapshot', feed.sent);
    socket.on('disconnect', () => this.feeds.delete(socket.id));
  }

  /** The socket's access changed: a snapshot for the new one, and patches from there. */
  resend(socket: UiSocket): void {
    const feed = this.feeds.get(socket.id);
    if (!feed) return;
    feed.access = sessionAccess(socket.data);
    feed.sent = this.current(feed.access);
    feed.awaiting = false;
    feed.generation++;
    socket.emit('snapshot', feed.sent);
  }

  /** One round: a patch to every client that has acknowledged its last one and whose state changed. */
  flush(): void {
    for (const [id, feed] of this.feeds) {
      if (feed.awaiting) continue; // coalesce: the next patch covers everything since the last ack
      const next = this.current(feed.access);
      if (next === feed.sent) continue;
      const patch = diffState(feed.sent, next);
      if (!patch) {
        feed.sent = next;
        continue;
      }
      const socket = this.io.sockets.sockets.get(id);
      if (!socket) continue;
      feed.awaiting = true;
      const generation = feed.generation;
      socket.timeout(ACK_TIMEOUT_MS).emit('patch', patch, (err: Error | null) => {
        if (generation !== feed.generation) return; // a snapshot went out since (resend): that is the base now
        feed.awaiting = false;
        if (!err) feed.sent = next;
      });
    }
  }
}
