import { describe, expect, it } from 'vitest';
import { emptyForm, fieldOf, formFromSpec, specFromForm, specFromJson, type FormState } from './spec-form';

describe('spec <-> form', () => {
  it('round-trips a command spec and refuses one the form cannot show', () => {
    const spec = {
      id: 'j',
      start: { command: 'node', args: ['a.js'], cwd: '/srv', env: { A: '1' } },
      restart: 'temporary',
      handoff: 'stop-first',
      labels: { region: 'eu' },
    } as const;
    const parsed = formFromSpec(spec, 'ticker');
    if ('error' in parsed) throw new Error(parsed.error);
    expect(specFromForm(parsed.form, parsed.extra)).toEqual({ spec });
    expect(formFromSpec({ id: 'j', start: { command: 'node', args: ['two\nlines'] } }, 'ticker')).toHaveProperty('error');
    expect(formFromSpec({ id: 'j', restart: 'sometimes' }, 'ticker')).toHaveProperty('error');
  });

  it('carries a command child’s ipc (how it takes calls) both ways; an unknown one is refused', () => {
    for (const ipc of ['json-lines', 'node'] as const) {
      const spec = { id: 'py', start: { command: 'python3', args: ['kv.py'], ipc }, restart: 'permanent', handoff: 'stop-first' } as const;
      const parsed = formFromSpec(spec, 'ticker');
      if ('error' in parsed) throw new Error(parsed.error);
      expect(parsed.form.ipc).toBe(ipc);
      expect(specFromForm(parsed.form, parsed.extra)).toEqual({ spec });
    }
    expect(formFromSpec({ id: 'py', start: { command: 'python3', args: [], ipc: 'pigeons' } }, 'ticker')).toEqual({
      error: `"start.ipc": must be 'json-lines' (a line protocol on a file descriptor) or 'node' (Node.js's IPC channel)`,
    });
    const none = formFromSpec({ id: 'py', start: { command: 'python3', args: [] } }, 'ticker');
    if ('error' in none) throw new Error(none.error);
    expect(specFromForm(none.form, none.extra)).toEqual({
      spec: { id: 'py', start: { command: 'python3', args: [] }, restart: 'permanent', handoff: 'stop-first' },
    });
  });
});

describe("checked with core's child-spec schema", () => {
  const form = (over: Partial<FormState>): FormState => ({ ...emptyForm('ticker'), id: 'c', ...over });

  it("names the form field a schema problem is about, in the schema's words", () => {
    expect(specFromForm(form({ id: 'x'.repeat(257) }))).toEqual({ error: 'Child id: must be at most 256 characters', field: 'id' });
    expect(specFromForm(form({ kind: 'command', command: 'node', cwd: 'x'.repeat(5000) }))).toEqual({
      error: 'Directory: Too big: expected string to have <=4096 characters',
      field: 'cwd',
    });
    expect(specFromForm(form({ labels: `${'k'.repeat(200)}=v` }))).toMatchObject({ field: 'labels' });
    // A field the form does not edit, from the JSON tab: named as the spec names it.
    expect(specFromForm(form({}), { maxRestarts: -1 })).toEqual({ error: 'maxRestarts: Too small: expected number to be >=0 (from the JSON tab)' });
    expect(specFromForm(form({}), { pin: 'n1' })).toEqual({ error: 'pin: unknown field (from the JSON tab)' });
  });

  it("keeps the form's own wording for what only a form has", () => {
    expect(specFromForm(form({ id: ' ' }))).toEqual({ error: 'Child id: give the child an id, unique in the cluster', field: 'id' });
    expect(specFromForm(form({ workerArgs: '{ nope' }))).toMatchObject({ field: 'workerArgs', error: expect.stringMatching(/^Arguments: not valid JSON/) });
    expect(specFromForm(form({ kind: 'command', command: 'node', env: 'novalue' }))).toEqual({
      error: 'Environment: "novalue" is not KEY=value',
      field: 'env',
    });
  });

  it('maps spec paths to form fields by kind', () => {
    expect(fieldOf('start.args.3', 'command')).toBe('args');
    expect(fieldOf('start.args', 'worker')).toBe('workerArgs');
    expect(fieldOf('start', 'worker')).toBe('worker');
    expect(fieldOf('labels.region', 'worker')).toBe('labels');
    expect(fieldOf('shutdown', 'worker')).toBeUndefined();
  });

  it('the JSON tab: valid JSON that is not a valid spec is refused before it is sent, with the bad field', () => {
    expect(specFromJson('[1]')).toEqual({ error: 'Spec JSON: must be an object { id, start, … }' });
    expect(specFromJson('{"start":{"worker":"t"}}')).toEqual({ error: 'Spec JSON: "id": required' });
    expect(specFromJson('{"id":"a","start":{"worker":"t","argz":1}}')).toEqual({ error: 'Spec JSON: "start.argz": unknown field' });
    expect(specFromJson('{"id":"a","start":{"worker":"t"}}')).toEqual({ spec: { id: 'a', start: { worker: 't' } } });
  });

  it('an unfinished spec opens in the form; a bad field in it does not', () => {
    expect(formFromSpec({}, 'ticker')).toMatchObject({ form: { id: '', worker: 'ticker' } });
    expect(formFromSpec({ id: 7 }, 'ticker')).toEqual({ error: '"id": must be a string' });
    expect(formFromSpec({ id: 'j', restart: 'sometimes' }, 'ticker')).toMatchObject({ error: expect.stringMatching(/^"restart": /) });
  });
});
