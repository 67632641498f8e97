/**
 * `pogo ctl` against a real three-process cluster: start, ls, move, drain,
 * stop; JSON output; exit codes; a viewer token cannot change anything;
 * every command lands in the audit log.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, ProcessCluster, writeJson, type NodeProcess } from './support/processes.js';

let cluster: ProcessCluster;
afterEach(async () => {
  await cluster.stopAll();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function ctl(args: string[], seed: string, extra: string[] = []): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'ctl', ...args, '--seed', seed, '--secret-file', cluster.secretFile, '--timeout', '10000', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('pogo ctl', () => {
  it('operates a real cluster: start, ls, move, drain, stop, audit; JSON parses; a viewer cannot change anything', async () => {
    cluster = new ProcessCluster();
    const op = cluster.writeSecret('operator.txt', 'operator-token-0123456789abcdef');
    const viewer = cluster.writeSecret('viewer.txt', 'viewer-token-0123456789abcdef');
    const flags = ['--workers', 'examples', '--operator-token-file', op, '--viewer-token-file', viewer];
    const n1 = await cluster.start('n1', [], flags);
    const nodes: NodeProcess[] = [n1, await cluster.start('n2', [n1.address], flags), await cluster.start('n3', [n1.address], flags)];
    await cluster.until(async () => (await Promise.all(nodes.map((n) => n.status()))).every((s) => s.supervisor.ready && s.members.filter((m) => m.status === 'up').length === 3), 10_000, 'cluster ready');
    const seed = n1.address;
    const asOperator = ['--token-file', op, '--json'];

    const spec = writeJson(cluster.dir, 'spec.json', { id: 'web-1', start: { worker: 'ticker', args: { intervalMs: 60_000 } } });
    const started = await ctl(['start', spec], seed, asOperator);
    expect(started.code).toBe(0);
    const startedJson = JSON.parse(started.stdout) as { ok: boolean; result: { id: string; node: string; pid: string } };
    expect(startedJson).toMatchObject({ ok: true, result: { id: 'web-1' } });

    const ls = await ctl(['ls'], seed, ['--json']);
    expect(ls.code).toBe(0);
    const listed = (JSON.parse(ls.stdout) as { result: Array<{ id: string; node: string; status: string }> }).result;
    expect(listed).toEqual([expect.objectContaining({ id: 'web-1', node: startedJson.result.node, status: 'running' })]);

    const target = ['n1', 'n2', 'n3'].find((n) => n !== startedJson.result.node)!;
    const moved = await ctl(['move', 'web-1', target], seed, asOperator);
    expect(moved.code).toBe(0);
    expect(JSON.parse(moved.stdout)).toMatchObject({ ok: true, result: { node: target } });

    // A viewer can read but not change.
    const denied = await ctl(['drain', target], seed, ['--token-file', viewer, '--json']);
    expect(denied.code).toBe(4);
    expect(JSON.parse(denied.stdout)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const noToken = await ctl(['stop', 'web-1'], seed, ['--json']);
    expect(noToken.code).toBe(4);

    const drained = await ctl(['drain', target], seed, asOperator);
    expect(drained.code).toBe(0);
    const targetNode = nodes.find((n) => n.name === target)!;
    await cluster.until(async () => (await targetNode.status()).supervisor.local.active === 0, 10_000, 'drained node empty');
    const after = JSON.parse((await ctl(['ls'], seed, ['--json'])).stdout) as { result: Array<{ node: string; status: string }> };
    expect(after.result[0]!.node).not.toBe(target);

    const human = await ctl(['status'], seed);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/NAME\s+STATUS\s+ROLE/);
    expect(human.stdout).toMatch(new RegExp(`${target}\\s+up\\s+member.*yes\\s*$`, 'm'));

    const stopped = await ctl(['stop', 'web-1'], seed, asOperator);
    expect(stopped.code).toBe(0);
    const missing = await ctl(['stop', 'web-1'], seed, asOperator);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ ok: false, error: { code: 'not-found' } });

    const audit = await ctl(['audit'], seed, ['--token-file', viewer, '--json']);
    expect(audit.code).toBe(0);
    const entries = (JSON.parse(audit.stdout) as { result: Array<{ op: string; ok: boolean; result: string }> }).result;
    expect(entries.map((e) => `${e.op}:${e.ok}`)).toEqual(['start:true', 'move:true', 'drain:false', 'stop:false', 'drain:true', 'stop:true', 'stop:false']);
    expect(entries.find((e) => e.op === 'drain' && !e.ok)!.result).toMatch(/^forbidden/);
  });

  it('says clearly when the cluster cannot be reached, and rejects bad usage', async () => {
    cluster = new ProcessCluster();
    const unreachable = await ctl(['ls'], '127.0.0.1:9', ['--timeout', '1000']);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toMatch(/could not join the cluster/);
    const usage = await ctl(['move', 'only-one-arg'], '127.0.0.1:9');
    expect(usage.code).toBe(2);
    // Arguments are checked with the op's schema before anything is sent; the refusal names the field.
    const badNode = await ctl(['move', 'web-1', 'not a node!'], '127.0.0.1:9');
    expect(badNode.code).toBe(2);
    expect(badNode.stderr).toMatch(/^pogo ctl: move: node: must be a node name/);
    const spec = writeJson(cluster.dir, 'bad-spec.json', { id: 'x', start: { worker: 'ticker' }, restart: 'sometimes' });
    const badSpec = await ctl(['start', spec], '127.0.0.1:9', ['--json']);
    expect(badSpec.code).toBe(2);
    expect(JSON.parse(badSpec.stdout)).toMatchObject({ ok: false, error: { code: 'usage', message: expect.stringMatching(/^start: spec\.restart: /) } });
    const unknown = await ctl(['reboot'], '127.0.0.1:9');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "reboot"/);
  });
});
