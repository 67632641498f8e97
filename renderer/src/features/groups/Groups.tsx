/**
 * Groups view: every process-group scope the cluster's applications use, and
 * in each its groups with their member count (pg semantics: a pid may join a
 * group several times; empty groups do not exist). The distributed
 * supervisor's own scope is not listed: its state is the board's children.
 *
 * Each group shows its member count and how many of its members each node
 * holds (click a node to open it).
 */
import { useMemo, useState } from 'react';
import { useStore } from '../../store/index';
import { scoped } from '../../shared/scoped';
import styles from './groups.module.css';

const cx = scoped(styles);

interface ScopeRow {
  scope: string;
  groups: Array<{ group: string; count: number; perNode: Array<[string, number]> }>;
  total: number;
  /** Largest count shown (the bars' scale). */
  max: number;
  /** Groups in the scope before filtering. */
  all: number;
}

const total = (perNode: Record<string, number>): number => Object.values(perNode).reduce((n, c) => n + c, 0);

function scopesOf(groups: Record<string, Record<string, Record<string, number>>>, filter: string): ScopeRow[] {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const rows: ScopeRow[] = [];
  for (const scope of Object.keys(groups).sort()) {
    const entries = Object.entries(groups[scope] ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([group, perNode]) => ({ group, count: total(perNode), perNode: Object.entries(perNode).sort(([a], [b]) => (a < b ? -1 : 1)) }));
    const shown = entries.filter((g) => words.every((w) => `${scope} ${g.group} ${g.perNode.map(([n]) => n).join(' ')}`.toLowerCase().includes(w)));
    if (shown.length === 0) continue;
    rows.push({
      scope,
      groups: shown,
      total: shown.reduce((n, g) => n + g.count, 0),
      max: shown.reduce((m, g) => Math.max(m, g.count), 1),
      all: entries.length,
    });
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
    <section className={cx('groups-view')} aria-label="Groups">
      <div className={cx('toolbar groups-toolbar')}>
        <input type="search" aria-label="Filter groups" placeholder="Filter by scope or group" value={filter} onChange={(e) => setFilter(e.target.value)} />
        <span className={cx('muted')} data-testid="groups-count">
          {filter ? `${shown} of ${groupCount}` : groupCount} {groupCount === 1 ? 'group' : 'groups'} in {Object.keys(groups ?? {}).length}{' '}
          {Object.keys(groups ?? {}).length === 1 ? 'scope' : 'scopes'}
        </span>
      </div>
      {groupCount === 0 ? (
        <div className={cx('panel groups-empty')}>
          <h2>No process groups</h2>
          <p>
            Process groups are what applications join on their nodes, as with Erlang&apos;s <code>pg</code>: <code>join(scope, group, pid)</code> and{' '}
            <code>leave</code>, seen cluster-wide. None of the cluster&apos;s applications has joined one yet.
          </p>
          <p className={cx('muted')}>
            The supervisor&apos;s own scope (its specs, pins and live children) is not listed here: it is shown as the children on the board.
          </p>
        </div>
      ) : scopes.length === 0 ? (
        <p className={cx('muted groups-none')}>No group matches “{filter}”.</p>
      ) : (
        <div className={cx('scopes')}>
          {scopes.map((s) => (
            <section key={s.scope} className={cx('panel')} aria-label={`Scope ${s.scope}`}>
              <header className={cx('scope-header')}>
                <h2>
                  <span className={cx('muted scope-word')}>scope</span> {s.scope}
                </h2>
                <span className={cx('muted scope-count')}>
                  {s.groups.length === s.all ? s.all : `${s.groups.length} of ${s.all}`} {s.all === 1 ? 'group' : 'groups'} · {s.total}{' '}
                  {s.total === 1 ? 'member' : 'members'}
                </span>
              </header>
              <table className={cx('groups-table')}>
                <thead>
                  <tr>
                    <th scope="col">Group</th>
                    <th scope="col" className={cx('num')}>
                      Members
                    </th>
                    <th scope="col">Per node</th>
                    <th scope="col" aria-hidden="true" className={cx('bar-col')} />
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
                        <td className={cx('num')}>{g.count}</td>
                        <td className={cx('per-node')}>
                          {g.perNode.map(([node, n]) => (
                            <button
                              key={node}
                              type="button"
                              className={cx('tag node-chip')}
                              title={`${n} ${n === 1 ? 'member' : 'members'} on ${node}`}
                              onClick={() => useStore.getState().select({ kind: 'node', name: node })}
                            >
                              {node} ×{n}
                            </button>
                          ))}
                        </td>
                        <td className={cx('bar-col')} aria-hidden="true">
                          <span className={cx('group-bar')}>
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
          <p className={cx('muted groups-note')}>
            Counts are pids in each group across the cluster (a pid that joined twice counts twice); “per node” says where they run.
          </p>
        </div>
      )}
    </section>
  );
}
