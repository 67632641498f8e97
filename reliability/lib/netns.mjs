/**
 * Network partitions with Linux network namespaces, for the chaos and majority scripts.
 *
 * Layout (nothing is added to the host's own network namespace):
 *
 *   <prefix>-hub   a bridge br0 (10.211.0.1/24); the chaos script itself
 *                  runs here (it re-executes itself with `ip netns exec`),
 *                  so its observer node reaches every member.
 *   <prefix>-n<i>  one per member: eth0 = 10.211.0.<10+i>/24, the other end
 *                  of a veth pair enslaved to br0 in the hub.
 *
 * A partition between sides A and B adds, in the namespace of every member
 * of A, a `blackhole` route to the address of every member of B, and the
 * reverse. Packets are dropped silently (as on a real split network: no
 * reset, no ICMP), so established links go quiet and the nodes notice only
 * by heartbeat timeout; new connections hang until their connect timeout.
 * Healing deletes the routes. The observer in the hub is never cut off.
 * `apply` also cuts or restores single directions, several namespaces in
 * one go (the majority script's staggered splits, heals that reach one peer
 * first, and rolling partitions).
 *
 * Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2; `probe()`
 * says whether this machine allows it, so the script can fall back to
 * freezing one side (SIGSTOP) where it does not, typically in containers.
 */
import { execFileSync, spawnSync } from 'node:child_process';

const BASE = '10.211.0';

/** @param {string[]} args */
function ip(args) {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

/**
 * What a failed execFileSync says: its stderr, else its message.
 * @param {unknown} err
 * @returns {string}
 */
function failure(err) {
  const e = /** @type {{ stderr?: unknown, message?: string }} */ (err);
  return String(e.stderr ?? e.message).trim();
}

/**
 * Whether network namespaces can be created and wired here; `reason` says why not.
 * @returns {{ ok: boolean, reason: string }}
 */
export function probe() {
  if (process.platform !== 'linux') return { ok: false, reason: 'not Linux' };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return { ok: false, reason: 'not root (network namespaces need CAP_NET_ADMIN)' };
  const name = `pgcprobe${process.pid}`;
  try {
    ip(['netns', 'add', name]);
  } catch (err) {
    return { ok: false, reason: `ip netns add failed: ${failure(err)}` };
  }
  try {
    ip(['-n', name, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', name, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']);
    ip(['-n', name, 'route', 'add', 'blackhole', '10.211.0.99/32']);
    execFileSync('ip', ['netns', 'exec', name, process.execPath, '-e', ''], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
    return { ok: true, reason: 'network namespaces, a bridge, blackhole routes and ip netns exec are available' };
  } catch (err) {
    return { ok: false, reason: `namespace wiring failed: ${failure(err)}` };
  } finally {
    spawnSync('ip', ['netns', 'del', name]);
  }
}

/**
 * Deletes namespaces left by chaos runs whose process is gone (a run killed with SIGKILL).
 * @returns {string[]}
 */
export function removeStale() {
  const out = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  /** @type {string[]} */
  const removed = [];
  for (const line of out.split('\n')) {
    const m = /^(pgc(\d+)-\S+)/.exec(line.trim());
    if (!m?.[1]) continue;
    const pid = Number(m[2]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive && pid !== process.pid) {
      spawnSync('ip', ['netns', 'del', m[1]]);
      removed.push(m[1]);
    }
  }
  return removed;
}

export class NetnsLayout {
  /**
   * @param {string} prefix unique per run (`pgc<pid>`)
   * @param {readonly string[]} names the member names, in order
   */
  constructor(prefix, names) {
    this.prefix = prefix;
    this.names = names;
    this.hub = `${prefix}-hub`;
    /**
     * Active blackhole routes: `ns address` keys.
     * @type {Set<string>}
     */
    this.cuts = new Set();
  }

  /** @param {string} name */
  ns(name) {
    return `${this.prefix}-${name}`;
  }

  /** @param {string} name */
  host(name) {
    return `${BASE}.${10 + this.names.indexOf(name) + 1}`;
  }

  get observerHost() {
    return `${BASE}.1`;
  }

  /** Creates the hub, the bridge and one namespace per member. Throws (after undoing) on failure. */
  create() {
    try {
      ip(['netns', 'add', this.hub]);
      ip(['-n', this.hub, 'link', 'set', 'lo', 'up']);
      ip(['-n', this.hub, 'link', 'add', 'br0', 'type', 'bridge']);
      ip(['-n', this.hub, 'addr', 'add', `${this.observerHost}/24`, 'dev', 'br0']);
      ip(['-n', this.hub, 'link', 'set', 'br0', 'up']);
      this.names.forEach((name, i) => {
        const ns = this.ns(name);
        const veth = `v${i + 1}`;
        ip(['netns', 'add', ns]);
        ip(['-n', ns, 'link', 'set', 'lo', 'up']);
        ip(['-n', this.hub, 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
        ip(['-n', this.hub, 'link', 'set', veth, 'master', 'br0', 'up']);
        ip(['-n', ns, 'addr', 'add', `${this.host(name)}/24`, 'dev', 'eth0']);
        ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      });
    } catch (err) {
      this.destroy();
      throw new Error(`could not set up network namespaces: ${failure(err)}`, { cause: err });
    }
  }

  /**
   * Cuts every link between a member of `a` and a member of `b` (both directions).
   * @param {readonly string[]} a
   * @param {readonly string[]} b
   */
  partition(a, b) {
    for (const [from, to] of [
      [a, b],
      [b, a],
    ]) {
      for (const x of from) {
        for (const y of to) {
          const key = `${this.ns(x)} ${this.host(y)}`;
          if (this.cuts.has(key)) continue;
          ip(['-n', this.ns(x), 'route', 'add', 'blackhole', `${this.host(y)}/32`]);
          this.cuts.add(key);
        }
      }
    }
  }

  /**
   * Applies one-way cuts and restores at once: `changes` is a list of
   * { op: 'cut' | 'restore', from, to } (a cut from x to y drops what x
   * sends to y; y still reaches x). The changes of each member's namespace
   * go in one `ip -batch` call, the namespaces in the given order, so a
   * whole set lands within a few milliseconds (the rolling partition: heal
   * one node and cut another "in the same instant"). Returns
   * performance.now() when the last namespace was done. A cut already in
   * place, or a restore of a cut that is not, is skipped.
   * @param {ReadonlyArray<{ op: 'cut' | 'restore', from: string, to: string }>} changes
   * @returns {number}
   */
  apply(changes) {
    /** @type {Map<string, string[]>} */
    const byNs = new Map();
    for (const { op, from, to } of changes) {
      const key = `${this.ns(from)} ${this.host(to)}`;
      if (op === 'cut' ? this.cuts.has(key) : !this.cuts.has(key)) continue;
      if (op === 'cut') this.cuts.add(key);
      else this.cuts.delete(key);
      const lines = byNs.get(this.ns(from)) ?? [];
      lines.push(`route ${op === 'cut' ? 'add' : 'del'} blackhole ${this.host(to)}/32`);
      byNs.set(this.ns(from), lines);
    }
    for (const [ns, lines] of byNs) {
      execFileSync('ip', ['-n', ns, '-batch', '-'], { input: `${lines.join('\n')}\n`, stdio: ['pipe', 'ignore', 'pipe'], timeout: 10_000 });
    }
    return performance.now();
  }

  /**
   * One direction: drops what `from` sends to `to`.
   * @param {string} from
   * @param {string} to
   */
  cut(from, to) {
    return this.apply([{ op: 'cut', from, to }]);
  }

  /**
   * Undoes cut(from, to).
   * @param {string} from
   * @param {string} to
   */
  restore(from, to) {
    return this.apply([{ op: 'restore', from, to }]);
  }

  /**
   * Whether what `from` sends to `to` is dropped.
   * @param {string} from
   * @param {string} to
   */
  isCut(from, to) {
    return this.cuts.has(`${this.ns(from)} ${this.host(to)}`);
  }

  heal() {
    for (const key of [...this.cuts]) {
      const [ns, addr] = key.split(' ');
      spawnSync('ip', ['-n', /** @type {string} */ (ns), 'route', 'del', 'blackhole', `${addr}/32`]);
      this.cuts.delete(key);
    }
  }

  /** Deletes every namespace of this layout (their veths and the bridge go with them). */
  destroy() {
    for (const name of this.names) spawnSync('ip', ['netns', 'del', this.ns(name)]);
    spawnSync('ip', ['netns', 'del', this.hub]);
  }

  /** Command prefix that runs a command inside a member's namespace (exec: the pid stays the command's); the harness's `wrap`. */
  /** @param {string} name */
  execPrefix(name) {
    return ['ip', 'netns', 'exec', this.ns(name)];
  }
}
