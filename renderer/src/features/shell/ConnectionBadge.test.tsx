/** The header counts observer and `pogo ctl` sessions quietly, in the connection badge's tooltip; they are never timeline entries. */
import { act } from 'react';
import { describe, expect, it } from 'vitest';
import { useStore } from '../../store/index';
import { clusterOf, member } from '../../test-cluster';
import { mountPerTest } from '../../test-support';
import { ConnectionBadge, sessionsText } from './ConnectionBadge';

describe('<ConnectionBadge/>', () => {
  const view = mountPerTest();

  it("counts the gateway's observer and ctl sessions in its tooltip, and nowhere else", () => {
    view.render(<ConnectionBadge />);
    const badge = () => view.container.querySelector('[data-testid="connection-badge"]')!;
    expect(badge().getAttribute('title')).toBeNull();
    act(() => useStore.getState().applySnapshot(clusterOf([member('a')], [], { sessions: 7 })));
    act(() => useStore.getState().setStatus('connected'));
    expect(badge().textContent).toBe('connected');
    expect(badge().getAttribute('title')).toBe('connected · 7 observer or pogo ctl sessions have joined since the gateway started');
    expect(sessionsText(1)).toBe('1 observer or pogo ctl session has joined since the gateway started');
  });
});
