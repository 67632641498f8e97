/**
 * The cluster harness itself on real processes (core/src/harness/): ports
 * found from log lines, through a pipe and through a log file; a restart
 * with the same name and data dir is a new process and incarnation that
 * rejoins; a process that cannot be spawned or exits at start-up is
 * reported, not waited out; close() leaves no pid alive and no directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessCluster } from '../src/harness/process-cluster.js';
import { liveProcessCount, spawnPogo, type PogoProcess } from '../src/harness/pogo-process.js';
import { isAlive } from './support/wait.js';

let cluster: ProcessCluster | undefined;
const loose: PogoProcess[] = [];
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
  await Promise.all(loose.splice(0).map((p) => p.kill()));
});

describe('cluster harness', () => {
  it('finds ports through a log file, restarts a node with its data dir as a new incarnation, and close() leaves nothing', { timeout: 90_000 }, async () => {
    cluster = new ProcessCluster({
      prefix: 'pogo-harness-',
      status: true,
      logFiles: true,
      flags: ['--preset', 'local'],
      env: { POGO_LOG_LEVEL: 'info' },
      startTimeoutMs: 30_000,
    });
    const dataDir = join(cluster.dir, 'n2-data');
    const n1 = await cluster.start('n1');
    const n2 = await cluster.start('n2', [n1.address], ['--data-dir', dataDir]);
    // The ports are the ones the nodes report, and they serve there.
    expect(n1.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(n2.logTail(50)).toContain('"msg":"node started"');
    expect(readFileSync(n2.options.logFile!, 'utf8')).toContain(`"address":"${n2.address}"`);
    await cluster.until(async () => (await n1.status()).members.some((m) => m.name === 'n2' && m.status === 'up'), 30_000, 'n1 sees n2 up');
    expect(existsSync(dataDir)).toBe(true);

    const before = { pid: n2.pid, incarnation: (await n2.status()).incarnation };
    await n2.kill();
    expect(n2.exitSignal).toBe('SIGKILL');
    expect(isAlive(before.pid)).toBe(false);
    const again = await cluster.restart('n2');
    expect(again).not.toBe(n2);
    expect(again.pid).not.toBe(before.pid);
    expect(cluster.nodes.get('n2')).toBe(again);
    // Same flags, so the same data dir; a new incarnation that rejoins n1.
    expect(String(again.child.spawnargs.join(' '))).toContain(`--data-dir ${dataDir}`);
    const after = await again.status();
    expect(after.incarnation).not.toBe(before.incarnation);
    await cluster.until(
      async () => (await n1.status()).members.some((m) => m.name === 'n2' && m.status === 'up' && m.incarnation === after.incarnation),
      30_000,
      'n1 sees the new n2 up',
    );

    const pids = cluster.procs.map((p) => p.pid);
    const dir = cluster.dir;
    expect(pids).toHaveLength(3);
    await cluster.close();
    cluster = undefined;
    expect(pids.filter(isAlive)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });

  it('reports a process that cannot be spawned or exits at start-up at once, with its output', { timeout: 60_000 }, async () => {
    const missing = spawnPogo('ghost', ['node'], { execPath: '/no/such/node' });
    loose.push(missing);
    await expect(missing.started(30_000)).rejects.toThrow('ghost could not be started: spawn /no/such/node ENOENT');

    cluster = new ProcessCluster({ prefix: 'pogo-harness-' });
    // Reported on its exit ("exited during start-up"), not when the bound runs out ("not seen within").
    await expect(cluster.start('bad', [], ['--preset', 'nonsense'], { timeoutMs: 30_000 })).rejects.toThrow(
      /bad exited during start-up \(code 2\)[\s\S]*preset/,
    );
    expect(cluster.procs[0]!.exited).toBe(true);
  });

  it('SIGSTOP by pid; kill() ends a frozen process too; nothing stays registered', { timeout: 60_000 }, async () => {
    cluster = new ProcessCluster({ prefix: 'pogo-harness-', startTimeoutMs: 30_000 });
    const n1 = await cluster.start('n1');
    n1.signal('SIGSTOP');
    await cluster.until(() => readFileSync(`/proc/${n1.pid}/stat`, 'utf8').split(') ')[1]!.startsWith('T'), 10_000, 'n1 stopped');
    await n1.kill();
    expect(n1.exitSignal).toBe('SIGKILL');
    expect(isAlive(n1.pid)).toBe(false);
    // A signal after the exit is not sent (the pid may be someone else's by now).
    expect(() => n1.signal('SIGTERM')).not.toThrow();
    await cluster.close();
    cluster = undefined;
    expect(liveProcessCount()).toBe(0);
  });
});
