import { afterEach, describe, expect, it } from 'vitest';
import { resetConnectionStore, selectConnectionStatus, useConnectionStore } from './connection';

describe('connection store', () => {
  afterEach(() => resetConnectionStore());

  it('starts disconnected', () => {
    expect(selectConnectionStatus(useConnectionStore.getState())).toBe('disconnected');
  });

  it('setStatus moves through the connection lifecycle and notifies subscribers', () => {
    const seen: string[] = [];
    const unsubscribe = useConnectionStore.subscribe((state) => seen.push(state.status));
    const { setStatus } = useConnectionStore.getState();

    setStatus('connecting');
    setStatus('connected');
    setStatus('reconnecting');
    setStatus('lost');
    unsubscribe();

    expect(seen).toEqual(['connecting', 'connected', 'reconnecting', 'lost']);
    expect(useConnectionStore.getState().status).toBe('lost');
  });

  it('resetConnectionStore returns to disconnected', () => {
    useConnectionStore.getState().setStatus('connected');
    resetConnectionStore();
    expect(useConnectionStore.getState().status).toBe('disconnected');
  });
});
