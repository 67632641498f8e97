/**
 * Start a child: a modal with a form (id, worker type or OS command and how
 * it takes calls, restart type, handoff, required node labels) and the same
 * spec as JSON, for the fields the form does not cover (shutdown,
 * maxRestarts, maxSeconds…).
 * Switching tabs carries the spec across. Submitting checks the spec with
 * core's child-spec schema (spec-form.ts: the form's logic), names the
 * field a problem is about and marks it (aria-invalid), else shows the
 * spec to confirm; then `start` is sent. On success the dialog closes and the new
 * child is selected; a refusal (an invalid spec, a different spec under the
 * same id, a read-only session) is shown in the dialog, with the form kept.
 *
 * Size: a spec over the limit a command may carry (MAX_COMMAND_ARGS_BYTES,
 * 1 MiB of JSON) is said to be so in the confirmation, which shows only its
 * beginning; sent anyway, the cluster refuses it with `too-large`, naming
 * the limit, shown here like any refusal, and records the refusal in its
 * audit log. One the gateway could not even receive is refused before it
 * is sent (gateway/client.ts).
 *
 * A child spec has no pin: to place the child on a given node, start it and
 * then move it (the detail panel's Move to…, or drag its card).
 *
 * Escape closes the dialog; Tab stays inside it.
 */
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { formatBytes, jsonBytes, MAX_COMMAND_ARGS_BYTES } from 'pogo-core/command-size';
import { sendCommand } from '../../gateway/client';
import { selectMemberNodes } from '../../store/cluster';
import { useStore } from '../../store/index';
import {
  emptyForm,
  formFromSpec,
  formSpec,
  HANDOFFS,
  jsonObject,
  RESTARTS,
  specFromForm,
  specFromJson,
  type FormField,
  type FormState,
  type Kind,
  type Problem,
  type Spec,
} from './spec-form';
import { scoped } from '../../shared/scoped';
import styles from './start-child.module.css';

const cx = scoped(styles);

/** Characters of a spec the confirmation shows. */
const PREVIEW_CHARS = 20_000;

const RESTART_HELP: Record<FormState['restart'], string> = {
  permanent: 'always restarted',
  transient: 'restarted only after an abnormal exit',
  temporary: 'never restarted; removed when it exits',
};
const HANDOFF_HELP: Record<FormState['handoff'], string> = {
  'stop-first': 'when moved, the old instance stops before the new one starts (no overlap)',
  'start-first': 'when moved, the new instance starts before the old one stops',
};

const FOCUSABLE = 'button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export function StartChildForm() {
  const nodes = useStore(useShallow(selectMemberNodes));
  const workers = useMemo(() => {
    const offered = new Map<string, number>();
    for (const n of nodes) for (const w of n.workers) offered.set(w, (offered.get(w) ?? 0) + 1);
    return [...offered.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  }, [nodes]);
  const uid = useId();
  const ids = {
    title: `${uid}-title`,
    id: `${uid}-id`,
    kind: `${uid}-kind`,
    worker: `${uid}-worker`,
    wargs: `${uid}-wargs`,
    command: `${uid}-command`,
    args: `${uid}-args`,
    cwd: `${uid}-cwd`,
    env: `${uid}-env`,
    ipc: `${uid}-ipc`,
    restart: `${uid}-restart`,
    handoff: `${uid}-handoff`,
    labels: `${uid}-labels`,
    json: `${uid}-json`,
  };

  const [tab, setTab] = useState<'form' | 'json'>('form');
  const [form, setForm] = useState<FormState>(() => emptyForm(workers[0]?.[0] ?? ''));
  const [extra, setExtra] = useState<Spec>({});
  const [json, setJson] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [refusal, setRefusal] = useState<{ code: string; message: string } | null>(null);
  const [confirming, setConfirming] = useState<Spec | null>(null);
  const [sending, setSending] = useState(false);
  const dialogRef = useRef<HTMLDivElement>(null);
  const preview = useMemo(() => {
    if (!confirming) return null;
    const text = JSON.stringify(confirming, null, 2);
    const bytes = jsonBytes(confirming);
    return { text: text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}\n… (${formatBytes(bytes)} in all)` : text, bytes };
  }, [confirming]);

  const close = (): void => useStore.getState().setStarting(false);
  // The field a problem is about is marked invalid, pointing at the message.
  const invalid = (field: FormField): { 'aria-invalid'?: true; 'aria-errormessage'?: string } =>
    problem?.field === field ? { 'aria-invalid': true, 'aria-errormessage': `${uid}-problem` } : {};

  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent): void => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      useStore.getState().setStarting(false);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // Back to where the user was when the dialog closes.
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    return () => before?.focus?.();
  }, []);

  const update = <K extends keyof FormState>(key: K, value: FormState[K]): void => {
    setForm((f) => ({ ...f, [key]: value }));
    setProblem(null);
  };

  const switchTab = (to: 'form' | 'json'): void => {
    if (to === tab) return;
    if (to === 'json') {
      const built = formSpec(form, extra);
      if ('error' in built) return setProblem(built);
      setJson(JSON.stringify(built.spec, null, 2));
    } else if (json.trim() !== '') {
      const typed = jsonObject(json);
      if ('error' in typed) return setProblem(typed);
      const parsed = formFromSpec(typed.value, workers[0]?.[0] ?? '');
      if ('error' in parsed) return setProblem({ error: `This spec cannot be edited in the form: ${parsed.error}. Edit it as JSON.` });
      setForm(parsed.form);
      setExtra(parsed.extra);
    }
    setProblem(null);
    setTab(to);
  };

  const submit = (): void => {
    const built = tab === 'form' ? specFromForm(form, extra) : specFromJson(json);
    if ('error' in built) return setProblem(built);
    setProblem(null);
    setConfirming(built.spec);
  };

  const start = async (): Promise<void> => {
    if (!confirming) return;
    const spec = confirming;
    setSending(true);
    const reply = await sendCommand('start', { spec });
    setSending(false);
    if (reply.ok) {
      close();
      useStore.getState().select({ kind: 'child', id: String(spec['id']) });
      return;
    }
    setRefusal(reply.error ?? { code: 'failed', message: 'the cluster did not start it' });
    setConfirming(null);
  };

  const trapTab = (e: KeyboardEvent<HTMLDivElement>): void => {
    if (e.key !== 'Tab' || !dialogRef.current) return;
    const items = [...dialogRef.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    if (items.length === 0) return;
    const first = items[0]!;
    const last = items.at(-1)!;
    if (e.shiftKey && document.activeElement === first) {
      last.focus();
      e.preventDefault();
    } else if (!e.shiftKey && document.activeElement === last) {
      first.focus();
      e.preventDefault();
    }
  };

  return (
    <div
      className={cx('dialog-backdrop')}
      onMouseDown={(e) => {
        if (e.target === e.currentTarget && !sending) close();
      }}
    >
      <div role="dialog" aria-modal="true" aria-labelledby={ids.title} className={cx('dialog start-child')} ref={dialogRef} onKeyDown={trapTab}>
        {confirming ? (
          <>
            <h2 id={ids.title}>Start {String(confirming['id'])}?</h2>
            <div className={cx('dialog-body')}>
              <p className={cx('muted')}>The cluster places it on one eligible node and keeps it running there. This spec is sent:</p>
              {preview && preview.bytes > MAX_COMMAND_ARGS_BYTES && (
                <p className={cx('start-refusal')} role="alert" data-code="too-large" data-testid="spec-too-large">
                  <strong>too large</strong>: this spec is {formatBytes(preview.bytes)} as JSON, over the {formatBytes(MAX_COMMAND_ARGS_BYTES)} a command may
                  carry. The cluster will refuse it (and record the refusal in its audit log).
                </p>
              )}
              <pre className={cx('spec-preview')} aria-label="Spec to start">
                {preview?.text}
              </pre>
            </div>
            <div className={cx('dialog-actions')}>
              <button type="button" onClick={() => setConfirming(null)} disabled={sending}>
                Back
              </button>
              <button type="button" className={cx('primary')} onClick={() => void start()} disabled={sending} autoFocus>
                {sending ? 'Starting…' : 'Start'}
              </button>
            </div>
          </>
        ) : (
          <form
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              submit();
            }}
          >
            <h2 id={ids.title}>Start a child</h2>
            <div className={cx('tabs')} role="tablist" aria-label="Spec as">
              {(['form', 'json'] as const).map((t) => (
                <button
                  key={t}
                  type="button"
                  role="tab"
                  id={`${uid}-tab-${t}`}
                  aria-selected={tab === t}
                  aria-controls={`${uid}-panel`}
                  className={cx(tab === t ? 'current' : '')}
                  onClick={() => switchTab(t)}
                >
                  {t === 'form' ? 'Form' : 'JSON'}
                </button>
              ))}
            </div>
            {refusal && (
              <p className={cx('start-refusal')} role="alert" data-code={refusal.code} data-testid="start-refusal">
                <strong>{refusal.code}</strong>: {refusal.message}
              </p>
            )}
            <div className={cx('dialog-body')} role="tabpanel" id={`${uid}-panel`} aria-labelledby={`${uid}-tab-${tab}`}>
              {tab === 'form' ? (
                <div className={cx('start-grid')}>
                  <label htmlFor={ids.id}>Child id</label>
                  <input
                    id={ids.id}
                    {...invalid('id')}
                    value={form.id}
                    onChange={(e) => update('id', e.target.value)}
                    placeholder="e.g. billing-sync"
                    autoFocus
                    autoComplete="off"
                    spellCheck={false}
                    maxLength={256}
                  />

                  <label htmlFor={ids.kind}>Kind</label>
                  <select id={ids.kind} value={form.kind} onChange={(e) => update('kind', e.target.value as Kind)}>
                    <option value="worker">worker type (in the node&apos;s process)</option>
                    <option value="command">OS process (a command the node allows)</option>
                  </select>

                  {form.kind === 'worker' ? (
                    <>
                      <label htmlFor={ids.worker}>Worker</label>
                      {workers.length > 0 ? (
                        <select id={ids.worker} {...invalid('worker')} value={form.worker} onChange={(e) => update('worker', e.target.value)}>
                          {!workers.some(([w]) => w === form.worker) && <option value={form.worker}>{form.worker || 'choose…'}</option>}
                          {workers.map(([w, n]) => (
                            <option key={w} value={w}>
                              {w} ({n} {n === 1 ? 'node' : 'nodes'})
                            </option>
                          ))}
                        </select>
                      ) : (
                        <input
                          id={ids.worker}
                          {...invalid('worker')}
                          value={form.worker}
                          onChange={(e) => update('worker', e.target.value)}
                          placeholder="no member offers a worker type"
                          spellCheck={false}
                        />
                      )}
                      <label htmlFor={ids.wargs}>Arguments</label>
                      <textarea
                        id={ids.wargs}
                        {...invalid('workerArgs')}
                        rows={3}
                        value={form.workerArgs}
                        onChange={(e) => update('workerArgs', e.target.value)}
                        placeholder='optional JSON, e.g. { "intervalMs": 1000 }'
                        spellCheck={false}
                        aria-describedby={`${ids.wargs}-help`}
                      />
                      <span className={cx('hint')} id={`${ids.wargs}-help`}>
                        JSON passed to the worker (optional).
                      </span>
                    </>
                  ) : (
                    <>
                      <label htmlFor={ids.command}>Command</label>
                      <input
                        id={ids.command}
                        {...invalid('command')}
                        value={form.command}
                        onChange={(e) => update('command', e.target.value)}
                        placeholder="e.g. node"
                        spellCheck={false}
                        aria-describedby={`${ids.command}-help`}
                      />
                      <span className={cx('hint')} id={`${ids.command}-help`}>
                        Only nodes whose config allows this command can run it.
                      </span>
                      <label htmlFor={ids.args}>Arguments</label>
                      <textarea
                        id={ids.args}
                        {...invalid('args')}
                        rows={3}
                        value={form.args}
                        onChange={(e) => update('args', e.target.value)}
                        placeholder="one per line"
                        spellCheck={false}
                      />
                      <label htmlFor={ids.cwd}>Directory</label>
                      <input
                        id={ids.cwd}
                        {...invalid('cwd')}
                        value={form.cwd}
                        onChange={(e) => update('cwd', e.target.value)}
                        placeholder="working directory (optional)"
                        spellCheck={false}
                      />
                      <label htmlFor={ids.env}>Environment</label>
                      <textarea
                        id={ids.env}
                        {...invalid('env')}
                        rows={2}
                        value={form.env}
                        onChange={(e) => update('env', e.target.value)}
                        placeholder="NAME=value, one per line (optional)"
                        spellCheck={false}
                      />
                      <label htmlFor={ids.ipc}>Messages</label>
                      <select
                        id={ids.ipc}
                        {...invalid('ipc')}
                        value={form.ipc}
                        onChange={(e) => update('ipc', e.target.value as FormState['ipc'])}
                        title="How the process answers calls (README: Children in any language)"
                      >
                        <option value="">none (takes no calls)</option>
                        <option value="json-lines">JSON lines on fd 3 (any language)</option>
                        <option value="node">Node.js IPC (process.send)</option>
                      </select>
                    </>
                  )}

                  <label htmlFor={ids.restart}>Restart</label>
                  <select
                    id={ids.restart}
                    {...invalid('restart')}
                    value={form.restart}
                    onChange={(e) => update('restart', e.target.value as FormState['restart'])}
                    aria-describedby={`${ids.restart}-help`}
                  >
                    {RESTARTS.map((r) => (
                      <option key={r} value={r}>
                        {r}
                      </option>
                    ))}
                  </select>
                  <span className={cx('hint')} id={`${ids.restart}-help`}>
                    {RESTART_HELP[form.restart]}
                  </span>

                  <label htmlFor={ids.handoff}>Handoff</label>
                  <select
                    id={ids.handoff}
                    {...invalid('handoff')}
                    value={form.handoff}
                    onChange={(e) => update('handoff', e.target.value as FormState['handoff'])}
                    aria-describedby={`${ids.handoff}-help`}
                  >
                    {HANDOFFS.map((h) => (
                      <option key={h} value={h}>
                        {h}
                      </option>
                    ))}
                  </select>
                  <span className={cx('hint')} id={`${ids.handoff}-help`}>
                    {HANDOFF_HELP[form.handoff]}
                  </span>

                  <label htmlFor={ids.labels}>Node labels</label>
                  <textarea
                    id={ids.labels}
                    {...invalid('labels')}
                    rows={2}
                    value={form.labels}
                    onChange={(e) => update('labels', e.target.value)}
                    placeholder="region=eu, one per line (optional)"
                    spellCheck={false}
                    aria-describedby={`${ids.labels}-help`}
                  />
                  <span className={cx('hint')} id={`${ids.labels}-help`}>
                    Only nodes carrying every label can run it. To put it on one node, start it, then move it there.
                  </span>
                  {Object.keys(extra).length > 0 && (
                    <span className={cx('hint extra-fields')}>Also sent, from the JSON tab: {Object.keys(extra).join(', ')}.</span>
                  )}
                </div>
              ) : (
                <div className={cx('start-json')}>
                  <label htmlFor={ids.json}>Spec JSON</label>
                  <textarea
                    id={ids.json}
                    rows={14}
                    value={json}
                    onChange={(e) => {
                      setJson(e.target.value);
                      setProblem(null);
                    }}
                    placeholder={'{\n  "id": "billing-sync",\n  "start": { "worker": "ticker", "args": {} },\n  "restart": "permanent"\n}'}
                    spellCheck={false}
                    autoFocus
                  />
                  <span className={cx('hint')}>
                    Fields: id, start ({'{ worker, args }'} or {'{ command, args, env, cwd }'}), restart, shutdown, maxRestarts, maxSeconds, labels, handoff.
                  </span>
                </div>
              )}
              {problem && (
                <p className={cx('start-problem')} role="alert" id={`${uid}-problem`}>
                  {problem.error}
                </p>
              )}
            </div>
            <div className={cx('dialog-actions')}>
              <button type="button" onClick={close}>
                Cancel
              </button>
              <button type="submit" className={cx('primary')}>
                Start
              </button>
            </div>
          </form>
        )}
      </div>
    </div>
  );
}
