/**
 * `pogo demo` and `pogo observe`: the zero-configuration demo starts a real
 * cluster and a gateway, a UI client sees it, and SIGINT leaves no process
 * behind (checked by pid).
 */
import { spawn } from 'node:child_process';
import { io as connect } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { applyPatch, type ClusterState, type StatePatch } from '../src/observer/state.js';
import { CLI } from './support/processes.js';
import { isAlive as alive, collectJsonLines, killStrays, until } from './support/wait.js';

const strays: number[] = [];
afterEach(() => {
  killStrays(strays);
});


describe('pogo demo', () => {
  it('starts a 3-node cluster with children and a gateway; SIGINT stops every process it started', async () => {
    const demo = spawn(process.execPath, [CLI, 'demo', '--nodes', '3', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    strays.push(demo.pid!);
    const lines: Array<Record<string, unknown>> = [];
    collectJsonLines(demo.stdout, lines);
    const exited = new Promise<number | null>((r) => demo.on('exit', (code) => r(code)));
    await until(() => lines.some((l) => l['msg'] === 'gateway listening'), 20_000, 'demo ready');
    const ready = lines.find((l) => l['msg'] === 'demo ready') as { pids: number[] };
    strays.push(...ready.pids);
    expect(ready.pids).toHaveLength(3);
    expect(ready.pids.every(alive)).toBe(true);

    const url = new URL(String(lines.find((l) => l['msg'] === 'gateway listening')!['url']));
    const socket = connect(url.origin, { path: '/gateway', auth: { token: url.searchParams.get('token') }, transports: ['websocket'], reconnection: false, forceNew: true });
    let state: ClusterState | undefined;
    socket.on('snapshot', (s: ClusterState) => (state = s));
    socket.on('patch', (p: StatePatch, ack: () => void) => {
      if (state) state = applyPatch(state, p);
      ack();
    });
    try {
      await until(() => state !== undefined && Object.values(state.children).filter((c) => c.status === 'running').length === 8, 15_000, 'the UI sees 8 running children');
      expect(Object.values(state!.members).filter((m) => m.role === 'member').map((m) => m.name).sort()).toEqual(['demo-1', 'demo-2', 'demo-3']);
    } finally {
      socket.close();
    }

    demo.kill('SIGINT');
    expect(await exited).toBe(0);
    await until(() => ready.pids.every((p) => !alive(p)), 10_000, 'every demo node gone');
    expect(lines.at(-1)).toEqual({ msg: 'demo stopped' });
  });
});
