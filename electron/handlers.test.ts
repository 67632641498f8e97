/**
 * The preload methods as main runs them, with fake sessions and dialogs:
 * saved connections change through them, connecting switches sessions and
 * the window, and a bad argument or a failure is a Result, never a throw.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONNECTIONS_FILE, loadConnections } from './connections';
import { createIpcHandlers, type HandlerDeps, type IpcHandlers } from './handlers';
import type { ConnectionDraft } from './preload-api';
import { SessionManager, type Session, type SessionTarget } from './session';

const draft: ConnectionDraft = { name: 'Staging', seeds: ['127.0.0.1:4370'], secretFile: '/srv/pogo/secret', operatorTokenFile: '/srv/pogo/operator' };

function fakeSession(target: SessionTarget, log: string[]): Session {
  const name = target === 'demo' ? 'demo' : target.name;
  log.push(`open ${name}`);
  return {
    kind: target === 'demo' ? 'demo' : 'connection',
    name,
    url: `http://127.0.0.1:1234/?token=${name}`,
    origin: 'http://127.0.0.1:1234',
    access: 'operator',
    pids: [],
    close: async () => void log.push(`close ${name}`),
  };
}

let dir: string;
let log: string[];
let errors: string[];
let handlers: IpcHandlers;
let openFails: string | undefined;
let ids: number;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pogo-handlers-'));
  log = [];
  errors = [];
  openFails = undefined;
  ids = 0;
  const deps: HandlerDeps = {
    connectionsDir: dir,
    sessions: new SessionManager(async (target) => {
      if (openFails) throw new Error(openFails);
      return fakeSession(target, log);
    }),
    chooseFile: async (purpose) => (purpose === 'secret' ? '/home/me/secret' : null),
    showSession: (session) => log.push(`show ${session.url}`),
    showConnections: () => log.push('show connections'),
    newId: () => `id-${++ids}`,
    onError: (method, message) => errors.push(`${method}: ${message}`),
  };
  handlers = createIpcHandlers(deps);
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('saved connections through IPC', () => {
  it('saves a new connection with a fresh id, lists it, updates it and deletes it', async () => {
    const saved = await handlers.saveConnection([draft]);
    expect(saved).toEqual({ ok: true, connection: { ...draft, id: 'id-1' } });
    expect(await handlers.listConnections([])).toEqual({ ok: true, connections: [{ ...draft, id: 'id-1' }] });

    expect(await handlers.saveConnection([{ ...draft, id: 'id-1', name: 'Staging EU' }])).toMatchObject({ ok: true });
    expect(await handlers.listConnections([])).toEqual({ ok: true, connections: [{ ...draft, id: 'id-1', name: 'Staging EU' }] });

    expect(await handlers.deleteConnection(['id-1'])).toEqual({ ok: true });
    expect(await handlers.listConnections([])).toEqual({ ok: true, connections: [] });
  });

  it('keeps both of two saves made at the same time', async () => {
    const results = await Promise.all([handlers.saveConnection([draft]), handlers.saveConnection([{ ...draft, name: 'Other' }])]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect((await loadConnections(dir)).connections.map((c) => c.name).sort()).toEqual(['Other', 'Staging']);
  });

  it('refuses to update or delete a connection that is not saved', async () => {
    expect(await handlers.saveConnection([{ ...draft, id: 'gone' }])).toEqual({ ok: false, error: 'that connection is no longer saved; reload the list' });
    expect(await handlers.deleteConnection(['gone'])).toEqual({ ok: false, error: 'that connection is no longer saved; reload the list' });
  });

  it('answers a bad argument with an error naming the field, and reports it', async () => {
    expect(await handlers.saveConnection([{ ...draft, seeds: ['nope'] }])).toEqual({
      ok: false,
      error: 'saveConnection: seeds[0]: "nope" is not host:port, dns:<name>:<port> or dns-srv:<name>',
    });
    expect(await handlers.connect([{ id: 'x' }])).toMatchObject({ ok: false });
    expect(await handlers.chooseFile(['password'])).toMatchObject({ ok: false });
    expect(errors).toHaveLength(3);
    expect(log).toEqual([]);
  });

  it('lists what it can read of a damaged file, with a warning', async () => {
    writeFileSync(join(dir, CONNECTIONS_FILE), '{oops');
    const listed = await handlers.listConnections([]);
    expect(listed).toMatchObject({ ok: true, connections: [] });
    expect(listed.ok && listed.warning).toContain('not valid JSON');
  });
});

describe('file dialogs through IPC', () => {
  it('returns the chosen path, or null when cancelled', async () => {
    expect(await handlers.chooseFile(['secret'])).toEqual({ ok: true, path: '/home/me/secret' });
    expect(await handlers.chooseFile(['ca'])).toEqual({ ok: true, path: null });
  });
});

describe('sessions through IPC', () => {
  it('connects to a saved connection, switches from one session to the next, and disconnects', async () => {
    await handlers.saveConnection([draft]);
    expect(await handlers.connect(['id-1'])).toEqual({ ok: true });
    expect(await handlers.startDemo([])).toEqual({ ok: true });
    expect(await handlers.disconnect([])).toEqual({ ok: true });
    expect(log).toEqual([
      'open Staging',
      'show http://127.0.0.1:1234/?token=Staging',
      'close Staging',
      'open demo',
      'show http://127.0.0.1:1234/?token=demo',
      'close demo',
      'show connections',
    ]);
  });

  it('reports a connection that is not saved, or a session that does not open, without showing anything', async () => {
    expect(await handlers.connect(['missing'])).toEqual({ ok: false, error: 'that connection is no longer saved; reload the list' });
    openFails = 'no member of Staging answered';
    expect(await handlers.startDemo([])).toEqual({ ok: false, error: 'no member of Staging answered' });
    expect(log).toEqual([]);
  });
});
