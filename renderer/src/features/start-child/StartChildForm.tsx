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
 * The modal is the shared Dialog (Escape or the backdrop closes it, Tab
 * stays inside, focus goes back to the opener) and each control a shared
 * Field (label, hint, and the problem it is marked invalid by).
 */
import { useId, useMemo, useState } from 'react';
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
import { Dialog } from '../../shared/Dialog';
import { Field } from '../../shared/Field';
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

export function StartChildForm() {
  const nodes = useStore(useShallow(selectMemberNodes));
  const workers = useMemo(() => {
    const offered = new Map<string, number>();
    for (const n of nodes) for (const w of n.workers) offered.set(w, (offered.get(w) ?? 0) + 1);
    return [...offered.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  }, [nodes]);
  const uid = useId();
  const ids = {
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
  const preview = useMemo(() => {
    if (!confirming) return null;
    const text = JSON.stringify(confirming, null, 2);
    const bytes = jsonBytes(confirming);
    return { text: text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}\n… (${formatBytes(bytes)} in all)` : text, bytes };
  }, [confirming]);

  const close = (): void => useStore.getState().setStarting(false);
  // The field a problem is about is marked invalid, described by the form's one message.
  const problemId = `${uid}-problem`;
  const invalid = (field: FormField): { invalid: boolean; errorId: string } => ({ invalid: problem?.field === field, errorId: problemId });
  const hint = cx('hint');

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

  return (
    <Dialog
      title={confirming ? `Start ${String(confirming['id'])}?` : 'Start a child'}
      onClose={close}
      busy={sending}
      size="wide"
      className={cx('start-child')}
    >
      {confirming ? (
        <>
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
                <Field label="Child id" id={ids.id} {...invalid('id')}>
                  {(c) => (
                    <input
                      {...c}
                      value={form.id}
                      onChange={(e) => update('id', e.target.value)}
                      placeholder="e.g. billing-sync"
                      autoFocus
                      autoComplete="off"
                      spellCheck={false}
                      maxLength={256}
                    />
                  )}
                </Field>

                <Field label="Kind" id={ids.kind}>
                  {(c) => (
                    <select {...c} value={form.kind} onChange={(e) => update('kind', e.target.value as Kind)}>
                      <option value="worker">worker type (in the node&apos;s process)</option>
                      <option value="command">OS process (a command the node allows)</option>
                    </select>
                  )}
                </Field>

                {form.kind === 'worker' ? (
                  <>
                    <Field label="Worker" id={ids.worker} {...invalid('worker')}>
                      {(c) =>
                        workers.length > 0 ? (
                          <select {...c} value={form.worker} onChange={(e) => update('worker', e.target.value)}>
                            {!workers.some(([w]) => w === form.worker) && <option value={form.worker}>{form.worker || 'choose…'}</option>}
                            {workers.map(([w, n]) => (
                              <option key={w} value={w}>
                                {w} ({n} {n === 1 ? 'node' : 'nodes'})
                              </option>
                            ))}
                          </select>
                        ) : (
                          <input
                            {...c}
                            value={form.worker}
                            onChange={(e) => update('worker', e.target.value)}
                            placeholder="no member offers a worker type"
                            spellCheck={false}
                          />
                        )
                      }
                    </Field>
                    <Field label="Arguments" id={ids.wargs} hint="JSON passed to the worker (optional)." hintClassName={hint} {...invalid('workerArgs')}>
                      {(c) => (
                        <textarea
                          {...c}
                          rows={3}
                          value={form.workerArgs}
                          onChange={(e) => update('workerArgs', e.target.value)}
                          placeholder='optional JSON, e.g. { "intervalMs": 1000 }'
                          spellCheck={false}
                        />
                      )}
                    </Field>
                  </>
                ) : (
                  <>
                    <Field
                      label="Command"
                      id={ids.command}
                      hint="Only nodes whose config allows this command can run it."
                      hintClassName={hint}
                      {...invalid('command')}
                    >
                      {(c) => (
                        <input {...c} value={form.command} onChange={(e) => update('command', e.target.value)} placeholder="e.g. node" spellCheck={false} />
                      )}
                    </Field>
                    <Field label="Arguments" id={ids.args} {...invalid('args')}>
                      {(c) => (
                        <textarea
                          {...c}
                          rows={3}
                          value={form.args}
                          onChange={(e) => update('args', e.target.value)}
                          placeholder="one per line"
                          spellCheck={false}
                        />
                      )}
                    </Field>
                    <Field label="Directory" id={ids.cwd} {...invalid('cwd')}>
                      {(c) => (
                        <input
                          {...c}
                          value={form.cwd}
                          onChange={(e) => update('cwd', e.target.value)}
                          placeholder="working directory (optional)"
                          spellCheck={false}
                        />
                      )}
                    </Field>
                    <Field label="Environment" id={ids.env} {...invalid('env')}>
                      {(c) => (
                        <textarea
                          {...c}
                          rows={2}
                          value={form.env}
                          onChange={(e) => update('env', e.target.value)}
                          placeholder="NAME=value, one per line (optional)"
                          spellCheck={false}
                        />
                      )}
                    </Field>
                    <Field label="Messages" id={ids.ipc} {...invalid('ipc')}>
                      {(c) => (
                        <select
                          {...c}
                          value={form.ipc}
                          onChange={(e) => update('ipc', e.target.value as FormState['ipc'])}
                          title="How the process answers calls (README: Children in any language)"
                        >
                          <option value="">none (takes no calls)</option>
                          <option value="json-lines">JSON lines on fd 3 (any language)</option>
                          <option value="node">Node.js IPC (process.send)</option>
                        </select>
                      )}
                    </Field>
                  </>
                )}

                <Field label="Restart" id={ids.restart} hint={RESTART_HELP[form.restart]} hintClassName={hint} {...invalid('restart')}>
                  {(c) => (
                    <select {...c} value={form.restart} onChange={(e) => update('restart', e.target.value as FormState['restart'])}>
                      {RESTARTS.map((r) => (
                        <option key={r} value={r}>
                          {r}
                        </option>
                      ))}
                    </select>
                  )}
                </Field>

                <Field label="Handoff" id={ids.handoff} hint={HANDOFF_HELP[form.handoff]} hintClassName={hint} {...invalid('handoff')}>
                  {(c) => (
                    <select {...c} value={form.handoff} onChange={(e) => update('handoff', e.target.value as FormState['handoff'])}>
                      {HANDOFFS.map((h) => (
                        <option key={h} value={h}>
                          {h}
                        </option>
                      ))}
                    </select>
                  )}
                </Field>

                <Field
                  label="Node labels"
                  id={ids.labels}
                  hint="Only nodes carrying every label can run it. To put it on one node, start it, then move it there."
                  hintClassName={hint}
                  {...invalid('labels')}
                >
                  {(c) => (
                    <textarea
                      {...c}
                      rows={2}
                      value={form.labels}
                      onChange={(e) => update('labels', e.target.value)}
                      placeholder="region=eu, one per line (optional)"
                      spellCheck={false}
                    />
                  )}
                </Field>
                {Object.keys(extra).length > 0 && <span className={cx('hint')}>Also sent, from the JSON tab: {Object.keys(extra).join(', ')}.</span>}
              </div>
            ) : (
              <div className={cx('start-json')}>
                <Field
                  label="Spec JSON"
                  id={ids.json}
                  hint={
                    <>
                      Fields: id, start ({'{ worker, args }'} or {'{ command, args, env, cwd }'}), restart, shutdown, maxRestarts, maxSeconds, labels, handoff.
                    </>
                  }
                  hintClassName={hint}
                  invalid={problem !== null}
                  errorId={problemId}
                >
                  {(c) => (
                    <textarea
                      {...c}
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
                  )}
                </Field>
              </div>
            )}
            {problem && (
              <p className={cx('start-problem')} role="alert" id={problemId}>
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
    </Dialog>
  );
}
