/**
 * Integration with real processes: `pogo node` OS processes on ephemeral
 * loopback ports, killed with real signals. Needs the built CLI (core/dist):
 * the test setup builds it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { io } from 'socket.io-client';
import type { NodeProcess } from './support/processes.js';
import { EXIT_WITH_PARENT, ProcessCluster } from './support/processes.js';

let cluster: ProcessCluster;
afterEach(async () => {
  await cluster.stopAll();
});

const statusOf = async (p: NodeProcess, name: string) => (await p.status()).members.find((m) => m.name === name);

async function threeNodes(extra: string[] = []): Promise<[NodeProcess, NodeProcess, NodeProcess]> {
  cluster = new ProcessCluster();
  const n1 = await cluster.start('n1', [], extra);
  const n2 = await cluster.start('n2', [n1.address], extra);
  const n3 = await cluster.start('n3', [n1.address], extra);
  await cluster.until(
    async () => {
      for (const p of [n1, n2, n3]) if ((await p.status()).members.filter((m) => m.status === 'up').length !== 3) return false;
      return true;
    },
    10_000,
    'three-node full mesh',
  );
  return [n1, n2, n3];
}

describe('real pogo node processes', () => {
  it('three nodes form a cluster; SIGKILL marks one down at once; a restart rejoins with a new incarnation', async () => {
    const [n1, n2, n3] = await threeNodes();
    const oldIncarnation = (await n3.status()).incarnation;

    const killedAt = performance.now();
    n3.signal('SIGKILL');
    await cluster.until(
      async () => (await statusOf(n1, 'n3'))?.status === 'down' && (await statusOf(n2, 'n3'))?.status === 'down',
      5_000,
      'n3 down on n1 and n2',
      10,
    );
    const detectedMs = performance.now() - killedAt;
    // At once: from the closed socket, not from the heartbeat timeout.
    for (const survivor of [n1, n2]) {
      const down = survivor.lines.filter((l) => l.msg === 'member down' && l['peer'] === 'n3');
      expect(down).toHaveLength(1);
      expect(String(down[0]!['reason'])).not.toMatch(/heartbeat timeout/);
    }
    console.log(`SIGKILL detected by both peers in ${detectedMs.toFixed(0)} ms`);

    const again = await cluster.start('n3', [n1.address]);
    const newIncarnation = (await again.status()).incarnation;
    expect(newIncarnation).not.toBe(oldIncarnation);
    await cluster.until(
      async () =>
        (await statusOf(n1, 'n3'))?.incarnation === newIncarnation &&
        (await statusOf(n1, 'n3'))?.status === 'up' &&
        (await statusOf(n2, 'n3'))?.status === 'up',
      10_000,
      'n3 rejoined',
    );
    expect((await again.status()).members.filter((m) => m.status === 'up').map((m) => m.name)).toEqual(['n1', 'n2', 'n3']);
  });

  it('a frozen peer (SIGSTOP) is declared down after the heartbeat timeout, and rejoins after SIGCONT', async () => {
    const timing = ['--heartbeat-interval-ms', '100', '--suspect-after-ms', '400', '--heartbeat-timeout-ms', '1000'];
    const [n1, n2, n3] = await threeNodes(timing);
    const stoppedAt = performance.now();
    n2.signal('SIGSTOP');
    await cluster.until(
      async () => (await statusOf(n1, 'n2'))?.status === 'down' && (await statusOf(n3, 'n2'))?.status === 'down',
      10_000,
      'n2 down after freeze',
    );
    const detectedMs = performance.now() - stoppedAt;
    // By the timeout (a frozen process cannot close its sockets), counted from the last frame heard
    // from n2, which came up to one heartbeat interval before the SIGSTOP: never before the timeout.
    for (const survivor of [n1, n3]) {
      const closed = survivor.lines.find((l) => l.msg === 'peer silent past the heartbeat timeout; closing link' && l['peer'] === 'n2');
      expect(closed?.['silenceMs']).toBeGreaterThanOrEqual(1_000);
    }
    console.log(`SIGSTOP detected in ${detectedMs.toFixed(0)} ms (timeout 1000 ms)`);
    expect(n1.lines.some((l) => l.msg === 'peer suspect' && l['peer'] === 'n2')).toBe(true);
    n2.signal('SIGCONT');
    await cluster.until(
      async () => {
        for (const p of [n1, n2, n3]) if ((await p.status()).members.filter((m) => m.status === 'up').length !== 3) return false;
        return true;
      },
      15_000,
      'mesh re-formed after SIGCONT',
    );
  });

  it('SIGTERM announces a graceful leave and exits cleanly', async () => {
    const [n1, n2, n3] = await threeNodes();
    n3.signal('SIGTERM');
    await n3.waitFor(() => n3.exited, 5_000, 'exit after SIGTERM');
    expect(n3.exitCode).toBe(0);
    await cluster.until(async () => (await statusOf(n1, 'n3'))?.status === 'left' && (await statusOf(n2, 'n3'))?.status === 'left', 3_000, 'n3 left');
    expect(n1.lines.some((l) => l.msg === 'member left' && l['peer'] === 'n3')).toBe(true);
  });

  it('refuses peers with a wrong secret or cluster name; the cluster is unaffected', async () => {
    const [n1, n2, n3] = await threeNodes();
    const wrongSecret = cluster.writeSecret('wrong.txt', 'not-the-right-secret-at-all');
    const intruder = await cluster.start('intruder', [n1.address], ['--secret-file', wrongSecret]);
    const stranger = await cluster.start('stranger', [n2.address], ['--cluster', 'staging']);
    await intruder.waitForLog((l) => l['code'] === 'auth-failed', 5_000, 'auth-failed');
    await stranger.waitForLog((l) => l['code'] === 'cluster-mismatch', 5_000, 'cluster-mismatch');
    await n1.waitForLog((l) => l['code'] === 'auth-failed' && l['peer'] === 'intruder', 5_000, 'n1 logs the refusal');
    for (const p of [n1, n2, n3]) {
      const members = (await p.status()).members;
      expect(members.map((m) => m.name)).toEqual(['n1', 'n2', 'n3']);
      expect(members.every((m) => m.status === 'up')).toBe(true);
    }
    expect((await intruder.status()).members.map((m) => m.name)).toEqual(['intruder']);
  });

  it('rejects malformed frames, unknown events and oversized payloads, and keeps serving', async () => {
    const [n1, , n3] = await threeNodes(['--max-message-bytes', '65536']);
    const url = `http://${n1.address}`;
    const probe = (send: (s: ReturnType<typeof io>) => void): Promise<{ replies: unknown[]; closed: boolean }> =>
      new Promise((resolve) => {
        const s = io(url, { path: '/pogo', transports: ['websocket'], reconnection: false, forceNew: true });
        const replies: unknown[] = [];
        s.on('m', (m: unknown) => replies.push(m));
        s.on('connect', () => send(s));
        const done = () => {
          s.close();
          resolve({ replies, closed: true });
        };
        s.on('disconnect', done);
        setTimeout(() => {
          s.close();
          resolve({ replies, closed: false });
        }, 3_000);
      });

    const wrongTypes = await probe((s) => s.emit('m', { t: 'hello', name: 42 }));
    expect(wrongTypes.replies).toEqual([expect.objectContaining({ t: 'reject', code: 'malformed' })]);
    expect(wrongTypes.closed).toBe(true);

    const unknownEvent = await probe((s) => s.emit('exec', { cmd: 'rm -rf /' }));
    expect(unknownEvent.replies).toEqual([expect.objectContaining({ t: 'reject', code: 'malformed' })]);
    expect(unknownEvent.closed).toBe(true);

    const notJsonish = await probe((s) => s.emit('m', 'x', 'y', 'z'));
    expect(notJsonish.replies).toEqual([expect.objectContaining({ t: 'reject', code: 'malformed' })]);

    const oversized = await probe((s) => s.emit('m', { t: 'hello', pad: 'x'.repeat(200_000) }));
    expect(oversized.closed).toBe(true);

    // A raw non-Socket.IO HTTP request is answered, not fatal.
    const res = await fetch(`${url}/anything`);
    expect(res.status).toBe(404);

    await n1.waitForLog((l) => l.msg === 'invalid handshake frame', 1_000, 'rejection logged with a reason');
    const members = (await n1.status()).members;
    expect(members.filter((m) => m.status === 'up').map((m) => m.name)).toEqual(['n1', 'n2', 'n3']);
    expect(n1.exited).toBe(false);
    // New peers can still join.
    const n4 = await cluster.start('n4', [n3.address], ['--max-message-bytes', '65536']);
    await cluster.until(
      async () =>
        (await n1.status()).members.filter((m) => m.status === 'up').length === 4 && (await n4.status()).members.filter((m) => m.status === 'up').length === 4,
      10_000,
      'n4 joined',
    );
  });

  it('a second process claiming a live name is refused and the original keeps its place', async () => {
    const [n1, n2] = await threeNodes();
    const original = (await n2.status()).incarnation;
    const clone = await cluster.start('n2', [n1.address]);
    await clone.waitForLog((l) => l['code'] === 'duplicate-name', 5_000, 'duplicate-name refusal');
    expect((await statusOf(n1, 'n2'))?.incarnation).toBe(original);
    expect((await statusOf(n1, 'n2'))?.status).toBe('up');
    expect(clone.exited).toBe(false);
  });

  it('loads worker modules with --workers and advertises their types to peers', async () => {
    cluster = new ProcessCluster();
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const module = join(cluster.dir, 'my-workers.mjs');
    writeFileSync(module, "export default function ({ defineWorker }) { defineWorker('mailer', () => ({ stop() {} })); }\n");
    const n1 = await cluster.start('n1', [], ['--workers', 'examples', '--workers', module]);
    const n2 = await cluster.start('n2', [n1.address]);
    await n1.waitForLog((l) => l.msg === 'worker types loaded', 5_000, 'workers loaded');
    await cluster.until(async () => (await statusOf(n2, 'n1'))?.workers.length === 5, 5_000, 'n2 learns the worker types of n1');
    expect((await statusOf(n2, 'n1'))?.workers).toEqual(['counter', 'crasher', 'kv-counter', 'mailer', 'ticker']);
  });

  it("runs --workers modules that register through 'pogo-core' against the node's own registry (the CLI's bundle holds no copy of it)", async () => {
    cluster = new ProcessCluster();
    const { fileURLToPath } = await import('node:url');
    const module = fileURLToPath(new URL('./fixtures/top-level-workers.mjs', import.meta.url));
    const n1 = await cluster.start('n1', [], ['--workers', module]);
    const loaded = await n1.waitForLog((l) => l.msg === 'worker types loaded', 5_000, 'workers loaded');
    expect(loaded['workers']).toEqual(['top-level']);
    expect((await statusOf(n1, 'n1'))?.workers).toEqual(['top-level']);
  });

  it('refuses a worker module that cannot be loaded, with exit code 2', async () => {
    cluster = new ProcessCluster();
    const { spawnSync } = await import('node:child_process');
    const { CLI } = await import('./support/processes.js');
    const r = spawnSync(
      process.execPath,
      [CLI, 'node', '--name', 'n1', '--port', '0', '--workers', './no-such-module.js', '--secret-file', cluster.secretFile],
      { encoding: 'utf8', timeout: 10_000 },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot load worker module \.\/no-such-module\.js/);
  });

  it('exits with code 2 and names the field on invalid configuration', async () => {
    cluster = new ProcessCluster();
    const { spawnSync } = await import('node:child_process');
    const { CLI } = await import('./support/processes.js');
    const r = spawnSync(process.execPath, [CLI, 'node', '--name', 'n1', '--port', 'eighty', '--secret-file', cluster.secretFile], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/port \(from --port\): "eighty" is not a number/);
  });

  it('a port in use (the status port, the node port) is said in one line and ends the node with code 1 before it joins', async () => {
    cluster = new ProcessCluster();
    const { spawn } = await import('node:child_process');
    const { createServer } = await import('node:net');
    const { CLI } = await import('./support/processes.js');
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = String((taken.address() as { port: number }).port);
    /** Runs `pogo node` with these extra flags until it exits (bounded), by pid. */
    const run = (extra: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', EXIT_WITH_PARENT, CLI, 'node', '--name', 'n1', '--secret-file', cluster!.secretFile, ...extra], {
          stdio: 'pipe',
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.on('exit', (status) => {
          clearTimeout(timer);
          resolve({ status, stdout, stderr });
        });
      });
    try {
      const status = await run(['--port', '0', '--status-port', port]);
      expect(status.status).toBe(1);
      expect(status.stderr).toMatch(new RegExp(`cannot serve the status endpoint on --status-port 127\\.0\\.0\\.1:${port}: the address is already in use`));
      expect(status.stdout).not.toMatch(/node started/);
      const node = await run(['--port', port]);
      expect(node.status).toBe(1);
      expect(node.stderr).toMatch(new RegExp(`cannot listen on --host/--port [^ ]+:${port}: the address is already in use`));
      expect(node.stderr).not.toMatch(/\n\s+at /);
    } finally {
      taken.close();
    }
  });
});
