/**
 * Session handling of the gateway client, with socket.io-client replaced by
 * fake sockets the test drives (the gateway's side of each event): the
 * first connection is the session; a credential tried after a working
 * session opens a second socket and replaces the session only when the
 * gateway accepts it; refused, the working session goes on (its patches
 * still applied) and the reason is kept once; a session that is really
 * lost leaves its last state on screen, marked stale. A locked session
 * stays locked across reconnects; a refused unlock leaves it working; a
 * command the gateway could not receive is not sent.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { diffState } from 'pogo-core/observer-state';
import type { OutputEvent } from 'pogo-core/ui-protocol';
import { resetStore, useStore } from '../store/index';
import { selectStale } from '../store/connection';
import { child, clusterOf, member } from '../test-cluster';

type Handler = (...args: unknown[]) => void;

type Auth = Record<string, unknown>;

class FakeSocket {
  readonly handlers = new Map<string, Handler[]>();
  readonly managerHandlers = new Map<string, Handler[]>();
  /** What the client sent: event, payload, ack. */
  readonly sent: Array<{ event: string; payload: unknown; ack?: Handler }> = [];
  closed = false;
  get connected(): boolean {
    return !this.closed;
  }
  /** Socket.IO's `active`: false once the gateway's middleware turned a handshake down (it will not retry by itself). */
  active = true;
  /** How often the client asked this socket to connect again. */
  connects = 0;
  connect(): this {
    this.active = true;
    this.connects++;
    return this;
  }
  /** The gateway's middleware turns the handshake down: Socket.IO deactivates the socket, then says why. */
  turnDown(message: string): void {
    this.active = false;
    this.fire('connect_error', new Error(message));
  }
  timeout(): this {
    return this;
  }
  emit(event: string, payload: unknown, ack?: Handler): this {
    this.sent.push({ event, payload, ...(ack ? { ack } : {}) });
    return this;
  }
  readonly io = { on: (event: string, fn: Handler) => void this.managerHandlers.set(event, [...(this.managerHandlers.get(event) ?? []), fn]) };
  /** What the gateway answers to `command` (the ack), and the commands sent. */
  answer: (request: unknown) => unknown = () => ({ ok: true, result: null });
  readonly requests: unknown[] = [];
  constructor(private readonly authOption: Auth | ((cb: (auth: Auth) => void) => void)) {}
  /** The handshake `auth` as Socket.IO would send it on a (re)connect now. */
  get auth(): Auth {
    if (typeof this.authOption !== 'function') return this.authOption;
    let out: Auth = {};
    this.authOption((a) => (out = a));
    return out;
  }
  emitWithAck(_event: string, request: unknown): Promise<unknown> {
    this.requests.push(request);
    return Promise.resolve(this.answer(request));
  }
  on(event: string, fn: Handler): this {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), fn]);
    return this;
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fire('disconnect', 'io client disconnect');
  }
  /** The gateway sends `event`. */
  fire(event: string, ...args: unknown[]): void {
    for (const fn of this.handlers.get(event) ?? []) fn(...args);
  }
}

const sockets = vi.hoisted(() => [] as unknown[]);
vi.mock('socket.io-client', () => ({
  io: (_url: string, options: { auth: Record<string, unknown>; forceNew?: boolean }) => {
    if (!options.forceNew) throw new Error('every session needs its own connection (forceNew)');
    const s = new FakeSocket(options.auth);
    sockets.push(s);
    return s;
  },
}));

const { connectGateway, disconnectGateway, lockSession, renameSession, sendCommand, unlockSession, watchOutput } = await import('./client');

const nodes = [member('a'), member('b')];
const viewerState = clusterOf(nodes, [child('x')], { access: 'viewer', readOnly: true });
const url = 'http://127.0.0.1:1';
const socketAt = (i: number) => sockets[i] as FakeSocket;

afterEach(() => {
  disconnectGateway();
  sockets.length = 0;
  resetStore();
});

async function viewerSession(): Promise<FakeSocket> {
  const accepted = connectGateway({ url, token: 't', credential: 'viewer-token' });
  const s = socketAt(0);
  expect(useStore.getState().status).toBe('connecting');
  s.fire('snapshot', viewerState);
  expect(await accepted).toBe('accepted');
  expect(useStore.getState().status).toBe('connected');
  return s;
}

describe('gateway client sessions', () => {
  it('a wrong credential after a working viewer session: the session stays, live, and the reason is said once', async () => {
    const viewer = await viewerSession();
    const attempt = connectGateway({ url, token: 't', credential: 'wrong' });
    const trial = socketAt(1);
    expect(trial.auth).toEqual({ token: 't', credential: 'wrong' });
    expect(useStore.getState().unlock).toEqual({ pending: true, error: null });
    expect(viewer.closed).toBe(false);

    trial.fire('connect_error', new Error('unauthorized: the credential is not valid for this cluster'));
    expect(await attempt).toBe('refused');
    expect(trial.closed).toBe(true);
    expect(viewer.closed).toBe(false);
    expect(useStore.getState()).toMatchObject({
      status: 'connected',
      refusal: null,
      unlock: { pending: false, error: 'the credential is not valid for this cluster' },
    });
    expect(selectStale(useStore.getState())).toBe(false);

    // Still live: the viewer session's patches keep coming in.
    const next = clusterOf(nodes, [child('x'), child('y')], { access: 'viewer', readOnly: true });
    const ack = vi.fn();
    viewer.fire('patch', diffState(viewerState, next), ack);
    expect(ack).toHaveBeenCalledTimes(1);
    expect(Object.keys(useStore.getState().cluster!.children)).toEqual(['x', 'y']);
  });

  it('an accepted credential replaces the session: the new socket feeds the store, the old one is closed', async () => {
    const viewer = await viewerSession();
    const attempt = connectGateway({ url, token: 't', credential: 'operator-token' });
    const operator = socketAt(1);
    operator.fire('snapshot', { ...viewerState, access: 'operator', readOnly: false });
    expect(await attempt).toBe('accepted');
    expect(viewer.closed).toBe(true);
    expect(useStore.getState()).toMatchObject({ status: 'connected', unlock: { pending: false, error: null }, cluster: { access: 'operator' } });
    // The old socket's late frames are ignored.
    const ack = vi.fn();
    viewer.fire('patch', { scalars: { access: 'viewer' } }, ack);
    expect(ack).not.toHaveBeenCalled();
    expect(useStore.getState().cluster?.access).toBe('operator');
  });

  it('a gateway that cannot check the credential (no member reachable) is not a refusal of the session either', async () => {
    const viewer = await viewerSession();
    const attempt = connectGateway({ url, token: 't', credential: 'maybe' });
    socketAt(1).fire('connect_error', new Error('unreachable: no member is reachable to check the credential'));
    expect(await attempt).toBe('refused');
    expect(viewer.closed).toBe(false);
    expect(useStore.getState()).toMatchObject({ status: 'connected', unlock: { error: 'no member is reachable to check the credential' } });
  });

  it('a newer attempt abandons an unfinished one; its late answer is ignored', async () => {
    await viewerSession();
    const first = connectGateway({ url, token: 't', credential: 'one' });
    const second = connectGateway({ url, token: 't', credential: 'two' });
    expect(await first).toBe('abandoned');
    expect(socketAt(1).closed).toBe(true);
    socketAt(1).fire('snapshot', { ...viewerState, access: 'operator' });
    expect(useStore.getState().cluster?.access).toBe('viewer');
    socketAt(2).fire('snapshot', { ...viewerState, access: 'operator' });
    expect(await second).toBe('accepted');
    expect(useStore.getState().cluster?.access).toBe('operator');
  });

  it('the first session refused ends with the reason, without its code', async () => {
    const attempt = connectGateway({ url, token: 'wrong' });
    socketAt(0).fire('connect_error', new Error('unauthorized: wrong or missing gateway token'));
    expect(await attempt).toBe('refused');
    expect(useStore.getState()).toMatchObject({ status: 'lost', refusal: 'wrong or missing gateway token', cluster: null });
  });

  it('a link that drops keeps the last state on screen as stale, since the drop; reconnected, it is live again', async () => {
    let clock = 5_000;
    useStore.setState({ now: () => clock });
    const viewer = await viewerSession();
    clock = 9_000;
    viewer.fire('disconnect', 'transport close');
    expect(useStore.getState()).toMatchObject({ status: 'reconnecting', droppedAt: 9_000 });
    expect(selectStale(useStore.getState())).toBe(true);
    clock = 12_000;
    viewer.fire('connect_error', new Error('websocket error'));
    expect(useStore.getState().droppedAt).toBe(9_000);
    viewer.fire('snapshot', viewerState);
    expect(useStore.getState()).toMatchObject({ status: 'connected', droppedAt: null });
    expect(selectStale(useStore.getState())).toBe(false);
    // Retries exhausted: lost, still drawn stale.
    viewer.fire('disconnect', 'transport close');
    for (const fn of viewer.managerHandlers.get('reconnect_failed') ?? []) fn();
    expect(useStore.getState()).toMatchObject({ status: 'lost', refusal: 'the gateway stopped answering' });
    expect(selectStale(useStore.getState())).toBe(true);
    expect(useStore.getState().cluster?.children['x']).toBeDefined();
  });

  it('a reconnect the gateway turns down for now is asked again (Socket.IO does not), up to a bound; then lost, with the reason', async () => {
    const viewer = await viewerSession();
    viewer.fire('disconnect', 'transport close');
    vi.useFakeTimers();
    try {
      const reason = 'no member is reachable to check the credential';
      for (let i = 1; i <= 20; i++) {
        viewer.turnDown(`unreachable: ${reason}`);
        expect(useStore.getState().status).toBe('reconnecting');
        vi.runOnlyPendingTimers();
        expect(viewer.connects).toBe(i);
      }
      // A link that fails is Socket.IO's to retry: nothing asked here.
      viewer.fire('connect_error', new Error('websocket error'));
      vi.runOnlyPendingTimers();
      expect(viewer.connects).toBe(20);
      viewer.turnDown(`unreachable: ${reason}`);
      expect(useStore.getState()).toMatchObject({ status: 'lost', refusal: `the gateway could not accept the session: ${reason}` });
      expect(viewer.closed).toBe(true);
      expect(useStore.getState().cluster?.children['x']).toBeDefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('a session accepted again may be turned down again as often; a socket that is no longer the session is not asked again', async () => {
    const viewer = await viewerSession();
    vi.useFakeTimers();
    try {
      for (let i = 0; i < 15; i++) {
        viewer.turnDown('too many clients (at most 64)');
        vi.runOnlyPendingTimers();
      }
      viewer.fire('snapshot', viewerState);
      for (let i = 0; i < 15; i++) {
        viewer.turnDown('too many clients (at most 64)');
        vi.runOnlyPendingTimers();
      }
      expect(useStore.getState().status).toBe('reconnecting');
      expect(viewer.connects).toBe(30);
      viewer.turnDown('too many clients (at most 64)');
      disconnectGateway();
      vi.runOnlyPendingTimers();
      expect(viewer.connects).toBe(30);
      expect(useStore.getState().status).toBe('disconnected');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('live output watches', () => {
  // Watches belong to the panels, not to a session: each test ends its own.
  const stops: Array<() => void> = [];
  const watch = (id: string, onEvent: (e: OutputEvent) => void): (() => void) => {
    const stop = watchOutput(id, onEvent);
    stops.push(stop);
    return stop;
  };
  afterEach(() => {
    for (const stop of stops.splice(0)) stop();
  });
  const watchesOf = (s: FakeSocket) => s.sent.filter((x) => x.event === 'watchOutput' || x.event === 'unwatchOutput').map((x) => [x.event, x.payload]);
  const lines = (id: string, text: string) => ({
    id,
    kind: 'lines',
    node: 'a',
    pid: 'a/1/c1',
    change: 'none',
    lines: [{ seq: 1, at: 1, stream: 'stdout', text }],
    skipped: 0,
  });

  it('a watch is sent once the session has its snapshot, and each output event reaches the panels of its child', async () => {
    const attempt = connectGateway({ url, token: 't', credential: 'viewer-token' });
    const got: unknown[] = [];
    const other: unknown[] = [];
    const stop = watch('x', (e) => got.push(e));
    watch('y', (e) => other.push(e));
    expect(watchesOf(socketAt(0))).toEqual([]); // not connected yet
    socketAt(0).fire('snapshot', viewerState);
    await attempt;
    expect(watchesOf(socketAt(0))).toEqual([
      ['watchOutput', { id: 'x' }],
      ['watchOutput', { id: 'y' }],
    ]);
    socketAt(0).fire('output', lines('x', 'hello'));
    expect(got).toEqual([lines('x', 'hello')]);
    expect(other).toEqual([]);
    stop();
    expect(watchesOf(socketAt(0)).at(-1)).toEqual(['unwatchOutput', { id: 'x' }]);
    socketAt(0).fire('output', lines('x', 'after'));
    expect(got).toHaveLength(1);
  });

  it('the gateway refusing a watch reaches the panel as a refused status', async () => {
    const s = await viewerSession();
    const got: unknown[] = [];
    watch('x', (e) => got.push(e));
    s.sent.at(-1)!.ack!(null, { ok: false, error: { code: 'read-only', message: 'live output needs a viewer or operator credential' } });
    expect(got).toEqual([{ id: 'x', kind: 'status', state: 'refused', message: 'read-only: live output needs a viewer or operator credential' }]);
  });

  it('a reconnect or a new session gets the watches again; the old socket’s output is ignored', async () => {
    const viewer = await viewerSession();
    const got: OutputEvent[] = [];
    watch('x', (e) => got.push(e));
    viewer.fire('disconnect', 'transport close');
    viewer.fire('snapshot', viewerState); // reconnected: the gateway forgot the watch
    expect(watchesOf(viewer)).toEqual([
      ['watchOutput', { id: 'x' }],
      ['watchOutput', { id: 'x' }],
    ]);
    const attempt = connectGateway({ url, token: 't', credential: 'operator-token' });
    const operator = socketAt(1);
    operator.fire('snapshot', { ...viewerState, access: 'operator', readOnly: false });
    await attempt;
    expect(watchesOf(operator)).toEqual([['watchOutput', { id: 'x' }]]);
    viewer.fire('output', lines('x', 'from the old session'));
    operator.fire('output', lines('x', 'from the new one'));
    expect(got).toEqual([lines('x', 'from the new one')]);
  });

  it('with no gateway, the panel is told at once', () => {
    const got: unknown[] = [];
    watch('x', (e) => got.push(e));
    expect(got).toEqual([{ id: 'x', kind: 'status', state: 'refused', message: 'not connected to a gateway' }]);
  });
});

describe('gateway client: who, lock and size', () => {
  const operatorState = { ...viewerState, access: 'operator' as const, readOnly: false };

  async function operatorSession(): Promise<FakeSocket> {
    const accepted = connectGateway({ url, token: 't', credential: 'operator-token', user: 'alice' });
    socketAt(0).fire('snapshot', operatorState);
    expect(await accepted).toBe('accepted');
    return socketAt(0);
  }

  it('a locked session says so again on every reconnect; a credential typed to unlock starts unlocked', async () => {
    const s = await operatorSession();
    expect(s.auth).toEqual({ token: 't', credential: 'operator-token', user: 'alice' });
    expect(useStore.getState().user).toBe('alice');
    s.answer = () => ({ ok: true, result: { access: 'locked' } });
    expect(await lockSession()).toEqual({ ok: true, result: { access: 'locked' } });
    expect(s.requests).toEqual([{ op: 'lock', args: {} }]);
    // The gateway's new snapshot says locked; a reconnect of this socket now presents it.
    s.fire('snapshot', { ...viewerState, access: 'locked' });
    expect(s.auth).toEqual({ token: 't', credential: 'operator-token', user: 'alice', locked: true });
    const trial = connectGateway({ url, token: 't', credential: 'another-operator-token' });
    expect(socketAt(1).auth).toEqual({ token: 't', credential: 'another-operator-token' });
    socketAt(1).fire('snapshot', operatorState);
    expect(await trial).toBe('accepted');
  });

  it('a refused unlock: the session stays locked and working, the reason kept once', async () => {
    const s = await operatorSession();
    s.fire('snapshot', { ...viewerState, access: 'locked' });
    s.answer = () => ({ ok: false, error: { code: 'unauthorized', message: 'the credential is not valid for this cluster' } });
    await unlockSession();
    expect(useStore.getState()).toMatchObject({
      status: 'connected',
      unlock: { pending: false, error: 'the credential is not valid for this cluster' },
      cluster: { access: 'locked' },
    });
    expect(s.closed).toBe(false);
    const ack = vi.fn();
    s.fire('patch', diffState({ ...viewerState, access: 'locked' }, clusterOf(nodes, [child('x'), child('z')], { access: 'locked', readOnly: true })), ack);
    expect(ack).toHaveBeenCalledTimes(1);
    expect(Object.keys(useStore.getState().cluster!.children)).toEqual(['x', 'z']);
    s.answer = () => ({ ok: true, result: { access: 'operator' } });
    await unlockSession();
    expect(useStore.getState().unlock).toEqual({ pending: false, error: null });
  });

  it('another name re-opens the session under it with the same credential, and stays locked if it was', async () => {
    const s = await operatorSession();
    s.fire('snapshot', { ...viewerState, access: 'locked' });
    const renamed = renameSession('bob');
    expect(socketAt(1).auth).toEqual({ token: 't', credential: 'operator-token', user: 'bob', locked: true });
    expect(s.closed).toBe(false);
    socketAt(1).fire('snapshot', { ...viewerState, access: 'locked' });
    expect(await renamed).toBe('accepted');
    expect(s.closed).toBe(true);
    expect(useStore.getState().user).toBe('bob');
  });

  it('a command the gateway could not receive is refused here with too-large, not sent; a smaller oversized one is sent (a member refuses and audits it)', async () => {
    const s = await operatorSession();
    const spec = (bytes: number) => ({ id: 'big', start: { worker: 'w', args: { blob: 'x'.repeat(bytes) } } });
    const huge = await sendCommand('start', { spec: spec(5 * 1024 * 1024) });
    expect(huge).toMatchObject({
      ok: false,
      error: { code: 'too-large', message: expect.stringMatching(/^the spec is 5\.0 MiB as JSON .* at most 1 MiB .*not sent/) },
    });
    expect(s.requests).toEqual([]);
    s.answer = () => ({ ok: false, error: { code: 'too-large', message: 'the spec is 2.0 MiB as JSON' } });
    expect(await sendCommand('start', { spec: spec(2 * 1024 * 1024) })).toMatchObject({ ok: false, error: { code: 'too-large' } });
    expect(s.requests).toHaveLength(1);
  });
});
