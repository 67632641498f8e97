// @vitest-environment node
/**
 * The gateway client against a real Socket.IO server (the real
 * socket.io-client, its Manager and engine, over a WebSocket), for what a
 * fake socket cannot show: which failures Socket.IO retries by itself.
 *
 * A gateway frozen for a minute (SIGSTOP) comes back with its links to the
 * members down, so its middleware turns the first handshakes down with
 * `unreachable: no member is reachable to check the credential`. Socket.IO
 * retries a link that failed, but not a handshake its server's middleware
 * turned down (the socket is no longer active): the page said
 * "reconnecting…" for good, with no attempt and no Reconnect button. The
 * session must ask again, and be live once the gateway can check the
 * credential again.
 *
 * No timed assertions: each step waits for its condition, bounded.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Server } from 'socket.io';
import { resetStore, useStore } from '../store/index';
import { clusterOf, member } from '../test-cluster';
import { connectGateway, disconnectGateway } from './client';

const state = clusterOf([member('a')], [], { access: 'operator', readOnly: false });

/** A stand-in gateway: the token and credential check, and a snapshot for each session it accepts. */
class StubGateway {
  readonly io: Server;
  /** False: handshakes are turned down as the gateway does when no member can check the credential. */
  reachable = true;
  accepted = 0;
  turnedDown = 0;

  constructor() {
    this.io = new Server({ path: '/gateway', transports: ['websocket'] });
    this.io.use((socket, next) => {
      if (!this.reachable) {
        this.turnedDown++;
        next(new Error('unreachable: no member is reachable to check the credential'));
      } else next();
    });
    this.io.on('connection', (socket) => {
      this.accepted++;
      socket.emit('snapshot', state);
    });
  }

  /** Listens on a free loopback port; returns the gateway's URL. */
  async listen(): Promise<string> {
    this.io.listen(0);
    const http = this.io.httpServer as unknown as {
      listening: boolean;
      once(event: 'listening', fn: () => void): void;
      address(): { port: number };
    };
    if (!http.listening) await new Promise<void>((resolve) => http.once('listening', resolve));
    return `http://127.0.0.1:${http.address().port}`;
  }

  /** Drops every session's link under it (as the client's ping timeout does with a frozen gateway): no "server disconnect". */
  dropLinks(): void {
    for (const socket of this.io.of('/').sockets.values()) socket.conn.close();
  }

  async close(): Promise<void> {
    await this.io.close();
  }
}

/** Waits until `condition` holds, checking every 20 ms, at most `timeoutMs` (then fails with `what`). */
async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what} (status ${useStore.getState().status})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let gateway: StubGateway;
let url: string;

beforeEach(async () => {
  gateway = new StubGateway();
  url = await gateway.listen();
});

afterEach(async () => {
  disconnectGateway();
  resetStore();
  await gateway.close();
});

describe('gateway client against a real Socket.IO server', () => {
  it('a session whose reconnect the gateway turns down for now (no member reachable) asks again, and is live once the gateway can check the credential', async () => {
    expect(await connectGateway({ url, token: 't', credential: 'operator-token' })).toBe('accepted');
    expect(useStore.getState().status).toBe('connected');

    gateway.reachable = false;
    gateway.dropLinks();
    await until('the link to drop', () => useStore.getState().status === 'reconnecting');
    await until('the gateway to turn a reconnect down', () => gateway.turnedDown >= 1);
    // Still retrying, not given up: nothing the user must do yet.
    expect(useStore.getState().status).toBe('reconnecting');

    gateway.reachable = true;
    await until('the session to be live again', () => useStore.getState().status === 'connected');
    expect(gateway.accepted).toBe(2);
    expect(useStore.getState().cluster?.access).toBe('operator');
  }, 30_000);

  it('a first connect the gateway turns down for now asks again too', async () => {
    gateway.reachable = false;
    const attempt = connectGateway({ url, token: 't', credential: 'operator-token' });
    await until('the gateway to turn the handshake down twice', () => gateway.turnedDown >= 2);
    gateway.reachable = true;
    expect(await attempt).toBe('accepted');
    expect(useStore.getState().status).toBe('connected');
  }, 30_000);
});
