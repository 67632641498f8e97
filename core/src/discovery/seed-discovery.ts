/**
 * DNS discovery: looks up the node's DNS seeds at start and again every
 * `intervalMs` (±20% jitter), and hands membership the addresses found, so
 * that each is dialled like a static seed.
 *
 * One round looks up every seed at once (dns-lookup.ts), then, per seed,
 * takes the new address set (`nextAddresses`: an answer replaces the set, a
 * failure only adds to it), drops this node's own address, and logs the
 * outcome if it differs from the seed's last one (once per change, never
 * once per interval). When the union over all seeds changed, `onAddresses`
 * gets the new union: membership dials what is new and stops redialling
 * what left (a link already made is kept; membership handles dead nodes).
 * The next round is scheduled when this one has finished, so rounds never
 * overlap.
 *
 * Races handled:
 * - "a round outlasts its interval" (a DNS server that does not answer): at
 *   `intervalMs` after its start the round's queries are cancelled; they end
 *   as failures (ECANCELLED), which keep the addresses found before.
 * - "stopped while a round is in flight": `stop()` cancels the queries, and
 *   a round that finds the discovery stopped when its queries settle applies
 *   nothing and schedules nothing.
 * - "DNS down when the node starts": a seed that has had no answer yet (every
 *   lookup failed, or the first is still in flight) and holds no address
 *   is `unresolved()`. Readiness (distributed/readiness.ts) does not let
 *   the ready timeout make such a node ready alone: a failure says nothing
 *   about who runs there, and an outsider's tour saw a pod started while
 *   the DNS server was down take every child alone after 5 s, a second
 *   copy of each beside the cluster's, until DNS came back.
 * - "the answer names this node": its own advertised address is never
 *   handed on (logged once per change). An address that reaches this node
 *   under another name (it listens on 0.0.0.0 and advertises its host name)
 *   is refused by its own link layer as `self` on the first dial, and
 *   membership never dials it again.
 *
 * Time and randomness are injected (Clock, Random): the unit tests drive
 * rounds with a ManualClock and a fake `DnsQueries`.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Random } from '../random.js';
import { diffAddresses, jitteredDelay, nextAddresses, outcomeKey, type LookupOutcome } from './dns-answer.js';
import { lookupSeed, type DnsQueries } from './dns-lookup.js';
import { formatSeed, type DnsSeedSpec } from './seed-spec.js';

export interface SeedDiscoveryOptions {
  seeds: readonly DnsSeedSpec[];
  queries: DnsQueries;
  /** This node's advertised address: never handed on. */
  self: string;
  /** Between the end of one round and the start of the next, before jitter; also the longest a round may take. */
  intervalMs: number;
  clock: Clock;
  random: Random;
  log: Logger;
  /** The addresses found by all seeds together (sorted), each time that set changes. */
  onAddresses(addresses: readonly string[]): void;
}

/** One DNS seed as an operator sees it (`pogo status --json`, GET /status). */
export interface DiscoveryStatus {
  /** The seed as written in the config (e.g. `dns:pogo.svc:7400` or `dns-srv:_pogo._tcp.example`). */
  seed: string;
  /** The addresses this seed contributes now (this node's own left out). */
  addresses: string[];
  /** When the last lookup ended (the node's clock); absent before the first. */
  lookedUpAt?: number;
  /** Why the last lookup gave no address, or failed; absent when it gave addresses. */
  problem?: string;
}

interface SeedState {
  readonly seed: DnsSeedSpec;
  readonly text: string;
  addresses: Set<string>;
  /** `outcomeKey` of the last outcome, to log only changes. */
  lastKey: string | undefined;
  lookedUpAt: number | undefined;
  problem: string | undefined;
  /** Whether some lookup of it was answered (records or a real "nothing there"), ever. */
  answered: boolean;
}

/** A DNS seed that has not been answered yet and gives no address: what is known of the cluster behind it is nothing. */
export interface UnresolvedSeed {
  seed: string;
  /** The last lookup's error, or that none has ended yet. */
  problem: string;
}

export class SeedDiscovery {
  private readonly seeds: SeedState[];
  /** The union last handed to `onAddresses`, joined, to hand on only changes. */
  private lastUnion = '';
  private timer: TimerHandle | undefined;
  private deadline: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly o: SeedDiscoveryOptions) {
    this.seeds = o.seeds.map((seed) => ({
      seed,
      text: formatSeed(seed),
      addresses: new Set(),
      lastKey: undefined,
      lookedUpAt: undefined,
      problem: undefined,
      answered: false,
    }));
  }

  /** Starts the first round now. */
  start(): void {
    if (this.seeds.length > 0) void this.round();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.o.clock.clearTimeout(this.timer);
    this.o.clock.clearTimeout(this.deadline);
    this.o.queries.cancel();
  }

  status(): DiscoveryStatus[] {
    return this.seeds.map((s) => ({
      seed: s.text,
      addresses: [...s.addresses].sort(),
      ...(s.lookedUpAt !== undefined ? { lookedUpAt: s.lookedUpAt } : {}),
      ...(s.problem !== undefined ? { problem: s.problem } : {}),
    }));
  }

  /** The seeds never answered that give no address (see the race "DNS down when the node starts"). */
  unresolved(): UnresolvedSeed[] {
    return this.seeds.filter((s) => !s.answered && s.addresses.size === 0).map((s) => ({ seed: s.text, problem: s.problem ?? 'not looked up yet' }));
  }

  private async round(): Promise<void> {
    // Race "a round outlasts its interval": cancel its queries (they end as failures).
    this.deadline = this.o.clock.setTimeout(() => this.o.queries.cancel(), this.o.intervalMs);
    const outcomes = await Promise.all(this.seeds.map((s) => lookupSeed(this.o.queries, s.seed)));
    this.o.clock.clearTimeout(this.deadline);
    this.deadline = undefined;
    // Race "stopped while a round is in flight": nothing to apply, nothing to schedule.
    if (this.stopped) return;
    try {
      this.seeds.forEach((s, i) => this.apply(s, outcomes[i]!));
      const union = [...new Set(this.seeds.flatMap((s) => [...s.addresses]))].sort();
      const joined = union.join(',');
      if (joined !== this.lastUnion) {
        this.lastUnion = joined;
        this.o.onAddresses(union);
      }
    } catch (err) {
      this.o.log.error({ err }, 'applying a DNS lookup failed; trying again next interval');
    }
    this.timer = this.o.clock.setTimeout(() => void this.round(), jitteredDelay(this.o.intervalMs, this.o.random.next()));
  }

  private apply(s: SeedState, outcome: LookupOutcome): void {
    const next = nextAddresses(s.addresses, outcome);
    const includesSelf = next.delete(this.o.self);
    const { added, removed } = diffAddresses(s.addresses, next);
    s.addresses = next;
    s.lookedUpAt = this.o.clock.now();
    if (outcome.kind === 'answer') s.answered = true;
    s.problem =
      outcome.kind === 'failure'
        ? outcome.error
        : next.size === 0
          ? outcome.empty !== undefined
            ? `no address (${outcome.empty})`
            : includesSelf
              ? 'only this node itself'
              : 'no address'
          : undefined;
    const key = `${outcomeKey(outcome)}|${includesSelf}`;
    if (key === s.lastKey) return;
    s.lastKey = key;
    const fields = { seed: s.text, addresses: [...next].sort(), added, removed, ...(includesSelf ? { self: this.o.self } : {}) };
    const every = `looking again every ${this.o.intervalMs} ms`;
    if (outcome.kind === 'failure') {
      this.o.log.warn(
        { ...fields, error: outcome.error },
        `cannot resolve ${s.text}${asked(this.o.queries)}: ${outcome.error}; keeping the ${next.size} address(es) found before, ${every}`,
      );
    } else if (next.size === 0) {
      const why =
        outcome.empty === 'ENOTFOUND'
          ? 'the name does not exist (NXDOMAIN)'
          : outcome.empty !== undefined
            ? `the name has no address record (${outcome.empty})`
            : includesSelf
              ? `it names only this node itself (${this.o.self})`
              : 'the answer holds no address';
      this.o.log.warn(fields, `${s.text} resolves to no other node: ${why}; links already made stay, ${every}`);
    } else {
      this.o.log.info(fields, `${s.text} resolved to ${next.size} address(es)${includesSelf ? ` besides this node's own (${this.o.self}, skipped)` : ''}`);
    }
  }
}

/** " (asked 10.0.0.10)": which DNS servers a failed lookup asked, when the resolver says (a wrong `--dns-server` shows). */
function asked(queries: DnsQueries): string {
  let servers: string[] = [];
  try {
    servers = queries.getServers?.() ?? [];
  } catch {
    // a resolver that cannot say: the log says less
  }
  return servers.length > 0 ? ` (asked ${servers.join(', ')})` : '';
}
