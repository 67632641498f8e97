/**
 * Keeping a member's replica of the desired state on disk (`--data-dir`),
 * through state-file.ts: restore at start, save after changes.
 *
 * - Restore: before any link is up, each saved register is decoded by its
 *   kind (as a peer's would be: a bad one is skipped and counted) and joined
 *   into the replica. The usual merge with the peers' replicas then runs as
 *   for any change, so a terminate, pin or drain made while this node was
 *   away wins over its older file.
 * - Save: every change of the replica (local or from a peer) asks for a
 *   save; saves are coalesced to at most one every SAVE_COALESCE_MS, and one
 *   more is made on a graceful stop. `savedTick` is the replica tick the last
 *   successful save covered: the store's `rs.synced` waits for it, because
 *   it licenses the collection of tombstones (tombstones.ts). A command's
 *   answer (a start, a stop, a move) waits for it too (`waitTick`), so a
 *   confirmed change is on this node's disk before the operator hears of
 *   it: at most SAVE_COALESCE_MS later than without a data dir.
 * - A failing save is never fatal (the cluster still holds the state): it
 *   is logged once, retried every 5 × SAVE_COALESCE_MS, and its recovery
 *   logged.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Replica } from '../store/replica.js';
import type { SavedState } from './state-file.js';

/** How saving the desired state to a member's data dir goes (`PogoNode.stateSaving`). */
export interface StateSavingHealth {
  /** When the last save succeeded (ms since the epoch); undefined before the first one. */
  lastSavedAt?: number;
  /** Since when saving has failed (the first failure of the current run of failures); undefined while it works. */
  failingSince?: number;
  /** Why the last save failed (e.g. `ENOSPC: no space left on device, write`), while it fails. */
  lastError?: string;
  /** Failed save attempts since start. */
  failures: number;
}

/** At most one write per this many ms while the state changes. */
export const SAVE_COALESCE_MS = 200;

export interface PersistenceOptions {
  replica: Replica;
  clock: Clock;
  log: Logger;
  save(state: SavedState): void;
  /** Saved tick advanced, or saving began to fail: acknowledgements that waited for it may go. */
  onSaved(): void;
}

export class Persistence {
  private timer: TimerHandle | undefined;
  private failing = false;
  private stopped = false;
  private saved = 0;

  constructor(private readonly o: PersistenceOptions) {}

  /** The replica tick the last successful save covered. */
  get savedTick(): number {
    return this.saved;
  }

  /**
   * The tick a command's answer waits for (race "the whole cluster killed
   * just after a confirmation": a stop confirmed 100 ms before every member
   * was SIGKILLed came back, since no member had saved it yet): what is
   * saved — or, while saving fails or after the last save, no wait at all: a
   * failing disk must not stop every command, the cluster still holds the
   * state (and the failure is logged). With no save pending every change is
   * on disk: a tick with no change behind it (a start of a spec already
   * held touches its register and moves the tick; nothing is saved for it)
   * waits for nothing (the tour: re-submitting an unchanged spec with `pogo
   * ctl start` hung until some other change was saved).
   */
  get waitTick(): number {
    return this.failing || this.stopped || this.timer === undefined ? Infinity : this.saved;
  }

  /**
   * Joins saved registers into the replica. Returns how many were restored
   * by kind (child registers, drain and pause flags, roster entries) and how
   * many were skipped as invalid (logged by the caller).
   */
  restore(state: SavedState): { children: number; flags: number; roster: number; skipped: number; reasons: string[] } {
    const now = this.o.clock.now();
    const restored = { children: 0, flags: 0, roster: 0 };
    let skipped = 0;
    const reasons: string[] = [];
    for (const [key, value] of Object.entries(state.registers)) {
      const kind = this.o.replica.kindOf(key);
      const decoded = kind ? kind.decode(key, value, now) : { ok: false as const, reason: 'no register kind has this key' };
      if (!decoded.ok) {
        skipped++;
        if (reasons.length < 5) reasons.push(`${key.slice(0, 100)}: ${decoded.reason}`);
        continue;
      }
      if (!this.o.replica.merge(key, decoded.value)) continue;
      if (key.startsWith('c:')) restored.children++;
      else if (key.startsWith('m:')) restored.roster++;
      else restored.flags++;
    }
    // What was just read is on disk already.
    this.saved = this.o.replica.tick;
    return { ...restored, skipped, reasons };
  }

  /** The replica changed: save it once the changes of the next moments are in. */
  changed(delayMs = SAVE_COALESCE_MS): void {
    if (this.timer || this.stopped) return;
    this.timer = this.o.clock.setTimeout(() => this.saveNow(), delayMs);
  }

  /**
   * Saves now, within the turn: before anything written in it reaches a
   * peer (deltas go at the end of the turn, pulls are answered in later
   * turns). For a write no peer may hold before this node's disk does: a
   * member's roster affirm (tombstones.ts, 5, race "killed between the
   * affirm and its save").
   */
  saveInTurn(): void {
    if (this.stopped) return;
    this.saveNow();
  }

  /** Saves now if anything is unsaved (graceful stop), and stops saving. */
  flush(): void {
    if (this.stopped) return;
    if (this.timer || this.saved < this.o.replica.tick) this.saveNow(true);
    this.stopped = true;
    this.o.clock.clearTimeout(this.timer);
  }

  /** Stops without saving (a simulated crash). */
  abandon(): void {
    this.stopped = true;
    this.o.clock.clearTimeout(this.timer);
  }

  private saveNow(final = false): void {
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const tick = this.o.replica.tick;
    const registers: Record<string, unknown> = {};
    for (const [key, value] of this.o.replica.all()) registers[key] = value;
    try {
      this.o.save({ registers });
      if (this.failing) this.o.log.info({}, 'saving the desired state works again');
      this.failing = false;
      this.saved = tick;
      this.o.onSaved();
    } catch (err) {
      // Never fatal: the state still lives in the cluster. Retry slowly, and say so once.
      const first = !this.failing;
      // The last chance (a graceful stop): said even when the failure was logged already, since a restart of every
      // member now loses what is unsaved here (the tour: a node stopped on a read-only data dir said only "node stopped").
      if (final)
        this.o.log.error(
          { err: (err as Error).message },
          'stopping with the desired state not saved to the data dir: the last changes are only on the other members',
        );
      else if (first)
        this.o.log.error(
          { err: (err as Error).message },
          'cannot save the desired state to the data dir; retrying (the cluster still holds it, but a full restart would lose changes)',
        );
      this.failing = true;
      this.changed(5 * SAVE_COALESCE_MS);
      // The commands that waited for this save wait no more (waitTick is Infinity while saving fails): tell
      // them now, or they sit until some other event (the tour: a `pogo ctl start` through a member whose
      // disk had just filled took 10.2 s instead of 0.2 s).
      if (first) this.o.onSaved();
    }
  }
}
