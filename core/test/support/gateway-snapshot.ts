/**
 * What a UI connecting to a gateway now is sent: its first `snapshot` (the
 * gateway's history included), read over a socket.io session of its own,
 * closed once it has it. The timeline-truth tests judge the gateway by it.
 * `closeAll` (in afterEach) closes any session still open.
 */
import { io as connect, type Socket } from 'socket.io-client';
import type { Gateway } from '../../src/observer/gateway.js';
import type { ClusterState } from '../../src/observer/state.js';

export class SnapshotReader {
  private readonly sockets: Socket[] = [];

  /** The state gateway `g` sends a UI connecting now. */
  read(g: Gateway): Promise<ClusterState> {
    return new Promise((resolve, reject) => {
      const socket = connect(g.url, { path: '/gateway', auth: { token: g.token }, transports: ['websocket'], reconnection: false, forceNew: true });
      this.sockets.push(socket);
      socket.on('connect_error', reject);
      socket.on('snapshot', (s: ClusterState) => {
        socket.close();
        resolve(s);
      });
    });
  }

  /** Closes every session it opened. */
  closeAll(): void {
    for (const s of this.sockets.splice(0)) s.close();
  }
}
