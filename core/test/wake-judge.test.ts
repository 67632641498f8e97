/**
 * The verdict of reliability/wake.mjs on synthetic child records
 * (reliability/lib/wake-judge.mjs): a check that can only pass proves
 * nothing, so each rule is shown failing on the records a broken node would
 * leave, and passing on the ones a correct node leaves. The real runs are in
 * wake.process.test.ts. No processes, no timing: times are made up, in ms,
 * and every node's clock is exact but for a 0.1 ms calibration error.
 */
import { describe, expect, it } from 'vitest';

type Entry = [string, 'up' | 'down', number];
interface FakeNode {
  name: string;
  clockOffset: number;
  clockErrorMs: number;
}
interface ChildRecordLike {
  add(node: FakeNode, raw: Entry[]): void;
}
interface Verdict {
  wakeStarts: number;
  wakeStartsOverPeers: Array<{ id: string }>;
  duplicates: Array<{ id: string; resolveMs: number | undefined }>;
  allowedOverlaps: number;
  ranOnAfterWakeMs: number | undefined;
  earliestTakeoverMs: number | undefined;
  overlapsWithinError: number;
  violations: Array<{ invariant: string; ids: string[]; detail: string }>;
}
type Judge = (record: ChildRecordLike, round: Record<string, unknown>, now?: number) => Verdict;

const lib = (file: string) => new URL(`../../reliability/lib/${file}`, import.meta.url).href;
const { ChildRecord } = (await import(lib('overlap.mjs'))) as { ChildRecord: new () => ChildRecordLike };
const { judgeWakeRound } = (await import(lib('wake-judge.mjs'))) as { judgeWakeRound: Judge };

const node = (name: string): FakeNode => ({ name, clockOffset: 0, clockErrorMs: 0.1 });
const n1 = node('n1');
const n2 = node('n2');
const n3 = node('n3');

// n3 frozen from 10,000 to 30,000; quiet again at 32,000. The bounds wake.mjs derives from `lan`.
const STOP = 10_000;
const CONT = 30_000;
const END = 32_000;
const round = (judge: 'available' | 'majority', over: Record<string, unknown> = {}) => ({
  judge,
  frozen: n3,
  roundStart: STOP - 1,
  stopAt: STOP,
  contAt: CONT,
  endAt: END,
  leaseMs: 3000,
  resolveBoundMs: 16_000,
  wakeStopBoundMs: 6000,
  takeoverAfterMs: 5000,
  ...over,
});
const invariants = (v: Verdict) => v.violations.map((x) => x.invariant);

/** Every child running once before the freeze: a on n3, b on n1, c on n2. */
function before(): ChildRecordLike {
  const r = new ChildRecord();
  r.add(n3, [['a', 'up', 0]]);
  r.add(n1, [['b', 'up', 0]]);
  r.add(n2, [['c', 'up', 0]]);
  return r;
}

describe('wake-start: the woken node starts nothing a peer runs', () => {
  it('passes when the frozen node starts nothing, or only what no peer runs any more', () => {
    const r = before();
    // a taken over by n1 after the timeout, given back to n3 with a stop-first move after the wake.
    r.add(n3, [['a', 'down', CONT + 20]]);
    r.add(n1, [
      ['a', 'up', STOP + 3000],
      ['a', 'down', CONT + 500],
    ]);
    r.add(n3, [['a', 'up', CONT + 500.5]]);
    const v = judgeWakeRound(r, round('available'));
    expect(v.wakeStarts).toBe(1);
    expect(v.wakeStartsOverPeers).toEqual([]);
    expect(v.violations).toEqual([]);
  });

  it("fails when the woken node starts a peer's child that is running there", () => {
    const r = before();
    r.add(n3, [
      ['b', 'up', CONT + 100],
      ['c', 'up', CONT + 100],
      ['b', 'down', CONT + 900],
      ['c', 'down', CONT + 900],
    ]);
    const v = judgeWakeRound(r, round('available'));
    expect(v.wakeStartsOverPeers.map((s) => s.id).sort()).toEqual(['b', 'c']);
    // Reported once, as a wake start, not again as an overlap.
    expect(invariants(v)).toEqual(['wake-start']);
  });

  it('leaves out a start that follows the peer’s stop within the clock error', () => {
    const r = before();
    r.add(n1, [['b', 'down', CONT + 100]]);
    r.add(n3, [['b', 'up', CONT + 99.9]]);
    const v = judgeWakeRound(r, round('available'));
    expect(v.wakeStartsOverPeers).toEqual([]);
    expect(v.overlapsWithinError).toBe(1);
    expect(v.violations).toEqual([]);
  });
});

describe('available mode: the duplicates of the freeze are resolved after the wake', () => {
  it('measures each duplicate from the SIGCONT to the moment one instance is left', () => {
    const r = before();
    r.add(n1, [
      ['a', 'up', STOP + 3000],
      ['a', 'down', CONT + 250],
    ]);
    const v = judgeWakeRound(r, round('available'));
    expect(v.duplicates).toEqual([{ id: 'a', resolveMs: 250 }]);
    expect(v.violations).toEqual([]);
  });

  it('fails a duplicate still running twice at the end, or resolved past the bound', () => {
    const r = before();
    r.add(n3, [['d', 'up', 0]]);
    r.add(n1, [['a', 'up', STOP + 3000]]);
    r.add(n2, [
      ['d', 'up', STOP + 3000],
      ['d', 'down', CONT + 16_001],
    ]);
    const v = judgeWakeRound(r, round('available'), CONT + 17_000);
    expect(new Map(v.duplicates.map((d) => [d.id, d.resolveMs]))).toEqual(
      new Map<string, number | undefined>([
        ['a', undefined],
        ['d', 16_001],
      ]),
    );
    expect(invariants(v)).toEqual(['duplicate']);
    expect(v.violations[0]?.ids.sort()).toEqual(['a', 'd']);
  });

  it('fails two peers running one child at once', () => {
    const r = before();
    r.add(n2, [
      ['b', 'up', STOP + 3000],
      ['b', 'down', STOP + 4000],
    ]);
    expect(invariants(judgeWakeRound(r, round('available')))).toEqual(['overlap']);
  });
});

describe("majority mode: only the documented overlap of a frozen node's own children", () => {
  /** n1 takes a over after lease + stop + margin; the woken n3 stops its instance 30 ms after the SIGCONT (null: never). */
  function takeover(peerUp = STOP + 6700, mineDown: number | null = CONT + 30): ChildRecordLike {
    const r = before();
    if (mineDown !== null) r.add(n3, [['a', 'down', mineDown]]);
    r.add(n1, [['a', 'up', peerUp]]);
    return r;
  }

  it('passes the exception and reports how long the woken node ran on', () => {
    const v = judgeWakeRound(takeover(), round('majority'));
    expect(v.allowedOverlaps).toBe(1);
    expect(v.ranOnAfterWakeMs).toBe(30);
    expect(v.earliestTakeoverMs).toBe(6700);
    expect(v.violations).toEqual([]);
  });

  it('fails a takeover before the lease and stop time could have run out (what available mode does)', () => {
    const v = judgeWakeRound(takeover(STOP + 3000), round('majority'));
    expect(invariants(v)).toEqual(['frozen-overlap']);
    expect(v.violations[0]?.detail).toMatch(/before the 5000 ms the majority must wait/);
  });

  it('fails a woken node that runs on past its stop deadline, or never stops', () => {
    expect(invariants(judgeWakeRound(takeover(STOP + 6700, CONT + 6001), round('majority')))).toEqual(['frozen-overlap']);
    expect(invariants(judgeWakeRound(takeover(STOP + 6700, null), round('majority')))).toEqual(['frozen-overlap']);
  });

  it('fails an overlap after a freeze no longer than the lease', () => {
    const r = before();
    r.add(n3, [['a', 'down', STOP + 2500 + 30]]);
    r.add(n1, [['a', 'up', STOP + 2500]]);
    const v = judgeWakeRound(r, round('majority', { contAt: STOP + 2500, takeoverAfterMs: 0 }));
    expect(invariants(v)).toEqual(['frozen-overlap']);
    expect(v.violations[0]?.detail).toMatch(/not longer than the lease/);
  });
});
