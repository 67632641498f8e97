/**
 * Groups view: every process-group scope the cluster's applications use, and
 * in each its groups with their member count (pg semantics: a pid may join a
 * group several times; empty groups do not exist). The distributed
 * supervisor's own scope is not listed: its state is the board's children.
 *
 * The observer state carries a count per group, not the members per node
 * (DESIGN §4 asks for those); the view shows what the state has.
 */
import { useMemo, useState } from 'react';
import { useStore } from '../store/index';
import './groups.css';

interface ScopeRow {
  scope: string;
  groups: Array<{ group: string; count: number }>;
  total: number;
  /** Largest count shown (the bars' scale). */
  max: number;
  /** Groups in the scope before filtering. */
  all: number;
}

function scopesOf(groups: Record<string, Record<string, number>>, filter: string): ScopeRow[] {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const rows: ScopeRow[] = [];
  for (const scope of Object.keys(groups).sort()) {
    const entries = Object.entries(groups[scope] ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const shown = entries.filter(([group]) => words.every((w) => `${scope} ${group}`.toLowerCase().includes(w)));
    if (shown.length === 0) continue;
    rows.push({ scope, groups: shown.map(([group, count]) => ({ group, count })), total: shown.reduce((n, [, c]) => n + c, 0), max: shown.reduce((m, [, c]) => Math.max(m, c), 1), all: entries.length });
  }
  return rows;
}

export function Groups() {
  const groups = useStore((s) => s.cluster?.groups);
  const [filter, setFilter] = useState('');
  const scopes = useMemo(() => scopesOf(groups ?? {}, filter), [groups, filter]);
  const groupCount = useMemo(() => Object.values(groups ?? {}).reduce((n, g) => n + Object.keys(g).length, 0), [groups]);
  const shown = scopes.reduce((n, s) => n + s.groups.length, 0);

  return (
    <section className="groups-view" aria-label="Groups">
      <div className="toolbar">
        <input type="search" aria-label="Filter groups" placeholder="Filter by scope or group" value={filter} onChange={(e) => setFilter(e.target.value)} />
        <span className="muted" data-testid="groups-count">
          {filter ? `${shown} of ${groupCount}` : groupCount} {groupCount === 1 ? 'group' : 'groups'} in {Object.keys(groups ?? {}).length} {Object.keys(groups ?? {}).length === 1 ? 'scope' : 'scopes'}
        </span>
      </div>
      {groupCount === 0 ? (
        <div className="panel groups-empty">
          <h2>No process groups</h2>
          <p>
            Process groups are what applications join on their nodes, as with Erlang&apos;s <code>pg</code>: <code>join(scope, group, pid)</code> and <code>leave</code>, seen cluster-wide. None of the cluster&apos;s
            applications has joined one yet.
          </p>
          <p className="muted">The supervisor&apos;s own scope (its specs, pins and live children) is not listed here: it is shown as the children on the board.</p>
        </div>
      ) : scopes.length === 0 ? (
        <p className="muted groups-none">No group matches “{filter}”.</p>
      ) : (
        <div className="scopes">
          {scopes.map((s) => (
            <section key={s.scope} className="panel scope" aria-label={`Scope ${s.scope}`}>
              <header className="scope-header">
                <h2>
                  <span className="muted">scope</span> {s.scope}
                </h2>
                <span className="muted">
                  {s.groups.length === s.all ? s.all : `${s.groups.length} of ${s.all}`} {s.all === 1 ? 'group' : 'groups'} · {s.total} {s.total === 1 ? 'member' : 'members'}
                </span>
              </header>
              <table className="groups-table">
                <thead>
                  <tr>
                    <th scope="col">Group</th>
                    <th scope="col" className="num">
                      Members
                    </th>
                    <th scope="col" aria-hidden="true" className="bar-col" />
                  </tr>
                </thead>
                <tbody>
                  {s.groups.map((g) => {
                    const max = s.max;
                    return (
                      <tr key={g.group} data-group={g.group}>
                        <td>
                          <code>{g.group}</code>
                        </td>
                        <td className="num">{g.count}</td>
                        <td className="bar-col" aria-hidden="true">
                          <span className="group-bar">
                            <span style={{ width: `${Math.round((g.count / max) * 100)}%` }} />
                          </span>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </section>
          ))}
          <p className="muted groups-note">Counts are pids in each group across the cluster (a pid that joined twice counts twice). Members per node are not in the observer&apos;s state yet.</p>
        </div>
      )}
    </section>
  );
}
