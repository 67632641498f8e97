/**
 * The desired state on disk (`--data-dir`): one member's replica of the
 * cluster's desired state — every register its store holds (children with
 * their revisions, terminate floors and pins; drain and pause flags; the
 * roster) — kept in one file, so that after the whole cluster is killed and
 * started again every child comes back. (Pogo loses everything started at
 * run time then.)
 *
 * File: `<dataDir>/state.json`, one JSON document
 *
 *   { "format": "pogo-desired-state", "version": 2, "node": "n1",
 *     "savedAt": 1700000000000, "checksum": "sha256:<hex>",
 *     "data": { "registers": { <store key>: <register> } } }
 *
 * where the checksum is the SHA-256 of the canonical JSON (keys sorted) of
 * everything but the checksum. The registers are the store's own values
 * (registers.ts), versions included, so restoring is "join them back in":
 * the join with the peers' replicas is the usual semilattice merge — a
 * persisted terminate floor still wins over the specs it covers, and newer
 * pins and drains win over older.
 *
 * Versions: 2 since the store keeps one replica per node. Version 1 (the
 * first release: `data: { children: {id: register}, drains: {node: flag},
 * pause? }`, one pg copy per member) is read and converted on start; the
 * next save writes version 2. A file of a newer version than this node
 * reads is never overwritten: it is moved aside to `state.json.newer-<time>`
 * and reported, and the node starts empty (its peers hold the state), as for
 * a corrupt file — run the newer release on that data dir instead.
 *
 * Choices:
 * - Atomic replace: write `state.json.tmp`, fsync it, rename it over
 *   `state.json`, fsync the directory. A crash at any point leaves either the
 *   old file or the new one, never a mix; a leftover `.tmp` is removed at
 *   load. Writes are synchronous (a few ms for thousands of children) and
 *   coalesced by persistence.ts — so the window a kill can lose is that long.
 * - A file that does not parse, has the wrong format, or fails its checksum
 *   is moved aside to `state.json.corrupt-<time>` (never deleted) and
 *   reported; the node then starts empty and gets the state back from its
 *   peers, as any member that joins does.
 * - One node per directory: `pogo.lock`, created exclusively, holds the
 *   owner's pid and, where /proc tells them, the machine's boot id
 *   (/proc/sys/kernel/random/boot_id) and the owner's start time (field 22
 *   of /proc/<pid>/stat, clock ticks since boot):
 *
 *     {"pid":1234,"bootId":"f7c8…","startTime":"238287"}
 *
 *   A live owner makes the node refuse to start — two nodes writing one
 *   file would lose each other's state. A stale lock is taken over, and the
 *   warning says why (`judgeLock`, a pure function of the lock and what
 *   /proc says now): it was written before the machine last booted (the
 *   boot id differs), its process is not running (a SIGKILLed node), or
 *   its pid now belongs to another process (alive, but started at another
 *   time). Race "a reused pid": after a reboot pids start over, and the pid
 *   of a SIGKILLed node is soon some other process's (often a low one such
 *   as 1 in a container); a lock holding only the pid then kept the node
 *   from starting for good — under systemd's Restart=on-failure a restart
 *   loop until someone removed the file. Where /proc is absent (macOS) or a
 *   fact cannot be read, the lock holds the pid only and the check is the
 *   pid's alone, as it was; a lock of an earlier release (the pid alone,
 *   `1234\n`) is read that way too (an earlier release, in turn, reads this
 *   format as naming no process: run one release per data dir).
 *
 * Not persisted: live instances, restart and failure counts, membership —
 * they describe processes, which do not survive a restart anyway.
 */
import { createHash } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Clock } from '../clock.js';
import { ConfigError } from '../config.js';
import type { Logger } from '../logger.js';
import { canonicalJson } from '../protocol.js';
import { printable } from '../util/printable.js';

/** At most one write per this many ms while the state changes. */
export const SAVE_COALESCE_MS = 200;

export const STATE_FILE = 'state.json';
export const LOCK_FILE = 'pogo.lock';
const FORMAT = 'pogo-desired-state';
/** The format version this release writes. */
export const STATE_VERSION = 2;

/** What one member holds of the desired state: its store's registers by key, undecoded (persistence.ts decodes each). */
export interface SavedState {
  /** The store's registers by key, as saved (each decoded and validated when loaded). */
  registers: Record<string, unknown>;
}

export type LoadResult =
  /** Nothing saved yet (a new data dir). */
  | { kind: 'empty' }
  /** `convertedFrom`: the file was of an older version, converted in memory (the next save writes this version). */
  | { kind: 'loaded'; state: SavedState; savedAt: number; node: string; convertedFrom?: number }
  /** The file was unreadable: moved aside to `movedTo`; start empty and recover from peers. */
  | { kind: 'corrupt'; reason: string; movedTo: string | undefined }
  /** Written by a newer release: moved aside untouched to `movedTo`; start empty and recover from peers. */
  | { kind: 'newer'; version: number; movedTo: string | undefined };

/** Data dirs locked by nodes of this process (a second node on one dir in one process is refused too). */
const lockedHere = new Set<string>();

export class StateFile {
  readonly file: string;
  readonly lockFile: string;
  private locked = false;

  private constructor(
    readonly dir: string,
    private readonly node: string,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.file = join(dir, STATE_FILE);
    this.lockFile = join(dir, LOCK_FILE);
  }

  /**
   * Prepares `dir` (created with mode 0700 if missing; must be a writable
   * directory) and takes its lock. Throws ConfigError naming `dataDir` and
   * what to do.
   */
  static open(dir: string, o: { node: string; clock: Clock; log: Logger }): StateFile {
    const problem = (what: string): ConfigError => new ConfigError([`dataDir (${dir}): ${what}`]);
    try {
      // mkdir of a path that is a file fails with EEXIST, which would hide the real problem.
      if (existsSync(dir) && !statSync(dir).isDirectory()) throw problem('is not a directory (it is a file): give a directory, or move the file away');
      makeDirs(dir);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw problem(`cannot create the directory: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    let real: string;
    try {
      if (!statSync(dir).isDirectory()) throw problem('is not a directory');
      accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
      real = realpathSync(dir);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw problem(`must be a readable and writable directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    const store = new StateFile(real, o.node, o.clock, o.log);
    store.lock(dir);
    return store;
  }

  /**
   * Reads the saved state. A file that does not decode is moved aside and reported as `corrupt`; one that
   * exists but cannot be read at all (permissions, a directory, an I/O error), or was written by another
   * node name, throws ConfigError and stays.
   */
  load(): LoadResult {
    const tmp = `${this.file}.tmp`;
    if (existsSync(tmp)) {
      // A write that did not complete (the process died before the rename): the previous file stands.
      this.log.warn({ path: tmp }, 'removing an incomplete state file left by an interrupted write');
      try {
        unlinkSync(tmp);
      } catch {
        // the next save replaces it anyway
      }
    }
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { kind: 'empty' };
      // A file that exists but cannot be read (EACCES: the node runs as another user than the one
      // that wrote it; EISDIR; EIO) is not corrupt: moving it aside would make the node start empty,
      // and a whole cluster started that way would come back with no children at all, the state left
      // in files no node reads. Refuse to start instead, the file left where it is.
      this.close();
      const fix =
        code === 'EISDIR'
          ? 'it is a directory, not a file — move it out of the data dir (the node writes the file anew, or takes the state from its peers)'
          : code === 'EACCES' || code === 'EPERM'
            ? 'give the user this node runs as read access to it (e.g. chown the data dir to that user)'
            : 'check the disk and the file';
      throw new ConfigError([
        `dataDir (${this.dir}): cannot read the desired state file ${this.file} (${code ?? (err as Error).message}); ` +
          `it was left untouched — ${fix}, then start the node again`,
      ]);
    }
    const decoded = decodeState(text);
    if ('newer' in decoded) return { kind: 'newer', version: decoded.newer, movedTo: this.moveAside('newer') };
    if ('reason' in decoded) return this.corrupt(decoded.reason);
    if (decoded.node !== this.node) {
      // Race "a backup restored under another name" (an outsider's tour): n3's data dir copied before a stop,
      // started as a new member n4 once the stop's tombstone was gone everywhere, brought the child back — the
      // roster check (tombstones.ts, 5) vouches for a file by its writer's own entry, and nobody holds one for n4.
      // Refused, the file left where it is, as for one this node cannot read: started empty, a whole cluster
      // renamed would come back with no children at all.
      this.close();
      throw new ConfigError([
        `dataDir (${this.dir}): the desired state file ${this.file} was written by node ${JSON.stringify(decoded.node)}, not ` +
          `${JSON.stringify(this.node)}; it was left untouched. Started under another name, a copy of a member's data dir could ` +
          `bring back children stopped since it was saved (the cluster can tell an old file only by its writer's name): start ` +
          `this node as --name ${decoded.node}, or give it an empty data dir (move ${STATE_FILE} away)`,
      ]);
    }
    return { kind: 'loaded', ...decoded };
  }

  /** Replaces the file atomically with `state`. Throws on I/O errors (the caller logs and retries). */
  save(state: SavedState): void {
    const text = encodeState(state, this.node, this.clock.now());
    const tmp = `${this.file}.tmp`;
    try {
      writeSynced(tmp, 'w', text);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !this.locked || existsSync(this.dir)) throw err;
      this.recreate();
      writeSynced(tmp, 'w', text);
    }
    renameSync(tmp, this.file);
    syncDir(this.dir);
  }

  /**
   * The data dir was removed while this node ran (`rm -rf` by hand, a
   * cleanup script): creates it again, with this node's lock, so saving goes
   * on. Race "a data dir deleted at run time": every save failed with ENOENT
   * until the node was restarted — which creates the directory anyway — and
   * with the lock gone a second node could take the directory meanwhile.
   * If a lock is there already (another node took the re-created directory
   * first), this throws: the other node keeps it, and this one's saves fail.
   */
  private recreate(): void {
    makeDirs(this.dir);
    writeSynced(this.lockFile, 'wx', encodeLock(ownLock()));
    syncDir(this.dir);
    this.log.warn(
      { dataDir: this.dir },
      'the data dir was removed while this node ran: created it again, with its lock; the desired state is saved there from now on',
    );
  }

  /** Releases the lock (graceful stop). The state file stays. */
  close(): void {
    if (!this.locked) return;
    this.locked = false;
    lockedHere.delete(this.dir);
    try {
      if (readLock(this.lockFile)?.pid === process.pid) unlinkSync(this.lockFile);
    } catch {
      // already gone
    }
  }

  /**
   * As if the process died (simulated crashes): the lock file stays behind,
   * holding this process's pid; the next node on this dir in this process
   * takes it over as it would take over a dead process's lock.
   */
  abandon(): void {
    this.locked = false;
    lockedHere.delete(this.dir);
  }

  private lock(given: string): void {
    const refuse = (holder: string): ConfigError =>
      new ConfigError([
        `dataDir (${given}): in use by ${holder} (lock file ${this.lockFile}); two nodes must not share a data dir ` +
          `— give each node its own, or stop the other node (remove the lock file only if no pogo node runs there)`,
      ]);
    if (lockedHere.has(this.dir)) throw refuse(`another node of this process (pid ${process.pid})`);
    const own = ownLock();
    // Race "a lock read while it is being written": created empty and then written, a lock another
    // node starting at the same instant reads in between names no process, is judged stale and
    // removed. So the lock is written whole to a file of this process first, then linked into place
    // (link fails with EEXIST when a lock is there): a lock file is never seen without its owner.
    const cannotCreate = (err: unknown): ConfigError =>
      new ConfigError([`dataDir (${given}): cannot create the lock file ${this.lockFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
    const draft = `${this.lockFile}.${process.pid}.tmp`;
    const text = encodeLock(own);
    try {
      writeSynced(draft, 'w', text);
    } catch (err) {
      // Opened but not written (a full disk): each start refused for it left one more empty draft behind (the tour,
      // under a restart loop on a full data dir).
      try {
        unlinkSync(draft);
      } catch {
        // never created
      }
      throw cannotCreate(err);
    }
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          placeLock(draft, this.lockFile, text);
          // Two nodes taking over one stale lock at the same instant: only the last writer keeps it.
          if (readLock(this.lockFile)?.pid !== process.pid) continue;
          this.locked = true;
          lockedHere.add(this.dir);
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw cannotCreate(err);
        }
        this.judgeHolder(refuse);
      }
    } finally {
      try {
        unlinkSync(draft);
      } catch {
        // gone already
      }
    }
    throw refuse('another process (the lock kept changing hands)');
  }

  /** The lock is held: refuses unless its holder is gone (`judgeLock`), in which case it is removed for the next attempt. */
  private judgeHolder(refuse: (holder: string) => ConfigError): void {
    const holder = readLock(this.lockFile);
    const verdict = judgeLock(holder, holder === undefined ? undefined : lockFacts(holder.pid));
    if (!verdict.stale && holder !== undefined) throw refuse(`process ${holder.pid}: ${verdict.reason}`);
    this.log.warn({ path: this.lockFile, pid: holder?.pid ?? null, reason: verdict.reason }, `taking over a stale data dir lock: ${verdict.reason}`);
    try {
      unlinkSync(this.lockFile);
    } catch {
      // someone else removed it first: try again
    }
  }

  private corrupt(reason: string): LoadResult {
    return { kind: 'corrupt', reason, movedTo: this.moveAside('corrupt') };
  }

  /** Moves the state file aside to `state.json.<what>-<time>` (never deleted); undefined when it could not. */
  private moveAside(what: 'corrupt' | 'newer'): string | undefined {
    const stamp = new Date(this.clock.now()).toISOString().replace(/[:.]/g, '-');
    let target = `${this.file}.${what}-${stamp}`;
    for (let i = 1; existsSync(target); i++) target = `${this.file}.${what}-${stamp}-${i}`;
    try {
      renameSync(this.file, target);
      syncDir(this.dir);
      return target;
    } catch {
      return undefined;
    }
  }
}

/** The file's text for `state` (exported for tests). */
export function encodeState(state: SavedState, node: string, savedAt: number): string {
  const body = { format: FORMAT, version: STATE_VERSION, node, savedAt, data: { registers: state.registers } };
  return `${JSON.stringify({ ...body, checksum: checksum(body) })}\n`;
}

/**
 * Parses and verifies a state file's text (exported for tests): the state,
 * converted from an older version if need be; `newer` for a version this
 * release does not read; a reason when it is not a valid state file.
 */
export function decodeState(
  text: string,
): { state: SavedState; savedAt: number; node: string; convertedFrom?: number } | { reason: string } | { newer: number } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    // JSON.parse quotes the text around the error: of a file of random bytes, terminal escapes and all, that the
    // log and `pogo ctl status` then printed raw (the tour: garbage in the state file). Only printable characters.
    // (U+FFFD too: a byte that is no UTF-8 decodes to it.)
    const message = printable((err as Error).message).replace(/\ufffd/g, '?');
    return { reason: `not valid JSON (${text.length} characters; truncated?): ${message}` };
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return { reason: 'not a JSON object' };
  const { checksum: sum, ...body } = doc as Record<string, unknown>;
  if (body['format'] !== FORMAT) return { reason: `not a pogo desired-state file (format ${JSON.stringify(body['format'])})` };
  const version = body['version'];
  if (typeof version === 'number' && Number.isInteger(version) && version > STATE_VERSION) return { newer: version };
  if (version !== 1 && version !== STATE_VERSION)
    return { reason: `format version ${JSON.stringify(version)}; this node reads versions 1 and ${STATE_VERSION}` };
  if (typeof sum !== 'string') return { reason: 'no checksum' };
  const expected = checksum(body);
  if (sum !== expected) return { reason: `checksum mismatch (file says ${sum.slice(0, 19)}…, content is ${expected.slice(0, 19)}…)` };
  if (typeof body['savedAt'] !== 'number' || typeof body['node'] !== 'string') return { reason: 'savedAt or node missing' };
  const data = body['data'];
  const meta = { savedAt: body['savedAt'], node: body['node'] };
  if (version === STATE_VERSION) {
    if (!isRecord(data) || !isRecord(data['registers'])) return { reason: 'data has the wrong shape' };
    // Each register is validated again by persistence.ts when it is restored.
    return { state: { registers: data['registers'] }, ...meta };
  }
  const converted = convertVersion1(data);
  if (converted === undefined) return { reason: 'data has the wrong shape (version 1)' };
  return { state: converted, ...meta, convertedFrom: 1 };
}

/**
 * Version 1 (one pg copy per member): `{ children: {id: register},
 * drains: {node: flag}, pause? }` — the same register values, under
 * separate maps instead of store keys.
 */
function convertVersion1(data: unknown): SavedState | undefined {
  if (!isRecord(data) || !isRecord(data['children']) || !isRecord(data['drains']) || (data['pause'] !== undefined && !isRecord(data['pause'])))
    return undefined;
  const registers: Record<string, unknown> = {};
  for (const [id, register] of Object.entries(data['children'])) registers[`c:${id}`] = register;
  for (const [node, flag] of Object.entries(data['drains'])) registers[`f:drain:${node}`] = flag;
  if (data['pause'] !== undefined) registers['f:pause'] = data['pause'];
  return { registers };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function checksum(body: Record<string, unknown>): string {
  return `sha256:${createHash('sha256').update(canonicalJson(body)).digest('hex')}`;
}

function syncDir(dir: string): void {
  // Makes the rename durable. Some platforms cannot open a directory: the rename is still atomic there.
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** What a lock file says of its owner. `bootId` and `startTime` are absent in a lock of an earlier release or one written without /proc. */
export interface LockRecord {
  pid: number;
  /** The machine's boot id when the lock was written. */
  bootId?: string;
  /** The owner's start time (clock ticks since boot, field 22 of /proc/<pid>/stat). */
  startTime?: string;
}

/** What this machine says now, for judging a lock naming `pid`. `undefined`: could not be read (no /proc). */
export interface LockFacts {
  /** This process's pid. */
  self: number;
  /** The machine's boot id now. */
  bootId: string | undefined;
  /** Whether a process with the lock's pid exists and has not exited (EPERM counts: it exists, someone else's; a zombie does not). */
  alive: boolean;
  /** The pid is a zombie: its process has exited, and its parent has not reaped it yet. */
  zombie?: boolean;
  /** That process's start time, when it is alive and /proc tells it. */
  startTime: string | undefined;
}

/** Whether a data dir lock still holds, and why (for the refusal or the take-over warning). */
export type LockVerdict = { stale: boolean; reason: string };

/**
 * Whether the lock `lock` (undefined: the file names no process) is stale,
 * given what the machine says now about its pid (see the header). A fact
 * either side lacks is not compared: a lock of an earlier release or one
 * written without /proc is judged by its pid alone.
 */
export function judgeLock(lock: LockRecord | undefined, facts: LockFacts | undefined): LockVerdict {
  if (lock === undefined || facts === undefined) return { stale: true, reason: 'it names no process (empty or unreadable)' };
  const pid = lock.pid;
  if (pid === facts.self)
    return {
      stale: true,
      reason: `it names this process (pid ${pid}), which holds no lock there: a pid reused, or a node of this process that stopped without releasing it`,
    };
  if (lock.bootId !== undefined && facts.bootId !== undefined && lock.bootId !== facts.bootId)
    return {
      stale: true,
      reason: `it was written before the machine last booted (boot id ${lock.bootId}, now ${facts.bootId}): process ${pid} of then is gone`,
    };
  if (!facts.alive)
    return { stale: true, reason: facts.zombie ? `process ${pid} has exited (a zombie its parent has not reaped yet)` : `process ${pid} is not running` };
  if (lock.startTime !== undefined && facts.startTime !== undefined && lock.startTime !== facts.startTime)
    return {
      stale: true,
      reason: `pid ${pid} now belongs to another process (started at tick ${facts.startTime} since boot; the lock's owner at ${lock.startTime})`,
    };
  return {
    stale: false,
    reason:
      lock.startTime !== undefined && facts.startTime !== undefined
        ? `process ${pid} is running, started when the lock's owner did`
        : `process ${pid} is running (its start time could not be compared: the lock holds only a pid, or /proc is absent)`,
  };
}

/** A lock file's text as a record: this release's JSON, or an earlier release's bare pid. Undefined when it names no process. */
export function decodeLock(text: string): LockRecord | undefined {
  const trimmed = text.trim();
  if (/^\d{1,10}$/.test(trimmed)) {
    const pid = Number(trimmed);
    return pid > 0 ? { pid } : undefined;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  if (!isRecord(doc)) return undefined;
  const { pid, bootId, startTime } = doc;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
  const record: LockRecord = { pid };
  if (typeof bootId === 'string' && bootId.length > 0 && bootId.length <= 128) record.bootId = bootId;
  if (typeof startTime === 'string' && /^\d{1,20}$/.test(startTime)) record.startTime = startTime;
  return record;
}

/** The lock file's text for this process: its pid, and the boot id and start time where /proc tells them. */
export function encodeLock(record: LockRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/** This process's lock record. */
function ownLock(): LockRecord {
  const record: LockRecord = { pid: process.pid };
  const bootId = readBootId();
  const stat = readStat(process.pid);
  const startTime = stat === undefined ? undefined : startTimeFromStat(stat);
  if (bootId !== undefined) record.bootId = bootId;
  if (startTime !== undefined) record.startTime = startTime;
  return record;
}

/** What the machine says now about `pid` (see `LockFacts`). */
function lockFacts(pid: number): LockFacts {
  // Race "a zombie owner" (an outsider's tour): a node SIGKILLed and started again a second later on the same data
  // dir was refused ("process N is running, started when the lock's owner did") while N, exited, waited for its
  // parent (here init) to reap it: it keeps its pid and start time until then.
  const stat = readStat(pid);
  const zombie = stat !== undefined && stateFromStat(stat) === 'Z';
  const alive = !zombie && processAlive(pid);
  return {
    self: process.pid,
    bootId: readBootId(),
    alive,
    ...(zombie ? { zombie } : {}),
    startTime: alive && stat !== undefined ? startTimeFromStat(stat) : undefined,
  };
}

function readLock(path: string): LockRecord | undefined {
  try {
    return decodeLock(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function readBootId(): string | undefined {
  try {
    const id = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return id.length > 0 && id.length <= 128 ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The fields of /proc/<pid>/stat from field 3 on. The name (field 2) may hold spaces and parentheses: count from its last `)`. */
function statFieldsFrom3(stat: string): string[] | undefined {
  const close = stat.lastIndexOf(')');
  return close < 0
    ? undefined
    : stat
        .slice(close + 1)
        .trim()
        .split(/\s+/);
}

/** Field 22 of /proc/<pid>/stat (start time, clock ticks since boot). */
export function startTimeFromStat(stat: string): string | undefined {
  const field = statFieldsFrom3(stat)?.[22 - 3];
  return field !== undefined && /^\d{1,20}$/.test(field) ? field : undefined;
}

/** Field 3 of /proc/<pid>/stat (the state: R, S, D, Z for a zombie…). */
export function stateFromStat(stat: string): string | undefined {
  const field = statFieldsFrom3(stat)?.[0];
  return field !== undefined && /^[A-Za-z]$/.test(field) ? field : undefined;
}

/** /proc/<pid>/stat, or undefined (no such process, no /proc). */
function readStat(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * `mkdir -p` with mode 0700 for what it creates, one level at a time. Not
 * `mkdirSync(dir, { recursive: true })`: on Node.js 20 that spins forever
 * in a directory where mkdir fails with ENOENT although the parent exists
 * (`/proc`, some FUSE mounts): a node given `--data-dir /proc/x` used a whole
 * core and ignored SIGTERM. Here each failure but EEXIST is the answer.
 */
export function makeDirs(dir: string): void {
  const path = resolve(dir);
  const missing: string[] = [];
  for (let at = path; !existsSync(at); at = dirname(at)) {
    missing.push(at);
    if (dirname(at) === at) break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/**
 * Puts the written `draft` in place as `lockFile`, failing with EEXIST when
 * a lock is there. A file system without hard links (vfat, some network
 * mounts) gets the lock (`text`, the draft's) created exclusively and then
 * written: the race the link avoids is back there, and only there.
 */
function placeLock(draft: string, lockFile: string, text: string): void {
  try {
    linkSync(draft, lockFile);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
  }
  writeSynced(lockFile, 'wx', text);
}

/** Writes `text` to `path` (mode 0600; `wx`: only if it does not exist) and syncs it to disk before closing. */
function writeSynced(path: string, flags: 'w' | 'wx', text: string): void {
  const fd = openSync(path, flags, 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
