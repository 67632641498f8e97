import { describe, expect, it } from 'vitest';
import type { OutputLinesEvent } from 'pogo-core/ui-protocol';
import { applyOutputEvent, emptyPanel, lineCount, type OutputPanel } from './output-lines';

const line = (seq: number, text = `l${seq}`, stream: 'stdout' | 'stderr' = 'stdout') => ({ seq, at: seq * 1_000, stream, text });
const chunk = (change: OutputLinesEvent['change'], lines: ReturnType<typeof line>[], extra: Partial<OutputLinesEvent> = {}): OutputLinesEvent => ({
  id: 'job',
  kind: 'lines',
  node: 'a',
  pid: 'a/abc/c1',
  change,
  lines,
  skipped: 0,
  ...extra,
});
const texts = (p: OutputPanel) => p.entries.map((e) => (e.kind === 'line' ? `${e.stream === 'stderr' ? '!' : ''}${e.text}` : `— ${e.text}`));
const apply = (...events: Parameters<typeof applyOutputEvent>[1][]) => events.reduce((p, e) => applyOutputEvent(p, e), emptyPanel());

describe('applyOutputEvent', () => {
  it('starts with what the node holds, then adds each new line once', () => {
    const p = apply(
      chunk('watch', [line(1), line(2, 'oops', 'stderr')]),
      chunk('none', [line(3)]),
      chunk('none', [line(3)]),
      chunk('none', [line(2), line(3), line(4)]),
    );
    expect(texts(p)).toEqual(['l1', '!oops', 'l3', 'l4']);
    expect(p).toMatchObject({ node: 'a', pid: 'a/abc/c1', lastSeq: 4, status: null });
    expect(new Set(p.entries.map((e) => e.key)).size).toBe(p.entries.length);
  });

  it('marks a move: the new process’s lines, numbered from 1 again, after a note', () => {
    const p = apply(
      chunk('watch', [line(1), line(2)]),
      chunk('moved', [line(1, 'b1'), line(2, 'b2')], { node: 'b', pid: 'b/def/c7' }),
      chunk('none', [line(2, 'b2'), line(3, 'b3')], { node: 'b', pid: 'b/def/c7' }),
    );
    expect(texts(p)).toEqual(['l1', 'l2', '— now on b: a new process (c7); its output starts here', 'b1', 'b2', 'b3']);
    expect(new Set(p.entries.map((e) => e.key)).size).toBe(6);
  });

  it('marks a restart in place (its numbering goes on) and a new instance on the same node (from 1)', () => {
    const p = apply(
      chunk('watch', [line(1), line(2)]),
      chunk('restarted', [line(2), line(3, 'after restart')], { pid: 'a/abc/c2' }),
      chunk('replaced', [line(1, 'fresh')], { pid: 'a/abc/c9' }),
    );
    expect(texts(p)).toEqual([
      'l1',
      'l2',
      '— restarted in place on a (c2)',
      'after restart',
      '— started again on a: a new process (c9); its output starts here',
      'fresh',
    ]);
    expect(p.lastSeq).toBe(1);
  });

  it('says how many lines were lost', () => {
    const p = apply(chunk('watch', [line(1)]), chunk('none', [line(202)], { skipped: 200 }), chunk('none', [line(204)], { skipped: 1 }));
    expect(texts(p)).toEqual([
      'l1',
      '— 200 lines not shown: the child wrote faster than they were read',
      'l202',
      '— 1 line not shown: the child wrote faster than they were read',
      'l204',
    ]);
  });

  it('a watch again after a reconnect keeps what the panel shows and adds what is new', () => {
    const before = apply(chunk('watch', [line(1), line(2)]));
    expect(texts(applyOutputEvent(before, chunk('watch', [line(1), line(2), line(3)])))).toEqual(['l1', 'l2', 'l3']);
    // Meanwhile moved, or restarted in place (the ring went on), or replaced (a new ring).
    expect(texts(applyOutputEvent(before, chunk('watch', [line(1, 'b1')], { node: 'b', pid: 'b/x/c3' })))).toEqual([
      'l1',
      'l2',
      '— now on b: a new process (c3); its output starts here',
      'b1',
    ]);
    expect(texts(applyOutputEvent(before, chunk('watch', [line(2), line(3)], { pid: 'a/abc/c2' })))).toEqual([
      'l1',
      'l2',
      '— restarted in place on a (c2)',
      'l3',
    ]);
    expect(texts(applyOutputEvent(before, chunk('watch', [line(1, 'again')], { pid: 'a/abc/c5' })))).toEqual([
      'l1',
      'l2',
      '— started again on a: a new process (c5); its output starts here',
      'again',
    ]);
  });

  it('keeps a status until lines come', () => {
    let p = apply(chunk('watch', [line(1)]), { id: 'job', kind: 'status', state: 'unavailable', message: 'a: timeout' });
    expect(p.status).toEqual({ state: 'unavailable', message: 'a: timeout' });
    expect(texts(p)).toEqual(['l1']);
    p = applyOutputEvent(p, chunk('none', []));
    expect(p.status).toBeNull();
  });

  it('keeps the newest entries only', () => {
    let p = apply(
      chunk(
        'watch',
        Array.from({ length: 400 }, (_, i) => line(i + 1)),
      ),
    );
    p = applyOutputEvent(
      p,
      chunk(
        'none',
        Array.from({ length: 300 }, (_, i) => line(401 + i)),
      ),
      500,
    );
    expect(p.entries).toHaveLength(500);
    expect(lineCount(p)).toBe(500);
    expect(texts(p)[0]).toBe('l201');
    expect(texts(p).at(-1)).toBe('l700');
  });
});
