/**
 * The start form's logic: a child spec ⇄ the form's fields, checked with
 * core's own child-spec schema (`pogo-core/child-spec`: the schema every
 * node validates a spec with), so the form and the cluster cannot disagree
 * on what a valid spec is. Pure; the view is StartChildForm.tsx.
 *
 * What stays here is what only a form has: its text fields (arguments as
 * JSON or one per line, `KEY=value` lines) and what it can show (a spec
 * whose command arguments hold a line break cannot be edited as one
 * argument per line). Everything about the spec itself (types, lengths,
 * limits, unknown fields, the choices of restart, handoff and ipc) is the
 * schema's, and its reason is shown as it says it, under the form's label
 * for that field (`fieldOf`) so the view can mark the field.
 *
 * The spec sent is the one the user built, not the schema's output: the
 * defaults are the cluster's to fill (parseChildSpec on the node), and the
 * confirmation shows exactly what is sent.
 */
import { HandoffSchema, IPC_MODES, parseChildSpec, RestartSchema, SpecError } from 'pogo-core/child-spec';
import type { JsonValue as Json } from 'pogo-core/protocol';

export type Kind = 'worker' | 'command';
export type Spec = { [key: string]: Json };

export const RESTARTS = RestartSchema.options;
export const HANDOFFS = HandoffSchema.options;
export const IPCS = IPC_MODES;

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
  ipc: '' | (typeof IPC_MODES)[number];
  restart: (typeof RESTARTS)[number];
  handoff: (typeof HANDOFFS)[number];
  /** key=value, one per line: a node must carry every one. */
  labels: string;
}

/** A form field a problem is about (the view marks it), named by its FormState key. */
export type FormField = Exclude<keyof FormState, 'kind'>;

/** Something wrong, said for the user; `field` when it is about one field of the form. */
export interface Problem {
  error: string;
  field?: FormField;
}

/** Spec fields the form edits; any other field (from the JSON tab) is kept as it is. */
const FORM_FIELDS = new Set(['id', 'start', 'restart', 'handoff', 'labels']);

/** The form's label for each field, as the problems name them. */
export const FIELD_LABELS: Record<FormField, string> = {
  id: 'Child id',
  worker: 'Worker',
  workerArgs: 'Arguments',
  command: 'Command',
  args: 'Arguments',
  cwd: 'Directory',
  env: 'Environment',
  ipc: 'Messages',
  restart: 'Restart',
  handoff: 'Handoff',
  labels: 'Node labels',
};

export function emptyForm(worker: string): FormState {
  return {
    id: '',
    kind: 'worker',
    worker,
    workerArgs: '',
    command: '',
    args: '',
    cwd: '',
    env: '',
    ipc: '',
    restart: 'permanent',
    handoff: 'stop-first',
    labels: '',
  };
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '');
}

function pairs(text: string, field: FormField): { map: Record<string, string> } | Problem {
  const out: Record<string, string> = {};
  for (const line of lines(text)) {
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq).trim() : '';
    if (!key) return { error: `${FIELD_LABELS[field]}: "${line}" is not KEY=value`, field };
    out[key] = line.slice(eq + 1).trim();
  }
  return { map: out };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The form field a schema problem is about, from SpecError's dotted path
 * (`start.args.2`, `labels.region`); undefined for fields the form does not
 * edit (shutdown, maxRestarts…, typed in the JSON tab).
 */
export function fieldOf(path: string, kind: Kind): FormField | undefined {
  const [top, sub] = path.split('.');
  if (top === 'id' || top === 'restart' || top === 'handoff' || top === 'labels') return top;
  if (top !== 'start') return undefined;
  switch (sub) {
    case 'worker':
    case 'command':
    case 'cwd':
    case 'env':
    case 'ipc':
      return sub;
    case 'args':
      return kind === 'worker' ? 'workerArgs' : 'args';
    default:
      return kind === 'worker' ? 'worker' : 'command';
  }
}

/** What core's schema says is wrong with a spec (the first bad field), or null when it is valid. */
export function specProblem(spec: unknown): SpecError | null {
  try {
    parseChildSpec(spec);
    return null;
  } catch (err) {
    if (err instanceof SpecError) return err;
    throw err;
  }
}

/**
 * The spec the form describes, merged over the fields it does not edit; or
 * what is wrong with the form's text (not yet checked with the schema: the
 * JSON tab takes it as it is, to be finished there).
 */
export function formSpec(form: FormState, extra: Spec = {}): { spec: Spec } | Problem {
  let start: Spec;
  if (form.kind === 'worker') {
    if (!form.worker.trim()) return { error: 'Worker: choose a worker type', field: 'worker' };
    start = { worker: form.worker.trim() };
    if (form.workerArgs.trim()) {
      try {
        start['args'] = JSON.parse(form.workerArgs) as Json;
      } catch (err) {
        return { error: `Arguments: not valid JSON (${(err as Error).message})`, field: 'workerArgs' };
      }
    }
  } else {
    if (!form.command.trim()) return { error: 'Command: name the program to run', field: 'command' };
    start = { command: form.command.trim(), args: lines(form.args) };
    if (form.cwd.trim()) start['cwd'] = form.cwd.trim();
    if (form.ipc) start['ipc'] = form.ipc;
    const env = pairs(form.env, 'env');
    if ('error' in env) return env;
    if (Object.keys(env.map).length > 0) start['env'] = env.map;
  }
  const labels = pairs(form.labels, 'labels');
  if ('error' in labels) return labels;
  const spec: Spec = { ...extra, id: form.id.trim(), start, restart: form.restart, handoff: form.handoff };
  if (Object.keys(labels.map).length > 0) spec['labels'] = labels.map;
  return { spec };
}

/** The spec the form describes, to be sent: an id given, and checked with core's schema; or what is wrong. */
export function specFromForm(form: FormState, extra: Spec = {}): { spec: Spec } | Problem {
  const built = formSpec(form, extra);
  if ('error' in built) return built;
  const spec = built.spec;
  if (!spec['id']) return { error: 'Child id: give the child an id, unique in the cluster', field: 'id' };
  const bad = specProblem(spec);
  if (bad) {
    const field = fieldOf(bad.field, form.kind);
    return field ? { error: `${FIELD_LABELS[field]}: ${bad.reason}`, field } : { error: `${bad.field}: ${bad.reason} (from the JSON tab)` };
  }
  return { spec };
}

/**
 * A form for a spec (and the fields the form does not edit), or why the form
 * cannot show it. The spec may be unfinished (typed in the JSON tab): a
 * field it lacks is left as the empty form has it; a field it has must be
 * one core's schema accepts.
 */
export function formFromSpec(spec: Record<string, unknown>, fallbackWorker: string): { form: FormState; extra: Spec } | { error: string } {
  // The schema checks the fields present: the two it requires are filled in when absent, so they cannot be what is wrong.
  const bad = specProblem({ id: 'id', start: { worker: fallbackWorker || 'worker' }, ...spec });
  if (bad) return { error: `"${bad.field}": ${bad.reason}` };
  const form = emptyForm(fallbackWorker);
  const extra: Spec = {};
  for (const [key, value] of Object.entries(spec)) if (!FORM_FIELDS.has(key)) extra[key] = value as Json;
  if (typeof spec['id'] === 'string') form.id = spec['id'];
  const start = spec['start'];
  if (isObject(start) && typeof start['worker'] === 'string') {
    form.kind = 'worker';
    form.worker = start['worker'];
    form.workerArgs = start['args'] === undefined ? '' : JSON.stringify(start['args'], null, 2);
  } else if (isObject(start) && typeof start['command'] === 'string') {
    // Valid, but the form shows arguments and environment one per line: each must be one non-empty line.
    const args = (start['args'] ?? []) as string[];
    const env = (start['env'] ?? {}) as Record<string, string>;
    if (!args.every((a) => a.trim() !== '' && !a.includes('\n'))) return { error: '"start.args" must be non-empty one-line strings to edit them in the form' };
    if (!Object.values(env).every((v) => !v.includes('\n'))) return { error: '"start.env" must map names to one-line strings to edit it in the form' };
    form.kind = 'command';
    form.command = start['command'];
    form.args = args.join('\n');
    form.cwd = typeof start['cwd'] === 'string' ? start['cwd'] : '';
    form.ipc = (start['ipc'] as FormState['ipc'] | undefined) ?? '';
    form.env = Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n');
  }
  if (spec['restart'] !== undefined) form.restart = spec['restart'] as FormState['restart'];
  if (spec['handoff'] !== undefined) form.handoff = spec['handoff'] as FormState['handoff'];
  if (isObject(spec['labels']))
    form.labels = Object.entries(spec['labels'] as Record<string, string>)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n');
  return { form, extra };
}

/** JSON text that must be an object (the JSON tab's spec), or what is wrong with it. */
export function jsonObject(text: string): { value: Record<string, unknown> } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { error: `Spec JSON: not valid JSON (${(err as Error).message})` };
  }
  if (!isObject(value)) return { error: 'Spec JSON: must be an object { id, start, … }' };
  return { value };
}

/** The spec typed as JSON, checked with core's schema; or what is wrong. */
export function specFromJson(text: string): { spec: Spec } | { error: string } {
  const parsed = jsonObject(text);
  if ('error' in parsed) return parsed;
  const bad = specProblem(parsed.value);
  if (bad) return { error: `Spec JSON: "${bad.field}": ${bad.reason}` };
  return { spec: parsed.value as Spec };
}
