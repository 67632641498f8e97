/**
 * `pogo demo` and `pogo observe`: the zero-configuration demo starts a real
 * cluster and a gateway, a UI client sees it, the `pogo ctl` line it prints
 * works as pasted into a shell, its OS-process child writes to stdout and
 * stderr, and SIGINT leaves no process behind (checked by pid).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { io as connect } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { demoChildren } from '../src/cli/demo.js';
import { applyPatch, type ClusterState, type StatePatch } from '../src/observer/state.js';
import type { OutputEvent } from '../src/observer/ui-protocol.js';
import { CLI, EXIT_WITH_PARENT } from './support/processes.js';
import { isAlive as alive, collectJsonLines, killStrays, until } from './support/wait.js';

const strays: number[] = [];
afterEach(() => {
  killStrays(strays);
});

const run = promisify(execFile);

/** Pids of the processes whose parent is one of `parents` and whose command line contains `text` (from /proc). */
function childrenOf(parents: readonly number[], text: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parents.includes(ppid) && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe('pogo demo', () => {
  it('starts a 3-node cluster with children and a gateway, prints a working ctl line; SIGINT stops every process it started', async () => {
    const demo = spawn(process.execPath, ['--import', EXIT_WITH_PARENT, CLI, 'demo', '--nodes', '3', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    strays.push(demo.pid!);
    const lines: Array<Record<string, unknown>> = [];
    collectJsonLines(demo.stdout, lines);
    const exited = new Promise<number | null>((r) => demo.on('exit', (code) => r(code)));
    let writer: number[] = [];
    try {
      await until(() => lines.some((l) => l['msg'] === 'gateway listening'), 20_000, 'demo ready');
    } finally {
      // A demo killed while it starts cannot stop its members: stop each one it said it started, by pid.
      strays.push(...lines.filter((l) => l['msg'] === 'demo node started').map((l) => Number(l['pid'])));
    }
    const ready = lines.find((l) => l['msg'] === 'demo ready') as {
      pids: number[];
      dir: string;
      seed: string;
      secretFile: string;
      ctl: string;
      operatorToken: string;
    };
    strays.push(...ready.pids);
    expect(ready.pids).toHaveLength(3);
    expect(ready.pids.every(alive)).toBe(true);
    // The seed is the first member, the secret file is there.
    expect(ready.seed).toBe(lines.find((l) => l['msg'] === 'demo node started' && l['name'] === 'demo-1')!['address']);
    expect(ready.secretFile).toBe(join(ready.dir, 'secret.txt'));
    expect(existsSync(ready.secretFile)).toBe(true);

    const url = new URL(String(lines.find((l) => l['msg'] === 'gateway listening')!['url']));
    const socket = connect(url.origin, {
      path: '/gateway',
      auth: { token: url.searchParams.get('token'), credential: ready.operatorToken },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    let state: ClusterState | undefined;
    const output: OutputEvent[] = [];
    socket.on('snapshot', (s: ClusterState) => (state = s));
    socket.on('patch', (p: StatePatch, ack: () => void) => {
      if (state) state = applyPatch(state, p);
      ack();
    });
    socket.on('output', (e: OutputEvent) => output.push(e));
    try {
      const expected = demoChildren().length;
      await until(
        () => state !== undefined && Object.values(state.children).filter((c) => c.status === 'running').length === expected,
        15_000,
        `the UI sees all ${expected} demo children running`,
      );
      expect(
        Object.values(state!.members)
          .filter((m) => m.role === 'member')
          .map((m) => m.name)
          .sort(),
      ).toEqual(['demo-1', 'demo-2', 'demo-3']);
      expect(state!.children['log-writer']).toMatchObject({ status: 'running', command: process.execPath });

      // The OS-process child writes a numbered line a second, every third one on stderr too.
      expect(await socket.timeout(5_000).emitWithAck('watchOutput', { id: 'log-writer' })).toEqual({ ok: true });
      const lines = () => output.flatMap((e) => (e.kind === 'lines' ? e.lines : []));
      await until(() => lines().some((l) => l.stream === 'stderr'), 15_000, 'a line of the demo child on stderr');
      // One process of it, a child of a member.
      writer = childrenOf(ready.pids, 'all is well');
      strays.push(...writer);
      expect(writer).toHaveLength(1);
      expect(lines().find((l) => l.stream === 'stdout')?.text).toMatch(/^line \d+: all is well$/);
      expect(lines().find((l) => l.stream === 'stderr')?.text).toMatch(/^line \d+: warning: a demo line on stderr$/);
    } finally {
      socket.close();
    }

    // The printed ctl line, as pasted into a shell, lists the cluster's children.
    expect(ready.ctl).toContain(`ctl --seed ${ready.seed} --secret-file ${ready.secretFile} --token-file ${join(ready.dir, 'operator.txt')} ls`);
    const { stdout } = await run('/bin/sh', ['-c', ready.ctl], { timeout: 30_000 });
    for (const id of ['ticker-1', 'counter-2', 'log-writer']) expect(stdout).toContain(id);

    demo.kill('SIGINT');
    expect(await exited).toBe(0);
    await until(() => [...ready.pids, ...writer].every((p) => !alive(p)), 10_000, 'every demo node and its OS child gone');
    expect(lines.at(-1)).toEqual({ msg: 'demo stopped' });
  });

  it('killed outright (SIGKILL: no stop of its own runs), its members stop themselves, and their OS child with them (--stop-with-parent)', async () => {
    const demo = spawn(process.execPath, [CLI, 'demo', '--nodes', '2', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    strays.push(demo.pid!);
    const lines: Array<Record<string, unknown>> = [];
    collectJsonLines(demo.stdout, lines);
    try {
      await until(() => lines.some((l) => l['msg'] === 'demo ready'), 20_000, 'demo ready');
    } finally {
      strays.push(...lines.filter((l) => l['msg'] === 'demo node started').map((l) => Number(l['pid'])));
    }
    const pids = (lines.find((l) => l['msg'] === 'demo ready') as { pids: number[] }).pids;
    let writer: number[] = [];
    await until(() => (writer = childrenOf(pids, 'all is well')).length === 1, 15_000, 'the demo OS child running');
    strays.push(...writer);
    demo.kill('SIGKILL');
    // Each member sees its parent gone within a second, then leaves as on SIGTERM (the OS child gets its 2 s shutdown).
    await until(() => [...pids, ...writer].every((p) => !alive(p)), 15_000, 'every demo member and its OS child gone');
  });
});
