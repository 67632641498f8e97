import { act } from 'react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { emptyState, type ClusterState, type MemberView } from 'pogo-core/observer-state';
import { useStore } from '../../store/index';
import { StartChildForm } from './StartChildForm';
import { mountPerTest } from '../../test-support';

const gateway = vi.hoisted(() => ({ sendCommand: vi.fn(), runCommand: vi.fn() }));
vi.mock('../../gateway/client', () => gateway);

const member = (name: string, workers: string[], role: MemberView['role'] = 'member'): MemberView => ({
  name,
  status: 'up',
  role,
  address: `${name}:1`,
  incarnation: 'abcdef0123456789',
  labels: {},
  workers,
  ready: true,
  draining: false,
  reachable: true,
  silent: false,
});

function state(): ClusterState {
  return {
    ...emptyState(),
    cluster: 'test',
    observer: 'obs',
    readOnly: false,
    access: 'operator',
    members: { a: member('a', ['ticker', 'counter']), b: member('b', ['ticker']), obs: member('obs', ['secret'], 'observer') },
  };
}

/** The control a <label> with exactly this text names (like getByLabel). */
function byLabel(root: ParentNode, text: string): HTMLInputElement & HTMLSelectElement & HTMLTextAreaElement {
  const label = [...root.querySelectorAll('label')].find((l) => l.textContent?.trim() === text);
  if (!label) throw new Error(`no label ${text}`);
  return document.getElementById(label.htmlFor) as HTMLInputElement & HTMLSelectElement & HTMLTextAreaElement;
}

function setValue(el: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, value: string): void {
  const proto =
    el instanceof HTMLSelectElement
      ? HTMLSelectElement.prototype
      : el instanceof HTMLTextAreaElement
        ? HTMLTextAreaElement.prototype
        : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(el, value);
  el.dispatchEvent(new Event('input', { bubbles: true }));
  el.dispatchEvent(new Event('change', { bubbles: true }));
}

function buttonNamed(root: ParentNode, name: string): HTMLButtonElement {
  const b = [...root.querySelectorAll('button')].find((x) => x.textContent?.trim() === name);
  if (!b) throw new Error(`no button ${name}`);
  return b;
}

describe('<StartChildForm/>', () => {
  const view = mountPerTest();
  const dialog = () => view.container.querySelector<HTMLElement>('[role="dialog"]')!;

  beforeEach(() => {
    gateway.sendCommand.mockReset().mockResolvedValue({ ok: true, result: { id: 'x', node: 'a', pid: 'a/x/1' } });
    useStore.getState().applySnapshot(state());
    useStore.getState().setStarting(true);
    view.render(<StartChildForm />);
  });

  it('is a labelled modal offering the worker types of member nodes', () => {
    const d = dialog();
    expect(d.getAttribute('aria-modal')).toBe('true');
    expect(document.getElementById(d.getAttribute('aria-labelledby')!)?.textContent).toBe('Start a child');
    expect([...byLabel(d, 'Worker').options].map((o) => o.value)).toEqual(['counter', 'ticker']);
    expect([...byLabel(d, 'Restart').options].map((o) => o.value)).toEqual(['permanent', 'transient', 'temporary']);
    expect([...byLabel(d, 'Handoff').options].map((o) => o.value)).toEqual(['stop-first', 'start-first']);
  });

  it('builds a worker spec from the form, confirms it, starts it and selects the new child', async () => {
    act(() => setValue(byLabel(dialog(), 'Child id'), 'billing-sync'));
    act(() => setValue(byLabel(dialog(), 'Worker'), 'ticker'));
    act(() => setValue(byLabel(dialog(), 'Arguments'), '{ "intervalMs": 250 }'));
    act(() => setValue(byLabel(dialog(), 'Restart'), 'transient'));
    act(() => setValue(byLabel(dialog(), 'Handoff'), 'start-first'));
    act(() => setValue(byLabel(dialog(), 'Node labels'), 'region=eu'));
    act(() => buttonNamed(dialog(), 'Start').click());
    const spec = {
      id: 'billing-sync',
      start: { worker: 'ticker', args: { intervalMs: 250 } },
      restart: 'transient',
      handoff: 'start-first',
      labels: { region: 'eu' },
    };
    expect(gateway.sendCommand).not.toHaveBeenCalled();
    expect(dialog().querySelector('h2')?.textContent).toBe('Start billing-sync?');
    expect(JSON.parse(dialog().querySelector('pre')!.textContent)).toEqual(spec);
    await act(async () => buttonNamed(dialog(), 'Start').click());
    expect(gateway.sendCommand).toHaveBeenCalledWith('start', { spec });
    expect(useStore.getState()).toMatchObject({ starting: false, selection: { kind: 'child', id: 'billing-sync' } });
  });

  it('builds a command spec with one argument per line', async () => {
    act(() => setValue(byLabel(dialog(), 'Child id'), 'job'));
    act(() => setValue(byLabel(dialog(), 'Kind'), 'command'));
    act(() => setValue(byLabel(dialog(), 'Command'), 'node'));
    act(() => setValue(byLabel(dialog(), 'Arguments'), 'server.js\n--port\n\n8080\n'));
    act(() => setValue(byLabel(dialog(), 'Environment'), 'NODE_ENV=production'));
    act(() => buttonNamed(dialog(), 'Start').click());
    await act(async () => buttonNamed(dialog(), 'Start').click());
    expect(gateway.sendCommand).toHaveBeenCalledWith('start', {
      spec: {
        id: 'job',
        start: { command: 'node', args: ['server.js', '--port', '8080'], env: { NODE_ENV: 'production' } },
        restart: 'permanent',
        handoff: 'stop-first',
      },
    });
  });

  it('says what is missing instead of confirming', () => {
    act(() => buttonNamed(dialog(), 'Start').click());
    expect(dialog().querySelector('[role="alert"]')?.textContent).toContain('Child id');
    act(() => setValue(byLabel(dialog(), 'Child id'), 'x'));
    act(() => setValue(byLabel(dialog(), 'Arguments'), '{ not json'));
    act(() => buttonNamed(dialog(), 'Start').click());
    expect(dialog().querySelector('[role="alert"]')?.textContent).toContain('Arguments: not valid JSON');
    expect(dialog().querySelector('pre')).toBeNull();
  });

  it('carries the spec to the JSON tab, validates the JSON and sends it as typed', async () => {
    act(() => setValue(byLabel(dialog(), 'Child id'), 'from-form'));
    act(() => buttonNamed(dialog(), 'JSON').click());
    const textarea = byLabel(dialog(), 'Spec JSON');
    expect(JSON.parse(textarea.value)).toEqual({ id: 'from-form', start: { worker: 'counter' }, restart: 'permanent', handoff: 'stop-first' });

    act(() => setValue(textarea, '{ "id": "from-json", '));
    act(() => buttonNamed(dialog(), 'Start').click());
    expect(dialog().querySelector('[role="alert"]')?.textContent).toContain('Spec JSON: not valid JSON');

    const spec = { id: 'from-json', start: { worker: 'ticker', args: [1, 2] }, shutdown: 'brutal_kill', maxRestarts: 10 };
    act(() => setValue(byLabel(dialog(), 'Spec JSON'), JSON.stringify(spec)));
    act(() => buttonNamed(dialog(), 'Start').click());
    expect(dialog().querySelector('h2')?.textContent).toBe('Start from-json?');
    act(() => buttonNamed(dialog(), 'Back').click());

    // Back in the form: the form fields, and the fields it does not edit are kept.
    act(() => buttonNamed(dialog(), 'Form').click());
    expect(byLabel(dialog(), 'Child id').value).toBe('from-json');
    expect(byLabel(dialog(), 'Worker').value).toBe('ticker');
    expect(dialog().textContent).toContain('Also sent, from the JSON tab: shutdown, maxRestarts');
    act(() => buttonNamed(dialog(), 'Start').click());
    await act(async () => buttonNamed(dialog(), 'Start').click());
    expect(gateway.sendCommand).toHaveBeenCalledWith('start', {
      spec: {
        shutdown: 'brutal_kill',
        maxRestarts: 10,
        id: 'from-json',
        start: { worker: 'ticker', args: [1, 2] },
        restart: 'permanent',
        handoff: 'stop-first',
      },
    });
  });

  it('shows a typed refusal inside the dialog and keeps the form', async () => {
    gateway.sendCommand.mockResolvedValue({ ok: false, error: { code: 'spec-conflict', message: 'a child billing-sync with a different spec exists' } });
    act(() => setValue(byLabel(dialog(), 'Child id'), 'billing-sync'));
    act(() => buttonNamed(dialog(), 'Start').click());
    await act(async () => buttonNamed(dialog(), 'Start').click());
    const alert = dialog().querySelector('[role="alert"]');
    expect(alert?.textContent).toBe('spec-conflict: a child billing-sync with a different spec exists');
    expect(byLabel(dialog(), 'Child id').value).toBe('billing-sync');
    expect(useStore.getState()).toMatchObject({ starting: true, selection: null });
  });

  it('a spec over the size limit: the confirmation says so and shows only its beginning; sent, the too-large refusal names the limit in the form', async () => {
    const blob = 'x'.repeat(1_200_000);
    act(() => buttonNamed(dialog(), 'JSON').click());
    act(() => setValue(byLabel(dialog(), 'Spec JSON'), JSON.stringify({ id: 'big-1', start: { worker: 'ticker', args: { blob } } })));
    act(() => buttonNamed(dialog(), 'Start').click());
    expect(dialog().querySelector('[data-testid="spec-too-large"]')?.textContent).toBe(
      'too large: this spec is 1.1 MiB as JSON, over the 1 MiB a command may carry. The cluster will refuse it (and record the refusal in its audit log).',
    );
    const preview = dialog().querySelector('pre')!.textContent;
    expect(preview.length).toBeLessThan(21_000);
    expect(preview).toMatch(/… \(1\.1 MiB in all\)$/);
    gateway.sendCommand.mockResolvedValue({
      ok: false,
      error: { code: 'too-large', message: 'the spec is 1.1 MiB as JSON (1,200,095 bytes); a command may carry at most 1 MiB (1,048,576 bytes)' },
    });
    await act(async () => buttonNamed(dialog(), 'Start').click());
    expect(gateway.sendCommand).toHaveBeenCalledWith('start', { spec: { id: 'big-1', start: { worker: 'ticker', args: { blob } } } });
    const alert = dialog().querySelector('.start-refusal[role="alert"]')!;
    expect(alert.getAttribute('data-code')).toBe('too-large');
    expect(alert.textContent).toContain('a command may carry at most 1 MiB (1,048,576 bytes)');
    expect(useStore.getState().starting).toBe(true);
  });

  it("checks the spec with core's schema before confirming, and marks the field it is about", () => {
    act(() => setValue(byLabel(dialog(), 'Child id'), 'x'.repeat(300)));
    act(() => buttonNamed(dialog(), 'Start').click());
    expect(dialog().querySelector('[role="alert"]')?.textContent).toBe('Child id: must be at most 256 characters');
    expect(byLabel(dialog(), 'Child id').getAttribute('aria-invalid')).toBe('true');
    expect(byLabel(dialog(), 'Worker').getAttribute('aria-invalid')).toBeNull();
    expect(dialog().querySelector('pre')).toBeNull();
    act(() => setValue(byLabel(dialog(), 'Child id'), 'ok'));
    expect(byLabel(dialog(), 'Child id').getAttribute('aria-invalid')).toBeNull();

    act(() => buttonNamed(dialog(), 'JSON').click());
    act(() => setValue(byLabel(dialog(), 'Spec JSON'), JSON.stringify({ id: 'j', start: { worker: 'ticker' }, shutdown: -5 })));
    act(() => buttonNamed(dialog(), 'Start').click());
    expect(dialog().querySelector('[role="alert"]')?.textContent).toBe('Spec JSON: "shutdown": must be more than 0 ms');
    expect(gateway.sendCommand).not.toHaveBeenCalled();
  });

  it('opens with focus on the child id, closes on Escape (pressed where focus is) and on Cancel', () => {
    expect(document.activeElement).toBe(byLabel(dialog(), 'Child id'));
    act(() => {
      document.activeElement!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    });
    expect(useStore.getState().starting).toBe(false);
    act(() => useStore.getState().setStarting(true));
    act(() => buttonNamed(dialog(), 'Cancel').click());
    expect(useStore.getState().starting).toBe(false);
  });
});
