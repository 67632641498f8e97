/**
 * App shell: header (product, connection badge, operator token), and the
 * placement board once connected to an observer gateway. The gateway URL's
 * `?token=` (printed by `pogo observe` / `pogo demo`) starts the connection.
 */
import { useEffect, useState } from 'react';
import { Board } from './components/Board';
import { ConnectionBadge } from './components/ConnectionBadge';
import { connectGateway } from './gateway/client';
import { useClusterStore } from './store/cluster';

function hostDescription(): string {
  const bridge = window.pogo;
  return bridge === undefined ? 'running in a browser' : `desktop app ${bridge.version} · ${bridge.platform}`;
}

function gatewayToken(): string | null {
  return new URLSearchParams(window.location.search).get('token');
}

export function App() {
  const token = gatewayToken();
  const cluster = useClusterStore((s) => s.cluster);
  const lastError = useClusterStore((s) => s.lastError);
  const [credential, setCredential] = useState('');

  useEffect(() => {
    if (token) connectGateway({ url: window.location.origin, token });
  }, [token]);

  return (
    <div className="app">
      <header className="app-header">
        <h1 className="app-title">
          <span className="app-logo" aria-hidden="true" />
          Pogo
          {cluster && <span className="muted cluster-name">{cluster.cluster}</span>}
        </h1>
        {token && (
          <form
            className="credential"
            onSubmit={(e) => {
              e.preventDefault();
              connectGateway({ url: window.location.origin, token, credential });
            }}
          >
            <input type="password" aria-label="Operator token" placeholder="operator token" value={credential} onChange={(e) => setCredential(e.target.value)} />
            <button type="submit">Unlock</button>
          </form>
        )}
        {cluster && <span className={`tag ${cluster.readOnly ? 'read-only' : 'operator'}`}>{cluster.readOnly ? 'read-only' : 'operator'}</span>}
        <ConnectionBadge />
      </header>
      <main className="app-main">
        {lastError && (
          <p role="alert" className="error" onClick={() => useClusterStore.getState().clearError()}>
            {lastError}
          </p>
        )}
        {cluster ? (
          <Board />
        ) : (
          <section className="empty-state" aria-labelledby="empty-title">
            <h2 id="empty-title">No cluster connected</h2>
            <p>
              Run <code>npx pogo demo --ui</code> (or <code>pogo observe --ui</code> against your cluster) and open the URL it prints.
            </p>
            <p className="muted">
              Each server runs one node; <code>npx pogo node --help</code> lists its options.
            </p>
          </section>
        )}
      </main>
      <footer className="app-footer">
        <span className="muted">{hostDescription()}</span>
      </footer>
    </div>
  );
}
