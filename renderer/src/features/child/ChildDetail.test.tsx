import { act } from 'react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChildView, ClusterState, MemberView } from 'pogo-core/observer-state';
import type { OutputEvent } from 'pogo-core/ui-protocol';
import { useStore } from '../../store/index';
import { ChildDetail } from './ChildDetail';
import { mountPerTest, typeInto } from '../../test-support';
import { burstOf } from '../../test-cluster';

const gateway = vi.hoisted(() => ({ sendCommand: vi.fn(), runCommand: vi.fn(), watchOutput: vi.fn() }));
vi.mock('../../gateway/client', () => gateway);

const member = (name: string, extra: Partial<MemberView> = {}): MemberView => ({
  name,
  status: 'up',
  role: 'member',
  address: `127.0.0.1:${name.length}`,
  incarnation: 'abcdef0123456789',
  labels: {},
  workers: ['ticker'],
  ready: true,
  draining: false,
  reachable: true,
  silent: false,
  ...extra,
});
const child = (id: string, extra: Partial<ChildView> = {}): ChildView => ({
  id,
  status: 'running',
  node: 'a',
  pid: `a/abcdef0123456789/${id}`,
  owner: 'a',
  pin: null,
  instances: [{ node: 'a', pid: `a/abcdef0123456789/${id}` }],
  restarts: 0,
  worker: 'ticker',
  command: null,
  restart: 'permanent',
  handoff: 'stop-first',
  lastError: null,
  failures: [],
  unverified: false,
  ...extra,
});

function state(): ClusterState {
  return {
    observer: 'obs',
    cluster: 'test',
    paused: false,
    readOnly: false,
    access: 'operator',
    members: { a: member('a'), b: member('b'), c: member('c', { draining: true }), obs: member('obs', { role: 'observer', workers: [] }) },
    children: {
      'ticker-1': child('ticker-1', { restarts: 2, lastError: 'boom', failures: [{ node: 'c', failures: 3, lastError: 'no such worker' }] }),
      'job-1': child('job-1', { worker: null, command: 'node', node: 'b', owner: 'b', pin: 'b' }),
    },
    groups: {},
    // Per-child events come as bursts (the gateway's activity), never among the notable events.
    events: [{ seq: 1, at: 500, type: 'node-up', node: 'a', role: 'member' }],
    activity: [
      burstOf(2, [{ at: 1_000, type: 'placed', id: 'ticker-1', node: 'a', by: 'hash' }]),
      burstOf(3, [
        { at: 2_000, type: 'started', id: 'ticker-1', node: 'a', pid: 'a/x/1' },
        { at: 2_500, type: 'started', id: 'job-1', node: 'b', pid: 'b/x/1' },
      ]),
      burstOf(4, [{ at: 3_000, type: 'failed', id: 'ticker-1', node: 'a', failures: 1, error: 'boom' }]),
      burstOf(5, [{ at: 4_000, type: 'started', id: 'job-1', node: 'b', pid: 'b/x/2' }]),
    ],
    samples: [],
    resources: {},
    sessions: 0,
    noMemberSince: null,
  };
}

const explanation = {
  id: 'ticker-1',
  spec: {},
  owner: 'a',
  by: 'hash',
  pin: undefined,
  paused: false,
  instances: [{ node: 'a', pid: 'a/x/1' }],
  candidates: [
    { node: 'a', excludedBy: [], score: 3.25 },
    { node: 'b', excludedBy: [], score: 1.5 },
    { node: 'c', excludedBy: ['draining'], score: undefined },
  ],
};

function reply(op: string, args?: { id?: string }) {
  if (op === 'explain') return Promise.resolve({ ok: true, result: { ...explanation, id: args?.id } });
  return Promise.resolve({ ok: true, result: null });
}

/** The live output watches the panel holds: where each one's events go, and whether it ended. */
const watches: Array<{ id: string; push: (e: OutputEvent) => void; ended: boolean }> = [];

function buttonNamed(root: ParentNode, name: string): HTMLButtonElement | undefined {
  return [...root.querySelectorAll('button')].find((b) => b.textContent?.trim() === name || b.getAttribute('aria-label') === name);
}

function selectValue(el: HTMLSelectElement, value: string): void {
  el.value = value;
  el.dispatchEvent(new Event('change', { bubbles: true }));
}

describe('<ChildDetail/>', () => {
  const view = mountPerTest();

  beforeEach(() => {
    gateway.sendCommand.mockReset().mockImplementation(reply);
    gateway.runCommand.mockReset().mockResolvedValue({ ok: true });
    watches.length = 0;
    gateway.watchOutput.mockReset().mockImplementation((id: string, push: (e: OutputEvent) => void) => {
      const w = { id, push, ended: false };
      watches.push(w);
      return () => (w.ended = true);
    });
    useStore.getState().applySnapshot(state());
    useStore.getState().select({ kind: 'child', id: 'ticker-1' });
  });

  async function open(id: string): Promise<HTMLElement> {
    await act(async () => view.root.render(<ChildDetail id={id} />));
    return view.container.querySelector<HTMLElement>(`aside[aria-label="Child ${id}"]`)!;
  }

  it('shows the child, its failures, why it is where it is, and its history newest first', async () => {
    const aside = await open('ticker-1');
    expect(aside).not.toBeNull();
    const fields = Object.fromEntries([...aside.querySelectorAll('.fields dt')].map((dt) => [dt.textContent, dt.nextElementSibling?.textContent]));
    expect(fields).toMatchObject({
      Status: 'running',
      Node: 'a',
      Pid: 'a/abcdef0123456789/ticker-1',
      Restarts: '2',
      Instances: '1',
      Worker: 'ticker',
      Restart: 'permanent',
      Handoff: 'stop-first',
      'Last error': 'boom',
    });
    expect(fields['Pin']).toContain('none');
    expect(aside.querySelector('[aria-label="Failures"]')?.textContent).toContain('no such worker');

    expect(gateway.sendCommand).toHaveBeenCalledWith('explain', { id: 'ticker-1' });
    const rows = [...aside.querySelectorAll('.explain-table tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent));
    expect(rows).toEqual([
      ['a', '3.250', 'owner: highest score'],
      ['b', '1.500', 'eligible, lower score'],
      ['c', '—', 'excluded: draining'],
    ]);

    // Its history: the bursts that hold it, newest first; a burst of one is its event, a larger one its burst line.
    const history = [...aside.querySelectorAll('[aria-label="History"] li')].map((li) => [li.getAttribute('data-type'), li.getAttribute('data-count')]);
    expect(history).toEqual([
      ['failed', '1'],
      ['started', '2'],
      ['placed', '1'],
    ]);
    expect([...aside.querySelectorAll('[aria-label="History"] .history-text')].map((t) => t.textContent)).toEqual([
      'ticker-1 failed on a (1 failure in a row): boom',
      '2 started on 2 nodes',
      'placed ticker-1 on a (by placement)',
    ]);

    expect(aside.querySelector('[aria-label="Output"]')?.textContent).toContain('no captured output');
    expect(gateway.sendCommand).not.toHaveBeenCalledWith('logs', expect.anything());
  });

  it("a move with many others shows the burst line; a child past the burst's first 500 ids is not found in it", async () => {
    const moves = Array.from({ length: 983 }, (_, i) => ({
      at: 5_000 + i,
      type: 'moved' as const,
      id: i === 3 ? 'ticker-1' : `c-${i}`,
      from: 's4',
      to: ['a', 'b', 'c', 'd'][i % 4]!,
      reason: 'failure' as const,
    }));
    moves[700] = { ...moves[700]!, id: 'job-1' };
    const s = state();
    useStore.getState().applySnapshot({ ...s, activity: [...s.activity, burstOf(6, moves)] });
    let aside = await open('ticker-1');
    const first = aside.querySelector('[aria-label="History"] li')!;
    expect(first.getAttribute('data-count')).toBe('983');
    expect(first.querySelector('.history-text')?.textContent).toBe('983 moved from s4 to 4 nodes (node down or failing)');
    aside = await open('job-1');
    expect([...aside.querySelectorAll('[aria-label="History"] li')].map((li) => li.getAttribute('data-count'))).toEqual(['1', '2']);
  });

  it('paused, a child held where it runs says so, and where it goes on resume (not "owner: highest score" on the lower score)', async () => {
    gateway.sendCommand.mockImplementation((op: string, args?: { id?: string }) =>
      op === 'explain'
        ? Promise.resolve({
            ok: true,
            result: { ...explanation, id: args?.id, owner: 'b', paused: true, resumeTo: 'a', instances: [{ node: 'b', pid: 'b/x/1' }] },
          })
        : Promise.resolve({ ok: true, result: null }),
    );
    const aside = await open('ticker-1');
    const rows = [...aside.querySelectorAll('.explain-table tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent));
    expect(rows).toEqual([
      ['a', '3.250', 'on resume: highest score'],
      ['b', '1.500', 'runs here: held while rebalancing is paused'],
      ['c', '—', 'excluded: draining'],
    ]);
    expect(aside.querySelector('.explain-summary')?.textContent).toContain('Rebalancing is paused, so it stays on b. On resume it goes to a');
  });

  it('explains again on Refresh', async () => {
    const aside = await open('ticker-1');
    gateway.sendCommand.mockClear();
    await act(async () => buttonNamed(aside.querySelector('[aria-label="Placement"]')!, 'Refresh')!.click());
    expect(gateway.sendCommand).toHaveBeenCalledWith('explain', { id: 'ticker-1' });
  });

  it('moves the child with the select after confirming, and shows it moving', async () => {
    const aside = await open('ticker-1');
    const select = aside.querySelector<HTMLSelectElement>('select')!;
    // Member nodes other than its own, no observer; c drains, so it is listed, not offered, with why (as the board refuses the drop).
    expect([...select.options].map((o) => [o.value, o.disabled])).toEqual([
      ['b', false],
      ['c', true],
    ]);
    expect(select.options[1]!.textContent).toBe('c (cannot: is draining: it takes no children)');
    act(() => selectValue(select, 'b'));
    act(() => buttonNamed(aside, 'Move')!.click());
    const dialog = view.container.querySelector('[role="dialog"]')!;
    expect(dialog.textContent).toContain('Move ticker-1?');
    expect(gateway.sendCommand).not.toHaveBeenCalledWith('move', expect.anything());
    await act(async () => buttonNamed(dialog, 'Move')!.click());
    expect(gateway.sendCommand).toHaveBeenCalledWith('move', { id: 'ticker-1', node: 'b' });
    expect(useStore.getState().moving).toEqual({ 'ticker-1': 'b' });
    expect(view.container.querySelector('[role="dialog"]')).toBeNull();
  });

  it('a refused move is dropped and shown in the error banner', async () => {
    gateway.sendCommand.mockImplementation((op: string, args?: { id?: string }) =>
      op === 'move' ? Promise.resolve({ ok: false, error: { code: 'ineligible-node', message: 'c cannot run ticker-1' } }) : reply(op, args),
    );
    const aside = await open('ticker-1');
    act(() => buttonNamed(aside, 'Move')!.click());
    await act(async () => buttonNamed(view.container.querySelector('[role="dialog"]')!, 'Move')!.click());
    expect(gateway.sendCommand).toHaveBeenCalledWith('move', { id: 'ticker-1', node: 'b' });
    expect(useStore.getState()).toMatchObject({ moving: {}, lastError: 'ineligible-node: c cannot run ticker-1' });
  });

  it('stops after a danger confirmation, and unpins a pinned child', async () => {
    let aside = await open('ticker-1');
    expect(buttonNamed(aside, 'Unpin')).toBeUndefined();
    act(() => buttonNamed(aside, 'Stop')!.click());
    const dialog = view.container.querySelector('[role="dialog"]')!;
    expect(dialog.textContent).toContain('Stop ticker-1?');
    expect(buttonNamed(dialog, 'Stop')!.className).toContain('danger');
    await act(async () => buttonNamed(dialog, 'Stop')!.click());
    expect(gateway.runCommand).toHaveBeenCalledWith('stop', { id: 'ticker-1' });

    aside = await open('job-1');
    act(() => buttonNamed(aside, 'Unpin')!.click());
    await act(async () => buttonNamed(view.container.querySelector('[role="dialog"]')!, 'Unpin')!.click());
    expect(gateway.runCommand).toHaveBeenCalledWith('unpin', { id: 'job-1' });
  });

  it('the stop dialog says where the stop takes effect now and where only once it reaches the node (unreachable, cut off)', async () => {
    // The outsider's tour: the observer reaching only the cut-off n3 said "is stopped on n1" of a child n1 ran on till the heal.
    const s = state();
    s.members.b = member('b', { status: 'unreachable', reachable: false });
    s.members.c = member('c', { unheardBy: ['a', 'b'] });
    s.children['dup-1'] = child('dup-1', {
      node: 'a',
      instances: [
        { node: 'a', pid: 'a/x/d1' },
        { node: 'b', pid: 'b/x/d1' },
        { node: 'c', pid: 'c/x/d1' },
      ],
    });
    useStore.getState().applySnapshot(s);
    let aside = await open('dup-1');
    act(() => buttonNamed(aside, 'Stop')!.click());
    let dialog = view.container.querySelector('[role="dialog"]')!;
    expect(dialog.textContent).toContain('dup-1 is stopped on a and its spec removed from the cluster');
    expect([...dialog.querySelectorAll('[data-testid="stop-late"]')].map((e) => e.textContent)).toEqual([
      ' Its instance on b stops only when the stop reaches b: this observer has no link to b (down, or cut off from here).',
      ' Its instance on c stops only when the stop reaches c: c is cut off: a, b cannot hear it.',
    ]);
    act(() => buttonNamed(dialog, 'Cancel')!.click());

    // Nothing it runs on can be reached: no "is stopped on".
    s.children['far-1'] = child('far-1', { node: 'b', instances: [{ node: 'b', pid: 'b/x/f1' }] });
    useStore.getState().applySnapshot(s);
    aside = await open('far-1');
    act(() => buttonNamed(aside, 'Stop')!.click());
    dialog = view.container.querySelector('[role="dialog"]')!;
    expect(dialog.textContent).toContain('far-1 has its spec removed from the cluster');
    expect(dialog.querySelectorAll('[data-testid="stop-late"]')).toHaveLength(1);
  });

  it('restarts in place after confirming, and says which instance replaced which; a child running nowhere cannot be restarted', async () => {
    gateway.runCommand.mockImplementation(async (op: string) =>
      op === 'restart' ? { ok: true, result: { id: 'ticker-1', node: 'a', pid: 'a/abcdef0123456789/r2' } } : { ok: true },
    );
    const aside = await open('ticker-1');
    act(() => buttonNamed(aside, 'Restart')!.click());
    const dialog = view.container.querySelector('[role="dialog"]')!;
    expect(dialog.textContent).toContain('Restart ticker-1?');
    expect(dialog.textContent).toContain('Its instance on a is stopped');
    expect(gateway.runCommand).not.toHaveBeenCalled();
    await act(async () => buttonNamed(dialog, 'Restart')!.click());
    expect(gateway.runCommand).toHaveBeenCalledWith('restart', { id: 'ticker-1' });
    expect(aside.querySelector('[data-testid="restarted"]')?.textContent).toBe(
      'Restarted on a: new instance a/abcdef0123456789/r2 (was a/abcdef0123456789/ticker-1).',
    );

    useStore.getState().applySnapshot({
      ...state(),
      children: { ...state().children, 'ticker-1': child('ticker-1', { status: 'pending', node: null, pid: null, instances: [] }) },
    });
    const waiting = await open('ticker-1');
    expect(buttonNamed(waiting, 'Restart')!.disabled).toBe(true);
  });

  it('read-only sessions get no actions', async () => {
    useStore.getState().applySnapshot({ ...state(), readOnly: true, access: 'viewer' });
    const aside = await open('ticker-1');
    for (const name of ['Stop', 'Restart', 'Move', 'Unpin', 'Send']) expect(buttonNamed(aside, name)).toBeUndefined();
    expect(aside.querySelector('select')).toBeNull();
    expect(aside.querySelector('[aria-label="Send message"]')).toBeNull();
    expect(aside.querySelector('.explain-table')).not.toBeNull();
  });

  it('sends the child a message and shows its reply, who gave it, or the typed failure in words', async () => {
    const aside = await open('ticker-1');
    const section = aside.querySelector<HTMLElement>('[aria-label="Send message"]')!;
    const message = section.querySelector('textarea')!;
    const timeout = section.querySelector<HTMLInputElement>('input.timeout')!;
    const send = async () => act(async () => buttonNamed(section, 'Send')!.click());

    // Checked before anything is sent.
    act(() => typeInto(message, '{op: get}'));
    await send();
    expect(section.querySelector('[role="alert"]')?.textContent).toMatch(/^Message: not valid JSON/);
    expect(gateway.sendCommand).not.toHaveBeenCalledWith('call', expect.anything());

    gateway.sendCommand.mockImplementation((op: string, args?: { id?: string }) =>
      op === 'call' ? Promise.resolve({ ok: true, result: { reply: { key: 'a', count: 3 }, node: 'b', pid: 'b/x/7' } }) : reply(op, args),
    );
    act(() => typeInto(message, '{"op":"get","key":"a"}'));
    act(() => typeInto(timeout, '750'));
    await send();
    expect(gateway.sendCommand).toHaveBeenCalledWith('call', { id: 'ticker-1', message: { op: 'get', key: 'a' }, timeoutMs: 750 });
    const shown = section.querySelector('[data-testid="call-reply"]')!;
    expect(shown.textContent).toMatch(/^Reply from b \(instance b\/x\/7\) in [\d.]+ ms:/);
    expect(JSON.parse(shown.querySelector('pre')!.textContent)).toEqual({ key: 'a', count: 3 });

    gateway.sendCommand.mockImplementation((op: string, args?: { id?: string }) =>
      op === 'call' ? Promise.resolve({ ok: false, error: { code: 'handler-error', message: 'kv: no such op' } }) : reply(op, args),
    );
    act(() => typeInto(timeout, ''));
    await send();
    expect(gateway.sendCommand).toHaveBeenLastCalledWith('call', { id: 'ticker-1', message: { op: 'get', key: 'a' } });
    expect(section.querySelector('[data-testid="call-reply"]')).toBeNull();
    expect(section.querySelector('[data-testid="call-error"]')?.textContent).toBe('handler-error: the child’s handler threw. kv: no such op');
  });

  it('tails the output of an OS-process child live: new lines appear on their own, stderr marked in text, a move noted', async () => {
    const aside = await open('job-1');
    expect(watches.map((w) => w.id)).toEqual(['job-1']);
    expect(gateway.sendCommand).not.toHaveBeenCalledWith('logs', expect.anything());
    const output = aside.querySelector('[aria-label="Output"]')!;
    expect(output.textContent).toContain('Connecting to the output');
    const lines = (...l: Array<[number, 'stdout' | 'stderr', string]>) => l.map(([seq, stream, text]) => ({ seq, at: seq, stream, text }));
    act(() =>
      watches[0]!.push({
        id: 'job-1',
        kind: 'lines',
        node: 'b',
        pid: 'b/abcdef0123456789/c3',
        change: 'watch',
        lines: lines([1, 'stdout', 'hello from job'], [2, 'stderr', 'a warning']),
        skipped: 0,
      }),
    );
    const rows = () => [...output.querySelectorAll('[role="log"] > div')].map((l) => [l.textContent, l.className]);
    expect(rows()).toEqual([
      ['hello from job', 'output-line'],
      ['stderra warning', 'output-line stderr'],
    ]);
    // The marker is text, not colour alone.
    expect(output.querySelector('.output-line.stderr .stream-mark')?.textContent).toBe('stderr');
    expect(output.querySelector('[data-stream="stdout"] .stream-mark')).toBeNull();
    expect(output.textContent).toContain('From b, process c3');
    expect(output.textContent).toContain('live');

    // Nothing clicked: a later line appears, and the child moving is noted.
    act(() =>
      watches[0]!.push({
        id: 'job-1',
        kind: 'lines',
        node: 'b',
        pid: 'b/abcdef0123456789/c3',
        change: 'none',
        lines: lines([3, 'stdout', 'later']),
        skipped: 0,
      }),
    );
    act(() =>
      watches[0]!.push({
        id: 'job-1',
        kind: 'lines',
        node: 'c',
        pid: 'c/abcdef0123456789/c8',
        change: 'moved',
        lines: lines([1, 'stdout', 'on c']),
        skipped: 0,
      }),
    );
    expect(rows().slice(2)).toEqual([
      ['later', 'output-line'],
      ['now on c: a new process (c8); its output starts here', 'output-note'],
      ['on c', 'output-line'],
    ]);
    expect(buttonNamed(output, 'Refresh')).toBeUndefined();

    // Closing the panel ends the watch.
    view.remount();
    expect(watches[0]!.ended).toBe(true);
  });

  it('follows the newest line while at the bottom; scrolled up, it stays and counts what came', async () => {
    const aside = await open('job-1');
    const push = (seq: number) =>
      act(() =>
        watches[0]!.push({
          id: 'job-1',
          kind: 'lines',
          node: 'b',
          pid: 'b/x/c3',
          change: seq === 1 ? 'watch' : 'none',
          lines: [{ seq, at: seq, stream: 'stdout', text: `line ${seq}` }],
          skipped: 0,
        }),
      );
    push(1);
    const log = aside.querySelector<HTMLElement>('[role="log"]')!;
    // happy-dom lays nothing out: the box is 100 px high and its content 1,000.
    Object.defineProperty(log, 'clientHeight', { configurable: true, value: 100 });
    Object.defineProperty(log, 'scrollHeight', { configurable: true, value: 1_000 });
    push(2);
    expect(log.scrollTop).toBe(1_000);
    // The user scrolls up to read.
    act(() => {
      log.scrollTop = 300;
      log.dispatchEvent(new Event('scroll'));
    });
    push(3);
    push(4);
    expect(log.scrollTop).toBe(300);
    const jump = buttonNamed(aside, '↓ 2 new lines')!;
    expect(jump).toBeDefined();
    act(() => jump.click());
    expect(log.scrollTop).toBe(1_000);
    expect(buttonNamed(aside, '↓ 2 new lines')).toBeUndefined();
  });

  it('says why there is no output: refused, not running, or not a process at all', async () => {
    let aside = await open('job-1');
    act(() => watches[0]!.push({ id: 'job-1', kind: 'status', state: 'refused', message: 'read-only: live output needs a viewer or operator credential' }));
    expect(aside.querySelector('[aria-label="Output"] [role="status"]')?.textContent).toBe(
      'No live output: read-only: live output needs a viewer or operator credential',
    );
    act(() =>
      watches[0]!.push({
        id: 'job-1',
        kind: 'status',
        state: 'not-running',
        message: 'job-1 runs on no node right now; its output follows when it runs again',
      }),
    );
    expect(aside.querySelector('[aria-label="Output"] [role="status"]')?.textContent).toBe(
      'Not running: job-1 runs on no node right now; its output follows when it runs again',
    );

    view.remount();
    aside = await open('ticker-1');
    expect(watches).toHaveLength(1); // a worker has no output to watch
    expect(aside.querySelector('[aria-label="Output"]')?.textContent).toContain('A worker runs inside its node');
  });

  it('a child stopped for good whose copy still runs on a cut-off member says so, and offers no command', async () => {
    await open('ticker-1');
    const copy = { node: 'c', pid: 'c/abcdef0123456789/ticker-1' };
    const children = { ...state().children, 'ticker-1': child('ticker-1', { node: 'c', pid: copy.pid, owner: null, instances: [copy], terminated: true }) };
    await act(async () => useStore.getState().applySnapshot({ ...state(), children }));
    const aside = view.container.querySelector('aside')!;
    expect(aside.querySelector('[data-testid="terminated-note"]')?.textContent).toBe(
      'ticker-1 was stopped for good, but an instance still runs on c: the stop reaches a member cut off from where it was given ' +
        'only when they hear each other again, and it stops its instance then.',
    );
    expect(aside.textContent).not.toContain('no longer in the cluster');
    expect(buttonNamed(aside, 'Stop')).toBeUndefined();
  });

  it('says so when the child is gone, and closes with ×', async () => {
    await open('ticker-1');
    const { ['ticker-1']: _gone, ...rest } = state().children;
    await act(async () => useStore.getState().applySnapshot({ ...state(), children: rest }));
    const aside = view.container.querySelector('aside')!;
    expect(aside.textContent).toContain('no longer in the cluster');
    act(() => buttonNamed(aside, 'Close')!.click());
    expect(useStore.getState().selection).toBeNull();
  });
});
