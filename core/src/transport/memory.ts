/**
 * In-memory network for deterministic simulation tests.
 *
 * Every delivery is a timer on the injected (manual) clock, so a simulated
 * cluster runs without sockets or sleeps and the same seed replays the same
 * run. Faults model what a real TCP network does to long-lived connections,
 * as rudely as real networks do it:
 *
 * - latency: every frame takes `latencyMs` plus up to `jitterMs`; frames on one
 *   connection still arrive in order (a frame never overtakes an earlier one).
 * - cuts are per direction of a pair of addresses. While `a → b` is cut,
 *   frames from a to b are held (as TCP retransmits), not lost, and frames
 *   from b to a still flow. Nothing tells either end that a cut began: each
 *   notices silence by its own heartbeat timeout, at its own moment. If either
 *   end closes the connection meanwhile (say that timeout), the frames held
 *   towards it die with it; what it sent before closing, and the close itself,
 *   stay held. Once the direction heals, held frames flow again — or the peer
 *   learns of the close.
 *     partition(a, b)       both directions of every pair across two sides;
 *     cut(a, b)             both directions of one pair (a partial partition
 *                           is some pairs cut and others not);
 *     cutOneWay(from, to)   one direction only (one-way loss: `to` stops
 *                           hearing `from`, while `from` still hears `to`);
 *     heal()                every cut, at once;
 *     healPair(a, b) / healOneWay(from, to)   one pair or one direction, so a
 *                           heal can reach one peer before another, and a cut
 *                           and a heal can happen in the same instant.
 *   Held frames start flowing on a timer of 0 ms, never inside the call: cuts
 *   and heals made in one instant take effect together, whatever their order.
 * - dials across a cut: opening a connection takes a round trip (TCP's
 *   handshake), so a dial fails with `connect timeout` when either direction
 *   of the pair is cut. It is decided when the dial would connect: if the pair
 *   is cut then, the dial waits until `connectTimeoutMs` after it began (a
 *   retransmitted SYN) and connects if the cut healed meanwhile, else fails.
 * - drop rate: a dropped frame kills its connection silently (a TCP stream
 *   cannot skip a frame): it and every later frame, both ways, are lost, and
 *   neither end is told. The link layer must notice by heartbeat.
 * - crash(address): the process is gone. Its listener disappears and each
 *   peer sees its connections close after one latency (the kernel's RST),
 *   unless a cut holds that news back.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Random } from '../random.js';
import type { Conn, ConnHandlers, Transport } from './transport.js';

/** Options of a MemoryNetwork: its clock and random source, latency, jitter, dial timeout. */
export interface MemoryNetworkOptions {
  /** The clock that times every frame's delivery. */
  clock: Clock;
  /** The random source for jitter and loss. */
  random: Random;
  /** Delay of every frame, in ms of the clock (default 1). */
  latencyMs?: number;
  /** Extra delay, uniform in [0, jitterMs] ms, added to each frame's (default 0); frames stay in order. */
  jitterMs?: number;
  /** How long a dial to a cut-off address waits before it fails with `connect timeout`, in ms (default 1000). */
  connectTimeoutMs?: number;
}

/** The close reason a crashed process's connections end with: a reset, not a close by the peer. */
const RESET = 'connection reset';

/** A frame in flight on a Pipe: what it carries and when (clock ms) it may be delivered. */
export interface Frame {
  /** When the frame may be delivered (ms, the network's clock); never before an earlier frame on its pipe. */
  readonly readyAt: number;
  /** An open, a message, or a close. */
  readonly kind: 'open' | 'message' | 'close';
  /** The message (JSON-copied), or the close reason. */
  readonly payload: unknown;
}

/** One direction of a connection: frames travelling from `from` to `to`. */
export class Pipe {
  /** Frames not yet delivered, oldest first. */
  readonly queue: Frame[] = [];
  /** The timer that delivers the head frame when it is due; `undefined` when none is armed. */
  timer: TimerHandle | undefined;
  /** The readyAt of the last frame queued, so a later frame is never delivered before it. */
  lastReadyAt = 0;
  constructor(
    /** The connection end that sends. */
    readonly from: MemoryConn,
    /** The connection end that receives. */
    readonly to: MemoryConn,
  ) {}
}

/** An in-process network of MemoryTransports, driven by an injected clock, with injectable faults (partitions, latency, jitter). */
export class MemoryNetwork {
  /** The clock the network runs on. */
  readonly clock: Clock;
  /** The random source for jitter and loss. */
  readonly random: Random;
  private readonly latencyMs: number;
  private readonly jitterMs: number;
  /** How long a dial waits for a cut-off address before it fails, in ms. */
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

  /** Cuts both directions between every node of `sideA` and every node of `sideB` (addresses). */
  partition(sideA: readonly string[], sideB: readonly string[]): void {
    for (const a of sideA) for (const b of sideB) this.cut(a, b);
  }

  /** Cuts both directions between `a` and `b`; every other pair is left as it is. */
  cut(a: string, b: string): void {
    this.cutOneWay(a, b);
    this.cutOneWay(b, a);
  }

  /** Holds frames from `from` to `to`; frames from `to` to `from` still flow. */
  cutOneWay(from: string, to: string): void {
    if (from !== to) this.cuts.add(cutKey(from, to));
  }

  /** Removes every cut; held frames flow again. */
  heal(): void {
    this.cuts.clear();
    for (const pipe of this.pipes) this.resume(pipe);
  }

  /** Heals both directions between `a` and `b`; cuts of other pairs stay. */
  healPair(a: string, b: string): void {
    this.healOneWay(a, b);
    this.healOneWay(b, a);
  }

  /** Heals the direction `from → to` only. */
  healOneWay(from: string, to: string): void {
    if (!this.cuts.delete(cutKey(from, to))) return;
    for (const pipe of this.pipes) if (pipe.from.owner.address === from && pipe.to.owner.address === to) this.resume(pipe);
  }

  /** Whether frames from `from` to `to` are held now. */
  isCut(from: string, to: string): boolean {
    return this.cuts.has(cutKey(from, to));
  }

  /** Whether a connection between `a` and `b` can open now (a handshake needs both directions). */
  canConnect(a: string, b: string): boolean {
    return !this.isCut(a, b) && !this.isCut(b, a);
  }

  /** Every direction cut now, as `from → to` pairs (for traces). */
  cutsNow(): Array<[from: string, to: string]> {
    return [...this.cuts].sort().map((k) => k.split('>') as [string, string]);
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

  /** @internal Makes `transport` the listener at `address`; throws when another listens there. */
  register(address: string, transport: MemoryTransport): void {
    if (this.listeners.has(address)) throw new Error(`memory network: address ${address} is already in use`);
    this.listeners.set(address, transport);
  }

  /** @internal Removes `transport` as the listener at `address` (if it still is). */
  unregister(address: string, transport: MemoryTransport): void {
    if (this.listeners.get(address) === transport) this.listeners.delete(address);
  }

  /** @internal Connects `client` to the listener at `targetAddress` after a latency, waiting up to connectTimeoutMs while a cut holds it back. */
  connect(client: MemoryConn, targetAddress: string): void {
    const from = client.owner.address;
    const deadline = this.clock.now() + this.connectTimeoutMs;
    const attempt = (): void => {
      const server = this.listeners.get(targetAddress);
      if (!server || client.state === 'closed') {
        client.finish(server ? 'closed' : 'connection refused');
        return;
      }
      if (!this.canConnect(from, targetAddress)) {
        // The handshake's frames are held: a retransmitted SYN may still get through before the timeout.
        if (this.clock.now() >= deadline) client.finish('connect timeout');
        else this.clock.setTimeout(attempt, deadline - this.clock.now());
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
    this.clock.setTimeout(attempt, this.canConnect(from, targetAddress) ? this.latency() : this.connectTimeoutMs);
  }

  /** @internal Queues a frame on `pipe` (dropping it, and breaking the connection, at the drop rate); delivered in order after the latency. */
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

  /** Lets a pipe's held frames flow again, on a timer of 0 ms (cuts and heals of one instant act together). */
  private resume(pipe: Pipe): void {
    if (pipe.queue.length === 0) return;
    this.clock.clearTimeout(pipe.timer);
    pipe.timer = this.clock.setTimeout(() => this.pump(pipe), 0);
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
    // A close the other end made on purpose, or the reset a crash leaves (`RESET`).
    else to.finish(String(frame.payload), frame.payload !== RESET);
  }

  private latency(): number {
    return this.latencyMs + (this.jitterMs > 0 ? this.random.int(this.jitterMs + 1) : 0);
  }
}

/** The key of one direction: frames from `from` to `to`. */
function cutKey(from: string, to: string): string {
  return `${from}>${to}`;
}

/** One end of an in-process connection on a MemoryNetwork. */
export class MemoryConn implements Conn {
  /** `connecting` until the open frame arrives, then `open`, then `closed`. */
  state: 'connecting' | 'open' | 'closed' = 'connecting';
  /** The pipe this end sends on; `undefined` until connected. */
  pipeOut: Pipe | undefined;
  /** Set when the network dropped a frame of this connection: from then on its messages are lost (the connection looks up but is broken). */
  silentlyBroken = false;
  private handlers: ConnHandlers | undefined;

  constructor(
    private readonly network: MemoryNetwork,
    /** The transport this end belongs to. */
    readonly owner: MemoryTransport,
    /** Unique within its transport (`address#n` for dials, `mN` for accepted ones). */
    readonly id: string,
    /** `out` when this end dialled. */
    readonly direction: 'in' | 'out',
    /** The address dialled (out), or the dialler's address (in). */
    readonly remote: string,
  ) {}

  /** Sets the handlers the connection reports to. */
  setHandlers(handlers: ConnHandlers): void {
    this.handlers = handlers;
  }

  /** Sends a JSON copy of `message` to the other end after the network's latency; a no-op unless open. */
  send(message: unknown): void {
    if (this.state !== 'open' || !this.pipeOut) return;
    // Frames are serialised as Socket.IO does (JSON): no shared objects between
    // nodes, and whatever JSON cannot carry (undefined, functions) is gone.
    this.network.enqueue(this.pipeOut, 'message', JSON.parse(JSON.stringify(message)) as unknown);
  }

  /** Closes this end now (its onClose fires on a 0 ms timer) and sends a close frame to the peer (a reset when `abrupt`); a no-op when closed. */
  close(reason: string, abrupt = false): void {
    if (this.state === 'closed') return;
    if (this.pipeOut) this.network.enqueue(this.pipeOut, 'close', abrupt ? RESET : reason);
    this.finishLater(reason);
  }

  /** Closes without telling the peer (the process died). */
  abandon(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.owner.forget(this);
  }

  /** @internal The open frame arrived: the connection opens and reports onOpen. */
  opened(): void {
    if (this.state !== 'connecting') return;
    this.state = 'open';
    this.handlers?.onOpen();
  }

  /** @internal A message frame arrived: reports it to onMessage while open. */
  received(message: unknown): void {
    if (this.state === 'open') this.handlers?.onMessage(message);
  }

  /** @internal Closes now and reports it (`byPeer`: the other end closed it on purpose). */
  finish(reason: string, byPeer = false): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.owner.forget(this);
    this.handlers?.onClose(reason, byPeer);
  }

  private finishLater(reason: string): void {
    // The contract says handlers never run synchronously inside close().
    this.state = 'closed';
    this.owner.forget(this);
    const handlers = this.handlers;
    this.network.clock.setTimeout(() => handlers?.onClose(reason), 0);
  }
}

/** A node's transport on a MemoryNetwork. */
export class MemoryTransport implements Transport {
  private onConnection: ((conn: Conn) => void) | undefined;
  private readonly conns = new Set<MemoryConn>();
  private nextId = 1;
  private listening = false;

  constructor(
    private readonly network: MemoryNetwork,
    /** The address this transport listens on. */
    readonly address: string,
  ) {}

  /** Registers the address on the network (throws when it is taken) and resolves with it. */
  listen(onConnection: (conn: Conn) => void): Promise<string> {
    this.onConnection = onConnection;
    this.network.register(this.address, this);
    this.listening = true;
    return Promise.resolve(this.address);
  }

  /** Dials `address` on the network; a dial to no listener closes with `connection refused`. */
  dial(address: string): Conn {
    const conn = new MemoryConn(this.network, this, `${this.address}#${this.nextId++}`, 'out', address);
    this.conns.add(conn);
    this.network.connect(conn, address);
    return conn;
  }

  /** Unregisters the address and closes every connection of this transport. */
  close(): Promise<void> {
    if (this.listening) this.network.unregister(this.address, this);
    this.listening = false;
    for (const conn of [...this.conns]) conn.close('transport closed');
    return Promise.resolve();
  }

  /** @internal An incoming connection was accepted: hands it to the listen callback. */
  accept(conn: MemoryConn): void {
    this.conns.add(conn);
    this.onConnection?.(conn);
  }

  /** @internal Drops a closed connection from this transport. */
  forget(conn: MemoryConn): void {
    this.conns.delete(conn);
  }

  /** @internal The process died: peers see a close after one latency; this side hears nothing more. */
  crash(): void {
    this.network.unregister(this.address, this);
    this.listening = false;
    for (const conn of [...this.conns]) {
      if (conn.pipeOut) this.network.enqueue(conn.pipeOut, 'close', RESET);
      conn.abandon();
    }
  }
}
