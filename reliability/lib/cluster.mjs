/**
 * A cluster of real `pogo node` processes for the reliability scripts, with
 * an observer node in the script's own process.
 *
 * Each member runs the CLI unchanged, preloaded with the benchmark control
 * hook (bench/fixtures/control-hook.mjs, used read-only): stdin and fd 3
 * carry a control channel (startMany, counts, stats, childLog), so the
 * script can ask a node what it really runs — independently of what the
 * cluster's process groups say. With a NetnsLayout each member runs inside
 * its own network namespace (`ip netns exec`: the pid stays the node's).
 *
 * Ground truth: every node records the ups and downs of its local children
 * (childLog); `readTruth()` collects them and keeps, per node process, the
 * set of children it runs. A process that exits runs nothing any more (its
 * in-process workers die with it). Listeners get every batch of events, so
 * the chaos script can notice a terminated child coming back.
 *
 * Commands (start, stop, move) go from the observer to a member as operator
 * commands, as `pogo ctl` sends them: the member executes them with its own
 * distributed supervisor.
 *
 * The processes are started, found and stopped by the cluster harness
 * (pogo-core/testing's ProcessCluster), which registers every live one, so
 * `close()` (and a `process.on('exit')` net in the scripts, killTrackedNow)
 * stops each one by pid: SIGCONT first, in case it is frozen, then SIGKILL.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BenchNode, RunTracker } from '../../bench/lib/cluster.mjs';
import { killTrackedNow, sleep, until, within } from '../../bench/lib/harness.mjs';
import { PogoNode, createNodeConfig } from '../../core/dist/index.js';
import { ProcessCluster, silentLogger } from '../../core/dist/testing.js';
// Placement's score is not library API; the harness predicts placement with it.
import { hrwScore } from '../../core/dist/distributed/placement.js';
import { commandLine } from './options.mjs';

const HOOK = new URL('../../bench/fixtures/control-hook.mjs', import.meta.url).href;
const WORKERS = fileURLToPath(new URL('../../bench/fixtures/workers.mjs', import.meta.url));
const GC_HOOK = new URL('../fixtures/gc-on-signal.mjs', import.meta.url).href;

/** @typedef {import('../../bench/lib/types.js').ChildLogEntry} ChildLogEntry */
/** @typedef {import('../../bench/lib/types.js').CountsReply} CountsReply */
/** @typedef {import('../../core/dist/index.js').CommandOp} CommandOp */
/**
 * A listener of child-log events: the node, its events in this process's time base, and as it recorded them.
 * @typedef {(node: BenchNode, events: ChildLogEntry[], raw: ChildLogEntry[]) => void} ChildEventListener
 */

/**
 * The `main` of a repro script, run only when `moduleUrl` is the file Node
 * was started with: reads its command line, kills every tracked process at
 * exit, and exits 1 when `reproduce(opts)` found anything (a count above 0),
 * else 0; a crash prints its stack and exits 1.
 * @template {import('./types.js').FlagSpec} S
 * @param {string} moduleUrl
 * @param {string} name
 * @param {S} flags
 * @param {(opts: import('./types.js').Flags<S>) => Promise<number>} reproduce
 */
export function reproMain(moduleUrl, name, flags, reproduce) {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  const main = async () => {
    const opts = commandLine(name, flags);
    if (!opts) return;
    process.on('exit', killTrackedNow);
    const found = await reproduce(opts);
    process.exit(found > 0 ? 1 : 0);
  };
  main().catch((/** @type {any} */ err) => {
    process.stderr.write(`repro: ${err.stack ?? err}\n`);
    process.exit(1);
  });
}

/**
 * On SIGINT or SIGTERM: says so, stops every process of `cluster` (keeping
 * its logs) and exits 130. `interrupted()` tells the run loop to stop;
 * `release()` takes the handlers off again.
 * @param {string} name
 * @param {{ close(options: { keep: boolean }): Promise<unknown> }} cluster
 * @param {(line: string) => void} log
 */
export function closeOnSignal(name, cluster, log) {
  let interrupted = false;
  /** @param {string} sig a signal's name, or why the run stops */
  const onSignal = (sig) => {
    if (interrupted) return;
    interrupted = true;
    log(`${name}: ${sig}: stopping every process`);
    void cluster.close({ keep: true }).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    onSignal,
    interrupted: () => interrupted,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * Wall clock minus performance.timeOrigin + now(), to a few microseconds:
 * Date.now() only counts whole milliseconds, so sample it for 3 ms of busy
 * waiting (three ticks, in case a pause hides one) and keep the largest
 * difference, the one taken right at a tick.
 * @returns {number}
 */
export function wallOffset() {
  let best = -Infinity;
  const until = performance.now() + 3;
  while (performance.now() < until) {
    const d = Date.now() - (performance.timeOrigin + performance.now());
    if (d > best) best = d;
  }
  return best;
}

export class RealCluster {
  /**
   * The current process of each member name.
   * @type {Map<string, BenchNode>}
   */
  nodes = new Map();
  /**
   * Every process ever started, in order.
   * @type {BenchNode[]}
   */
  all = [];
  /**
   * BenchNode → Map(id → number of instances it runs).
   * @type {Map<BenchNode, Map<string, number>>}
   */
  truth = new Map();
  /** @type {Set<string>} */
  frozen = new Set();
  /** @type {ChildEventListener[]} */
  listeners = [];
  /**
   * member-down events the observer saw.
   * @type {Array<{ name: string, reason: string, at: number }>}
   */
  downs = [];
  /**
   * The observer node and its tracker: set by observe(), read only after it.
   * @type {PogoNode}
   */
  observer = /** @type {any} */ (undefined);
  /** @type {RunTracker} */
  tracker = /** @type {any} */ (undefined);
  /** Wall clock minus this process's performance clock at start (see wallDrift). */
  drift0 = wallOffset();
  /**
   * id → rendezvous owner among all members (cache).
   * @type {Map<string, string>}
   */
  owners = new Map();

  /**
   * The members are a harness ProcessCluster (pogo-core/testing): log files
   * in its directory, the control hook preloaded, and with `netns` each one
   * behind its namespace's `ip netns exec` prefix, listening on its address.
   * @param {object} options
   * @param {string[]} options.names member names
   * @param {'local' | 'lan' | 'wan'} [options.preset] timing preset of every node and the observer
   * @param {string[]} [options.flags] extra `pogo node` flags for every member
   * @param {import('./netns.mjs').NetnsLayout} [options.netns] a NetnsLayout, or undefined for plain loopback
   * @param {boolean} [options.status] serve the status endpoint (loopback only)
   * @param {boolean} [options.gc] let `collectGarbage(name)` run a full GC in the node (--expose-gc and fixtures/gc-on-signal.mjs)
   * @param {Record<string, number>} [options.ports] name → fixed port (the same on every restart; default: 0, a free one each time)
   * @param {(name: string) => string[]} [options.nodeFlags] name → extra `pogo node` flags of that member (e.g. its own --data-dir)
   * @param {boolean} [options.calibrate] measure each node's child-log clock against this process's by round trips
   *   (calibrateClock) instead of trusting the wall-drift estimate
   */
  constructor({ names, preset = 'lan', flags = [], netns = undefined, status = false, gc = false, ports = {}, nodeFlags = () => [], calibrate = false }) {
    this.gc = gc;
    this.calibrate = calibrate;
    this.ports = ports;
    this.nodeFlags = nodeFlags;
    this.names = names;
    this.preset = preset;
    this.flags = flags;
    this.netns = netns;
    this.status = status;
    const rand = () => Math.random().toString(36).slice(2);
    this.processes = new ProcessCluster({
      prefix: 'pogo-reliability-',
      secret: `reliability-${rand()}-${rand()}`,
      nodeOptions: [...(gc ? ['--expose-gc', '--import', GC_HOOK] : []), '--import', HOOK],
      host: (name) => this.host(name),
      env: { POGO_LOG_LEVEL: process.env.POGO_LOG_LEVEL ?? 'info' },
      logFiles: true,
      control: true,
      status,
    });
    this.dir = this.processes.dir;
    this.secret = this.processes.secret;
    this.secretFile = this.processes.secretFile;
    this.token = `operator-${rand()}-${rand()}`;
    this.tokenFile = this.processes.writeSecret('operator.txt', this.token);
    this.memberFlags = ['--operator-token-file', this.tokenFile, '--workers', WORKERS, '--preset', preset, ...flags];
  }

  /** @param {string} name */
  host(name) {
    return this.netns ? this.netns.host(name) : '127.0.0.1';
  }

  /**
   * Spawns member `name` (seeds: every other live member) and waits until it listens.
   * @param {string} name
   * @param {string[]} [seeds]
   * @returns {Promise<BenchNode>}
   */
  async start(name, seeds = this.seeds(name)) {
    const proc = await this.processes.start(name, seeds, [...this.memberFlags, ...this.nodeFlags(name)], {
      port: this.ports[name] ?? 0,
      ...(this.netns ? { wrap: this.netns.execPrefix(name) } : {}),
      noWait: true,
    });
    const node = new BenchNode(proc);
    // Child-log times are each process's performance.timeOrigin + now(); timeOrigin is read from the
    // wall clock at process start, so a process started later carries the wall clock's drift against
    // the monotonic clock since this script started (≈ 15 ms after 15 min here). Undo it.
    node.clockOffset = this.wallDrift();
    this.nodes.set(name, node);
    this.all.push(node);
    this.truth.set(node, new Map());
    this.frozen.delete(name);
    void node.exited.then(() => {
      // Its last child log (a graceful exit hands it over) still counts for "did it come back".
      if (node.finalLog.length > 0) this.apply(node, node.finalLog);
      this.truth.get(node)?.clear();
    });
    await node.started(30_000);
    if (this.calibrate) await this.calibrateClock(node);
    if (this.status) node.statusUrl = proc.statusUrl;
    return node;
  }

  /**
   * Measures the offset of `node`'s child-log clock (its timeOrigin + now())
   * from this process's, NTP-style: the node's `clock` reading against the
   * middle of the round trip that fetched it. The offset of a process never
   * changes (both clocks run on the monotonic clock), so every sample is
   * kept only if its round trip is the shortest yet; its half is the error
   * bound, `node.clockErrorMs`. readTruth takes one more sample per node
   * each time, so the bound shrinks to that of the quietest moment (a node
   * busy restoring and linking answers slowly). Times must therefore be
   * converted when they are used, not when they are read (ChildRecord keeps
   * the raw ones). The wall-drift estimate taken at spawn
   * (`node.wallDriftOffset`) is kept for comparison: it trusts the node's
   * timeOrigin, which Node.js reads from two clocks one after the other at
   * start-up, so a preemption between the two reads (a loaded machine)
   * shifts it by as long as the preemption lasted.
   * @param {BenchNode} node
   * @param {number} [rounds]
   */
  async calibrateClock(node, rounds = 25) {
    const now = () => performance.timeOrigin + performance.now();
    node.wallDriftOffset ??= node.clockOffset;
    for (let i = 0; i < rounds; i++) {
      const a = now();
      const reply = await node.request('clock', {}, 10_000).catch(() => undefined);
      const b = now();
      if (!reply) return;
      if (node.clockRttMs === undefined || b - a < node.clockRttMs) {
        node.clockRttMs = b - a;
        node.clockOffset = reply.t - (a + b) / 2;
        node.clockErrorMs = (b - a) / 2;
      }
    }
  }

  /** Starts the members: the first alone, the rest with it as their seed. */
  async startAll() {
    const first = await this.start(/** @type {string} */ (this.names[0]), []);
    await Promise.all(this.names.slice(1).map((n) => this.start(n, [first.address])));
  }

  /**
   * Addresses of every live member but `except`.
   * @param {string | undefined} except
   * @returns {string[]}
   */
  seeds(except) {
    return [...this.nodes.values()].filter((n) => n.alive && n.name !== except).map((n) => n.address);
  }

  /**
   * Starts `count` children `<prefix>0 … <prefix>(count-1)`, spread evenly over the members
   * `names` (each member calls startChild for its share); returns their ids. Throws if any failed.
   * `spec`: { start, shutdown } for other children than idle workers (control-hook startMany).
   * @param {readonly string[]} names
   * @param {number} count
   * @param {string} prefix
   * @param {Pick<import('../../bench/lib/types.js').StartManyArgs, 'start' | 'shutdown'>} [spec]
   * @returns {Promise<string[]>}
   */
  async startSpread(names, count, prefix, spec = {}) {
    /** @type {number[]} */
    const perNode = names.map((_, i) => Math.floor(count / names.length) + (i < count % names.length ? 1 : 0));
    let from = 0;
    const replies = await Promise.all(
      names.map((name, i) => {
        const n = /** @type {number} */ (perNode[i]);
        const part = { prefix, from, count: n, ...spec };
        from += n;
        return this.node(name).request('startMany', part, 180_000);
      }),
    );
    const failed = replies.reduce((a, r) => a + r.failed, 0);
    if (failed > 0) throw new Error(`${failed} of ${count} initial starts failed: ${replies.find((r) => r.firstError)?.firstError}`);
    return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  }

  /**
   * The current process of member `name` (one that was started).
   * @param {string} name
   * @returns {BenchNode}
   */
  node(name) {
    return /** @type {BenchNode} */ (this.nodes.get(name));
  }

  /** Members alive and not frozen: they answer control requests and commands. */
  reachable() {
    return this.names.filter((n) => this.nodes.get(n)?.alive && !this.frozen.has(n));
  }

  /** Members the observer can send commands to: reachable, and linked to the observer in their current incarnation. */
  commandable() {
    return this.reachable().filter((n) => {
      const m = this.observer?.member(n);
      return m !== undefined && m.status === 'up' && m.incarnation === this.node(n).incarnation;
    });
  }

  /** @param {string} name */
  async kill(name) {
    const node = this.node(name);
    node.signal('SIGKILL');
    this.frozen.delete(name);
    await within(node.exited, 10_000, `${name} exit after SIGKILL`);
  }

  /** Asks the node for a full garbage collection (SIGUSR2, see fixtures/gc-on-signal.mjs); resolves after a short pause. */
  /** @param {string} name */
  async collectGarbage(name) {
    if (!this.gc) return;
    this.nodes.get(name)?.signal('SIGUSR2');
    await sleep(150);
  }

  /** @param {string} name */
  freeze(name) {
    this.node(name).signal('SIGSTOP');
    this.frozen.add(name);
  }

  /** @param {string} name */
  thaw(name) {
    this.node(name).signal('SIGCONT');
    this.frozen.delete(name);
  }

  /** SIGTERM, then wait for the exit (SIGKILL after `boundMs`). Resolves with how long the graceful stop took, or undefined if it had to be killed.
   * @param {string} name
   * @param {number} [boundMs]
   * @returns {Promise<number | undefined>}
   */
  async stopGracefully(name, boundMs = 30_000) {
    const node = this.node(name);
    const t0 = performance.now();
    node.signal('SIGTERM');
    try {
      await within(node.exited, boundMs, `${name} exit after SIGTERM`);
      return performance.now() - t0;
    } catch {
      await this.kill(name);
      return undefined;
    }
  }

  /** Starts the observer, linked to every live member, and waits until it sees them all up and ready. */
  /** @param {number} [boundMs] */
  async observe(boundMs = 30_000) {
    const host = this.netns ? this.netns.observerHost : '127.0.0.1';
    const seeds = this.seeds(undefined);
    this.observer = await PogoNode.start(
      createNodeConfig({ name: `observer-${process.pid}`, role: 'observer', host, secret: this.secret, port: 0, seeds, preset: this.preset }),
      { log: silentLogger },
    );
    this.tracker = new RunTracker(this.observer);
    this.observer.on('member-down', (e) => this.downs.push({ name: e.member.name, reason: e.reason, at: performance.now() }));
    await until(() => this.membersReady(), boundMs, `observer sees ${this.names.join(', ')} up and ready`, 20);
  }

  /** The observer sees every member up and ready, in its current incarnation, and no other member up. */
  /** @param {readonly string[]} [names] */
  membersReady(names = this.names) {
    const members = this.observer.members().filter((m) => m.role === 'member');
    for (const name of names) {
      const m = members.find((x) => x.name === name);
      const current = this.nodes.get(name);
      if (!m || m.status !== 'up' || m.ready !== true || !current?.alive || m.incarnation !== current.incarnation) return false;
    }
    return !members.some((m) => m.status === 'up' && !names.includes(m.name));
  }

  /**
   * Quiescent, as the observer sees it: every member up and ready, and every
   * live spec running exactly once, on its owner (so no move is pending),
   * with nothing else running. The owner is computed here (the pin, else
   * rendezvous hashing over all members, capacity 1, as placement.ts does),
   * not taken from the observer's own placement pass, which may lag behind
   * a membership change by a tick.
   */
  settled() {
    if (!this.membersReady()) return false;
    const t = this.tracker;
    if (t.duplicates !== 0) return false;
    const children = this.observer.supervisor.whichChildren('global');
    if (t.running !== children.length) return false;
    return children.every((c) => c.instances.length === 1 && c.node === this.ownerOf(c.id, c.pin));
  }

  /**
   * Where a child must run once every member is up and ready (no drains in these scripts).
   * @param {string} id
   * @param {string} [pin]
   * @returns {string}
   */
  ownerOf(id, pin) {
    if (pin !== undefined && this.names.includes(pin)) return pin;
    let owner = this.owners.get(id);
    if (owner === undefined) {
      let best = -Infinity;
      for (const n of this.names) {
        const score = hrwScore(id, n, 1);
        if (score > best || (score === best && n < /** @type {string} */ (owner))) [owner, best] = [n, score];
      }
      if (this.owners.size > 100_000) this.owners.clear();
      this.owners.set(id, /** @type {string} */ (owner));
    }
    return /** @type {string} */ (owner);
  }

  /**
   * Waits until settled(); resolves with performance.now() at that moment.
   * @param {number} boundMs
   * @param {string} [what]
   */
  waitSettled(boundMs, what = 'quiescence') {
    return this.tracker.when(() => this.settled(), boundMs, what, 25);
  }

  /** Why the cluster is not settled, for failure messages. */
  describe() {
    const members = this.observer
      .members()
      .filter((m) => m.role === 'member')
      .map((m) => `${m.name}:${m.status}${m.ready ? '' : '(not ready)'}${this.nodes.get(m.name)?.incarnation === m.incarnation ? '' : '(old incarnation)'}`);
    const children = this.observer.supervisor.whichChildren('global');
    const off = children.filter((c) => c.instances.length !== 1 || c.node !== this.ownerOf(c.id, c.pin));
    const sample = off
      .slice(0, 10)
      .map(
        (c) =>
          `${c.id} ${c.status} on [${c.instances.map((i) => i.node).join(',')}] owner ${this.ownerOf(c.id, c.pin)} (observer's placement: ${c.owner ?? '-'})`,
      );
    return (
      `members ${members.join(' ')}; ${children.length} live specs, ${off.length} not running once ` +
      `on their owner${sample.length ? `: ${sample.join('; ')}` : ''}; ${this.tracker.describe()}`
    );
  }

  /** @param {ChildEventListener} fn */
  onChildEvents(fn) {
    this.listeners.push(fn);
  }

  /** How far the wall clock has drifted from this process's monotonic clock since it started, in ms. */
  wallDrift() {
    return wallOffset() - this.drift0;
  }

  /**
   * Applies a node's child-log events and tells the listeners (node, events
   * with times converted to this process's time base, the raw events).
   * @param {BenchNode} node
   * @param {ChildLogEntry[]} raw
   */
  apply(node, raw) {
    const events = node.clockOffset ? raw.map(([id, kind, t]) => /** @type {ChildLogEntry} */ ([id, kind, t - node.clockOffset])) : raw;
    const running = /** @type {Map<string, number>} */ (this.truth.get(node));
    for (const [id, kind] of events) {
      const n = running.get(id) ?? 0;
      if (kind === 'up') running.set(id, n + 1);
      else if (n <= 1) running.delete(id);
      else running.set(id, n - 1);
    }
    for (const fn of this.listeners) fn(node, events, raw);
  }

  /**
   * Collects every reachable node's child log; returns id → names of the nodes running it.
   * @param {number} [boundMs]
   * @returns {Promise<Map<string, string[]>>}
   */
  async readTruth(boundMs = 20_000) {
    await Promise.all(
      this.reachable().map(async (name) => {
        const node = this.node(name);
        // Its clock is being measured: its times could not be converted yet (it runs nothing before it is calibrated and ready anyway).
        if (this.calibrate && node.clockErrorMs === undefined) return;
        if (this.calibrate) await this.calibrateClock(node, 1);
        const reply = await node.request('childLog', { clear: true }, boundMs).catch(() => undefined);
        if (reply) this.apply(node, reply.log);
      }),
    );
    /** @type {Map<string, string[]>} */
    const where = new Map();
    for (const node of this.all) {
      if (!node.alive) continue;
      for (const [id, n] of /** @type {Map<string, number>} */ (this.truth.get(node))) {
        const list = where.get(id) ?? [];
        for (let i = 0; i < n; i++) list.push(node.name);
        where.set(id, list);
      }
    }
    return where;
  }

  /**
   * Polls the nodes' child logs until `pred(where)` holds (where: id → names
   * of the nodes running it; `pred` may be async); resolves with the epoch
   * time (performance.timeOrigin + now()) when it first held, or undefined
   * after `boundMs`. For scripts without an observer node.
   * @param {(where: Map<string, string[]>) => boolean | Promise<boolean>} pred
   * @param {number} boundMs
   * @param {string} what
   * @param {number} [everyMs]
   * @returns {Promise<number | undefined>}
   */
  async waitTruth(pred, boundMs, what, everyMs = 100) {
    /** @type {number | undefined} */
    let at;
    try {
      await until(
        async () => {
          const where = await this.readTruth();
          if (!(await pred(where))) return false;
          at = performance.timeOrigin + performance.now();
          return true;
        },
        boundMs,
        what,
        everyMs,
      );
    } catch {
      return undefined;
    }
    return at;
  }

  /**
   * Quiescent by the nodes' own word, without an observer: every child of
   * `ids` runs exactly once, on its owner, and nothing else runs (child
   * logs); every member is up, ready, linked to every other and counts
   * exactly `ids` running once each.
   * @param {readonly string[]} ids
   * @param {Map<string, string[]>} where
   * @returns {Promise<boolean>}
   */
  async quiescentTruth(ids, where) {
    if (where.size !== ids.length || !ids.every((id) => where.get(id)?.length === 1 && where.get(id)?.[0] === this.ownerOf(id))) return false;
    const counts = await this.counts(5000);
    return this.names.every((n) => {
      const c = counts.get(n);
      return (
        c !== undefined &&
        c.ready &&
        this.names.every((m) => c.up.includes(m)) &&
        c.cluster.specs === ids.length &&
        c.cluster.running === ids.length &&
        c.cluster.duplicate === 0
      );
    });
  }

  /**
   * Why quiescentTruth(ids) does not hold, for failure messages.
   * @param {readonly string[]} ids
   * @returns {Promise<string>}
   */
  async describeTruth(ids) {
    const where = await this.readTruth();
    const counts = await this.counts(5000);
    const off = ids.filter((id) => where.get(id)?.length !== 1 || where.get(id)?.[0] !== this.ownerOf(id));
    const extra = [...where.keys()].filter((id) => !ids.includes(id));
    const members = [...counts].map(
      ([n, c]) =>
        `${n} ready=${c.ready} up=${c.up.join(',')} specs=${c.cluster.specs} running=` +
        `${c.cluster.running} duplicate=${c.cluster.duplicate} local=${c.local.active}`,
    );
    return `${off.length} children not once on their owner (${off
      .slice(0, 8)
      .map((id) => `${id} on [${(where.get(id) ?? []).join(',')}] owner ${this.ownerOf(id)}`)
      .join('; ')})${extra.length ? `, ${extra.length} others running` : ''}; members: ${members.join(' | ')}`;
  }

  /**
   * Each reachable member's counts (cluster view and local children).
   * @param {number} [boundMs]
   * @returns {Promise<Map<string, CountsReply>>}
   */
  async counts(boundMs = 20_000) {
    /** @type {Map<string, CountsReply>} */
    const out = new Map();
    await Promise.all(
      this.reachable().map(async (name) => {
        const reply = await this.node(name)
          .request('counts', {}, boundMs)
          .catch(() => undefined);
        if (reply) out.set(name, reply);
      }),
    );
    return out;
  }

  /** Sends an operator command to member `target` with the op's named arguments (`{ id, node }`); resolves with the outcome (never rejects).
   * @template {CommandOp} Op
   * @param {string} target
   * @param {Op} op
   * @param {import('../../core/dist/index.js').CommandArgsInput<Op>} args
   * @param {number} [timeoutMs]
   */
  command(target, op, args, timeoutMs = 20_000) {
    return this.observer.command(target, op, args, this.token, 'reliability', timeoutMs);
  }

  /**
   * A JSON document from member `name`'s status endpoint.
   * @param {string} name
   * @param {string} path
   * @param {number} [boundMs]
   * @returns {Promise<unknown>}
   */
  async fetchJson(name, path, boundMs = 10_000) {
    const res = await fetch(`${this.node(name).statusUrl}${path}`, { signal: AbortSignal.timeout(boundMs) });
    return res.json();
  }

  /**
   * Log lines of every node process with this `msg` logged at or after `sinceEpochMs`.
   * @param {number} sinceEpochMs
   * @param {string} msg
   * @returns {Array<{ time: string, msg: string } & Record<string, unknown>>}
   */
  logLinesSince(sinceEpochMs, msg) {
    /** @type {Array<{ time: string, msg: string } & Record<string, unknown>>} */
    const out = [];
    for (const node of this.all) {
      /** @type {string} */
      let text;
      try {
        text = readFileSync(/** @type {string} */ (node.logFile), 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) {
        if (!line.includes(`"msg":"${msg}"`)) continue;
        try {
          const parsed = JSON.parse(line);
          if (Date.parse(parsed.time) >= sinceEpochMs) out.push(parsed);
        } catch {
          // not a JSON line
        }
      }
    }
    return out;
  }

  /** @param {number} [lines] */
  logTails(lines = 6) {
    return this.all
      .map((n) => n.logTail(lines))
      .filter(Boolean)
      .join('\n');
  }

  /** Stops the observer and every process by pid; removes the directory unless `keep`. */
  /** @param {{ keep?: boolean }} [options] */
  async close({ keep = false } = {}) {
    this.tracker?.close();
    if (this.observer) await within(this.observer.stop('reliability run done', 200), 3000, 'observer stop').catch(() => this.observer.kill());
    await this.processes.close({ keep });
  }
}
