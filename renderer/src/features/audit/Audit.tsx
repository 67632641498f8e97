/**
 * Audit log: every command the members executed or refused (each member
 * keeps its own log; the gateway merges them), newest first, with who asked
 * (the name the user gave, and the name of the token the member checked),
 * the node that executed it and the result. Needs a viewer or operator
 * credential: a session without one is refused, and the view says why.
 *
 * Live: while the view is open it asks for new entries every AUDIT_POLL_MS
 * (audit-log.ts: only what is newer than what it holds), one request at a
 * time, and stops while the page is hidden or the gateway refuses;
 * Refresh reads the whole log again.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AuditEntry } from 'pogo-core';
import { sendCommand } from '../../gateway/client';
import { useStore } from '../../store/index';
import { AUDIT_POLL_MS, auditCursors, mergeAudit } from './audit-log';
import { scoped } from '../../shared/scoped';
import styles from './audit.module.css';

const cx = scoped(styles);

/** Errors that say this session may not read the log (anything else may pass). */
const REFUSALS: ReadonlySet<string> = new Set(['read-only', 'unauthorized', 'forbidden', 'bad-request']);

/** Rows rendered at most (the newest). */
const ROW_LIMIT = 1000;

function formatAt(at: number): string {
  const d = new Date(at);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function compactArgs(args: unknown): string {
  if (Array.isArray(args) && args.length === 0) return '';
  const text = JSON.stringify(args) ?? '';
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function matches(e: AuditEntry, words: string[]): boolean {
  if (words.length === 0) return true;
  const text = [e.node, e.from, e.by, e.tokenName ?? '', e.op, JSON.stringify(e.args), e.ok ? 'ok' : 'failed', e.result].join(' ').toLowerCase();
  return words.every((w) => text.includes(w));
}

export function Audit() {
  const access = useStore((s) => s.cluster?.access ?? 'none');
  const [entries, setEntries] = useState<readonly AuditEntry[] | null>(null);
  const [error, setError] = useState<{ code: string; message: string } | null>(null);
  const [partial, setPartial] = useState<string[]>([]);
  const [loading, setLoading] = useState(false);
  const [filter, setFilter] = useState('');
  const held = useRef<readonly AuditEntry[] | null>(null);

  const load = useCallback(async () => {
    setLoading(true);
    const reply = await sendCommand('audit');
    setLoading(false);
    if (reply.ok) {
      held.current = reply.result.entries;
      setEntries(reply.result.entries);
      setPartial(reply.result.unanswered);
      setError(null);
    } else {
      held.current = null;
      setError(reply.error);
    }
  }, []);

  // On open, and again when the session's access changes (a credential was entered).
  useEffect(() => {
    void load();
  }, [load, access]);

  // Live: after the whole log, only what is new, one request at a time; nothing while hidden or refused.
  useEffect(() => {
    if (entries === null || error !== null) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async (): Promise<void> => {
      const have = held.current;
      if (!have || document.hidden) return schedule();
      const reply = await sendCommand('audit', { after: auditCursors(have) });
      if (stopped || held.current !== have) return;
      // A refusal stops the feed (the view says why); a link that is down for a moment does not.
      if (!reply.ok) return REFUSALS.has(reply.error.code) ? setError(reply.error) : schedule();
      const next = mergeAudit(have, reply.result.entries);
      setPartial(reply.result.unanswered);
      if (next !== have) {
        held.current = next;
        setEntries(next);
      } else schedule();
    };
    const schedule = (): void => {
      if (!stopped) timer = setTimeout(() => void poll(), AUDIT_POLL_MS);
    };
    schedule();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [entries, error]);

  const rows = useMemo(() => {
    const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
    return [...(entries ?? [])]
      .reverse()
      .sort((a, b) => b.at - a.at)
      .filter((e) => matches(e, words));
  }, [entries, filter]);
  const failed = rows.filter((e) => !e.ok).length;
  const needsCredential = error !== null && (access === 'none' || ['read-only', 'unauthorized', 'forbidden'].includes(error.code));

  return (
    <section className={cx('audit-view')} aria-label="Audit log">
      <div className={cx('toolbar audit-toolbar')}>
        <input
          type="search"
          aria-label="Filter audit log"
          placeholder="Filter: op, user, node, args, result"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
        {entries && (
          <span className={cx('muted')} data-testid="audit-count">
            {filter ? `${rows.length} of ${entries.length}` : entries.length} {entries.length === 1 ? 'command' : 'commands'}
            {failed > 0 && ` · ${failed} refused or failed`}
          </span>
        )}
        {entries && !error && (
          <span
            className={cx('tag audit-live')}
            data-testid="audit-live"
            title={`New entries appear as the members record them (asked every ${AUDIT_POLL_MS / 1000} s while this view is open)`}
          >
            live
          </span>
        )}
        <span className={cx('header-spacer')} />
        <button type="button" onClick={() => void load()} disabled={loading}>
          {loading ? 'Loading…' : 'Refresh'}
        </button>
      </div>
      {error && (
        <div className={cx('panel audit-refused')} role="status">
          <p className={cx('audit-error')}>
            {error.code}: {error.message}
          </p>
          {needsCredential && (
            <p className={cx('muted')}>The audit log needs a viewer or operator token: enter one in the Credential field in the header and press Unlock.</p>
          )}
        </div>
      )}
      {partial.length > 0 && <p className={cx('muted audit-partial')}>No answer from {partial.join(', ')}: their entries are missing.</p>}
      {entries && !error && (
        <div className={cx('panel audit-table-wrap')}>
          <table className={cx('audit-table')}>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Node</th>
                <th scope="col">By</th>
                <th scope="col">Op</th>
                <th scope="col">Args</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {rows.slice(0, ROW_LIMIT).map((e, i) => (
                <tr key={`${e.at}-${e.node}-${i}`} className={cx(e.ok ? '' : 'failed')} data-ok={e.ok}>
                  <td className={cx('nowrap')}>
                    <time dateTime={new Date(e.at).toISOString()}>{formatAt(e.at)}</time>
                  </td>
                  <td title={`received from ${e.from}`}>{e.node}</td>
                  <td className={cx('audit-by')} data-testid="audit-by">
                    {e.by}
                    {e.tokenName !== undefined && (
                      <span
                        className={cx('tag token-tag')}
                        data-testid="token-tag"
                        title={`The credential was the token named ${e.tokenName}, as the member checked it; the name before it is what the client said`}
                      >
                        {e.tokenName}
                      </span>
                    )}
                  </td>
                  <td>
                    <code>{e.op}</code>
                  </td>
                  <td className={cx('audit-args')}>
                    <code>{compactArgs(e.args)}</code>
                  </td>
                  <td>{e.ok ? <span className={cx('tag ok-tag')}>ok</span> : <span className={cx('audit-error')}>{e.result}</span>}</td>
                </tr>
              ))}
              {rows.length === 0 && (
                <tr>
                  <td colSpan={6} className={cx('muted')}>
                    {entries.length === 0
                      ? 'No commands yet: starts, stops, moves, drains and pauses are recorded here, with refusals.'
                      : `No entry matches “${filter}”.`}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
          {rows.length > ROW_LIMIT && (
            <p className={cx('muted')}>
              Showing the newest {ROW_LIMIT} of {rows.length}: filter to narrow.
            </p>
          )}
        </div>
      )}
    </section>
  );
}
