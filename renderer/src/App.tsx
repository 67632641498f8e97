/**
 * App shell: header with the product name and the connection badge, and a
 * main area. Until the observer gateway exists (a later issue) the main area
 * explains how to get a cluster running.
 */
import { ConnectionBadge } from './components/ConnectionBadge';

function hostDescription(): string {
  const bridge = window.pogo;
  return bridge === undefined ? 'running in a browser' : `desktop app ${bridge.version} · ${bridge.platform}`;
}

export function App() {
  return (
    <div className="app">
      <header className="app-header">
        <h1 className="app-title">
          <span className="app-logo" aria-hidden="true" />
          Pogo
        </h1>
        <ConnectionBadge />
      </header>
      <main className="app-main">
        <section className="empty-state" aria-labelledby="empty-title">
          <h2 id="empty-title">No cluster connected</h2>
          <p>
            Start a cluster with <code>pogo node</code> and connect an observer{' '}
            <span className="muted">(coming soon)</span>.
          </p>
          <p className="muted">
            Each server runs one node; <code>npx pogo node --help</code> lists its options.
          </p>
        </section>
      </main>
      <footer className="app-footer">
        <span className="muted">{hostDescription()}</span>
      </footer>
    </div>
  );
}
