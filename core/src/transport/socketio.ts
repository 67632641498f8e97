/**
 * Socket.IO transport: the production network.
 *
 * Server: an HTTP(S) server on host:port with a Socket.IO endpoint at
 * `/pogo`, WebSocket only (no long-polling: links are long-lived and
 * server-to-server). Client: socket.io-client over WebSocket, with Socket.IO's
 * own reconnection turned off — the link layer owns redial and backoff, so
 * that both transports behave the same.
 *
 * Every frame is one `m` event with one JSON value. Anything else a peer
 * emits (another event name, extra arguments, binary attachments) is reported
 * through `onInvalid` and dropped; frames larger than `maxMessageBytes` make
 * Socket.IO close that one connection. Parsing errors at the Engine.IO or
 * Socket.IO level close that connection only; the server keeps serving.
 *
 * TLS: give `tls.cert` + `tls.key` to serve https/wss; `tls.ca` is the CA
 * the client trusts when dialling (for self-signed clusters), and
 * `tls.rejectUnauthorized` (default true) controls verification.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Server as IoServer, type Socket as ServerSocket } from 'socket.io';
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client';
import type { Conn, ConnHandlers, Transport } from './transport.js';

export const SOCKET_PATH = '/pogo';
export const FRAME_EVENT = 'm';

export interface TlsOptions {
  /** PEM certificate chain served by this node. */
  cert?: string;
  /** PEM private key for `cert`. */
  key?: string;
  /** PEM CA bundle trusted when dialling peers (defaults to the system's). */
  ca?: string;
  /** Verify peer certificates when dialling (default true). */
  rejectUnauthorized?: boolean;
}

export interface SocketIoTransportOptions {
  host: string;
  port: number;
  tls?: TlsOptions;
  /** Largest frame accepted, in bytes. */
  maxMessageBytes: number;
  /** How long a dial may take before it fails, in ms. */
  connectTimeoutMs: number;
}

abstract class SocketConn implements Conn {
  protected handlers: ConnHandlers | undefined;
  protected closed = false;

  constructor(
    readonly id: string,
    readonly direction: 'in' | 'out',
    readonly remote: string,
  ) {}

  setHandlers(handlers: ConnHandlers): void {
    this.handlers = handlers;
  }

  abstract send(message: unknown): void;
  abstract close(reason: string): void;

  protected wire(socket: ServerSocket | ClientSocket): void {
    socket.on(FRAME_EVENT, (...args: unknown[]) => {
      if (this.closed) return;
      if (args.length !== 1) {
        this.handlers?.onInvalid?.(`frame with ${args.length} arguments (expected 1)`);
        return;
      }
      this.handlers?.onMessage(args[0]);
    });
    socket.onAny((event: unknown) => {
      if (event !== FRAME_EVENT && !this.closed) this.handlers?.onInvalid?.(`unknown event ${JSON.stringify(String(event).slice(0, 64))}`);
    });
  }

  protected finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers?.onClose(reason);
  }
}

class ServerConn extends SocketConn {
  constructor(
    id: string,
    private readonly socket: ServerSocket,
  ) {
    super(id, 'in', `${socket.handshake.address}`);
    this.wire(socket);
    socket.on('disconnect', (reason) => this.finish(`peer disconnected: ${reason}`));
  }

  open(): void {
    this.handlers?.onOpen();
  }

  send(message: unknown): void {
    if (!this.closed) this.socket.emit(FRAME_EVENT, message);
  }

  close(reason: string): void {
    if (this.closed) return;
    // Let queued frames (a reject, a leave) flush before the socket goes.
    this.socket.disconnect(true);
    setImmediate(() => this.finish(reason));
  }
}

class ClientConn extends SocketConn {
  private opened = false;

  constructor(
    id: string,
    address: string,
    private readonly socket: ClientSocket,
  ) {
    super(id, 'out', address);
    this.wire(socket);
    socket.on('connect', () => {
      if (this.closed || this.opened) return;
      this.opened = true;
      this.handlers?.onOpen();
    });
    socket.on('connect_error', (err: Error) => {
      socket.close();
      this.finish(`connect failed: ${err.message}`);
    });
    socket.on('disconnect', (reason) => {
      socket.close();
      this.finish(`disconnected: ${reason}`);
    });
  }

  send(message: unknown): void {
    if (!this.closed && this.opened) this.socket.emit(FRAME_EVENT, message);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.socket.close();
    setImmediate(() => this.finish(reason));
  }
}

/** Size of an Engine.IO packet's payload (strings are counted in UTF-16 units: close enough for rates). */
function packetSize(packet: { data?: unknown }): number {
  const data = packet.data;
  if (typeof data === 'string') return data.length;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

export class SocketIoTransport implements Transport {
  readonly bytes = { in: 0, out: 0 };
  private http: HttpServer | undefined;
  private io: IoServer | undefined;
  private readonly conns = new Set<SocketConn>();
  private nextId = 1;

  constructor(private readonly options: SocketIoTransportOptions) {}

  get secure(): boolean {
    return Boolean(this.options.tls?.cert && this.options.tls.key);
  }

  async listen(onConnection: (conn: Conn) => void): Promise<string> {
    const tls = this.options.tls;
    const http = this.secure ? createHttpsServer({ cert: tls?.cert, key: tls?.key }) : createHttpServer();
    http.on('request', (req, res) => {
      // Socket.IO answers its own path; anything else on the cluster port is not ours.
      if (!req.url?.startsWith(SOCKET_PATH)) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('pogo: not found\n');
      }
    });
    const io = new IoServer(http, {
      path: SOCKET_PATH,
      transports: ['websocket'],
      serveClient: false,
      maxHttpBufferSize: this.options.maxMessageBytes,
      // The link layer runs its own heartbeats; Socket.IO's are only a backstop.
      pingInterval: 10_000,
      pingTimeout: 20_000,
      connectTimeout: this.options.connectTimeoutMs,
      perMessageDeflate: false,
    });
    io.on('connection', (socket) => {
      socket.conn.on('packet', (p: { data?: unknown }) => (this.bytes.in += packetSize(p)));
      socket.conn.on('packetCreate', (p: { data?: unknown }) => (this.bytes.out += packetSize(p)));
      const conn = new ServerConn(`in${this.nextId++}`, socket);
      this.conns.add(conn);
      socket.on('disconnect', () => this.conns.delete(conn));
      onConnection(conn);
      conn.open();
    });
    this.http = http;
    this.io = io;
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(this.options.port, this.options.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    const bound = http.address() as AddressInfo;
    return formatAddress(this.options.host, bound.port);
  }

  dial(address: string): Conn {
    const scheme = this.options.tls?.ca || this.secure ? 'https' : 'http';
    const tls = this.options.tls;
    const socket = ioClient(`${scheme}://${address}`, {
      path: SOCKET_PATH,
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: this.options.connectTimeoutMs,
      ...(scheme === 'https' ? { ca: tls?.ca, rejectUnauthorized: tls?.rejectUnauthorized ?? true } : {}),
    });
    socket.io.on('open', () => {
      socket.io.engine.on('packet', (p: { data?: unknown }) => (this.bytes.in += packetSize(p)));
      socket.io.engine.on('packetCreate', (p: { data?: unknown }) => (this.bytes.out += packetSize(p)));
    });
    const conn = new ClientConn(`out${this.nextId++}`, address, socket);
    this.conns.add(conn);
    socket.on('disconnect', () => this.conns.delete(conn));
    socket.on('connect_error', () => this.conns.delete(conn));
    return conn;
  }

  async close(): Promise<void> {
    for (const conn of [...this.conns]) conn.close('transport closed');
    this.conns.clear();
    const io = this.io;
    const http = this.http;
    this.io = undefined;
    this.http = undefined;
    if (io) await new Promise<void>((resolve) => io.close(() => resolve()));
    if (http) {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  }
}

export function formatAddress(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Splits `host:port` (IPv6 hosts in brackets). */
export function parseAddress(address: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(address);
  if (!match) throw new Error(`invalid address ${JSON.stringify(address)}: expected host:port`);
  const port = Number(match[2]);
  if (port > 65535) throw new Error(`invalid address ${JSON.stringify(address)}: port out of range`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}
