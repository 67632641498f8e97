import { act } from 'react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { emptyState, type Access } from 'pogo-core/observer-state';
import { useStore } from '../../store/index';
import { Audit } from './Audit';
import { AUDIT_POLL_MS } from './audit-log';
import { mountPerTest, typeInto } from '../../test-support';

const gateway = vi.hoisted(() => ({ sendCommand: vi.fn(), runCommand: vi.fn() }));
vi.mock('../../gateway/client', () => gateway);

// Oldest first, as the gateway merges them.
const entries = [
  {
    at: Date.UTC(2025, 0, 1, 10, 0, 0),
    node: 'a',
    from: 'obs',
    by: 'alice',
    op: 'start',
    args: [{ id: 'job-1', start: { worker: 'ticker' } }],
    ok: true,
    result: 'ok',
  },
  {
    at: Date.UTC(2025, 0, 1, 10, 5, 0),
    node: 'b',
    from: 'obs',
    by: 'bob',
    op: 'move',
    args: ['job-1', 'c'],
    ok: false,
    result: 'ineligible-node: c cannot run job-1',
  },
  { at: Date.UTC(2025, 0, 1, 10, 9, 0), node: 'a', from: 'obs', by: 'alice', op: 'drain', args: ['b'], ok: true, result: 'ok' },
];

describe('<Audit/>', () => {
  const view = mountPerTest();

  beforeEach(() => {
    gateway.sendCommand.mockReset().mockResolvedValue({ ok: true, result: { entries, unanswered: [] } });
  });

  async function open(access: Access = 'viewer'): Promise<HTMLElement> {
    act(() => useStore.getState().applySnapshot({ ...emptyState(), cluster: 'test', access, readOnly: access !== 'operator' }));
    await act(async () => view.root.render(<Audit />));
    return view.container.querySelector<HTMLElement>('section[aria-label="Audit log"]')!;
  }

  const rows = () => [...view.container.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].slice(1).map((td) => td.textContent));

  it('fetches the audit log and shows it newest first, refusals highlighted', async () => {
    const section = await open();
    expect(gateway.sendCommand).toHaveBeenCalledWith('audit');
    expect(rows()).toEqual([
      ['a', 'alice', 'drain', '["b"]', 'ok'],
      ['b', 'bob', 'move', '["job-1","c"]', 'ineligible-node: c cannot run job-1'],
      ['a', 'alice', 'start', '[{"id":"job-1","start":{"worker":"ticker"}}]', 'ok'],
    ]);
    expect([...section.querySelectorAll('tbody tr')].map((tr) => tr.className)).toEqual(['', 'failed', '']);
    expect(section.querySelector('[data-testid="audit-count"]')?.textContent).toBe('3 commands · 1 refused or failed');
  });

  it('filters by text, and fetches again on Refresh', async () => {
    const section = await open();
    const filter = section.querySelector<HTMLInputElement>('input[aria-label="Filter audit log"]')!;
    act(() => typeInto(filter, 'alice'));
    expect(rows().map((r) => r[2])).toEqual(['drain', 'start']);
    act(() => typeInto(filter, 'ineligible'));
    expect(rows().map((r) => r[2])).toEqual(['move']);
    act(() => typeInto(filter, 'nobody-did-this'));
    expect(section.textContent).toContain('No entry matches');

    gateway.sendCommand.mockResolvedValue({
      ok: true,
      result: { entries: [...entries, { ...entries[0]!, at: entries[2]!.at + 1_000, op: 'stop', args: ['job-1'], by: 'carol' }], unanswered: [] },
    });
    act(() => typeInto(filter, ''));
    const refresh = [...section.querySelectorAll('button')].find((b) => b.textContent === 'Refresh')!;
    await act(async () => refresh.click());
    expect(gateway.sendCommand).toHaveBeenCalledTimes(2);
    expect(rows()[0]?.[2]).toBe('stop');
  });

  it('new entries appear without pressing Refresh: it asks for what is newer than what it holds, and shows who acted and with which token', async () => {
    vi.useFakeTimers();
    try {
      const numbered = entries.map((e, i) => ({ ...e, incarnation: 'i1', seq: i + 1 }));
      gateway.sendCommand.mockResolvedValue({ ok: true, result: { entries: numbered, unanswered: [] } });
      const section = await open();
      expect(section.querySelector('[data-testid="audit-live"]')?.textContent).toBe('live');
      const fresh = {
        at: entries[2]!.at + 5_000,
        node: 'b',
        from: 'obs',
        by: 'carol',
        tokenName: 'ops-team',
        incarnation: 'i1',
        seq: 9,
        op: 'stop',
        args: ['job-1'],
        ok: true,
        result: 'ok',
      };
      gateway.sendCommand.mockResolvedValue({ ok: true, result: { entries: [fresh], unanswered: [] } });
      await act(async () => vi.advanceTimersByTimeAsync(AUDIT_POLL_MS));
      expect(gateway.sendCommand).toHaveBeenLastCalledWith('audit', { after: { a: { incarnation: 'i1', seq: 3 }, b: { incarnation: 'i1', seq: 2 } } });
      expect(rows()[0]).toEqual(['b', 'carolops-team', 'stop', '["job-1"]', 'ok']);
      expect(section.querySelector('[data-testid="audit-count"]')?.textContent).toBe('4 commands · 1 refused or failed');
      // Nothing new: nothing changes, and it asks again a poll later (one request at a time).
      gateway.sendCommand.mockResolvedValue({ ok: true, result: { entries: [], unanswered: [] } });
      const calls = gateway.sendCommand.mock.calls.length;
      await act(async () => vi.advanceTimersByTimeAsync(AUDIT_POLL_MS));
      await act(async () => vi.advanceTimersByTimeAsync(AUDIT_POLL_MS));
      expect(gateway.sendCommand.mock.calls.length).toBe(calls + 2);
      expect(rows()).toHaveLength(4);
      // A link down for a moment does not stop it; a refusal does, and says why.
      gateway.sendCommand.mockResolvedValue({ ok: false, error: { code: 'timeout', message: 'the gateway did not answer in time' } });
      await act(async () => vi.advanceTimersByTimeAsync(AUDIT_POLL_MS));
      expect(rows()).toHaveLength(4);
      gateway.sendCommand.mockResolvedValue({ ok: false, error: { code: 'unauthorized', message: 'the credential is not valid for this cluster' } });
      await act(async () => vi.advanceTimersByTimeAsync(AUDIT_POLL_MS));
      expect(section.textContent).toContain('unauthorized: the credential is not valid for this cluster');
      const stoppedAt = gateway.sendCommand.mock.calls.length;
      await act(async () => vi.advanceTimersByTimeAsync(5 * AUDIT_POLL_MS));
      expect(gateway.sendCommand.mock.calls.length).toBe(stoppedAt);
    } finally {
      vi.useRealTimers();
    }
  });

  it('without a credential, shows the refusal and says a viewer or operator token is needed', async () => {
    gateway.sendCommand.mockResolvedValue({ ok: false, error: { code: 'read-only', message: 'audit needs a viewer or operator credential' } });
    const section = await open('none');
    expect(section.querySelector('table')).toBeNull();
    expect(section.textContent).toContain('read-only: audit needs a viewer or operator credential');
    expect(section.textContent).toContain('needs a viewer or operator token');
  });
});
