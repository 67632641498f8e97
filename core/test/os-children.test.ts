/**
 * OS-process children: real `node -e` processes. Output capture, exit
 * reasons, SIGTERM then SIGKILL, process-group cleanup, and no child
 * surviving its node — checked by pid.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive as alive, collectJsonLines, killStrays, until } from './support/wait.js';
import { SupervisorError, type LocalSupervisor } from '../src/supervisor/local-supervisor.js';
import { launchArgs } from '../src/supervisor/os-child.js';
import { osSupervisor, stopSupervisors } from './support/os-supervisor.js';
import { EXIT_WITH_PARENT } from './support/processes.js';

const NODE = process.execPath;
const strays: number[] = [];

afterEach(async () => {
  await stopSupervisors();
  killStrays(strays);
});

function supervisor(allow: string[] = [NODE]): LocalSupervisor {
  return osSupervisor(allow).sup;
}

const js = (id: string, code: string, extra: Record<string, unknown> = {}) => ({ id, start: { command: NODE, args: ['-e', code] }, ...extra });

describe('OS-process children', () => {
  it('captures stdout and stderr line by line', async () => {
    const sup = supervisor();
    await sup.startChild(js('out', "console.log('hello'); console.error('oops'); process.stdout.write('no newline')", { restart: 'temporary' }));
    await until(() => sup.child('out') === undefined, 5_000, 'temporary child removed after exit');
    // Output stays readable through a permanent child; check with one that lingers.
    await sup.startChild(js('talk', "console.log('line 1'); console.log('line 2'); console.error('err 1'); setInterval(() => {}, 1000)"));
    await until(() => sup.output('talk').length === 3, 5_000, 'three lines captured');
    const lines = sup.output('talk');
    expect(lines.map((l) => `${l.stream}:${l.text}`).sort()).toEqual(['stderr:err 1', 'stdout:line 1', 'stdout:line 2']);
    expect(sup.output('talk', lines[0]!.seq)).toHaveLength(2);
  });

  it.each([
    ['permanent', 'normal', 'process.exit(0)', true],
    ['permanent', 'error', 'process.exit(3)', true],
    ['permanent', 'killed', "process.kill(process.pid, 'SIGKILL')", true],
    ['transient', 'normal', 'process.exit(0)', false],
    ['transient', 'error', 'process.exit(3)', true],
    ['transient', 'killed', "process.kill(process.pid, 'SIGKILL')", true],
    ['temporary', 'normal', 'process.exit(0)', false],
    ['temporary', 'error', 'process.exit(3)', false],
    ['temporary', 'killed', "process.kill(process.pid, 'SIGKILL')", false],
  ] as const)('a %s OS child that exits %s: restarted = %s', async (restart, _kind, code, restarted) => {
    const sup = supervisor();
    const events: string[] = [];
    sup.on('child', (e) => events.push(`${e.to}:${e.reason}`));
    // Exit on the second run only after a pause, so one restart can be observed calmly.
    await sup.startChild(js('x', `setTimeout(() => { ${code} }, 100)`, { restart, maxRestarts: 1, maxSeconds: 60 }));
    await until(() => events.some((e) => /^(stopped|removed|starting:restarting)/.test(e)), 5_000, 'first exit handled');
    const afterFirstExit = events.find((e) => /^(stopped|removed|starting:restarting)/.test(e))!;
    if (restarted) expect(afterFirstExit).toMatch(/^starting:restarting/);
    else if (restart === 'temporary') expect(afterFirstExit).toMatch(/^(stopped|removed)/);
    else expect(afterFirstExit).toMatch(/^stopped:exited normally/);
    if (restart === 'temporary') await until(() => sup.child('x') === undefined, 2_000, 'temporary removed');
  });

  it('reports exit codes and signals as the exit reason', async () => {
    const sup = supervisor();
    await sup.startChild(js('code', 'process.exit(7)', { restart: 'transient', maxRestarts: 0 }));
    await until(() => sup.child('code')?.status === 'failing', 5_000, 'failing after exit code 7');
    expect(sup.child('code')?.lastError).toBe('failed: exit code 7');
    await sup.startChild(js('sig', "process.kill(process.pid, 'SIGSEGV')", { restart: 'transient', maxRestarts: 0 }));
    await until(() => sup.child('sig')?.status === 'failing', 5_000, 'failing after a signal');
    expect(sup.child('sig')?.lastError).toBe('killed by SIGSEGV');
  });

  it('a child that ignores SIGTERM is SIGKILLed after its shutdown time, with its whole process group', async () => {
    const sup = supervisor();
    // The child ignores SIGTERM and forks a grandchild that ignores it too.
    const code = `
      process.on('SIGTERM', () => {});
      const { spawn } = require('node:child_process');
      const g = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: 'ignore' });
      console.log('grandchild ' + g.pid);
      setInterval(() => {}, 1000);`;
    await sup.startChild(js('stubborn', code, { shutdown: 400 }));
    await until(() => sup.output('stubborn').some((l) => l.text.startsWith('grandchild ')), 5_000, 'grandchild started');
    const childPid = sup.child('stubborn')!.osPid!;
    const grandchild = Number(
      sup
        .output('stubborn')
        .find((l) => l.text.startsWith('grandchild '))!
        .text.split(' ')[1],
    );
    strays.push(childPid, grandchild);
    expect(alive(childPid) && alive(grandchild)).toBe(true);
    const t0 = performance.now();
    await sup.terminateChild('stubborn');
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(390);
    await until(() => !alive(childPid) && !alive(grandchild), 2_000, 'child and grandchild gone');
    expect(sup.child('stubborn')?.status).toBe('stopped');
  });

  it('brutal_kill kills at once', async () => {
    const sup = supervisor();
    await sup.startChild(
      js('brutal', "process.on('SIGTERM', () => console.log('got SIGTERM')); console.log('up'); setInterval(() => {}, 1000)", { shutdown: 'brutal_kill' }),
    );
    await until(() => sup.output('brutal').length > 0, 5_000, 'brutal child up');
    const pid = sup.child('brutal')!.osPid!;
    await sup.terminateChild('brutal');
    expect(alive(pid)).toBe(false);
    // Never asked: no SIGTERM first, so no wait for the child to answer it.
    expect(sup.output('brutal').map((l) => l.text)).toEqual(['up']);
  });

  it('refuses a command outside allowCommands, and a missing command, with clear errors', async () => {
    const sup = supervisor(['/usr/bin/env', '/no/such/binary']);
    await expect(sup.startChild(js('n', '1'))).rejects.toThrow(SupervisorError);
    await expect(sup.startChild(js('n', '1'))).rejects.toThrow(
      /is not allowed on node n1; allow it with --allow-commands \(allowed: \/usr\/bin\/env, \/no\/such\/binary\)/,
    );
    await expect(sup.startChild({ id: 'm', start: { command: '/no/such/binary' } })).rejects.toThrow(/command not found or not executable: \/no\/such\/binary/);
    expect(sup.whichChildren()).toEqual([]);
  });

  it('never passes POGO_* variables (the cluster secret) to children', async () => {
    process.env['POGO_SECRET'] = 'must-not-leak-0123456789';
    try {
      const sup = supervisor();
      await sup.startChild(
        js('env', "console.log(JSON.stringify(Object.keys(process.env).filter(k => k.startsWith('POGO_')))); console.log(process.env.EXTRA)", {
          restart: 'temporary',
          start: {
            command: NODE,
            args: [
              '-e',
              'console.log(JSON.stringify(Object.keys(process.env).filter(k => ' +
                "k.startsWith('POGO_')))); console.log(process.env.EXTRA); setInterval(()=>{},1000)",
            ],
            env: { EXTRA: 'given' },
          },
        }),
      );
      await until(() => sup.output('env').length === 2, 5_000, 'env printed');
      expect(sup.output('env').map((l) => l.text)).toEqual(['[]', 'given']);
    } finally {
      delete process.env['POGO_SECRET'];
    }
  });
});

describe('OS children and the node process', () => {
  const fixture = new URL('./fixtures/supervised-node.mjs', import.meta.url).pathname;

  function runFixture(specs: unknown[]) {
    const child = spawn(process.execPath, ['--import', EXIT_WITH_PARENT, fixture, JSON.stringify(specs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    strays.push(child.pid!);
    const lines: Array<Record<string, unknown>> = [];
    let stderr = '';
    collectJsonLines(child.stdout, lines);
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    return { child, lines, exited, stderr: () => stderr };
  }

  const osChildren = [
    js('plain', "console.log('up'); setInterval(() => {}, 1000)"),
    js('deaf', "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)", { shutdown: 500 }),
    js('slowstop', "process.on('SIGTERM', () => setTimeout(() => process.exit(0), 200)); console.log('up'); setInterval(() => {}, 1000)"),
    { id: 'tick', start: { worker: 'ticker', args: { intervalMs: 50 } } },
  ];

  it('on SIGTERM the node stops all children in parallel, and no child process survives', async () => {
    const f = runFixture(osChildren);
    await until(() => f.lines.some((l) => l['event'] === 'ready'), 10_000, `fixture ready (stderr: ${f.stderr()})`);
    const ready = f.lines.find((l) => l['event'] === 'ready') as { children: Array<{ id: string; osPid?: number }> };
    const pids = ready.children.filter((c) => c.osPid).map((c) => c.osPid!);
    expect(pids).toHaveLength(3);
    strays.push(...pids);
    expect(pids.every(alive)).toBe(true);
    const t0 = performance.now();
    f.child.kill('SIGTERM');
    expect(await f.exited, `fixture exit code; stderr: ${f.stderr()}; lines: ${JSON.stringify(f.lines.slice(-5))}`).toBe(0);
    const took = performance.now() - t0;
    // The deaf child holds the node for its full shutdown time (500 ms).
    expect(took).toBeGreaterThanOrEqual(500);
    // In parallel: every child is told to stop before any has stopped (in
    // sequence, 'plain' would be stopped before 'deaf' is even asked).
    const stopEvents = f.lines.filter((l) => l['event'] === 'child' && (l['to'] === 'stopping' || l['to'] === 'stopped'));
    const lastAsked = stopEvents.map((l) => l['to']).lastIndexOf('stopping');
    const firstStopped = stopEvents.map((l) => l['to']).indexOf('stopped');
    expect(
      stopEvents
        .filter((l) => l['to'] === 'stopping')
        .map((l) => l['id'])
        .sort(),
    ).toEqual(['deaf', 'plain', 'slowstop', 'tick']);
    expect(lastAsked).toBeLessThan(firstStopped);
    const stopped = f.lines.find((l) => l['event'] === 'stopped') as { children: Array<{ status: string }> };
    expect(stopped.children.every((c) => c.status === 'stopped')).toBe(true);
    expect(pids.filter(alive)).toEqual([]);
  });

  it.runIf(process.platform === 'linux')('if the node is killed with SIGKILL, its OS children die with it (parent-death signal)', async () => {
    const f = runFixture(osChildren.slice(0, 2));
    await until(() => f.lines.some((l) => l['event'] === 'ready'), 10_000, 'fixture ready');
    const ready = f.lines.find((l) => l['event'] === 'ready') as { children: Array<{ osPid?: number }> };
    const pids = ready.children.map((c) => c.osPid!).filter(Boolean);
    strays.push(...pids);
    f.child.kill('SIGKILL');
    await f.exited;
    await until(() => pids.every((p) => !alive(p)), 3_000, 'children gone after the node was SIGKILLed');
  });

  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].some((f) => existsSync(f)) && existsSync('/bin/sh');
  it.runIf(process.platform === 'linux' && setpriv)(
    'a child whose node died before its parent-death signal was set does not run (race "the node killed during a start")',
    async () => {
      // An outsider's tour (reliability/backup-tour.mjs alone): a node SIGKILLed while it spawned a child; the child
      // set its parent-death signal after its parent was gone (never delivered then) and ran on under init, for good,
      // while the cluster considered it stopped. Here the "node" is a pid that is not the child's parent, as after
      // such a death (the child reparented).
      const dir = mkdtempSync(join(tmpdir(), 'pogo-guard-'));
      const run = async (nodePid: number): Promise<boolean> => {
        const marker = join(dir, `ran-${nodePid}`);
        const [file, argv] = launchArgs('/bin/sh', ['-c', `echo ran > ${marker}`], nodePid);
        await new Promise((r) => spawn(file, argv, { stdio: 'ignore' }).on('exit', r));
        return existsSync(marker);
      };
      expect(await run(process.pid)).toBe(true); // its parent is the node: it runs
      expect(await run(2 ** 22 + 1)).toBe(false); // its parent is not (the node died first): it does not
      rmSync(dir, { recursive: true, force: true });
    },
  );

  it('a worker that throws inside its own timer crashes only itself', async () => {
    const f = runFixture([
      { id: 'bomb', start: { worker: 'crasher', args: { crashAfterMs: 100, mode: 'throw' } }, maxRestarts: 1, maxSeconds: 60 },
      { id: 'promise', start: { worker: 'crasher', args: { crashAfterMs: 100, mode: 'reject' } }, maxRestarts: 1, maxSeconds: 60 },
      { id: 'steady', start: { worker: 'ticker', args: { intervalMs: 50 } } },
    ]);
    await until(() => ['bomb', 'promise'].every((id) => f.lines.some((l) => l['id'] === id && l['to'] === 'failing')), 10_000, 'both crashers failing');
    const bomb = f.lines.find((l) => l['id'] === 'bomb' && l['to'] === 'failing')!;
    expect(String(bomb['reason'])).toMatch(/crashed on purpose/);
    const promise = f.lines.find((l) => l['id'] === 'promise' && l['to'] === 'failing')!;
    expect(String(promise['reason'])).toMatch(/rejected on purpose/);
    expect(f.lines.some((l) => l['id'] === 'steady' && l['to'] === 'stopped')).toBe(false);
    expect(f.lines.some((l) => l['event'] === 'fatal')).toBe(false);
    expect(f.child.exitCode).toBeNull();
    f.child.kill('SIGTERM');
    expect(await f.exited, `fixture exit code; stderr: ${f.stderr()}; lines: ${JSON.stringify(f.lines.slice(-5))}`).toBe(0);
  });
});
