/**
 * `pogo ctl` against real `pogo node` processes on 127.0.0.1: a client
 * linked to one member, not a node. Every `--json` failure path prints the
 * error object with its exit code; a wrong secret fails with the
 * handshake's reason; 1,000 specs start from a file and from stdin; restart
 * and OS pids are checked against the children's own records; `logs
 * --follow` sees what is printed after it started, stderr marked, and
 * follows a move; `--seed` decides which member executes (its audit says
 * so); and no trace of a session is left in `/status`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killStrays } from './support/wait.js';
import { CLI, ProcessCluster, writeJson, type NodeProcess } from './support/processes.js';

let cluster: ProcessCluster | undefined;
/** Every ctl process a test started, stopped by pid at the end. */
const ctlPids = new Set<number>();
afterEach(async () => {
  killStrays(ctlPids);
  await cluster?.stopAll();
  cluster = undefined;
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running `pogo ctl` whose output can be awaited line by line. */
interface Live {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the output matches (re-checked on every chunk); rejects after `ms` or if it exits first. */
  until(pattern: RegExp, where: 'stdout' | 'stderr', ms: number): Promise<void>;
  exited: Promise<Run>;
}

function spawnCtl(args: string[], options: { input?: string; env?: Record<string, string> } = {}): Live {
  const child = spawn(process.execPath, [CLI, 'ctl', ...args], {
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  ctlPids.add(child.pid!);
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
    for (const w of [...waiters]) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
    for (const w of [...waiters]) w();
  });
  if (options.input !== undefined) child.stdin!.end(options.input);
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const exited = new Promise<Run>((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(killer);
      ctlPids.delete(child.pid!);
      for (const w of [...waiters]) w();
      resolve({ code, stdout, stderr });
    });
  });
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    until: (pattern, where, ms) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (pattern.test(where === 'stdout' ? stdout : stderr)) {
            cleanup();
            resolve();
          } else if (done) {
            cleanup();
            reject(new Error(`ctl exited before ${pattern} on ${where}\nstdout: ${stdout.slice(-1000)}\nstderr: ${stderr.slice(-1000)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${pattern} not on ctl's ${where} within ${ms} ms\nstdout: ${stdout.slice(-1000)}\nstderr: ${stderr.slice(-1000)}`));
        }, ms);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
  };
}

/** Runs `pogo ctl <args> --seed <seeds…> --secret-file …` to the end. */
function ctl(args: string[], seeds: string | string[], extra: string[] = [], options: { input?: string; secretFile?: string } = {}): Promise<Run> {
  const seedArgs = (Array.isArray(seeds) ? seeds : [seeds]).flatMap((s) => ['--seed', s]);
  return spawnCtl([...args, ...seedArgs, '--secret-file', options.secretFile ?? cluster!.secretFile, '--timeout', '20000', ...extra], options).exited;
}

const json = (run: Run): { ok: boolean; result?: unknown; error?: { code: string; message: string } } => {
  try {
    return JSON.parse(run.stdout) as { ok: boolean; result?: unknown; error?: { code: string; message: string } };
  } catch {
    throw new Error(`not one JSON object on stdout (exit ${run.code}):\n${run.stdout.slice(0, 2000)}\nstderr: ${run.stderr.slice(0, 2000)}`);
  }
};

const OPERATOR = 'operator-token-0123456789abcdef';
const VIEWER = 'viewer-token-0123456789abcdef';

/** Three members with the example workers and `/bin/sh` allowed, ready and fully linked. */
async function threeMembers(): Promise<{ nodes: NodeProcess[]; op: string; viewer: string }> {
  cluster = new ProcessCluster();
  const op = cluster.writeSecret('operator.txt', OPERATOR);
  const viewer = cluster.writeSecret('viewer.txt', VIEWER);
  const flags = ['--workers', 'examples', '--allow-commands', '/bin/sh', '--operator-token-file', op, '--viewer-token-file', viewer];
  const n1 = await cluster.start('n1', [], flags);
  const nodes = [n1, await cluster.start('n2', [n1.address], flags), await cluster.start('n3', [n1.address], flags)];
  await cluster.until(
    async () => (await Promise.all(nodes.map((n) => n.status()))).every((s) => s.supervisor.ready && s.members.filter((m) => m.status === 'up').length === 3),
    15_000,
    'cluster ready',
  );
  return { nodes, op, viewer };
}

/** No sign of a ctl session in a node's /status (members, links, dial attempts, groups). */
async function expectNoTrace(node: NodeProcess): Promise<void> {
  const status = await node.status();
  expect(status.members.map((m) => m.name).sort()).toEqual(['n1', 'n2', 'n3']);
  expect(status.links.map((l) => l.peer).sort()).toEqual(['n1', 'n2', 'n3'].filter((n) => n !== node.name));
  expect(status.dialing).toEqual([]);
  expect(JSON.stringify(status)).not.toMatch(/ctl-/);
}

describe('pogo ctl', () => {
  it('operates a real cluster through one member: start, ls, move, drain, stop, audit; JSON parses; a viewer cannot change anything', async () => {
    const { nodes, op, viewer } = await threeMembers();
    const seed = nodes[0]!.address;
    const asOperator = ['--token-file', op, '--json'];

    const spec = writeJson(cluster!.dir, 'spec.json', { id: 'web-1', start: { worker: 'ticker', args: { intervalMs: 60_000 } } });
    const started = await ctl(['start', spec], seed, asOperator);
    expect(started.code).toBe(0);
    const startedJson = json(started) as { ok: boolean; result: { id: string; state: string; node: string; pid: string } };
    expect(startedJson).toMatchObject({ ok: true, result: { id: 'web-1', state: 'running' } });

    const ls = await ctl(['ls'], seed, ['--json']);
    expect(ls.code).toBe(0);
    expect(json(ls).result).toEqual([expect.objectContaining({ id: 'web-1', node: startedJson.result.node, status: 'running' })]);

    const target = ['n1', 'n2', 'n3'].find((n) => n !== startedJson.result.node)!;
    const moved = await ctl(['move', 'web-1', target], seed, asOperator);
    expect(moved.code).toBe(0);
    expect(json(moved)).toMatchObject({ ok: true, result: { node: target } });

    // A viewer can read but not change.
    const denied = await ctl(['drain', target], seed, ['--token-file', viewer, '--json']);
    expect(denied.code).toBe(4);
    expect(json(denied)).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    const drained = await ctl(['drain', target], seed, asOperator);
    expect(drained.code).toBe(0);
    const targetNode = nodes.find((n) => n.name === target)!;
    await cluster!.until(async () => (await targetNode.status()).supervisor.local.active === 0, 10_000, 'drained node empty');
    const after = json(await ctl(['ls'], seed, ['--json'])) as { result: Array<{ node: string; status: string }> };
    expect(after.result[0]!.node).not.toBe(target);

    const human = await ctl(['status'], seed);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^NAME\s+STATUS\s+ADDRESS\s+READY\s+DRAINING$/m);
    expect(human.stdout).toMatch(new RegExp(`^${target}\\s+up\\s+\\S+\\s+yes\\s+yes$`, 'm'));

    const stopped = await ctl(['stop', 'web-1'], seed, asOperator);
    expect(stopped.code).toBe(0);
    const missing = await ctl(['stop', 'web-1'], seed, asOperator);
    expect(missing.code).toBe(1);
    expect(json(missing)).toMatchObject({ ok: false, error: { code: 'not-found' } });
    // whereis of an id the cluster does not hold says so, as explain does (not "no running instance").
    const nowhere = await ctl(['whereis', 'web-1'], seed, ['--token-file', viewer, '--json']);
    expect(nowhere.code).toBe(1);
    expect(json(nowhere)).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect((await ctl(['whereis', 'web-1'], seed, ['--token-file', viewer])).stderr).toMatch(/whereis failed \(not-found\)/); // not "explain failed"

    const audit = await ctl(['audit'], seed, ['--token-file', viewer, '--json']);
    expect(audit.code).toBe(0);
    const entries = json(audit).result as Array<{ op: string; ok: boolean; result: string; node: string; by: string }>;
    expect(entries.map((e) => `${e.node} ${e.op}:${e.ok}`)).toEqual([
      'n1 submit:true',
      'n1 move:true',
      'n1 drain:false',
      'n1 drain:true',
      'n1 stop:true',
      'n1 stop:false',
    ]);
    expect(entries.find((e) => e.op === 'drain' && !e.ok)!.result).toMatch(/^forbidden/);
    for (const node of nodes) await expectNoTrace(node);
    // The status endpoint's start-up log names every path it serves.
    expect(nodes[0]!.lines.find((l) => l.msg === 'status endpoint listening')?.['endpoints']).toEqual(['/status', '/children', '/metrics', '/healthz']);
  });

  it('--json prints the error object on every failure path, with its exit code; a wrong secret fails with the handshake reason', async () => {
    const { nodes, op, viewer } = await threeMembers();
    const seed = nodes[0]!.address;
    const failure = async (run: Promise<Run>, exit: number, code: string, message: RegExp): Promise<void> => {
      const r = await run;
      expect({ exit: r.code, ...json(r) }, r.stderr).toMatchObject({ exit, ok: false, error: { code, message: expect.stringMatching(message) } });
      expect(r.stderr).toMatch(/pogo ctl: |error: /);
    };
    // 2: bad usage, caught by the command line parser or by ctl before anything is sent.
    await failure(spawnCtl(['ls', '--bogus', '--json']).exited, 2, 'usage', /unknown option '--bogus'/);
    await failure(spawnCtl(['--json']).exited, 2, 'usage', /missing required argument 'command'/);
    await failure(ctl(['reboot'], seed, ['--json']), 2, 'usage', /unknown command "reboot"/);
    await failure(ctl(['move', 'only-one-arg'], seed, ['--json']), 2, 'usage', /move takes 2 argument/);
    await failure(ctl(['move', 'web-1', 'not a node!'], seed, ['--token-file', op, '--json']), 2, 'usage', /^move: node: must be a node name/);
    // ctl's own flag for the seeds is --seed: its errors name that one.
    await failure(spawnCtl(['ls', '--seed', '127.0.0.1', '--json']).exited, 2, 'usage', /seeds\.0 \(from --seed\): /);
    const badSpec = writeJson(cluster!.dir, 'bad-spec.json', [
      { id: 'ok-1', start: { worker: 'ticker' } },
      { id: 'x', start: { worker: 'ticker' }, restart: 'sometimes' },
      { id: 'ok-1', start: { worker: 'ticker' } },
    ]);
    await failure(
      ctl(['start', badSpec], seed, ['--token-file', op, '--json']),
      2,
      'usage',
      /^start: \[1\] spec\.restart: .*; \[2\] duplicate id "ok-1" \(also \[0\]\); nothing was sent$/,
    );
    // A spec over the members' 1 MiB command limit (they would refuse it with too-large): refused before anything is sent.
    const bigSpec = writeJson(cluster!.dir, 'big-spec.json', [
      { id: 'ok-2', start: { worker: 'ticker' } },
      { id: 'big', start: { worker: 'ticker', args: { blob: 'x'.repeat(1024 * 1024 + 10) } } },
    ]);
    await failure(
      ctl(['start', bigSpec], seed, ['--token-file', op, '--json']),
      2,
      'usage',
      /^start: \[1\] spec "big": the spec is 1\.0 MiB as JSON \([\d,]+ bytes\); a command may carry at most 1 MiB .*; nothing was sent$/,
    );
    // A seed whose port cannot be dialled is a usage error, not a wait for a connection that cannot be made.
    await failure(
      spawnCtl(['ls', '--seed', '127.0.0.1:99999', '--json']).exited,
      2,
      'usage',
      /seeds\.0 \(from --seed\): "127\.0\.0\.1:99999": port 99999 is out of range/,
    );
    await failure(ctl(['ls'], [], ['--json']), 2, 'usage', /give --seed/);
    await failure(ctl(['ls'], seed, ['--json', '--cluster', 'staging']), 2, 'cluster-mismatch', /does not match/);
    // 3: nothing answers.
    await failure(ctl(['ls'], '127.0.0.1:9', ['--json']), 3, 'unreachable', /no member could be reached \(127\.0\.0\.1:9: /);
    // 4: a credential refused — the cluster secret, a wrong token on a read, none for a change, a viewer's for a change.
    const wrongSecret = cluster!.writeSecret('wrong-secret.txt', 'not-the-secret-of-this-cluster');
    await failure(
      ctl(['ls'], [seed, nodes[1]!.address], ['--json'], { secretFile: wrongSecret }),
      4,
      'auth-failed',
      /^cannot link to n1 at .*: authentication failed: n1 does not hold our cluster secret/,
    );
    const wrongToken = cluster!.writeSecret('wrong-token.txt', 'a-token-nobody-issued-0123');
    await failure(ctl(['ls'], seed, ['--token-file', wrongToken, '--json']), 4, 'unauthorized', /the token was refused by n1/);
    await failure(ctl(['pause'], seed, ['--json']), 4, 'unauthorized', /^no token given: pass --token-file or POGO_TOKEN/);
    // A client's token file in the members' format, name:token: its token is presented (the whole line was, and refused).
    const named = cluster!.writeSecret('named-operator.txt', `alice:${OPERATOR}\n`);
    expect((await ctl(['status'], seed, ['--token-file', named])).code).toBe(0);
    const two = cluster!.writeSecret('two-tokens.txt', `alice:${OPERATOR}\nbob:${VIEWER}\n`);
    await failure(ctl(['status'], seed, ['--token-file', two, '--json']), 2, 'usage', /the file holds 2 tokens \(alice, bob\); a client presents one/);
    await failure(ctl(['pause'], seed, ['--token-file', viewer, '--json']), 4, 'forbidden', /a viewer credential cannot pause/);
    // 1: the member's typed error.
    await failure(ctl(['explain', 'nothing-by-that-name'], seed, ['--json']), 1, 'not-found', /no child with id/);
    await failure(ctl(['restart', 'nothing-by-that-name'], seed, ['--token-file', op, '--json']), 1, 'not-found', /no child with id/);
    // The wrong secret was refused by the member too, which logged why and linked nothing.
    expect(nodes[0]!.lines.some((l) => l['code'] === 'auth-failed' && String(l['peer']).startsWith('ctl-'))).toBe(true);
    for (const node of nodes) await expectNoTrace(node);
  });

  it('starts 1,000 specs from a file and 1,000 from stdin, each accepted with its state; a refused spec exits 1 and says which', async () => {
    const { nodes, op } = await threeMembers();
    const seeds = nodes.map((n) => n.address);
    const specs = (prefix: string) =>
      Array.from({ length: 1_000 }, (_, i) => ({ id: `${prefix}-${i}`, start: { worker: 'ticker', args: { intervalMs: 600_000 } } }));
    const fromFile = await ctl(['start', writeJson(cluster!.dir, 'many.json', specs('file'))], seeds, ['--token-file', op, '--json']);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const fileResult = json(fromFile).result as Array<{ id: string; state: string; node?: string }>;
    expect(fileResult.map((r) => r.id)).toEqual(specs('file').map((s) => s.id));
    expect(fileResult.every((r) => ['running', 'pending'].includes(r.state))).toBe(true);

    const fromStdin = await ctl(['start', '-'], seeds, ['--token-file', op], { input: JSON.stringify(specs('stdin')) });
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(fromStdin.stdout.trim().split('\n').at(-1)).toMatch(/^1000 specs accepted by n1 \(/);
    expect(fromStdin.stdout.split('\n').filter((l) => /^stdin-\d+: accepted, (running|pending)/.test(l))).toHaveLength(1_000);

    // Every one is in the cluster, once: the members' own local counts add up.
    await cluster!.until(
      async () => (await Promise.all(nodes.map((n) => n.status()))).reduce((sum, s) => sum + s.supervisor.local.active, 0) === 2_000,
      30_000,
      'all 2,000 running',
    );
    // Accepted is exit 0 also for a child that fails to start (its state says so); a spec the cluster refuses exits 1, named.
    const mixed = writeJson(cluster!.dir, 'mixed.json', [
      { id: 'file-0', start: { worker: 'ticker', args: { intervalMs: 1 } } },
      { id: 'new-1', start: { worker: 'ticker', args: { intervalMs: 600_000 } } },
      { id: 'no-such-worker', start: { worker: 'nowhere' } },
    ]);
    const refused = await ctl(['start', mixed], seeds, ['--token-file', op]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^file-0: refused \(conflict\): /m);
    expect(refused.stdout).toMatch(/^new-1: accepted, running on n\d/m);
    expect(refused.stdout).toMatch(/^no-such-worker: refused \(unplaceable\): /m);
    expect(refused.stderr).toMatch(/2 of 3 specs refused: file-0 \(conflict\), no-such-worker \(unplaceable\)/);
    // A child whose start fails: accepted (the cluster keeps it and retries), reported failing with its first error, once.
    const failing = await ctl(['start', '-'], seeds, ['--token-file', op], {
      input: JSON.stringify({ id: 'fails-at-start', start: { worker: 'crasher', args: { failStart: true } } }),
    });
    expect(failing.code, failing.stderr).toBe(0);
    expect(failing.stdout).toMatch(/^fails-at-start: accepted, failing on n\d: .*crasher: asked to fail at start\n$/);
    const listed = json(await ctl(['ls'], seeds, ['--json'])).result as Array<{ id: string; status: string }>;
    expect(listed.find((c) => c.id === 'fails-at-start')?.status).toBe('failing');

    // A reader that stops early (`pogo ctl ls | head -1`): the ~2,000-row listing is far more than
    // a pipe holds, so ctl's writes meet the closed pipe; it ends with its own exit code, no EPIPE trace.
    const early = spawn(process.execPath, [CLI, 'ctl', 'ls', ...seeds.flatMap((s) => ['--seed', s]), '--secret-file', cluster!.secretFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    ctlPids.add(early.pid!);
    let earlyErr = '';
    early.stderr.setEncoding('utf8').on('data', (c: string) => (earlyErr += c));
    early.stdout.once('data', () => early.stdout.destroy());
    const earlyCode = await new Promise<number | null>((resolve) => early.once('exit', (code) => resolve(code)));
    ctlPids.delete(early.pid!);
    expect(earlyErr).not.toMatch(/EPIPE|Unhandled/);
    expect(earlyCode).toBe(0);
  });

  it("--seed decides which member executes (its audit says so); restart gives a new process on the same node, by the child's own record; ls shows its OS pid; no trace in /status", async () => {
    const { nodes, op, viewer } = await threeMembers();
    const [n1, n2, n3] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    // The first seed that answers executes; a dead first seed is passed over.
    expect((await ctl(['pause'], [n2.address, n1.address], ['--token-file', op, '--by', 'alice'])).code).toBe(0);
    expect((await ctl(['resume'], ['127.0.0.1:9', n3.address, n1.address], ['--token-file', op, '--by', 'bob'])).code).toBe(0);
    const audit = json(await ctl(['audit'], n1.address, ['--token-file', viewer, '--json'])).result as Array<{
      node: string;
      op: string;
      by: string;
      from: string;
    }>;
    expect(audit.map((e) => `${e.node} ${e.op} ${e.by}`)).toEqual(['n2 pause alice', 'n3 resume bob']);
    expect(audit.every((e) => e.from.startsWith('ctl-'))).toBe(true);

    // A command child that records, at each start, its own pid and its parent's (the node process that runs it).
    const record = join(cluster!.dir, 'rec.txt');
    const spec = { id: 'sh-1', start: { command: '/bin/sh', args: ['-c', `echo "$$ $PPID" >> ${record}; echo started; exec sleep 600`] } };
    const started = await ctl(['start', '-'], n2.address, ['--token-file', op, '--json'], { input: JSON.stringify(spec) });
    expect(started.code, started.stderr).toBe(0);
    await cluster!.until(async () => existsSync(record) && readFileSync(record, 'utf8').trim().split('\n').length === 1, 10_000, 'first start recorded');
    const [firstPid, firstParent] = readFileSync(record, 'utf8').trim().split(' ').map(Number) as [number, number];
    const runner = nodes.find((n) => n.pid === firstParent)!;
    expect(runner).toBeDefined();
    const listed = (json(await ctl(['ls'], n1.address, ['--json'])).result as Array<{ id: string; node: string; osPid?: number }>).find((c) => c.id === 'sh-1');
    expect(listed).toMatchObject({ node: runner.name, osPid: firstPid });

    // Asked of a member that does not run it: passed on to the one that does.
    const asked = nodes.find((n) => n !== runner)!;
    const restarted = await ctl(['restart', 'sh-1'], asked.address, ['--token-file', op, '--json']);
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(json(restarted)).toMatchObject({ ok: true, result: { id: 'sh-1', node: runner.name } });
    await cluster!.until(async () => readFileSync(record, 'utf8').trim().split('\n').length === 2, 10_000, 'second start recorded');
    const [secondPid, secondParent] = readFileSync(record, 'utf8').trim().split('\n')[1]!.split(' ').map(Number) as [number, number];
    expect(secondParent).toBe(runner.pid);
    expect(secondPid).not.toBe(firstPid);
    expect(() => process.kill(firstPid, 0)).toThrow(); // the old process is gone
    const relisted = (json(await ctl(['ls'], n3.address, ['--json'])).result as Array<{ id: string; osPid?: number }>).find((c) => c.id === 'sh-1');
    expect(relisted?.osPid).toBe(secondPid);
    const human = await ctl(['ls'], n3.address);
    expect(human.stdout).toMatch(new RegExp(`^sh-1\\s+running\\s+${runner.name}\\s+${runner.name}\\s+-\\s+${secondPid}\\s*$`, 'm'));
    // Right after the calls: nothing of them in any member's status.
    for (const node of nodes) await expectNoTrace(node);
  });

  it('logs --follow prints what the child writes after it started, stderr marked, follows the child to another node and through a restart in place (nothing printed twice), and ends on SIGTERM with exit 0', async () => {
    const { nodes, op, viewer } = await threeMembers();
    const seed = nodes[0]!.address;
    const flag = join(cluster!.dir, 'go');
    // Prints a line on each stream whenever the test creates the flag file; says hello at each start.
    const script = `echo "hello from $$"; while :; do if [ -f ${flag} ]; then rm -f ${flag}; echo "late line"; echo "late error" >&2; fi; sleep 0.05; done`;
    const started = await ctl(['start', '-'], seed, ['--token-file', op, '--json'], {
      input: JSON.stringify({ id: 'talker', start: { command: '/bin/sh', args: ['-c', script] } }),
    });
    expect(started.code, started.stderr).toBe(0);
    const first = (json(started).result as { node: string }).node;

    const plain = await ctl(['logs', 'talker'], seed, ['--token-file', viewer]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^hello from \d+$/m);
    // A worker child's output is its node's log: said so, not an empty success that looks like silence.
    expect(
      (
        await ctl(['start', '-'], seed, ['--token-file', op], {
          input: JSON.stringify({ id: 'worker-1', start: { worker: 'ticker', args: { intervalMs: 600_000 } } }),
        })
      ).code,
    ).toBe(0);
    const workerLogs = await ctl(['logs', 'worker-1'], seed, ['--token-file', viewer]);
    expect(workerLogs).toMatchObject({ code: 0, stdout: '' });
    expect(workerLogs.stderr).toMatch(/worker-1 runs worker ticker inside its node's process/);

    const follow = spawnCtl(['logs', 'talker', '--follow', '--seed', seed, '--secret-file', cluster!.secretFile, '--token-file', viewer]);
    await follow.until(/following talker on /, 'stderr', 20_000);
    writeFileSync(flag, '');
    await follow.until(/^late line$/m, 'stdout', 20_000);
    await follow.until(/^stderr\| late error$/m, 'stdout', 20_000);

    // Moved to another node: a new process there, and its output follows.
    const other = nodes.map((n) => n.name).find((n) => n !== first)!;
    const moved = await ctl(['move', 'talker', other], seed, ['--token-file', op]);
    expect(moved.code, moved.stderr).toBe(0);
    await follow.until(new RegExp(`talker now runs on ${other} \\(os pid \\d+\\)`), 'stderr', 20_000);
    await follow.until(/^hello from \d+$[\s\S]*^hello from \d+$/m, 'stdout', 20_000);
    expect(
      new Set(
        follow
          .stdout()
          .split('\n')
          .filter((l) => l.startsWith('hello from ')),
      ).size,
    ).toBe(2);
    writeFileSync(flag, '');
    await follow.until(/^late line$[\s\S]*^late line$/m, 'stdout', 20_000);

    // Restarted in place: a new process, the same ring; what was printed is not printed again.
    const restarted = await ctl(['restart', 'talker'], seed, ['--token-file', op]);
    expect(restarted.code, restarted.stderr).toBe(0);
    await follow.until(new RegExp(`talker has a new process on ${other} \\(os pid \\d+\\)`), 'stderr', 20_000);
    await follow.until(/^hello from \d+$[\s\S]*^hello from \d+$[\s\S]*^hello from \d+$/m, 'stdout', 20_000);
    writeFileSync(flag, '');
    await follow.until(/^late line$[\s\S]*^late line$[\s\S]*^late line$/m, 'stdout', 20_000);
    // The child's two streams are captured apart: its stderr line may come a poll after its stdout line.
    await follow.until(/^stderr\| late error$[\s\S]*^stderr\| late error$[\s\S]*^stderr\| late error$/m, 'stdout', 20_000);
    const printed = follow
      .stdout()
      .split('\n')
      .filter((l) => l !== '');
    expect(printed.filter((l) => l.startsWith('hello from ')).length).toBe(3);
    expect(new Set(printed.filter((l) => l.startsWith('hello from '))).size).toBe(3);
    expect(printed.filter((l) => l === 'late line')).toHaveLength(3);
    expect(printed.filter((l) => l === 'stderr| late error')).toHaveLength(3);

    follow.child.kill('SIGTERM');
    const ended = await follow.exited;
    expect(ended.code).toBe(0);
    for (const node of nodes) await expectNoTrace(node);
  });
});
