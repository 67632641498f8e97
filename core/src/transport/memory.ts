/**
 * In-memory network for deterministic simulation tests.
 *
 * Every delivery is a timer on the injected (manual) clock, so a simulated
 * cluster runs without sockets or sleeps and the same seed replays the same
 * run. Faults model what a real TCP network does to long-lived connections:
 *
 * - latency: every frame takes `latencyMs` plus up to `jitterMs`; frames on one
 *   connection still arrive in order (a frame never overtakes an earlier one).
 * - partition(a, b) / heal(): while two sides are cut, frames between them are
 *   held (as TCP retransmits), not lost, and dials across the cut fail after
 *   `connectTimeoutMs`. If either end closes the connection meanwhile (say a
 *   heartbeat timeout), the held frames die with it. After heal() the held
 *   frames flow again — or the peer learns of the close.
 * - drop rate: a dropped frame kills its connection silently (a TCP stream
 *   cannot skip a frame): it and every later frame, both ways, are lost, and
 *   neither end is told. The link layer must notice by heartbeat.
 * - crash(address): the process is gone. Its listener disappears and each
 *   peer sees its connections close after one latency (the kernel's RST),
 *   unless a partition holds that news back.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Random } from '../random.js';
import type { Conn, ConnHandlers, Transport } from './transport.js';

export interface MemoryNetworkOptions {
  clock: Clock;
  random: Random;
  latencyMs?: number;
  jitterMs?: number;
  connectTimeoutMs?: number;
}

interface Frame {
  readonly readyAt: number;
  readonly kind: 'open' | 'message' | 'close';
  readonly payload: unknown;
}

/** One direction of a connection: frames travelling from `from` to `to`. */
class Pipe {
  readonly queue: Frame[] = [];
  timer: TimerHandle | undefined;
  lastReadyAt = 0;
  constructor(
    readonly from: MemoryConn,
    readonly to: MemoryConn,
  ) {}
}

export class MemoryNetwork {
  readonly clock: Clock;
  readonly random: Random;
  private readonly latencyMs: number;
  private readonly jitterMs: number;
  readonly connectTimeoutMs: number;
  private readonly listeners = new Map<string, MemoryTransport>();
  private readonly cuts = new Set<string>();
  private readonly pipes = new Set<Pipe>();
  private dropRate = 0;
  private nextConnId = 1;
  /** Frames delivered and lost, for tests and benchmarks. */
  readonly stats = { delivered: 0, lost: 0 };
  /** Sees every message frame as it is sent (tests use it to inspect the wire). */
  tap: ((from: string, to: string, message: unknown) => void) | undefined;

  constructor(options: MemoryNetworkOptions) {
    this.clock = options.clock;
    this.random = options.random;
    this.latencyMs = options.latencyMs ?? 1;
    this.jitterMs = options.jitterMs ?? 0;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 1000;
  }

  /** A transport for the process that will listen on `address`. */
  transport(address: string): MemoryTransport {
    return new MemoryTransport(this, address);
  }

  /** Cuts every path between a node of `sideA` and a node of `sideB` (addresses). */
  partition(sideA: readonly string[], sideB: readonly string[]): void {
    for (const a of sideA) for (const b of sideB) if (a !== b) this.cuts.add(cutKey(a, b));
  }

  /** Removes every cut; held frames flow again. */
  heal(): void {
    this.cuts.clear();
    for (const pipe of this.pipes) this.pump(pipe);
  }

  isCut(a: string, b: string): boolean {
    return this.cuts.has(cutKey(a, b));
  }

  /** Probability in [0, 1] that a frame is lost, which kills its connection silently. */
  setDropRate(rate: number): void {
    this.dropRate = Math.min(1, Math.max(0, rate));
  }

  /** The process at `address` dies: no listener, every connection closes. */
  crash(address: string): void {
    const transport = this.listeners.get(address);
    if (transport) transport.crash();
  }

  /** @internal */
  register(address: string, transport: MemoryTransport): void {
    if (this.listeners.has(address)) throw new Error(`memory network: address ${address} is already in use`);
    this.listeners.set(address, transport);
  }

  /** @internal */
  unregister(address: string, transport: MemoryTransport): void {
    if (this.listeners.get(address) === transport) this.listeners.delete(address);
  }

  /** @internal */
  connect(client: MemoryConn, targetAddress: string): void {
    const from = client.owner.address;
    const attempt = (): void => {
      const server = this.listeners.get(targetAddress);
      if (!server || client.state === 'closed') {
        client.finish(server ? 'closed' : 'connection refused');
        return;
      }
      if (this.isCut(from, targetAddress)) {
        client.finish('connect timeout');
        return;
      }
      const accepted = new MemoryConn(this, server, `m${this.nextConnId++}`, 'in', from);
      const toServer = new Pipe(client, accepted);
      const toClient = new Pipe(accepted, client);
      client.pipeOut = toServer;
      accepted.pipeOut = toClient;
      this.pipes.add(toServer);
      this.pipes.add(toClient);
      server.accept(accepted);
      this.enqueue(toServer, 'open', undefined);
      this.enqueue(toClient, 'open', undefined);
    };
    const delay = this.isCut(from, targetAddress) ? this.connectTimeoutMs : this.latency();
    this.clock.setTimeout(attempt, delay);
  }

  /** @internal */
  enqueue(pipe: Pipe, kind: Frame['kind'], payload: unknown): void {
    if (kind === 'message') this.tap?.(pipe.from.owner.address, pipe.to.owner.address, payload);
    if (kind === 'message' && this.dropRate > 0 && this.random.next() < this.dropRate) {
      pipe.from.silentlyBroken = true;
      pipe.to.silentlyBroken = true;
    }
    if (pipe.from.silentlyBroken && kind !== 'open') {
      this.stats.lost++;
      return;
    }
    const readyAt = Math.max(pipe.lastReadyAt, this.clock.now() + this.latency());
    pipe.lastReadyAt = readyAt;
    pipe.queue.push({ readyAt, kind, payload });
    this.pump(pipe);
  }

  private pump(pipe: Pipe): void {
    this.clock.clearTimeout(pipe.timer);
    pipe.timer = undefined;
    const now = this.clock.now();
    while (pipe.queue.length > 0) {
      if (this.isCut(pipe.from.owner.address, pipe.to.owner.address)) return;
      const head = pipe.queue[0]!;
      if (head.readyAt > now) {
        pipe.timer = this.clock.setTimeout(() => this.pump(pipe), head.readyAt - now);
        return;
      }
      pipe.queue.shift();
      if (head.kind === 'close' || pipe.to.state === 'closed') this.pipes.delete(pipe);
      this.deliver(pipe.to, head);
    }
  }

  private deliver(to: MemoryConn, frame: Frame): void {
    if (to.state === 'closed' || (to.silentlyBroken && frame.kind === 'message')) {
      this.stats.lost++;
      return;
    }
    this.stats.delivered++;
    if (frame.kind === 'open') to.opened();
    else if (frame.kind === 'message') to.received(frame.payload);
    else to.finish(String(frame.payload));
  }

  private latency(): number {
    return this.latencyMs + (this.jitterMs > 0 ? this.random.int(this.jitterMs + 1) : 0);
  }
}

function cutKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

export class MemoryConn implements Conn {
  state: 'connecting' | 'open' | 'closed' = 'connecting';
  pipeOut: Pipe | undefined;
  silentlyBroken = false;
  private handlers: ConnHandlers | undefined;

  constructor(
    private readonly network: MemoryNetwork,
    readonly owner: MemoryTransport,
    readonly id: string,
    readonly direction: 'in' | 'out',
    readonly remote: string,
  ) {}

  setHandlers(handlers: ConnHandlers): void {
    this.handlers = handlers;
  }

  send(message: unknown): void {
    if (this.state !== 'open' || !this.pipeOut) return;
    // Frames are serialised as Socket.IO does (JSON): no shared objects between
    // nodes, and whatever JSON cannot carry (undefined, functions) is gone.
    this.network.enqueue(this.pipeOut, 'message', JSON.parse(JSON.stringify(message)) as unknown);
  }

  close(reason: string): void {
    if (this.state === 'closed') return;
    if (this.pipeOut) this.network.enqueue(this.pipeOut, 'close', reason);
    this.finishLater(reason);
  }

  /** Closes without telling the peer (the process died). */
  abandon(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.owner.forget(this);
  }

  /** @internal */
  opened(): void {
    if (this.state !== 'connecting') return;
    this.state = 'open';
    this.handlers?.onOpen();
  }

  /** @internal */
  received(message: unknown): void {
    if (this.state === 'open') this.handlers?.onMessage(message);
  }

  /** @internal Closes now and reports it. */
  finish(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.owner.forget(this);
    this.handlers?.onClose(reason);
  }

  private finishLater(reason: string): void {
    // The contract says handlers never run synchronously inside close().
    this.state = 'closed';
    this.owner.forget(this);
    const handlers = this.handlers;
    this.network.clock.setTimeout(() => handlers?.onClose(reason), 0);
  }
}

export class MemoryTransport implements Transport {
  private onConnection: ((conn: Conn) => void) | undefined;
  private readonly conns = new Set<MemoryConn>();
  private nextId = 1;
  private listening = false;

  constructor(
    private readonly network: MemoryNetwork,
    readonly address: string,
  ) {}

  listen(onConnection: (conn: Conn) => void): Promise<string> {
    this.onConnection = onConnection;
    this.network.register(this.address, this);
    this.listening = true;
    return Promise.resolve(this.address);
  }

  dial(address: string): Conn {
    const conn = new MemoryConn(this.network, this, `${this.address}#${this.nextId++}`, 'out', address);
    this.conns.add(conn);
    this.network.connect(conn, address);
    return conn;
  }

  close(): Promise<void> {
    if (this.listening) this.network.unregister(this.address, this);
    this.listening = false;
    for (const conn of [...this.conns]) conn.close('transport closed');
    return Promise.resolve();
  }

  /** @internal */
  accept(conn: MemoryConn): void {
    this.conns.add(conn);
    this.onConnection?.(conn);
  }

  /** @internal */
  forget(conn: MemoryConn): void {
    this.conns.delete(conn);
  }

  /** @internal The process died: peers see a close after one latency; this side hears nothing more. */
  crash(): void {
    this.network.unregister(this.address, this);
    this.listening = false;
    for (const conn of [...this.conns]) {
      if (conn.pipeOut) this.network.enqueue(conn.pipeOut, 'close', 'connection reset');
      conn.abandon();
    }
  }
}
