/**
 * A benchmark cluster: real `pogo node` OS processes on loopback, each with
 * the control hook (fixtures/control-hook.mjs), and an observer PogoNode in
 * the runner's own process that measures what the cluster does.
 *
 * Nodes: `node --import control-hook.mjs core/bin/pogo.js node --port 0 ...`
 * with the bench worker types (fixtures/workers.mjs), started, found and
 * stopped by the cluster harness (pogo-core/testing's ProcessCluster);
 * stdout and stderr go to a log file in the cluster's temporary directory
 * (its tail is quoted when a step fails), stdin and fd 3 carry the control
 * channel, which BenchNode layers on the harness's process.
 *
 * Observer: a PogoNode with role 'observer' linked to every member. A
 * RunTracker follows the supervisor scope's `run:<id>` groups through a pg
 * monitor — the live instances, exactly as the observer receives them — and
 * keeps O(1) counters (children running, duplicates, instances per node,
 * children running once on their expected owner), so predicates can be
 * checked on every single change and timestamped with performance.now()
 * when they first hold.
 *
 * "Settled" is judged independently of the observer's own placement view:
 * the expected owner of each child is computed here with the same
 * rendezvous hash (hrwScore, capacity 1, no pins or drains in the
 * benchmarks), and the cluster is settled when exactly the expected members
 * are up and ready and every child runs once, on its expected owner.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PogoNode, createNodeConfig } from '../../core/dist/index.js';
import { ProcessCluster, silentLogger } from '../../core/dist/testing.js';
// Placement's score is not library API; the harness predicts placement with it.
import { hrwScore } from '../../core/dist/distributed/placement.js';
import { sleep, until, within } from './harness.mjs';

const HOOK = new URL('../fixtures/control-hook.mjs', import.meta.url).href;
const WORKERS = fileURLToPath(new URL('../fixtures/workers.mjs', import.meta.url));
const SCOPE = 'pogo';

/** @typedef {import('../../core/dist/index.js').PgEvent} PgEvent */
/** @typedef {import('../../core/dist/index.js').PgMember} PgMember */
/** @typedef {import('../../core/dist/testing.js').ProcessExit} ProcessExit */
/** @typedef {import('./types.js').ChildLogEntry} ChildLogEntry */
/** @typedef {import('./types.js').ControlOp} ControlOp */
/** @typedef {{ resolve: (reply: any) => void, reject: (err: Error) => void, op: string }} Pending */

export class BenchNode {
  /**
   * The child log the node handed over when it exited (see control-hook.mjs).
   * @type {ChildLogEntry[]}
   */
  finalLog = [];
  /** For the reliability scripts: this node's child-log clock minus the runner's, and how it was measured (reliability/lib/cluster.mjs). */
  clockOffset = 0;
  /** @type {number | undefined} */
  wallDriftOffset = undefined;
  /** @type {number | undefined} */
  clockRttMs = undefined;
  /** @type {number | undefined} */
  clockErrorMs = undefined;
  /** Its status endpoint, when the cluster serves them. */
  statusUrl = '';
  /**
   * How it exited ({ code, signal }), once it has.
   * @type {ProcessExit | undefined}
   */
  exit = undefined;
  nextId = 1;
  /** @type {Map<number, Pending>} */
  pending = new Map();

  /** @param {import('../../core/dist/testing.js').PogoProcess} proc a harness process started with `control: true` */
  constructor(proc) {
    this.proc = proc;
    this.name = proc.name;
    this.child = proc.child;
    this.logFile = proc.options.logFile;
    // 'close', not 'exit': by then fd 3 has been read to its end, so the exit line (finalLog) is in.
    this.exited = proc.closed.then((exit) => {
      this.exit = exit;
      for (const p of this.pending.values()) p.reject(new Error(`${this.name} exited (${exit.signal ?? `code ${exit.code}`}) before answering ${p.op}`));
      this.pending.clear();
      return exit;
    });
    createInterface({ input: /** @type {import('node:stream').Readable} */ (this.child.stdio[3]) }).on('line', (line) => {
      /** @type {import('./types.js').ControlMessage} */
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (msg.event === 'started') {
        proc.noteStarted({ address: msg.address, incarnation: msg.incarnation });
        return;
      }
      if (msg.event === 'exit') {
        this.finalLog = msg.childLog ?? [];
        return;
      }
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg);
      else p.reject(new Error(`${this.name} ${p.op}: ${msg.error}`));
    });
  }

  get address() {
    return this.proc.address;
  }

  get incarnation() {
    return this.proc.incarnation;
  }

  get pid() {
    return this.proc.pid;
  }

  get alive() {
    return this.exit === undefined;
  }

  /** Waits until the node has started (listens and runs its supervisor: the hook's "started" event, or its log line). */
  /** @param {number} boundMs */
  async started(boundMs) {
    await this.proc.started(boundMs).catch((err) => {
      throw new Error(`${err.message}\n${this.logTail()}`);
    });
  }

  /**
   * Sends a control command and resolves with its reply.
   * @template {ControlOp} K
   * @param {K} op
   * @param {import('./types.js').ControlArgs<K>} [args]
   * @param {number} [boundMs]
   * @returns {Promise<import('./types.js').ControlReply<K>>}
   */
  request(op, args = /** @type {import('./types.js').ControlArgs<K>} */ ({}), boundMs = 60_000) {
    if (!this.alive) return Promise.reject(new Error(`${this.name} is not running`));
    const id = this.nextId++;
    /** @type {Promise<import('./types.js').ControlReply<K>>} */
    const reply = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject, op }));
    /** @type {import('node:stream').Writable} */ (this.child.stdin).write(`${JSON.stringify({ id, op, ...args })}\n`);
    return within(reply, boundMs, `${this.name} ${op}`).finally(() => this.pending.delete(id));
  }

  /** @param {NodeJS.Signals} sig */
  signal(sig) {
    if (this.alive) this.proc.signal(sig);
  }

  /** SIGCONT, SIGKILL by pid; waits (bounded) until it has exited. */
  /** @param {number} [boundMs] */
  kill(boundMs = 5000) {
    return this.proc.kill(boundMs);
  }

  /** @param {number} [lines] */
  logTail(lines = 8) {
    return this.proc.logTail(lines);
  }
}

/** Live instances per child id, as the observer receives them, with O(1) counters and window extremes. */
export class RunTracker {
  /**
   * id -> Map(pid -> node)
   * @type {Map<string, Map<string, string>>}
   */
  instances = new Map();
  /** @type {Map<string, number>} */
  perNode = new Map();
  running = 0;
  duplicates = 0;
  /** Children running exactly once, on their expected owner. */
  placed = 0;
  /** @type {Map<string, string | undefined>} */
  expected = new Map();
  changes = 0;
  /** @type {Set<{ predicate: () => boolean, done: (at: number) => void }>} */
  waiters = new Set();
  window = { maxDuplicates: 0, minRunning: 0, maxRunning: 0 };

  /** @param {import('../../core/dist/index.js').PogoNode} observer */
  constructor(observer) {
    const monitor = observer.groups.monitor(SCOPE, undefined, (e) => this.onEvent(e));
    this.unsubscribe = monitor.unsubscribe;
    for (const [group, members] of monitor.snapshot) this.apply('join', group, members);
    this.markWindow();
  }

  /** @param {PgEvent} e */
  onEvent(e) {
    if (!e.group.startsWith('run:')) return;
    this.apply(e.kind, e.group, e.members);
    this.changes++;
    if (this.duplicates > this.window.maxDuplicates) this.window.maxDuplicates = this.duplicates;
    if (this.running < this.window.minRunning) this.window.minRunning = this.running;
    if (this.running > this.window.maxRunning) this.window.maxRunning = this.running;
    this.check();
  }

  check() {
    if (this.waiters.size === 0) return;
    const now = performance.now();
    for (const w of [...this.waiters]) if (w.predicate()) w.done(now);
  }

  /**
   * @param {string} id
   * @param {Map<string, string> | undefined} inst
   */
  isPlaced(id, inst) {
    return inst !== undefined && inst.size === 1 && inst.values().next().value === this.expected.get(id);
  }

  /**
   * Sets the expected owner of each child (id -> node) and recounts `placed`.
   * @param {Map<string, string | undefined>} expected
   */
  setExpected(expected) {
    this.expected = expected;
    this.placed = 0;
    for (const [id, inst] of this.instances) if (this.isPlaced(id, inst)) this.placed++;
  }

  /**
   * @param {PgEvent['kind']} kind
   * @param {string} group
   * @param {readonly PgMember[]} members
   */
  apply(kind, group, members) {
    if (!group.startsWith('run:')) return;
    const id = group.slice(4);
    let inst = this.instances.get(id);
    const before = inst?.size ?? 0;
    const wasPlaced = this.isPlaced(id, inst);
    for (const m of members) {
      const node = m.pid.slice(0, m.pid.indexOf('/'));
      if (kind === 'join') {
        if (!inst) this.instances.set(id, (inst = new Map()));
        if (!inst.has(m.pid)) {
          inst.set(m.pid, node);
          this.perNode.set(node, (this.perNode.get(node) ?? 0) + 1);
        }
      } else if (inst?.delete(m.pid)) {
        this.perNode.set(node, /** @type {number} */ (this.perNode.get(node)) - 1);
      }
    }
    const after = inst?.size ?? 0;
    if (inst && after === 0) this.instances.delete(id);
    this.placed += (this.isPlaced(id, inst) ? 1 : 0) - (wasPlaced ? 1 : 0);
    this.running += (after > 0 ? 1 : 0) - (before > 0 ? 1 : 0);
    this.duplicates += (after > 1 ? 1 : 0) - (before > 1 ? 1 : 0);
  }

  /** Starts a new observation window: extremes are tracked from the current counts. */
  markWindow() {
    this.window = { maxDuplicates: this.duplicates, minRunning: this.running, maxRunning: this.running };
  }

  /** @param {string} node */
  onNode(node) {
    return this.perNode.get(node) ?? 0;
  }

  /**
   * id -> node for every child with exactly one live instance.
   * @returns {Map<string, string>}
   */
  placement() {
    /** @type {Map<string, string>} */
    const out = new Map();
    for (const [id, inst] of this.instances) if (inst.size === 1) out.set(id, /** @type {string} */ (inst.values().next().value));
    return out;
  }

  describe() {
    return (
      `observer sees ${this.running} children running (${this.placed} of them once on their expected owner), ` +
      `${this.duplicates} duplicates; per node ${JSON.stringify(Object.fromEntries([...this.perNode].filter(([, n]) => n > 0)))}`
    );
  }

  /**
   * Resolves with performance.now() when `predicate` first holds: checked
   * after every run-group change and every `everyMs` (for conditions that
   * also depend on membership); rejects after `boundMs`.
   * @param {() => boolean} predicate
   * @param {number} boundMs
   * @param {string} what
   * @param {number} [everyMs]
   * @returns {Promise<number>}
   */
  when(predicate, boundMs, what, everyMs = 20) {
    if (predicate()) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const w = {
        predicate,
        /** @param {number} at */
        done: (at) => {
          clearTimeout(timer);
          clearInterval(poll);
          this.waiters.delete(w);
          resolve(at);
        },
      };
      const timer = setTimeout(() => {
        clearInterval(poll);
        this.waiters.delete(w);
        reject(new Error(`${what} did not hold within ${Math.round(boundMs)} ms (${this.describe()})`));
      }, boundMs);
      const poll = setInterval(() => this.check(), everyMs);
      this.waiters.add(w);
    });
  }

  close() {
    this.unsubscribe?.();
    for (const w of this.waiters) w.done(NaN);
  }
}

/**
 * Real overlaps by the nodes' own clocks: replays the ups and downs of every
 * instance (from `initial`: id -> instances at the start of the window) in
 * time order, and returns the most children with more than one instance at
 * once and the fewest children running at once. At equal times a down is
 * taken before an up.
 */
/**
 * @param {readonly ChildLogEntry[]} events
 * @param {Iterable<readonly [string, number]>} initial
 * @returns {{ maxDuplicates: number, minRunning: number }}
 */
export function replayOverlap(events, initial) {
  const count = new Map(initial);
  let running = 0;
  let duplicates = 0;
  for (const c of count.values()) {
    if (c > 0) running++;
    if (c > 1) duplicates++;
  }
  let maxDuplicates = duplicates;
  let minRunning = running;
  const sorted = [...events].sort((a, b) => a[2] - b[2] || (a[1] === b[1] ? 0 : a[1] === 'down' ? -1 : 1));
  for (const [id, kind] of sorted) {
    const before = count.get(id) ?? 0;
    const after = kind === 'up' ? before + 1 : Math.max(0, before - 1);
    count.set(id, after);
    running += (after > 0 ? 1 : 0) - (before > 0 ? 1 : 0);
    duplicates += (after > 1 ? 1 : 0) - (before > 1 ? 1 : 0);
    if (duplicates > maxDuplicates) maxDuplicates = duplicates;
    if (running < minRunning) minRunning = running;
  }
  return { maxDuplicates, minRunning };
}

export class BenchCluster {
  /** The current process of each node name (a restarted name replaces the entry). */
  /** @type {Map<string, BenchNode>} */
  nodes = new Map();
  /** @type {BenchNode[]} */
  all = [];
  /**
   * The observer node and its tracker: set by observe(), read only after it.
   * @type {import('../../core/dist/index.js').PogoNode}
   */
  observer = /** @type {any} */ (undefined);
  /** @type {RunTracker} */
  tracker = /** @type {any} */ (undefined);
  /**
   * Ids of every child started through startChildren.
   * @type {string[]}
   */
  ids = [];
  expectedFor = '';
  /**
   * member-down events the observer saw (its own link to a member dropped).
   * @type {Array<{ name: string, reason: string, at: number }>}
   */
  downs = [];
  /** The runner's (and so the observer's) event-loop delay: if it stalls, the observer's view lags. */
  loopDelay = monitorEventLoopDelay({ resolution: 10 });

  /**
   * The nodes are a harness ProcessCluster (pogo-core/testing): output into
   * log files in its directory, the control hook preloaded, stdin and fd 3
   * its channel.
   * @param {object} [options]
   * @param {'local' | 'lan' | 'wan'} [options.preset] timing preset of every node (and the observer)
   * @param {string[]} [options.flags] extra `pogo node` flags for every node
   * @param {number} [options.bounds] factor on every wait's bound
   * @param {string[]} [options.nodeArgs] extra Node.js flags for every node process
   *   (default: BENCH_NODE_ARGS split on spaces, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
   */
  constructor({ preset = 'lan', flags = [], bounds = 1, nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean) } = {}) {
    this.preset = preset;
    this.flags = flags;
    this.nodeArgs = nodeArgs;
    this.bounds = bounds;
    this.processes = new ProcessCluster({
      prefix: 'pogo-bench-',
      secret: `bench-secret-${Math.random().toString(36).slice(2)}-0123456789`,
      nodeOptions: [...nodeArgs, '--import', HOOK],
      // A runner killed outright runs no stop: its nodes then stop themselves (a leftover cluster skews the next run).
      flags: ['--workers', WORKERS, '--preset', preset, '--stop-with-parent', 'true'],
      env: { POGO_LOG_LEVEL: process.env.POGO_LOG_LEVEL ?? 'info' },
      logFiles: true,
      control: true,
    });
    this.dir = this.processes.dir;
    this.secret = this.processes.secret;
    this.secretFile = this.processes.secretFile;
  }

  /**
   * Spawns `pogo node` (with the control hook) and waits until it has started.
   * @param {string} name
   * @param {string[]} [seeds]
   * @param {string[]} [extra]
   * @returns {Promise<BenchNode>}
   */
  async start(name, seeds = [], extra = []) {
    // this.flags is read at each start: a scenario may add to it (an operator token) before it starts its nodes.
    const node = new BenchNode(await this.processes.start(name, seeds, [...this.flags, ...extra], { noWait: true }));
    this.nodes.set(name, node);
    this.all.push(node);
    await node.started(20_000 * this.bounds);
    return node;
  }

  /**
   * Starts `names` (the first one alone, the rest at once with it as their seed).
   * @param {string[]} names
   * @param {string[]} [extra]
   * @returns {Promise<BenchNode[]>}
   */
  async startAll(names, extra = []) {
    const first = await this.start(/** @type {string} */ (names[0]), [], extra);
    const rest = await Promise.all(names.slice(1).map((n) => this.start(n, [first.address], extra)));
    return [first, ...rest];
  }

  /** Members currently running (their processes alive). */
  live() {
    return [...this.nodes.values()].filter((n) => n.alive);
  }

  /** Starts the observer, linked to every live node, and its RunTracker; waits until it sees them all. */
  async observe(boundMs = 20_000) {
    const seeds = this.live().map((n) => n.address);
    this.observer = await PogoNode.start(
      createNodeConfig({ name: `bench-observer-${process.pid}`, role: 'observer', secret: this.secret, port: 0, seeds, preset: this.preset }),
      { log: silentLogger },
    );
    this.tracker = new RunTracker(this.observer);
    this.loopDelay.enable();
    this.observer.on('member-down', (e) => this.downs.push({ name: e.member.name, reason: e.reason, at: performance.now() }));
    const names = this.live().map((n) => n.name);
    await until(() => this.membersReady(names), boundMs * this.bounds, `observer sees ${names.join(', ')} up and ready`);
    return this.observer;
  }

  /**
   * The observer sees exactly `names` as members, all up and ready.
   * @param {readonly string[]} names
   */
  membersReady(names) {
    const members = this.observer.members().filter((m) => m.role === 'member' && m.status === 'up');
    if (members.length !== names.length) return false;
    return members.every((m) => names.includes(m.name) && m.ready === true);
  }

  /**
   * Sets the tracker's expected owners: each started child's rendezvous owner among `names`.
   * @param {readonly string[]} names
   */
  expect(names) {
    const key = names.join(',');
    if (this.expectedFor === key && this.tracker.expected.size === this.ids.length) return;
    /** @type {Map<string, string | undefined>} */
    const expected = new Map();
    for (const id of this.ids) {
      /** @type {string | undefined} */
      let best;
      let bestScore = -Infinity;
      for (const n of names) {
        const score = hrwScore(id, n, 1);
        if (score > bestScore || (score === bestScore && n < /** @type {string} */ (best))) [best, bestScore] = [n, score];
      }
      expected.set(id, best);
    }
    this.tracker.setExpected(expected);
    this.expectedFor = key;
  }

  /**
   * Settled, as the observer sees it: exactly `names` are up and ready and
   * every child started runs exactly once, on its rendezvous owner among
   * `names` (and nothing else runs).
   * @param {readonly string[]} names
   */
  settled(names) {
    this.expect(names);
    const t = this.tracker;
    return this.membersReady(names) && t.placed === this.ids.length && t.running === this.ids.length && t.duplicates === 0;
  }

  /**
   * Waits until settled(names); resolves with performance.now() at that
   * moment. With `maxLinkDrops`, gives up early once the observer has seen
   * more member-down events than that during the wait: a cluster whose links
   * keep dropping (nodes too busy to answer heartbeats) is not settling.
   * @param {readonly string[]} names
   * @param {number} [boundMs]
   * @param {{ maxLinkDrops?: number }} [options]
   * @returns {Promise<number>}
   */
  async waitSettled(names, boundMs = 60_000, { maxLinkDrops = Infinity } = {}) {
    this.expect(names);
    const what = `${this.ids.length} children running once, each on its owner among ${names.join(', ')}`;
    let flapping = false;
    let drops = 0;
    /** @type {NodeJS.Timeout | undefined} */
    let poll;
    if (Number.isFinite(maxLinkDrops)) {
      // The nodes count the member links they saw drop; ask every 2 s.
      const base = await this.memberLinkDrops();
      poll = setInterval(() => {
        void this.memberLinkDrops().then((n) => {
          drops = n - base;
          if (drops > maxLinkDrops) {
            flapping = true;
            this.tracker.check();
          }
        });
      }, 2000);
    }
    try {
      const at = await this.tracker
        .when(() => flapping || this.settled(names), boundMs * this.bounds, what)
        .catch((err) => {
          const up = this.observer
            .members()
            .filter((m) => m.role === 'member' && m.status === 'up' && m.ready)
            .map((m) => m.name);
          throw new Error(`${err.message}; members up and ready as the observer sees them: ${up.join(', ')}`);
        });
      if (flapping)
        throw new Error(
          `gave up: the nodes saw ${drops} member links drop while waiting for ${what} ` +
            `(nodes too busy to answer heartbeats in time); ${this.tracker.describe()}`,
        );
      return at;
    } finally {
      clearInterval(poll);
    }
  }

  /**
   * Starts `count` children, the calls made by `from` (a node or several, spread evenly); resolves with each node's reply.
   * @param {BenchNode | BenchNode[]} from
   * @param {number} count
   * @param {{ prefix?: string, offset?: number, boundMs?: number }} [options]
   */
  async startChildren(from, count, { prefix = 'c', offset = this.ids.length, boundMs = 120_000 } = {}) {
    const list = Array.isArray(from) ? from : [from];
    let next = offset;
    const parts = list.map((node, i) => {
      const n = Math.floor(count / list.length) + (i < count % list.length ? 1 : 0);
      const part = { node, from: next, count: n };
      next += n;
      return part;
    });
    for (let i = offset; i < offset + count; i++) this.ids.push(`${prefix}${i}`);
    const replies = await Promise.all(parts.map((p) => p.node.request('startMany', { prefix, from: p.from, count: p.count }, boundMs * this.bounds)));
    const failed = replies.reduce((a, r) => a + r.failed, 0);
    if (failed > 0) throw new Error(`${failed} of ${count} startChild calls failed; first: ${replies.find((r) => r.firstError)?.firstError}`);
    return replies;
  }

  /** Clears every live node's child log; returns the moment (epoch ms, µs resolution) a window of childLogs starts. */
  async markChildLogs() {
    await Promise.all(this.live().map((n) => n.request('childLog', { clear: true }, 30_000)));
    return performance.timeOrigin + performance.now();
  }

  /**
   * Every node's child ups and downs since `since` (see markChildLogs), including nodes that exited meanwhile.
   * @param {number} since
   * @returns {Promise<ChildLogEntry[]>}
   */
  async childLogs(since) {
    const logs = await Promise.all(
      this.all.map((n) =>
        n.alive
          ? n.request('childLog', { clear: true }, 30_000).then(
              (r) => r.log,
              () => /** @type {ChildLogEntry[]} */ ([]),
            )
          : Promise.resolve(n.finalLog),
      ),
    );
    return logs.flat().filter((e) => e[2] >= since);
  }

  /** Each live node's longest event-loop stall since the previous call, in ms. */
  async stalls() {
    const replies = await Promise.all(this.live().map((n) => n.request('stats', {}, 30_000)));
    return replies.map((r) => r.maxStallMs);
  }

  /** The runner's own longest event-loop stall since the previous call, in ms (the observer lives here). */
  observerStall() {
    const ms = this.loopDelay.max / 1e6;
    this.loopDelay.reset();
    return ms;
  }

  /**
   * Links between members that dropped, counted by the live nodes (each drop
   * is usually seen from both ends, so this is about twice the number of
   * links that dropped). Unlike `downs`, unaffected by the observer's own stalls.
   */
  async memberLinkDrops() {
    const replies = await Promise.all(
      this.live().map((n) =>
        n.request('stats', {}, 15_000).then(
          (r) => r.memberDowns,
          () => 0,
        ),
      ),
    );
    return replies.reduce((a, b) => a + b, 0);
  }

  /**
   * Why a step failed: the tails of the nodes' logs.
   * @param {number} [lines]
   */
  logTails(lines = 4) {
    return this.all
      .map((n) => n.logTail(lines))
      .filter(Boolean)
      .join('\n');
  }

  /** Stops the observer and kills every process of this cluster by pid; removes the directory unless `keep`. */
  /** @param {{ keep?: boolean }} [options] */
  async close({ keep = false } = {}) {
    this.tracker?.close();
    if (this.observer) await within(this.observer.stop('benchmark done', 200), 3000, 'observer stop').catch(() => this.observer.kill());
    if (this.nodeArgs.some((a) => a.startsWith('--cpu-prof') || a.startsWith('--prof') || a.startsWith('--heap-prof'))) {
      // Profiles are written at exit: let the nodes stop gracefully first (bounded).
      for (const n of this.live()) n.signal('SIGTERM');
      await Promise.race([Promise.all(this.live().map((n) => n.exited)), sleep(15_000)]);
    }
    await this.processes.close({ keep: keep || Boolean(process.env.BENCH_KEEP_LOGS) });
    if (process.env.BENCH_KEEP_LOGS) process.stderr.write(`node logs kept in ${this.dir}\n`);
  }
}
