/**
 * Sessions for real: a demo session starts member processes and a gateway
 * that serves the renderer and acts with the operator token the renderer
 * never sees; a saved connection reads its files in main; closing leaves no
 * process behind (checked by pid). Every wait is bounded.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterState } from 'pogo-core';
import { startDemoCluster } from 'pogo-core/demo';
import { io } from 'socket.io-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SavedConnection } from './preload-api';
import { openSession, SessionManager, type Session, type SessionTarget } from './session';

const INDEX_HTML = '<!doctype html><title>Pogo test renderer</title>';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = performance.now();
  while (!predicate()) {
    if (performance.now() - start > timeoutMs) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The snapshot a UI gets from the gateway at `url` when it presents no credential (bounded). */
function firstSnapshot(url: string): Promise<ClusterState> {
  const { origin, searchParams } = new URL(url);
  const socket = io(origin, { path: '/gateway', auth: { token: searchParams.get('token') }, transports: ['websocket'], reconnection: false, forceNew: true });
  let timer: NodeJS.Timeout | undefined;
  return new Promise<ClusterState>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error('no snapshot within 10 s')), 10_000);
    socket.once('snapshot', (state: ClusterState) => resolve(state));
    socket.once('connect_error', (err) => reject(err));
    socket.io.once('close', () => reject(new Error('gateway closed the connection')));
  }).finally(() => {
    clearTimeout(timer);
    socket.close();
  });
}

/** Sends one command as a UI session with no credential of its own would (bounded), then closes. */
async function commandAs(url: string, op: string, args: unknown = {}): Promise<{ ok: boolean; result?: unknown; error?: unknown }> {
  const { origin, searchParams } = new URL(url);
  const socket = io(origin, { path: '/gateway', auth: { token: searchParams.get('token') }, transports: ['websocket'], reconnection: false, forceNew: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no snapshot within 10 s')), 10_000);
      socket.once('snapshot', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('connect_error', (err) => reject(err));
    });
    return (await socket.timeout(15_000).emitWithAck('command', { op, args })) as { ok: boolean };
  } finally {
    socket.close();
  }
}

let dir: string;
const strays: number[] = [];
const cleanups: Array<() => Promise<void>> = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pogo-session-'));
  writeFileSync(join(dir, 'index.html'), INDEX_HTML);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
  for (const pid of strays.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

const seedName = (demo: { node: { members(): Array<{ role: string; name: string }> } }): string => demo.node.members().find((m) => m.role === 'member')!.name;

describe('openSession', () => {
  it('demo: serves the renderer at the session URL, acts as operator without the renderer holding a token, and close() stops every process', async () => {
    const session = await openSession('demo', { staticDir: dir, demoNodes: 2 });
    strays.push(...session.pids);
    cleanups.push(() => session.close());
    expect(session.kind).toBe('demo');
    expect(session.pids).toHaveLength(2);
    expect(session.pids.every(isAlive)).toBe(true);
    expect(session.url.startsWith(`${session.origin}/?token=`)).toBe(true);
    expect(new URL(session.origin).hostname).toBe('127.0.0.1');

    const page = await fetch(session.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toBe(INDEX_HTML);

    const state = await firstSnapshot(session.url);
    expect(state.access).toBe('operator');
    expect(Object.values(state.members).filter((m) => m.role === 'member')).toHaveLength(2);

    await session.close();
    await until(() => session.pids.every((pid) => !isAlive(pid)), 10_000, 'every demo process gone');
    await expect(fetch(session.url)).rejects.toThrow();
  });

  it('saved connection: reads the secret and token files in main and joins the cluster through its seeds', async () => {
    const demo = await startDemoCluster({ nodes: 2, port: 0 });
    strays.push(...demo.pids);
    cleanups.push(() => demo.stop());
    const seed = demo.node.members().find((m) => m.role === 'member')!.address;
    const connection: SavedConnection = {
      id: 'c1',
      name: 'Local',
      seeds: [seed],
      secretFile: join(demo.dir, 'secret.txt'),
      viewerTokenFile: join(demo.dir, 'viewer.txt'),
    };

    const session = await openSession(connection, { staticDir: dir });
    cleanups.unshift(() => session.close());
    expect(session).toMatchObject({ kind: 'connection', name: 'Local', access: 'viewer', pids: [] });
    expect(session.url).not.toContain(demo.viewerToken);
    const state = await firstSnapshot(session.url);
    expect(state.access).toBe('viewer');
    expect(state.readOnly).toBe(true);
    await session.close();
    await expect(fetch(session.url)).rejects.toThrow();

    // An operator token file holding one name:token line; the user name the connection gives goes to the audit log.
    writeFileSync(join(dir, 'mine.txt'), `me:${demo.operatorToken}\n`);
    const operator = await openSession({ ...connection, operatorTokenFile: join(dir, 'mine.txt'), user: 'carol' }, { staticDir: dir });
    cleanups.unshift(() => operator.close());
    expect(operator.access).toBe('operator');
    expect(await commandAs(operator.url, 'undrain', { node: seedName(demo) })).toMatchObject({ ok: true });
    const audit = await commandAs(operator.url, 'audit');
    expect((audit.result as { entries: unknown[] }).entries).toContainEqual(
      expect.objectContaining({ op: 'undrain', by: 'carol', tokenName: 'operator', ok: true }),
    );
    await operator.close();

    await demo.stop();
    await until(() => demo.pids.every((pid) => !isAlive(pid)), 10_000, 'every demo process gone');
  });

  it('demo: a cluster that cannot start is reported, with nothing left running', async () => {
    await expect(startDemoCluster({ nodes: 2, execPath: join(dir, 'no-such-node') })).rejects.toThrow(
      `demo-1 could not be started: spawn ${join(dir, 'no-such-node')} ENOENT`,
    );
    await expect(startDemoCluster({ nodes: 0 })).rejects.toThrow('nodes must be a whole number from 1 to 20');
  });

  it('names the file it cannot read', async () => {
    const connection: SavedConnection = { id: 'c1', name: 'Nowhere', seeds: ['127.0.0.1:1'], secretFile: join(dir, 'missing-secret') };
    await expect(openSession(connection, { staticDir: dir })).rejects.toThrow(`secretFile: cannot read ${join(dir, 'missing-secret')} (ENOENT)`);
    writeFileSync(join(dir, 'secret'), 'a-long-enough-cluster-secret');
    writeFileSync(join(dir, 'operator'), '  \n');
    await expect(openSession({ ...connection, secretFile: join(dir, 'secret'), operatorTokenFile: join(dir, 'operator') }, { staticDir: dir })).rejects.toThrow(
      `operatorTokenFile: ${join(dir, 'operator')} is empty`,
    );
    // A member's file of several named tokens is not a client's: say which one to give.
    writeFileSync(join(dir, 'team'), 'alice:alice-token-0123456789\nbob:bob-token-0123456789\n');
    await expect(openSession({ ...connection, secretFile: join(dir, 'secret'), operatorTokenFile: join(dir, 'team') }, { staticDir: dir })).rejects.toThrow(
      `operatorTokenFile: ${join(dir, 'team')}: the file holds 2 tokens (alice, bob); a client presents one`,
    );
  });

  it('says what to check when no member answers, and names a bad secret', async () => {
    writeFileSync(join(dir, 'secret'), 'a-long-enough-cluster-secret');
    const connection: SavedConnection = { id: 'c1', name: 'Nowhere', seeds: ['127.0.0.1:1'], secretFile: join(dir, 'secret') };
    await expect(openSession(connection, { staticDir: dir, connectTimeoutMs: 300 })).rejects.toThrow(
      'no member of Nowhere answered within 0.3 s through 127.0.0.1:1: check the seeds, the secret file',
    );
    writeFileSync(join(dir, 'short'), 'short');
    await expect(openSession({ ...connection, secretFile: join(dir, 'short') }, { staticDir: dir })).rejects.toThrow(
      'cannot start the observer: secret: must be at least 16 characters',
    );
  });
});

describe('SessionManager', () => {
  function fakeOpen(log: string[], pids: number[] = []) {
    return async (target: SessionTarget): Promise<Session> => {
      const name = target === 'demo' ? 'demo' : target.name;
      log.push(`open ${name}`);
      if (name === 'broken') throw new Error('broken does not answer');
      return {
        kind: 'demo',
        name,
        url: 'http://127.0.0.1:1/?token=t',
        origin: 'http://127.0.0.1:1',
        access: 'none',
        pids,
        close: async () => void log.push(`close ${name}`),
      };
    };
  }
  const target = (name: string): SavedConnection => ({ id: name, name, seeds: ['127.0.0.1:1'], secretFile: '/s' });

  it('keeps one session: each switch closes the previous one first, even when called at once', async () => {
    const log: string[] = [];
    const manager = new SessionManager(fakeOpen(log));
    await Promise.all([manager.switchTo(target('a')), manager.switchTo(target('b')), manager.switchTo('demo')]);
    expect(manager.current?.name).toBe('demo');
    await manager.close();
    await manager.close();
    expect(log).toEqual(['open a', 'close a', 'open b', 'close b', 'open demo', 'close demo']);
    expect(manager.current).toBeUndefined();
  });

  it('has no session after one fails to open, and opens the next one normally', async () => {
    const log: string[] = [];
    const manager = new SessionManager(fakeOpen(log));
    await manager.switchTo(target('a'));
    await expect(manager.switchTo(target('broken'))).rejects.toThrow('broken does not answer');
    expect(manager.current).toBeUndefined();
    await manager.switchTo(target('c'));
    expect(log).toEqual(['open a', 'close a', 'open broken', 'open c']);
  });

  it('killNow SIGKILLs the processes of a session that is still open', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    strays.push(child.pid!);
    const exited = new Promise((r) => child.once('exit', r));
    const manager = new SessionManager(fakeOpen([], [child.pid!]));
    await manager.switchTo('demo');
    manager.killNow();
    await exited;
    expect(isAlive(child.pid!)).toBe(false);
  });
});
