/**
 * Start a child: a modal with a form (id, worker type or OS command and how
 * it takes calls, restart type, handoff, required node labels) and the same
 * spec as JSON, for the fields the form does not cover (shutdown,
 * maxRestarts, maxSeconds…).
 * Switching tabs carries the spec across. Submitting shows the spec to
 * confirm; then `start` is sent. On success the dialog closes and the new
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
import type { JsonValue as Json } from 'pogo-core/protocol';
import { sendCommand } from '../../gateway/client';
import { selectMemberNodes } from '../../store/cluster';
import { useStore } from '../../store/index';
import './start-child.css';

type Kind = 'worker' | 'command';
type Spec = { [key: string]: Json };

export interface FormState {
  id: string;
  kind: Kind;
  worker: string;
  /** Worker args, as JSON text (optional). */
  workerArgs: string;
  command: string;
  /** Command arguments, one per line. */
  args: string;
  cwd: string;
  /** KEY=value, one per line. */
  env: string;
  /** How the command takes messages (calls): not at all, JSON lines on fd 3, or Node.js's IPC channel. */
  ipc: '' | 'json-lines' | 'node';
  restart: 'permanent' | 'transient' | 'temporary';
  handoff: 'stop-first' | 'start-first';
  /** key=value, one per line: a node must carry every one. */
  labels: string;
}

/** Characters of a spec the confirmation shows. */
const PREVIEW_CHARS = 20_000;

const RESTARTS = ['permanent', 'transient', 'temporary'] as const;
const HANDOFFS = ['stop-first', 'start-first'] as const;
const IPCS = ['json-lines', 'node'] as const;
/** Spec fields the form edits; any other field (from the JSON tab) is kept as it is. */
const FORM_FIELDS = new Set(['id', 'start', 'restart', 'handoff', 'labels']);

const RESTART_HELP: Record<FormState['restart'], string> = {
  permanent: 'always restarted',
  transient: 'restarted only after an abnormal exit',
  temporary: 'never restarted; removed when it exits',
};
const HANDOFF_HELP: Record<FormState['handoff'], string> = {
  'stop-first': 'when moved, the old instance stops before the new one starts (no overlap)',
  'start-first': 'when moved, the new instance starts before the old one stops',
};

function emptyForm(worker: string): FormState {
  return { id: '', kind: 'worker', worker, workerArgs: '', command: '', args: '', cwd: '', env: '', ipc: '', restart: 'permanent', handoff: 'stop-first', labels: '' };
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '');
}

function pairs(text: string, what: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const line of lines(text)) {
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq).trim() : '';
    if (!key) return `${what}: "${line}" is not KEY=value`;
    out[key] = line.slice(eq + 1).trim();
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The spec the form describes, merged over the fields it does not edit; or what is wrong. */
export function specFromForm(form: FormState, extra: Spec = {}): { spec: Spec } | { error: string } {
  let start: Spec;
  if (form.kind === 'worker') {
    if (!form.worker.trim()) return { error: 'Worker: choose a worker type' };
    start = { worker: form.worker.trim() };
    if (form.workerArgs.trim()) {
      try {
        start['args'] = JSON.parse(form.workerArgs) as Json;
      } catch (err) {
        return { error: `Arguments: not valid JSON (${(err as Error).message})` };
      }
    }
  } else {
    if (!form.command.trim()) return { error: 'Command: name the program to run' };
    start = { command: form.command.trim(), args: lines(form.args) };
    if (form.cwd.trim()) start['cwd'] = form.cwd.trim();
    if (form.ipc) start['ipc'] = form.ipc;
    const env = pairs(form.env, 'Environment');
    if (typeof env === 'string') return { error: env };
    if (Object.keys(env).length > 0) start['env'] = env;
  }
  const labels = pairs(form.labels, 'Required node labels');
  if (typeof labels === 'string') return { error: labels };
  const spec: Spec = { ...extra, id: form.id.trim(), start, restart: form.restart, handoff: form.handoff };
  if (Object.keys(labels).length > 0) spec['labels'] = labels;
  return { spec };
}

/** A form for a spec (and the fields the form does not edit), or why the form cannot show it. */
export function formFromSpec(spec: Record<string, unknown>, fallbackWorker: string): { form: FormState; extra: Spec } | { error: string } {
  const form = emptyForm(fallbackWorker);
  const extra: Spec = {};
  for (const [key, value] of Object.entries(spec)) if (!FORM_FIELDS.has(key)) extra[key] = value as Json;
  if (spec['id'] !== undefined) {
    if (typeof spec['id'] !== 'string') return { error: '"id" must be a string' };
    form.id = spec['id'];
  }
  const start = spec['start'];
  if (start !== undefined) {
    if (!isObject(start)) return { error: '"start" must be an object' };
    if ('worker' in start) {
      const unknown = Object.keys(start).filter((k) => k !== 'worker' && k !== 'args');
      if (typeof start['worker'] !== 'string' || unknown.length > 0) return { error: '"start" must be { worker, args } to edit it in the form' };
      form.kind = 'worker';
      form.worker = start['worker'];
      form.workerArgs = start['args'] === undefined ? '' : JSON.stringify(start['args'], null, 2);
    } else if ('command' in start) {
      const unknown = Object.keys(start).filter((k) => !['command', 'args', 'cwd', 'env', 'ipc'].includes(k));
      const args = start['args'] ?? [];
      const env = start['env'] ?? {};
      if (typeof start['command'] !== 'string' || unknown.length > 0 || !Array.isArray(args) || !args.every((a) => typeof a === 'string' && a.trim() !== '' && !a.includes('\n'))) return { error: '"start" must be { command, args: [non-empty strings], cwd, env, ipc } to edit it in the form' };
      if (!isObject(env) || !Object.values(env).every((v) => typeof v === 'string' && !v.includes('\n'))) return { error: '"start.env" must map names to one-line strings to edit it in the form' };
      form.kind = 'command';
      form.command = start['command'];
      form.args = (args as string[]).join('\n');
      form.cwd = typeof start['cwd'] === 'string' ? start['cwd'] : '';
      if (start['ipc'] !== undefined) {
        if (!(IPCS as readonly unknown[]).includes(start['ipc'])) return { error: `"start.ipc" must be ${IPCS.join(' or ')}` };
        form.ipc = start['ipc'] as FormState['ipc'];
      }
      form.env = Object.entries(env as Record<string, string>)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n');
    } else return { error: '"start" must have a worker or a command' };
  }
  if (spec['restart'] !== undefined) {
    if (!(RESTARTS as readonly unknown[]).includes(spec['restart'])) return { error: `"restart" must be ${RESTARTS.join(', ')}` };
    form.restart = spec['restart'] as FormState['restart'];
  }
  if (spec['handoff'] !== undefined) {
    if (!(HANDOFFS as readonly unknown[]).includes(spec['handoff'])) return { error: `"handoff" must be ${HANDOFFS.join(' or ')}` };
    form.handoff = spec['handoff'] as FormState['handoff'];
  }
  const labels = spec['labels'];
  if (labels !== undefined) {
    if (!isObject(labels) || !Object.values(labels).every((v) => typeof v === 'string')) return { error: '"labels" must map names to strings' };
    form.labels = Object.entries(labels as Record<string, string>)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n');
  }
  return { form, extra };
}

/** The spec typed as JSON, checked to be an object with an id; or what is wrong. */
export function specFromJson(text: string): { spec: Spec } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { error: `Spec JSON: not valid JSON (${(err as Error).message})` };
  }
  if (!isObject(value)) return { error: 'Spec JSON: must be an object { id, start, … }' };
  if (typeof value['id'] !== 'string' || value['id'].trim() === '') return { error: 'Spec JSON: needs an "id" (a non-empty string)' };
  return { spec: value as Spec };
}

const FOCUSABLE = 'button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export function StartChildForm() {
  const nodes = useStore(useShallow(selectMemberNodes));
  const workers = useMemo(() => {
    const offered = new Map<string, number>();
    for (const n of nodes) for (const w of n.workers) offered.set(w, (offered.get(w) ?? 0) + 1);
    return [...offered.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  }, [nodes]);
  const uid = useId();
  const ids = { title: `${uid}-title`, id: `${uid}-id`, kind: `${uid}-kind`, worker: `${uid}-worker`, wargs: `${uid}-wargs`, command: `${uid}-command`, args: `${uid}-args`, cwd: `${uid}-cwd`, env: `${uid}-env`, ipc: `${uid}-ipc`, restart: `${uid}-restart`, handoff: `${uid}-handoff`, labels: `${uid}-labels`, json: `${uid}-json` };

  const [tab, setTab] = useState<'form' | 'json'>('form');
  const [form, setForm] = useState<FormState>(() => emptyForm(workers[0]?.[0] ?? ''));
  const [extra, setExtra] = useState<Spec>({});
  const [json, setJson] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
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
      const built = specFromForm(form, extra);
      if ('error' in built) return setProblem(built.error);
      setJson(JSON.stringify(built.spec, null, 2));
    } else if (json.trim() !== '') {
      let value: unknown;
      try {
        value = JSON.parse(json);
      } catch (err) {
        return setProblem(`Spec JSON: not valid JSON (${(err as Error).message})`);
      }
      if (!isObject(value)) return setProblem('Spec JSON: must be an object { id, start, … }');
      const parsed = formFromSpec(value, workers[0]?.[0] ?? '');
      if ('error' in parsed) return setProblem(`This spec cannot be edited in the form: ${parsed.error}. Edit it as JSON.`);
      setForm(parsed.form);
      setExtra(parsed.extra);
    }
    setProblem(null);
    setTab(to);
  };

  const submit = (): void => {
    const built = tab === 'form' ? specFromForm(form, extra) : specFromJson(json);
    if ('error' in built) return setProblem(built.error);
    if (tab === 'form' && !built.spec['id']) return setProblem('Child id: give the child an id, unique in the cluster');
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
      className="dialog-backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget && !sending) close();
      }}
    >
      <div role="dialog" aria-modal="true" aria-labelledby={ids.title} className="dialog start-child" ref={dialogRef} onKeyDown={trapTab}>
        {confirming ? (
          <>
            <h2 id={ids.title}>Start {String(confirming['id'])}?</h2>
            <div className="dialog-body">
              <p className="muted">The cluster places it on one eligible node and keeps it running there. This spec is sent:</p>
              {preview && preview.bytes > MAX_COMMAND_ARGS_BYTES && (
                <p className="start-refusal" role="alert" data-code="too-large" data-testid="spec-too-large">
                  <strong>too large</strong>: this spec is {formatBytes(preview.bytes)} as JSON, over the {formatBytes(MAX_COMMAND_ARGS_BYTES)} a command may carry. The cluster will refuse it (and record the refusal in its audit log).
                </p>
              )}
              <pre className="spec-preview" aria-label="Spec to start">
                {preview?.text}
              </pre>
            </div>
            <div className="dialog-actions">
              <button type="button" onClick={() => setConfirming(null)} disabled={sending}>
                Back
              </button>
              <button type="button" className="primary" onClick={() => void start()} disabled={sending} autoFocus>
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
            <div className="tabs" role="tablist" aria-label="Spec as">
              {(['form', 'json'] as const).map((t) => (
                <button key={t} type="button" role="tab" id={`${uid}-tab-${t}`} aria-selected={tab === t} aria-controls={`${uid}-panel`} className={tab === t ? 'current' : ''} onClick={() => switchTab(t)}>
                  {t === 'form' ? 'Form' : 'JSON'}
                </button>
              ))}
            </div>
            {refusal && (
              <p className="start-refusal" role="alert" data-code={refusal.code}>
                <strong>{refusal.code}</strong>: {refusal.message}
              </p>
            )}
            <div className="dialog-body" role="tabpanel" id={`${uid}-panel`} aria-labelledby={`${uid}-tab-${tab}`}>
              {tab === 'form' ? (
                <div className="start-grid">
                  <label htmlFor={ids.id}>Child id</label>
                  <input id={ids.id} value={form.id} onChange={(e) => update('id', e.target.value)} placeholder="e.g. billing-sync" autoFocus autoComplete="off" spellCheck={false} maxLength={256} />

                  <label htmlFor={ids.kind}>Kind</label>
                  <select id={ids.kind} value={form.kind} onChange={(e) => update('kind', e.target.value as Kind)}>
                    <option value="worker">worker type (in the node&apos;s process)</option>
                    <option value="command">OS process (a command the node allows)</option>
                  </select>

                  {form.kind === 'worker' ? (
                    <>
                      <label htmlFor={ids.worker}>Worker</label>
                      {workers.length > 0 ? (
                        <select id={ids.worker} value={form.worker} onChange={(e) => update('worker', e.target.value)}>
                          {!workers.some(([w]) => w === form.worker) && <option value={form.worker}>{form.worker || 'choose…'}</option>}
                          {workers.map(([w, n]) => (
                            <option key={w} value={w}>
                              {w} ({n} {n === 1 ? 'node' : 'nodes'})
                            </option>
                          ))}
                        </select>
                      ) : (
                        <input id={ids.worker} value={form.worker} onChange={(e) => update('worker', e.target.value)} placeholder="no member offers a worker type" spellCheck={false} />
                      )}
                      <label htmlFor={ids.wargs}>Arguments</label>
                      <textarea id={ids.wargs} rows={3} value={form.workerArgs} onChange={(e) => update('workerArgs', e.target.value)} placeholder='optional JSON, e.g. { "intervalMs": 1000 }' spellCheck={false} aria-describedby={`${ids.wargs}-help`} />
                      <span className="hint" id={`${ids.wargs}-help`}>
                        JSON passed to the worker (optional).
                      </span>
                    </>
                  ) : (
                    <>
                      <label htmlFor={ids.command}>Command</label>
                      <input id={ids.command} value={form.command} onChange={(e) => update('command', e.target.value)} placeholder="e.g. node" spellCheck={false} aria-describedby={`${ids.command}-help`} />
                      <span className="hint" id={`${ids.command}-help`}>
                        Only nodes whose config allows this command can run it.
                      </span>
                      <label htmlFor={ids.args}>Arguments</label>
                      <textarea id={ids.args} rows={3} value={form.args} onChange={(e) => update('args', e.target.value)} placeholder="one per line" spellCheck={false} />
                      <label htmlFor={ids.cwd}>Directory</label>
                      <input id={ids.cwd} value={form.cwd} onChange={(e) => update('cwd', e.target.value)} placeholder="working directory (optional)" spellCheck={false} />
                      <label htmlFor={ids.env}>Environment</label>
                      <textarea id={ids.env} rows={2} value={form.env} onChange={(e) => update('env', e.target.value)} placeholder="NAME=value, one per line (optional)" spellCheck={false} />
                      <label htmlFor={ids.ipc}>Messages</label>
                      <select id={ids.ipc} value={form.ipc} onChange={(e) => update('ipc', e.target.value as FormState['ipc'])} title="How the process answers calls (README: Children in any language)">
                        <option value="">none (takes no calls)</option>
                        <option value="json-lines">JSON lines on fd 3 (any language)</option>
                        <option value="node">Node.js IPC (process.send)</option>
                      </select>
                    </>
                  )}

                  <label htmlFor={ids.restart}>Restart</label>
                  <select id={ids.restart} value={form.restart} onChange={(e) => update('restart', e.target.value as FormState['restart'])} aria-describedby={`${ids.restart}-help`}>
                    {RESTARTS.map((r) => (
                      <option key={r} value={r}>
                        {r}
                      </option>
                    ))}
                  </select>
                  <span className="hint" id={`${ids.restart}-help`}>
                    {RESTART_HELP[form.restart]}
                  </span>

                  <label htmlFor={ids.handoff}>Handoff</label>
                  <select id={ids.handoff} value={form.handoff} onChange={(e) => update('handoff', e.target.value as FormState['handoff'])} aria-describedby={`${ids.handoff}-help`}>
                    {HANDOFFS.map((h) => (
                      <option key={h} value={h}>
                        {h}
                      </option>
                    ))}
                  </select>
                  <span className="hint" id={`${ids.handoff}-help`}>
                    {HANDOFF_HELP[form.handoff]}
                  </span>

                  <label htmlFor={ids.labels}>Node labels</label>
                  <textarea id={ids.labels} rows={2} value={form.labels} onChange={(e) => update('labels', e.target.value)} placeholder="region=eu, one per line (optional)" spellCheck={false} aria-describedby={`${ids.labels}-help`} />
                  <span className="hint" id={`${ids.labels}-help`}>
                    Only nodes carrying every label can run it. To put it on one node, start it, then move it there.
                  </span>
                  {Object.keys(extra).length > 0 && (
                    <span className="hint extra-fields">
                      Also sent, from the JSON tab: {Object.keys(extra).join(', ')}.
                    </span>
                  )}
                </div>
              ) : (
                <div className="start-json">
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
                  <span className="hint">
                    Fields: id, start ({'{ worker, args }'} or {'{ command, args, env, cwd }'}), restart, shutdown, maxRestarts, maxSeconds, labels, handoff.
                  </span>
                </div>
              )}
              {problem && (
                <p className="start-problem" role="alert">
                  {problem}
                </p>
              )}
            </div>
            <div className="dialog-actions">
              <button type="button" onClick={close}>
                Cancel
              </button>
              <button type="submit" className="primary">
                Start
              </button>
            </div>
          </form>
        )}
      </div>
    </div>
  );
}
