/**
 * A client session: one authenticated link from a client (`pogo ctl`) to
 * one member of a cluster, and the commands it sends over it (link.ts,
 * "Client links"; commands.ts for what a member does with them).
 *
 * Which member: the seeds are dialled one at a time, in the order given,
 * and the first that completes the handshake is the session's member — it
 * executes every command of the session, and its audit log records them.
 * A seed that cannot be used is passed over for the next: nothing answers
 * there, the handshake times out, the node is shutting down or has too many
 * handshakes under way, it is not a member, or it speaks a protocol older
 * than client links. A refusal that would be the same at every seed ends
 * the session's opening at once, with the handshake's own reason: a wrong
 * cluster secret (`auth-failed`: the acceptor's proof in its challenge does
 * not check out, or it refused ours), a wrong cluster name
 * (`cluster-mismatch`), a handshake it cannot read (`malformed`).
 *
 * The session is no node: no membership, groups, store or listener. Its
 * link is pinged like any (a long session — `logs --follow` — stays
 * linked, and a dead member is noticed), and `closed` reports its loss;
 * commands then fail with `unreachable`. A change in flight when the link
 * is lost fails with `unreachable` too, but its message says that it was
 * sent and may or may not have been executed (CommandClient): the member
 * may have done it just before it died. One never sent says so.
 */
import { hostname } from 'node:os';
import type { Clock, TimerHandle } from './clock.js';
import { CommandClient } from './commands.js';
import { LinkLayer, type DialFailure, type DialFailureCode, type Link, type LinkTiming } from './link.js';
import type { Logger } from './logger.js';
import type { CommandArgsInput, CommandOutcome } from './observer/ui-protocol.js';
import { peerKnowsOp, type CommandOp } from './protocol.js';
import type { Random } from './random.js';
import type { Transport } from './transport/transport.js';

/** Why a session could not be opened: a handshake refusal that every seed would give, or no seed usable. */
export type SessionErrorCode = 'unreachable' | 'auth-failed' | 'cluster-mismatch' | 'malformed';

/** Refusals that end the opening at once: the same secret and cluster name go to every seed. */
const DEFINITE: ReadonlySet<DialFailureCode> = new Set(['auth-failed', 'cluster-mismatch', 'malformed']);

export class SessionError extends Error {
  constructor(
    readonly code: SessionErrorCode,
    message: string,
    /** Every seed tried, with why it could not be used. */
    readonly attempts: ReadonlyArray<{ address: string; code: DialFailureCode; message: string }>,
  ) {
    super(message);
    this.name = 'SessionError';
  }
}

export interface ClientSessionOptions {
  /** A label for the member's logs and audit (`from`), e.g. `ctl-<host>-<pid>`. */
  name: string;
  cluster: string;
  secret: string;
  /** Members to try, in order. */
  seeds: readonly string[];
  timing: LinkTiming;
  transport: Transport;
  clock: Clock;
  random: Random;
  log: Logger;
  /** How long opening may take in all, ms. */
  timeoutMs: number;
}

/** The host part a client announces (it takes no connections: port 0). */
function clientAddress(): string {
  const host = hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 200);
  return `${host || 'client'}:0`;
}

export class ClientSession {
  private readonly links: LinkLayer;
  private readonly commands: CommandClient;
  private link: Link | undefined;
  private closedListeners: Array<(reason: string) => void> = [];
  /** The dial under way while opening: how it ends. */
  private dialing: { address: string; settle: (outcome: { link: Link } | { failure: DialFailure }) => void } | undefined;

  private constructor(private readonly o: ClientSessionOptions) {
    this.links = new LinkLayer({
      identity: {
        cluster: o.cluster,
        name: o.name,
        incarnation: o.random.hex(8),
        startedAt: o.clock.now(),
        address: clientAddress(),
        role: 'observer',
        client: true,
      },
      config: { secret: o.secret, timing: o.timing, maxPendingHandshakes: 1 },
      transport: o.transport,
      clock: o.clock,
      random: o.random,
      log: o.log,
      events: {
        linkUp: (link) => {
          if (this.dialing) this.dialing.settle({ link });
          else this.links.disconnect(link.peer.name, 'not dialled by this session');
        },
        linkDown: (link, reason) => {
          if (link !== this.link) return;
          this.link = undefined;
          this.commands.peerDown(link.peer.name);
          for (const listener of this.closedListeners.splice(0)) listener(reason);
        },
        message: (_link, message) => {
          if (message.t === 'cmd.reply') this.commands.settle(message);
          else if (message.t === 'leave' && this.link) this.links.disconnect(this.link.peer.name, `the member left: ${message.reason}`);
        },
        suspect: () => undefined,
        confirmed: () => undefined,
        dialFailed: (address, failure) => {
          if (this.dialing?.address === address) this.dialing.settle({ failure });
        },
      },
    });
    this.commands = new CommandClient((peer, cmd) => this.links.send(peer, cmd), o.clock);
  }

  /** Opens a session with the first usable seed (see the header). Rejects with a SessionError. */
  static async open(o: ClientSessionOptions): Promise<ClientSession> {
    const session = new ClientSession(o);
    session.links.start();
    try {
      await session.connect();
    } catch (err) {
      await session.close();
      throw err;
    }
    return session;
  }

  private async connect(): Promise<void> {
    const deadline = this.o.clock.now() + this.o.timeoutMs;
    const attempts: Array<{ address: string; code: DialFailureCode; message: string }> = [];
    for (const address of this.o.seeds) {
      const left = deadline - this.o.clock.now();
      if (left <= 0) break;
      const outcome = await this.dial(address, left);
      if ('link' in outcome) {
        this.link = outcome.link;
        return;
      }
      const { code, message } = outcome.failure;
      attempts.push({ address, code, message });
      const peer = outcome.failure.peerName;
      if (DEFINITE.has(code))
        throw new SessionError(code as SessionErrorCode, `cannot link to ${peer ? `${peer} at ${address}` : address}: ${message}`, attempts);
    }
    const tried = attempts.map((a) => `${a.address}: ${a.message}`).join('; ');
    const untried = this.o.seeds.length - attempts.length;
    throw new SessionError(
      'unreachable',
      `no member could be reached${tried ? ` (${tried})` : ''}${untried > 0 ? `; ${untried} seed(s) not tried within ${this.o.timeoutMs} ms` : ''}`,
      attempts,
    );
  }

  /**
   * Dials one seed; the outcome is its link or why not. `withinMs` is what
   * is left of the whole opening: when it runs out, nothing is left to try,
   * and the layer is shut (the dial's own connect and handshake timeouts
   * end a seed that does not answer sooner).
   */
  private dial(address: string, withinMs: number): Promise<{ link: Link } | { failure: DialFailure }> {
    return new Promise((resolve) => {
      const timer: { handle?: TimerHandle } = {};
      const settle = (outcome: { link: Link } | { failure: DialFailure }): void => {
        if (this.dialing?.settle !== settle) return;
        this.dialing = undefined;
        this.o.clock.clearTimeout(timer.handle);
        resolve(outcome);
      };
      this.dialing = { address, settle };
      timer.handle = this.o.clock.setTimeout(() => {
        settle({ failure: { code: 'unreachable', message: `no answer within ${withinMs} ms` } });
        this.links.shutdown();
      }, withinMs);
      this.links.dial(address);
    });
  }

  /** The member this session is linked to (it executes the commands). */
  get member(): string {
    return this.link?.peer.name ?? '';
  }

  /** The address of that member, as dialled. */
  get memberAddress(): string {
    return this.link?.dialledAddress ?? '';
  }

  /** Whether the link still stands. */
  get open(): boolean {
    return this.link !== undefined;
  }

  /**
   * Sends `op` to the session's member (CommandClient: never rejects; the
   * result is checked with the op's schema). An op the member's protocol
   * does not know fails at once.
   */
  command<Op extends CommandOp>(op: Op, args: CommandArgsInput<Op>, credential: string, by: string, timeoutMs: number): Promise<CommandOutcome<Op>> {
    const link = this.link;
    if (!link) return Promise.resolve({ ok: false, error: { code: 'unreachable', message: `the link to the member is closed: ${op} was not sent` } });
    if (!peerKnowsOp(link.protocol, op))
      return Promise.resolve({
        ok: false,
        error: {
          code: 'failed',
          message: `${link.peer.name} speaks protocol ${link.protocol.major}.${link.protocol.minor}, which has no ${op} command; upgrade it`,
        },
      });
    return this.commands.request(link.peer.name, op, args, credential, by, timeoutMs);
  }

  /** Calls `listener` once, when the link goes down (not after `close`). */
  onClosed(listener: (reason: string) => void): void {
    this.closedListeners.push(listener);
  }

  /** Closes the link (what is queued on it goes first) and the transport. */
  async close(): Promise<void> {
    this.closedListeners = [];
    this.links.shutdown();
    await this.o.transport.close();
  }
}
