/**
 * Live output (observer/output-follow.ts): which ring a watch reads and
 * from where (`followStep`, pure), and the followers on a manual clock with
 * a scripted cluster: lines pushed as they come, the child followed when it
 * moves or restarts, polling only while watched, one poll at a time.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { MAX_WATCHES_PER_SESSION, OutputFollowers, followStep, skippedLines } from '../src/observer/output-follow.js';
import type { SessionData } from '../src/observer/server.js';
import type { ChildView } from '../src/observer/state.js';
import type { CommandFailure, OutputEvent } from '../src/observer/ui-protocol.js';
import type { OutputLine } from '../src/supervisor/log-ring.js';

const at = (node: string, pid: string, restarts = 0) => ({ node, pid, restarts });

describe('followStep', () => {
  const cursor = { node: 'a', pid: 'a/1/c1', restarts: 0, after: 40 };

  it('the first read takes what the node still holds', () => {
    expect(followStep(undefined, at('a', 'a/1/c1'))).toEqual({ kind: 'read', node: 'a', pid: 'a/1/c1', restarts: 0, after: 0, change: 'watch' });
  });

  it('the same instance: after the cursor', () => {
    expect(followStep(cursor, at('a', 'a/1/c1'))).toMatchObject({ kind: 'read', after: 40, change: 'none' });
  });

  it('another node: its own ring, from the start', () => {
    expect(followStep(cursor, at('b', 'b/2/c7'))).toEqual({ kind: 'read', node: 'b', pid: 'b/2/c7', restarts: 0, after: 0, change: 'moved' });
  });

  it('restarted in place: the same ring goes on', () => {
    expect(followStep(cursor, at('a', 'a/1/c2', 1))).toMatchObject({ kind: 'read', after: 40, change: 'restarted', restarts: 1 });
  });

  it('a new instance on the same node without a restart: a new ring, from the start', () => {
    expect(followStep({ ...cursor, restarts: 3 }, at('a', 'a/1/c9', 0))).toMatchObject({ kind: 'read', after: 0, change: 'replaced' });
  });

  it('running nowhere, or gone', () => {
    expect(followStep(cursor, { node: null, pid: null, restarts: 0 })).toEqual({ kind: 'not-running' });
    expect(followStep(cursor, undefined)).toEqual({ kind: 'gone' });
  });

  it('counts lines lost between reads, not the history before the first', () => {
    expect(skippedLines(40, 41)).toBe(0);
    expect(skippedLines(40, 46)).toBe(5);
    expect(skippedLines(0, 900)).toBe(0);
    expect(skippedLines(40, undefined)).toBe(0);
  });
});

const VIEWER: SessionData = { access: 'viewer', credential: 'v-token', user: 'alice', locked: false };

const child = (node: string | null, pid: string | null, restarts = 0): ChildView => ({
  id: 'job',
  status: node ? 'running' : 'pending',
  node,
  pid,
  owner: node,
  pin: null,
  instances: node && pid ? [{ node, pid }] : [],
  restarts,
  worker: null,
  command: 'node',
  restart: 'permanent',
  handoff: 'stop-first',
  lastError: null,
  failures: [],
  unverified: false,
});

/** A cluster of rings: node → lines; the child's view; every read recorded, answered at once or held. */
function setup() {
  const clock = new ManualClock();
  const rings = new Map<string, OutputLine[]>();
  let view: ChildView | undefined = child('a', 'a/1/c1');
  const reads: Array<{ node: string; after: number; credential: string }> = [];
  let hold: Array<() => void> | undefined;
  let fail: CommandFailure | undefined;
  const sent: Array<{ session: string; event: OutputEvent }> = [];
  const followers = new OutputFollowers({
    clock,
    child: (id) => (id === 'job' ? view : undefined),
    read: async (node, _id, after, session) => {
      reads.push({ node, after, credential: session.credential });
      if (hold) await new Promise<void>((r) => hold!.push(r));
      if (fail) return { ok: false, error: fail };
      return { ok: true, result: (rings.get(node) ?? []).filter((l) => l.seq > after).slice(-500) };
    },
    send: (session, event) => sent.push({ session, event }),
  });
  const write = (node: string, stream: OutputLine['stream'], text: string): void => {
    const ring = rings.get(node) ?? [];
    ring.push({ seq: (ring.at(-1)?.seq ?? 0) + 1, at: clock.now(), stream, text });
    rings.set(node, ring);
  };
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  /** Moves time on in 100 ms steps, letting each poll's answer arrive. */
  const run = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t += 100) {
      clock.advance(100);
      await settle();
    }
  };
  return {
    clock,
    followers,
    reads,
    sent,
    write,
    run,
    settle,
    rings,
    setView: (v: ChildView | undefined) => (view = v),
    hold: () => (hold = []),
    release: () => {
      const waiting = hold ?? [];
      hold = undefined;
      for (const r of waiting) r();
    },
    failWith: (f: CommandFailure | undefined) => (fail = f),
    texts: () => sent.flatMap(({ event }) => (event.kind === 'lines' ? event.lines.map((l) => `${l.stream}:${l.text}`) : [])),
  };
}

describe('OutputFollowers', () => {
  it('pushes what the node holds, then each new line as it comes, with its stream', async () => {
    const t = setup();
    t.write('a', 'stdout', 'one');
    t.write('a', 'stderr', 'two');
    expect(t.followers.watch('s1', VIEWER, { id: 'job' })).toEqual({ ok: true });
    await t.run(100);
    expect(t.sent).toEqual([
      { session: 's1', event: { id: 'job', kind: 'lines', node: 'a', pid: 'a/1/c1', change: 'watch', lines: t.rings.get('a'), skipped: 0 } },
    ]);
    t.write('a', 'stdout', 'three');
    await t.run(500);
    expect(t.sent.at(-1)?.event).toMatchObject({ kind: 'lines', change: 'none', lines: [{ seq: 3, text: 'three', stream: 'stdout' }] });
    // Nothing new: polls go on, nothing is sent.
    const before = t.sent.length;
    await t.run(2_000);
    expect(t.sent).toHaveLength(before);
    expect(t.reads.length).toBeGreaterThanOrEqual(5);
    expect(t.reads.every((r) => r.node === 'a' && r.credential === 'v-token')).toBe(true);
    expect(t.texts()).toEqual(['stdout:one', 'stderr:two', 'stdout:three']);
  });

  it('follows the child to another node and through a restart in place', async () => {
    const t = setup();
    t.write('a', 'stdout', 'a1');
    t.followers.watch('s1', VIEWER, { id: 'job' });
    await t.run(100);
    t.write('a', 'stdout', 'a2');
    t.setView(child('b', 'b/2/c4'));
    t.write('b', 'stdout', 'b1');
    await t.run(500);
    expect(t.sent.at(-1)?.event).toMatchObject({ kind: 'lines', node: 'b', pid: 'b/2/c4', change: 'moved', lines: [{ seq: 1, text: 'b1' }] });
    // Restarted in place on b: a new pid, the same ring, numbering goes on.
    t.write('b', 'stderr', 'b2 from the new process');
    t.setView(child('b', 'b/2/c5', 1));
    await t.run(500);
    expect(t.sent.at(-1)?.event).toMatchObject({ change: 'restarted', pid: 'b/2/c5', lines: [{ seq: 2, stream: 'stderr' }] });
    expect(t.reads.at(-1)).toMatchObject({ node: 'b', after: 1 });
  });

  it('says once why nothing comes, and carries on when the child runs again', async () => {
    const t = setup();
    t.setView(child(null, null));
    t.followers.watch('s1', VIEWER, { id: 'job' });
    await t.run(2_000);
    expect(t.sent.map((s) => s.event)).toEqual([
      { id: 'job', kind: 'status', state: 'not-running', message: 'job runs on no node right now; its output follows when it runs again' },
    ]);
    expect(t.reads).toEqual([]);
    t.setView(child('a', 'a/1/c1'));
    t.failWith({ code: 'unreachable', message: 'not linked to a' });
    await t.run(3_000);
    expect(t.sent.filter((s) => s.event.kind === 'status').map((s) => (s.event as { state: string }).state)).toEqual(['not-running', 'unavailable']);
    // Failed polls are retried at the slower pace.
    expect(t.reads.length).toBeLessThanOrEqual(2);
    t.failWith(undefined);
    t.write('a', 'stdout', 'back');
    await t.run(2_100);
    expect(t.sent.at(-1)?.event).toMatchObject({ kind: 'lines', change: 'watch', lines: [{ text: 'back' }] });
  });

  it('ends the watch when the member refuses the credential (every later poll would be refused, and audited)', async () => {
    const t = setup();
    t.failWith({ code: 'unauthorized', message: 'the credential is not valid for this cluster' });
    t.followers.watch('s1', VIEWER, { id: 'job' });
    await t.run(5_000);
    expect(t.reads).toHaveLength(1);
    expect(t.sent.map((s) => s.event)).toEqual([
      { id: 'job', kind: 'status', state: 'refused', message: 'a: unauthorized: the credential is not valid for this cluster' },
    ]);
    expect(t.followers.size).toBe(0);
  });

  it('ends the watch when the child leaves the cluster', async () => {
    const t = setup();
    t.followers.watch('s1', VIEWER, { id: 'job' });
    await t.run(100);
    t.setView(undefined);
    await t.run(500);
    expect(t.sent.at(-1)?.event).toEqual({ id: 'job', kind: 'status', state: 'gone', message: 'job is no longer in the cluster' });
    expect(t.followers.size).toBe(0);
    expect(t.clock.pending()).toBe(0);
  });

  it('polls only while watched, one poll at a time', async () => {
    const t = setup();
    t.hold();
    t.followers.watch('s1', VIEWER, { id: 'job' });
    await t.run(3_000);
    expect(t.reads).toHaveLength(1); // the answer has not come: no second poll
    t.release();
    await t.run(600);
    expect(t.reads.length).toBe(2);
    t.followers.unwatch('s1', { id: 'job' });
    await t.run(3_000);
    expect(t.reads.length).toBe(2);
    expect(t.clock.pending()).toBe(0);

    t.followers.watch('s2', VIEWER, { id: 'job' });
    await t.run(100);
    t.followers.drop('s2');
    const n = t.reads.length;
    await t.run(3_000);
    expect(t.reads.length).toBe(n);
    expect(t.followers.size).toBe(0);
  });

  it('an answer that arrives after the unwatch is not sent', async () => {
    const t = setup();
    t.write('a', 'stdout', 'late');
    t.hold();
    t.followers.watch('s1', VIEWER, { id: 'job' });
    await t.run(100);
    t.followers.unwatch('s1', { id: 'job' });
    t.release();
    await t.settle();
    expect(t.sent).toEqual([]);
  });

  it('refuses sessions without a credential, malformed requests, and too many watches', () => {
    const t = setup();
    expect(t.followers.watch('s1', { access: 'none', credential: '', user: 'ui', locked: false }, { id: 'job' })).toEqual({
      ok: false,
      error: { code: 'read-only', message: 'live output needs a viewer or operator credential' },
    });
    expect(t.followers.watch('s1', VIEWER, { id: '' })).toEqual({ ok: false, error: { code: 'bad-request', message: 'watchOutput: id: must not be empty' } });
    expect(t.followers.watch('s1', VIEWER, 'job')).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    for (let i = 0; i < MAX_WATCHES_PER_SESSION; i++) expect(t.followers.watch('s1', VIEWER, { id: `c${i}` })).toEqual({ ok: true });
    expect(t.followers.watch('s1', VIEWER, { id: 'one-more' })).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    // Watching the same id again starts afresh, it does not count twice.
    expect(t.followers.watch('s1', VIEWER, { id: 'c0' })).toEqual({ ok: true });
    expect(t.followers.size).toBe(MAX_WATCHES_PER_SESSION);
    t.followers.close();
    expect(t.followers.size).toBe(0);
  });

  it('counts lines the ring dropped between two polls', async () => {
    const t = setup();
    t.write('a', 'stdout', 'first');
    t.followers.watch('s1', VIEWER, { id: 'job' });
    await t.run(100);
    for (let i = 0; i < 700; i++) t.write('a', 'stdout', `burst ${i}`);
    await t.run(500);
    expect(t.sent.at(-1)?.event).toMatchObject({ kind: 'lines', skipped: 200 });
    expect((t.sent.at(-1)?.event as { lines: OutputLine[] }).lines).toHaveLength(500);
  });
});
