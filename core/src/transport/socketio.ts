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
 * Before the link layer sees it, a connection is unauthenticated, and the
 * transport bounds what it may cost: at most `maxPendingConnections` TCP
 * connections may be open without having become a Socket.IO connection
 * (one more closes the oldest of them: an honest dialler becomes a Socket.IO
 * connection within a few round trips, so it is never the oldest for long,
 * while connections held open and silent are — closing the newcomer instead
 * let 300 of them keep every peer, `pogo ctl` and observer out); HTTP headers and the TLS handshake must arrive
 * within twice `connectTimeoutMs` (at least 2 s); a Socket.IO connection must
 * follow within `connectTimeoutMs`. Each refusal made here (a limit, bad
 * HTTP, a bad Engine.IO request, a TLS failure, an unknown Socket.IO
 * namespace) is logged with its reason to the logger given to `useLog`; a
 * flood is summarised (at most 10 lines a second, then a count).
 *
 * TLS: give `tls.cert` + `tls.key` to serve https/wss. Certificates are
 * always verified (`tls.rejectUnauthorized` defaults to true; false is for
 * tests only). `tls.ca` pins the CA: when dialling, the peer's certificate
 * must chain to it (instead of the system's CAs); when serving, a dialling
 * peer must present a certificate that chains to it (mutual TLS;
 * `tls.requireClientCert`, on by default when this node serves TLS and has a
 * CA), and a dialling node presents its own `tls.cert` as client certificate.
 * The client certificate is checked when the connection reaches Socket.IO
 * (`Conn.authError`), before any frame is read from it, so that the link
 * layer can refuse it with the reason and both sides log why; a failed TLS
 * handshake is logged with OpenSSL's reason.
 *
 * A dial that fails because the two ends disagree on TLS (`tlsRefusal`: the
 * peer's certificate is not trusted here, the peer does not speak TLS, or
 * its TLS alert refused ours) is reported as a refusal (`TransportRefusal`
 * 'tls'), not as nobody there: a node whose seeds all refuse it so does not
 * take children alone at its ready timeout. Race "a plain dial to a TLS
 * port": the server hangs up on an HTTP request it cannot read as TLS,
 * which looks like any reset; only then, one TLS handshake with the address
 * (`servesTls`) tells the two apart.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Server as IoServer, Socket as ServerSocket } from 'socket.io';
import type { Socket as ClientSocket } from 'socket.io-client';
import type { Logger } from '../logger.js';
import { formatAddress, parseAddress } from '../util/address.js';
import { PendingConnections } from '../util/pending-connections.js';
import { frameParser } from './frame-encoder.js';
import type { Conn, ConnHandlers, Transport, TransportRefusal } from './transport.js';

/**
 * Loading, measured (`pogo ctl` pays it on every call; nodes once): the
 * client library is required as CommonJS — for an ES module importer on
 * Node its package resolves to its debug build, which took about four
 * times as long to load (400 ms against 160 ms of CPU on the loaded 2-core
 * test machine) — and the server library only when a transport listens
 * (`pogo ctl` never does).
 */
const { io: ioClient } = createRequire(import.meta.url)('socket.io-client') as typeof import('socket.io-client');

export const SOCKET_PATH = '/pogo';
export const FRAME_EVENT = 'm';

/** TLS settings of the Socket.IO transport, as PEM text: serving needs `cert` and `key`; dialling verifies peers against `ca` (or the system's CAs). */
export interface TlsOptions {
  /** PEM certificate chain served by this node. */
  cert?: string;
  /** PEM private key for `cert`. */
  key?: string;
  /** PEM CA bundle: peers' certificates must chain to it (dialling, and serving with mutual TLS). Defaults to the system's CAs when dialling. */
  ca?: string;
  /** Verify peer certificates (default true). False disables verification: for tests only. */
  rejectUnauthorized?: boolean;
  /** Serving: require dialling peers to present a certificate that chains to `ca` (default: true when `ca`, `cert` and `key` are all given). */
  requireClientCert?: boolean;
}

/** Default for `maxPendingConnections`: TCP connections not yet handed to the link layer. */
export const DEFAULT_MAX_PENDING_CONNECTIONS = 256;

/** Options of the Socket.IO transport: host, port, TLS, frame size limit, dial timeout. */
export interface SocketIoTransportOptions {
  /** Interface to listen on. */
  host: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** TLS settings; absent means plain HTTP and WebSocket. */
  tls?: TlsOptions;
  /** Largest frame accepted, in bytes. */
  maxMessageBytes: number;
  /** How long a dial may take before it fails, in ms. */
  connectTimeoutMs: number;
  /** TCP connections allowed open before they become Socket.IO connections (default 256); more are closed at once. */
  maxPendingConnections?: number;
  /** Where refusals made by the transport itself are logged (or later through `useLog`). */
  log?: Logger;
  /**
   * Who dials, in the words of a failed dial's TLS hints (default "this
   * node"): `pogo ctl` is no node, and "the peer refused this node's TLS
   * handshake" sent its operator to a node's settings.
   */
  dialer?: string;
}

/**
 * The transport's section of the node's config (config-sections.ts): where
 * it listens, the largest frame and the dial timeout. The node hands it
 * whole, with the TLS files it read (`tls`).
 */
export type SocketIoConfig = Pick<SocketIoTransportOptions, 'host' | 'port' | 'maxMessageBytes' | 'connectTimeoutMs'>;

/**
 * A readable reason from an error a socket library reports (it often wraps
 * the real one), on one line. Engine.IO describes a failed write by the
 * error's whole stack as text (`write error`, then `Error: write EPIPE` and
 * a dozen `at …` lines): a peer that closed its end while we wrote turned
 * into log lines of a screen each. Only the first line of any text is kept.
 */
export function errorReason(err: unknown): string {
  if (err === null || err === undefined) return 'unknown error';
  if (typeof err !== 'object') return firstLine(String(err));
  const e = err as { message?: unknown; description?: unknown; error?: unknown; code?: unknown };
  const inner = e.description ?? e.error;
  const innerText = inner !== undefined && inner !== err ? errorReason(inner) : '';
  const own = firstLine(typeof e.message === 'string' && e.message !== '' ? e.message : typeof e.code === 'string' ? e.code : '');
  if (!own) return innerText || 'unknown error';
  return innerText && innerText !== 'unknown error' && !own.includes(innerText) ? `${own}: ${innerText}` : own;
}

function firstLine(text: string): string {
  const nl = text.indexOf('\n');
  return (nl < 0 ? text : text.slice(0, nl)).trim();
}

abstract class SocketConn implements Conn {
  protected handlers: ConnHandlers | undefined;
  protected closed = false;
  /** Why this end closed the connection itself (`close`); Socket.IO reports its own words for it on the way. */
  protected closingFor: string | undefined;

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
    // `onAny` runs as each packet is decoded, in order. (A Socket.IO server dispatches
    // named events on the next tick and drops them if a disconnect came in between,
    // which would lose a peer's last frame — its reject or its leave.)
    socket.onAny((event: unknown, ...args: unknown[]) => {
      if (this.closed) return;
      if (event !== FRAME_EVENT) {
        this.handlers?.onInvalid?.(`unknown event ${JSON.stringify(String(event).slice(0, 64))}`);
        return;
      }
      if (args.length !== 1) {
        this.handlers?.onInvalid?.(`frame with ${args.length} arguments (expected 1)`);
        return;
      }
      this.handlers?.onMessage(args[0]);
    });
  }

  /** Emits one frame. A frame the socket library cannot encode closes the connection (a stream cannot skip a frame). */
  protected emitFrame(socket: ServerSocket | ClientSocket, message: unknown): void {
    try {
      socket.emit(FRAME_EVENT, message);
    } catch (err) {
      this.close(`cannot send a frame: ${errorReason(err)}`);
    }
  }

  protected finish(reason: string, byPeer = false, refused?: TransportRefusal): void {
    if (this.closed) return;
    this.closed = true;
    // Race "our own close, reported by the library first": Socket.IO fires 'disconnect' inside
    // `disconnect()`/`close()` ('server namespace disconnect', 'io client disconnect'), before our
    // reason; a link timed out here was logged as 'peer disconnected: server namespace disconnect'.
    if (this.closingFor !== undefined) this.handlers?.onClose(this.closingFor, false);
    else this.handlers?.onClose(reason, byPeer, refused);
  }
}

class ServerConn extends SocketConn {
  constructor(
    id: string,
    private readonly socket: ServerSocket,
    readonly authError: string | undefined,
  ) {
    super(id, 'in', `${socket.handshake.address}`);
    this.wire(socket);
    // Socket.IO reports a packet it cannot parse here (and then closes the connection).
    socket.on('error', (err: unknown) => {
      if (!this.closed) this.handlers?.onInvalid?.(`bad Socket.IO packet: ${errorReason(err)}`);
    });
    // 'client namespace disconnect': the dialler closed it on purpose (a peer that timed us out, a link replaced).
    socket.on('disconnect', (reason: string, description: unknown) =>
      this.finish(`peer disconnected: ${reason}${description ? ` (${errorReason(description)})` : ''}`, reason === 'client namespace disconnect'),
    );
  }

  open(): void {
    this.handlers?.onOpen();
  }

  send(message: unknown): void {
    if (!this.closed) this.emitFrame(this.socket, message);
  }

  close(reason: string, abrupt = false): void {
    if (this.closed) return;
    this.closingFor ??= reason;
    // Let queued frames (a reject, a leave) flush before the socket goes. Abrupt: the Engine.IO
    // connection goes without Socket.IO's disconnect packet, so the peer reads a dropped connection.
    if (abrupt) this.socket.conn.close();
    else this.socket.disconnect(true);
    setImmediate(() => this.finish(reason));
  }
}

class ClientConn extends SocketConn {
  private opened = false;

  constructor(
    id: string,
    address: string,
    private readonly socket: ClientSocket,
    /** Whether this dial speaks TLS; `probeMs` bounds the look for a TLS server behind a plain dial's reset (`tlsRefusal`). */
    secure: boolean,
    probeMs: number,
    /** Who dials, for the TLS hints (`SocketIoTransportOptions.dialer`). */
    dialer: string,
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
      const reason = `connect failed: ${errorReason(err)}`;
      const tls = tlsRefusal(err, secure, dialer);
      if (tls !== undefined) this.finish(`${reason}: ${tls}`, false, 'tls');
      else if (!secure && errorCode(err) === 'ECONNRESET') {
        // Race "a plain dial to a TLS port": the server hangs up on the HTTP request it cannot read as TLS,
        // which looks like any reset. One look with TLS tells them apart (only on this failure).
        void servesTls(address, probeMs).then((yes) =>
          yes
            ? this.finish(`${reason}: ${address} serves TLS and ${dialer} dials without it (give it --tls-ca-file, as the members have)`, false, 'tls')
            : this.finish(reason),
        );
      } else this.finish(reason);
    });
    // 'io server disconnect': the acceptor closed it on purpose (a peer that timed us out, a link replaced).
    socket.on('disconnect', (reason: string, description: unknown) => {
      socket.close();
      this.finish(`disconnected: ${reason}${description ? ` (${errorReason(description)})` : ''}`, reason === 'io server disconnect');
    });
  }

  send(message: unknown): void {
    if (!this.closed && this.opened) this.emitFrame(this.socket, message);
  }

  close(reason: string, abrupt = false): void {
    if (this.closed) return;
    this.closingFor ??= reason;
    // Abrupt: the Engine.IO connection goes without Socket.IO's disconnect packet (see ServerConn).
    if (abrupt) this.socket.io.engine.close();
    else this.socket.close();
    setImmediate(() => this.finish(reason));
  }
}

/** The error code under a socket library's wrapping (socket.io-client's TransportError → ws's ErrorEvent → the Node.js error). */
function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; depth++) {
    const o = e as { code?: unknown; description?: unknown; error?: unknown };
    if (typeof o.code === 'string') return o.code;
    e = o.error ?? o.description;
  }
  return undefined;
}

/** OpenSSL's verdicts on a peer's certificate, as Node.js names them (the ones a misconfigured cluster meets). */
const CERT_REFUSED: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Why a dial's failure says that the two ends disagree on TLS, in words
 * that say what to fix — or undefined. The peer's certificate is not one
 * the dialer (`dialer`: this node, or `pogo ctl`) trusts; the peer does not
 * speak TLS to a dialer that does; or the peer's TLS alert refused the
 * dialer's certificate.
 */
function tlsRefusal(err: unknown, secure: boolean, dialer: string): string | undefined {
  const code = errorCode(err);
  if (code === undefined) return undefined;
  // A name or a date is not fixed in --tls-ca-file: the hint said to check it for every verdict (a tour's cert for
  // another name read "check --tls-ca-file on both sides", with the CA right).
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH')
    return (
      `the peer's certificate is not one ${dialer} trusts (${code}): it does not name the address dialled; ` +
      `its subjectAltName must hold the host of the peer's --advertise address (an IP address as an IP entry)`
    );
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID')
    return `the peer's certificate is not one ${dialer} trusts (${code}): it is outside its validity dates; renew it (or check the clocks)`;
  if (CERT_REFUSED.has(code)) return `the peer's certificate is not one ${dialer} trusts (${code}): check --tls-ca-file on both sides`;
  if (!secure) return undefined;
  if (code === 'EPROTO' && /wrong version number|packet length too long|http request/i.test(errorReason(err)))
    return `the peer does not speak TLS (it runs without --tls-cert-file), and ${dialer} dials with TLS`;
  if (code.startsWith('ERR_SSL_') && code.includes('ALERT'))
    return `the peer refused ${dialer}'s TLS handshake (${code}): check the certificates and --tls-ca-file`;
  return undefined;
}

/** Whether a TLS server answers at `address` (any certificate: only the handshake is looked at), within `boundMs`. */
function servesTls(address: string, boundMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let target: { host: string; port: number };
    try {
      target = parseAddress(address);
    } catch {
      resolve(false);
      return;
    }
    const socket = tlsConnect({ host: target.host, port: target.port, rejectUnauthorized: false });
    const done = (yes: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(yes);
    };
    const timer = setTimeout(() => done(false), boundMs);
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Size of an Engine.IO packet's payload (strings are counted in UTF-16 units: close enough for rates). */
function packetSize(packet: { data?: unknown }): number {
  const data = packet.data;
  if (typeof data === 'string') return data.length;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

/**
 * How long `close` lets the server's connections finish their closing
 * handshakes before it destroys them: a peer that answers does so in a round
 * trip; the leave before it has already waited for the peers' goodbyes.
 */
const CLOSE_BOUND_MS = 1_000;

/** The Socket.IO transport a node links through by default (TLS optional). */
export class SocketIoTransport implements Transport {
  /** Bytes received and sent by every connection so far (Socket.IO packet data). */
  readonly bytes = { in: 0, out: 0 };
  /** Connections refused by the transport itself, by reason (for tests and status). */
  readonly refusals: Record<string, number> = {};
  private http: HttpServer | undefined;
  private io: IoServer | undefined;
  private readonly conns = new Set<SocketConn>();
  /** TCP connections accepted that have not (yet) become Socket.IO connections (set by `listen`). */
  private pending: PendingConnections | undefined;
  /** Every TCP connection the server accepted and has not seen close (`close` ends those that outstay their bound). */
  private readonly accepted = new Set<NetSocket>();
  private log: Logger | undefined;
  private logWindow = { start: Number.NEGATIVE_INFINITY, logged: 0, suppressed: 0 };
  private nextId = 1;

  constructor(private readonly options: SocketIoTransportOptions) {
    this.log = options.log;
  }

  /** Whether the transport serves TLS (`cert` and `key` given). */
  get secure(): boolean {
    return Boolean(this.options.tls?.cert && this.options.tls.key);
  }

  /** Where refusals made by the transport itself are logged; ignored when a logger was already set. */
  useLog(log: Logger): void {
    this.log ??= log;
  }

  /** Unauthenticated connections currently open below the link layer. */
  get pendingConnections(): number {
    return this.pending?.size ?? 0;
  }

  /**
   * Counts and logs one refusal. Real time on purpose: this is the socket
   * edge, which runs on real time anyway; the log stays readable under a
   * flood (10 lines a second, then one line with the count of the rest).
   */
  private refused(kind: string, remote: string | undefined, reason: string): void {
    this.refusals[kind] = (this.refusals[kind] ?? 0) + 1;
    if (!this.log) return;
    const now = performance.now();
    const w = this.logWindow;
    if (now - w.start >= 1000) {
      w.start = now;
      w.logged = 0;
    }
    if (w.logged >= 10) {
      w.suppressed++;
      return;
    }
    w.logged++;
    const suppressed = w.suppressed;
    w.suppressed = 0;
    this.log.warn({ remote, code: kind, reason, ...(suppressed > 0 ? { suppressed } : {}) }, `connection refused: ${reason}`);
  }

  /** Starts the HTTP(S) server with Socket.IO at path `/pogo`; resolves with the bound `host:port`. */
  async listen(onConnection: (conn: Conn) => void): Promise<string> {
    const tls = this.options.tls;
    const slowMs = Math.max(2_000, 2 * this.options.connectTimeoutMs);
    const limits = { headersTimeout: slowMs, requestTimeout: slowMs, connectionsCheckingInterval: Math.min(1_000, slowMs) };
    const mutual = this.secure && Boolean(tls?.ca) && (tls?.requireClientCert ?? true);
    const http = this.secure
      ? createHttpsServer({
          ...limits,
          cert: tls?.cert,
          key: tls?.key,
          handshakeTimeout: slowMs,
          ...(tls?.ca ? { ca: tls.ca } : {}),
          // The client certificate is checked below, once the connection reaches Socket.IO, so that the
          // refusal can say why to the peer (a TLS alert cannot); nothing is read from it before that.
          ...(mutual ? { requestCert: true, rejectUnauthorized: false } : {}),
        })
      : createHttpServer(limits);
    this.pending = new PendingConnections({
      max: this.options.maxPendingConnections ?? DEFAULT_MAX_PENDING_CONNECTIONS,
      idleMs: slowMs,
      refused: (kind, remote, reason) => this.refused(kind, remote, reason),
    });
    this.pending.watch(http);
    http.on('connection', (socket: NetSocket) => {
      this.accepted.add(socket);
      socket.once('close', () => this.accepted.delete(socket));
    });
    http.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      // A peer that resets or times out while sending headers is not worth a line each, but is refused all the same.
      if (err.code !== 'ECONNRESET') this.refused('bad-http', (socket as NetSocket).remoteAddress, `bad HTTP request: ${err.code ?? err.message}`);
      if (socket.writable && err.code !== 'ECONNRESET') socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    http.on('tlsClientError', (err: Error, socket: NetSocket) => {
      this.refused('tls', socket.remoteAddress, `TLS handshake failed: ${errorReason(err)}`);
    });
    http.on('request', (req, res) => {
      // Socket.IO answers its own path; anything else on the cluster port is not ours.
      if (!req.url?.startsWith(SOCKET_PATH)) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('pogo: not found\n');
      }
    });
    const { Server } = await import('socket.io');
    const io: IoServer = new Server(http, {
      path: SOCKET_PATH,
      transports: ['websocket'],
      serveClient: false,
      maxHttpBufferSize: this.options.maxMessageBytes,
      // The link layer runs its own heartbeats; Socket.IO's are only a backstop.
      pingInterval: 10_000,
      pingTimeout: 20_000,
      connectTimeout: this.options.connectTimeoutMs,
      perMessageDeflate: false,
      // Frames encoded once for every link they go to, without the binary walk (frame-encoder.ts); the wire is unchanged.
      parser: frameParser,
    });
    io.engine.on('connection_error', (err: { req?: { socket?: NetSocket }; code?: number; message?: string }) => {
      this.refused('bad-engine-io', err.req?.socket?.remoteAddress, `bad Engine.IO request: ${err.message ?? 'unknown'} (code ${err.code ?? '?'})`);
    });
    // An Engine.IO connection that closes before it became a Socket.IO connection
    // (garbage, an unknown namespace, no connect packet in time) was refused here.
    const linked = new WeakSet<object>();
    io.engine.on('connection', (eio: { request?: { socket?: NetSocket }; on(event: 'close', fn: (reason: string, description?: unknown) => void): void }) => {
      eio.on('close', (reason, description) => {
        if (linked.has(eio) || reason === 'transport close') return;
        this.refused(
          'no-socket-io',
          eio.request?.socket?.remoteAddress,
          `closed before a Socket.IO connection: ${reason}${description ? ` (${errorReason(description)})` : ''}`,
        );
      });
    });
    io.on('connection', (socket) => {
      linked.add(socket.conn);
      const underlying = socket.request.socket as
        (NetSocket & Partial<Pick<TLSSocket, 'authorized' | 'authorizationError' | 'getPeerCertificate'>>) | undefined;
      this.pending?.upgraded(underlying);
      let authError: string | undefined;
      if (mutual && (tls?.rejectUnauthorized ?? true) && underlying && underlying.authorized !== true) {
        const presented = Object.keys(underlying.getPeerCertificate?.() ?? {}).length > 0;
        authError = presented
          ? `TLS client certificate refused: ${String(underlying.authorizationError ?? 'not trusted')} (it must chain to the CA in --tls-ca-file)`
          : 'TLS client certificate required: present a certificate that chains to the CA in --tls-ca-file (--tls-cert-file, --tls-key-file)';
      }
      socket.conn.on('packet', (p: { data?: unknown }) => (this.bytes.in += packetSize(p)));
      socket.conn.on('packetCreate', (p: { data?: unknown }) => (this.bytes.out += packetSize(p)));
      const conn = new ServerConn(`in${this.nextId++}`, socket, authError);
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

  /** Dials `address` over WebSocket (HTTPS when TLS is configured), without Socket.IO's reconnection: the link layer redials. */
  dial(address: string): Conn {
    const scheme = this.options.tls?.ca || this.secure ? 'https' : 'http';
    const tls = this.options.tls;
    const socket = ioClient(`${scheme}://${address}`, {
      path: SOCKET_PATH,
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: this.options.connectTimeoutMs,
      parser: frameParser,
      // Our certificate doubles as the client certificate for peers that require one (mutual TLS).
      ...(scheme === 'https'
        ? {
            ...(tls?.ca ? { ca: tls.ca } : {}),
            ...(tls?.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}),
            rejectUnauthorized: tls?.rejectUnauthorized ?? true,
          }
        : {}),
    });
    socket.io.on('open', () => {
      socket.io.engine.on('packet', (p: { data?: unknown }) => (this.bytes.in += packetSize(p)));
      socket.io.engine.on('packetCreate', (p: { data?: unknown }) => (this.bytes.out += packetSize(p)));
    });
    const conn = new ClientConn(`out${this.nextId++}`, address, socket, scheme === 'https', this.options.connectTimeoutMs, this.options.dialer ?? 'this node');
    this.conns.add(conn);
    socket.on('disconnect', () => this.conns.delete(conn));
    socket.on('connect_error', () => this.conns.delete(conn));
    return conn;
  }

  /** Closes every connection, then the Socket.IO and HTTP servers. */
  async close(): Promise<void> {
    for (const conn of [...this.conns]) conn.close('transport closed');
    this.conns.clear();
    const io = this.io;
    const http = this.http;
    this.io = undefined;
    this.http = undefined;
    // io.close() settles before the HTTP server has closed; its callback waits for that. Race "a stop cut off
    // from its peers" (an outsider's tour, network namespaces): the server waits for every connection to end,
    // and a WebSocket closing to a peer that cannot answer ends only at ws's close timeout (30 s): SIGTERM took
    // 24 s, and a service restarted at once found its port taken. What outstays CLOSE_BOUND_MS is destroyed.
    if (io) {
      const force = setTimeout(() => {
        for (const socket of this.accepted) socket.destroy();
      }, CLOSE_BOUND_MS);
      await new Promise<void>((resolve, reject) => {
        io.close(() => resolve()).catch(reject);
      }).finally(() => clearTimeout(force));
    }
    this.pending?.closeAll();
    if (http) {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  }
}
