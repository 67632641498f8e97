/**
 * App shell: header (product, cluster, views, credential, access, pause,
 * theme, connection state), the open view, the detail panel for the
 * selected child or node, and toasts. The gateway URL's `?token=` (printed
 * by `pogo observe` / `pogo demo`, or set by the desktop app's main
 * process) starts the connection; without one the Connections view is
 * shown. A credential typed into the header is tried beside the working
 * session (gateway/client.ts): refused, it leaves that session as it was
 * and says why, once; Lock and Unlock drop and take back the operator
 * rights of the session, and in a browser the user says their name for the
 * audit log (SessionControls). When the link is lost, the last state stays
 * on screen, drawn as stale (StaleBanner).
 *
 * Keyboard: 1–5 switch views, `/` focuses search, `n` opens the start form,
 * Escape closes the detail panel; arrow keys move between cards on the board.
 *
 * Styles: the shell's rules are features/shell/shell.module.css; the page's
 * base is styles.css and the shared classes shared/ui.module.css (main.tsx).
 */
import { useEffect } from 'react';
import { AccessTag } from './features/shell/AccessTag';
import { Board } from './features/board/Board';
import { ConnectionBadge } from './features/shell/ConnectionBadge';
import { PauseControl } from './features/shell/PauseControl';
import { SessionControls, savedUserName } from './features/shell/SessionControls';
import { StaleBanner } from './features/shell/StaleBanner';
import { ThemeToggle, useTheme } from './features/shell/ThemeToggle';
import { Toasts } from './features/shell/Toasts';
import { connectGateway, reconnectGateway } from './gateway/client';
import { selectCommandBlock, selectStale } from './store/connection';
import { useStore } from './store/index';
import { VIEWS, type View } from './store/ui';
import { Audit } from './features/audit/Audit';
import { Charts } from './features/charts/Charts';
import { ChildDetail } from './features/child/ChildDetail';
import { Connections } from './features/connections/Connections';
import { Groups } from './features/groups/Groups';
import { NodeDetail } from './features/node/NodeDetail';
import { StartChildForm } from './features/start-child/StartChildForm';
import { Timeline } from './features/timeline/Timeline';
import { scoped } from './shared/scoped';
import shell from './features/shell/shell.module.css';

const cx = scoped(shell);

const VIEW_LABELS: Record<View, string> = { board: 'Board', groups: 'Groups', timeline: 'Timeline', charts: 'Charts', audit: 'Audit' };
const ACCESS_WORDS = { operator: 'operator', locked: 'locked', viewer: 'viewer', none: 'read-only' } as const;

function hostDescription(): string {
  const bridge = window.pogo;
  return bridge === undefined ? 'running in a browser' : `desktop app ${bridge.version} · ${bridge.platform}`;
}

function gatewayToken(): string | null {
  return new URLSearchParams(window.location.search).get('token');
}

function isTyping(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

function ViewBody({ view }: { view: View }) {
  switch (view) {
    case 'board':
      return <Board />;
    case 'groups':
      return <Groups />;
    case 'timeline':
      return <Timeline />;
    case 'charts':
      return <Charts />;
    case 'audit':
      return <Audit />;
  }
}

export function App() {
  const token = gatewayToken();
  // What the shell shows of the cluster, not the cluster object: a patch must not redraw the whole app.
  const clusterName = useStore((s) => s.cluster?.cluster);
  const access = useStore((s) => s.cluster?.access);
  const connected = clusterName !== undefined;
  const lastError = useStore((s) => s.lastError);
  const refusal = useStore((s) => s.refusal);
  const unlock = useStore((s) => s.unlock);
  const stale = useStore(selectStale);
  const view = useStore((s) => s.view);
  const selection = useStore((s) => s.selection);
  const starting = useStore((s) => s.starting);
  useTheme();

  useEffect(() => {
    if (!token) return;
    // In a browser the user's name comes from here; in the desktop app, from main (the gateway's default).
    const user = window.pogo === undefined ? savedUserName() : '';
    void connectGateway({ url: window.location.origin, token, ...(user ? { user } : {}) });
  }, [token]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.altKey || e.ctrlKey || e.metaKey || isTyping(e.target)) return;
      const s = useStore.getState();
      const index = Number(e.key) - 1;
      if (Number.isInteger(index) && index >= 0 && index < VIEWS.length) {
        s.setView(VIEWS[index]!);
        e.preventDefault();
      } else if (e.key === '/') {
        s.setView('board');
        requestAnimationFrame(() => document.getElementById('board-search')?.focus());
        e.preventDefault();
      } else if (e.key === 'n' && s.cluster && !s.cluster.readOnly && selectCommandBlock(s) === null) {
        s.setStarting(true);
        e.preventDefault();
      } else if (e.key === 'Escape' && s.selection && !document.querySelector('[role="dialog"]')) {
        s.select(null);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className={cx('app')}>
      <header className={cx('app-header')}>
        <h1 className={cx('app-title')}>
          <span className={cx('app-logo')} aria-hidden="true" />
          Pogo
          {connected && <span className={cx('muted cluster-name')}>{clusterName}</span>}
        </h1>
        {connected && (
          <nav className={cx('views')} aria-label="Views">
            {VIEWS.map((v, i) => (
              <button
                key={v}
                type="button"
                className={cx(v === view ? 'current' : '')}
                aria-current={v === view ? 'page' : undefined}
                title={`${VIEW_LABELS[v]} (${i + 1})`}
                onClick={() => useStore.getState().setView(v)}
              >
                {VIEW_LABELS[v]}
              </button>
            ))}
          </nav>
        )}
        <span className={cx('header-spacer')} />
        {token && <SessionControls token={token} />}
        {window.pogo && token && (
          <button type="button" onClick={() => void window.pogo?.disconnect()} title="End this session and go back to the saved connections">
            Connections
          </button>
        )}
        {connected && <PauseControl />}
        {access && <AccessTag access={access} />}
        <ThemeToggle />
        <ConnectionBadge />
      </header>
      <main className={cx('app-main')}>
        {refusal && !connected && (
          <p role="alert" className={cx('error')}>
            No session: {refusal}
          </p>
        )}
        {unlock.error && (
          <p
            role="alert"
            className={cx('error')}
            data-testid="unlock-error"
            onClick={() => useStore.getState().setUnlock({ pending: false, error: null })}
            title="Click to dismiss"
          >
            Not unlocked: {unlock.error}.{access && ` This window keeps its ${ACCESS_WORDS[access]} session.`}
          </p>
        )}
        {token && (
          <StaleBanner
            onReconnect={() => {
              if (!reconnectGateway())
                void connectGateway({ url: window.location.origin, token, ...(window.pogo === undefined && savedUserName() ? { user: savedUserName() } : {}) });
            }}
          />
        )}
        {lastError && (
          <p role="alert" className={cx('error')} onClick={() => useStore.getState().clearError()} title="Click to dismiss">
            {lastError}
          </p>
        )}
        {connected ? (
          <div className={cx(`workspace${selection ? ' with-detail' : ''}${stale ? ' stale' : ''}`)}>
            <div className={cx('view')} data-view={view}>
              <ViewBody view={view} />
            </div>
            {selection?.kind === 'child' && <ChildDetail id={selection.id} />}
            {selection?.kind === 'node' && <NodeDetail name={selection.name} />}
          </div>
        ) : (
          !token && <Connections />
        )}
        {connected && starting && <StartChildForm />}
        <Toasts />
      </main>
      <footer className={cx('app-footer')}>
        <span className={cx('muted')}>{hostDescription()}</span>
      </footer>
    </div>
  );
}
