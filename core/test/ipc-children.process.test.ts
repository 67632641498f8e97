/**
 * OS-process children that answer calls (issue 16, item 3): real processes
 * on this machine, started by a LocalSupervisor and called through
 * `channelOf(id)`. The same behaviour is checked for a child in plain bash
 * and one in Python (json-lines on fd 3) and one in Node.js (Node's IPC, and
 * json-lines through the same small helper): reply, handler error, cast,
 * timeout, exit with calls pending, stop with a call pending, and a new
 * instance's channel after a restart. Bad input from a child (not JSON, an
 * unknown id, a reply too large), a child that never reads (the bounded
 * write queue) and the reply-then-exit race are checked on the child that
 * can produce them. Every process is checked gone by its pid.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { JsonValue } from '../src/groups.js';
import { MessageError, type ChildChannel } from '../src/supervisor/child-channel.js';
import type { IpcMode } from '../src/supervisor/child-spec.js';
import { resolveExecutable } from '../src/supervisor/os-child.js';
import { messageFailure } from './support/messages.js';
import { osSupervisor, stopSupervisors } from './support/os-supervisor.js';
import { isAlive, killStrays, until } from './support/wait.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/ipc/', import.meta.url));
const CHILDREN_DOC = fileURLToPath(new URL('../../docs/children.md', import.meta.url));
const NODE = process.execPath;
const BASH = resolveExecutable('bash', undefined);
const PYTHON = resolveExecutable('python3', undefined);
/** Long enough for a loaded machine to answer; the children that answer do so at once. */
const ANSWER_MS = 20_000;
/** Limits small enough that "too large" is cheap to provoke. */
const MAX_MESSAGE = 64 * 1024;

const strays: number[] = [];

afterEach(async () => {
  await stopSupervisors();
  killStrays(strays);
});

function supervisor(allow: string[], limits: { ipcMaxQueuedBytes?: number } = {}) {
  return osSupervisor(allow, { ipcMaxMessageBytes: MAX_MESSAGE, ...limits });
}

interface Kind {
  name: string;
  command: string | undefined;
  args: string[];
  ipc: IpcMode;
  /** Why the kind cannot run here, if it cannot. */
  missing?: string;
}

const KINDS: Kind[] = [
  {
    name: 'a bash script on json-lines',
    command: BASH,
    args: [`${FIXTURES}answer.sh`],
    ipc: 'json-lines',
    ...(BASH ? {} : { missing: 'bash is not installed' }),
  },
  {
    name: 'a Python script on json-lines',
    command: PYTHON,
    args: [`${FIXTURES}answer.py`],
    ipc: 'json-lines',
    ...(PYTHON ? {} : { missing: 'python3 is not installed' }),
  },
  { name: "a Node.js script on Node's IPC", command: NODE, args: [`${FIXTURES}answer.mjs`], ipc: 'node' },
  { name: 'a Node.js script on json-lines (same helper)', command: NODE, args: [`${FIXTURES}answer.mjs`], ipc: 'json-lines' },
];

/** Starts the kind's answering child as `id`; returns its supervisor, log and the running instance's channel and OS pid. */
async function startAnswering(kind: Kind, id = 'answer', extra: Record<string, unknown> = {}) {
  const { sup, log } = supervisor([kind.command!]);
  await sup.startChild({ id, start: { command: kind.command!, args: kind.args, ipc: kind.ipc }, ...extra });
  const osPid = sup.child(id)!.osPid!;
  strays.push(osPid);
  return { sup, log, channel: sup.channelOf(id)!, osPid };
}

describe.each(KINDS)('$name', (kind) => {
  const run = kind.missing ? it.skip : it;
  const why = kind.missing ? ` (skipped: ${kind.missing})` : '';

  run(`answers calls, including multi-byte text, as soon as it is started (calls made before it reads wait in the pipe)${why}`, async () => {
    const { channel } = await startAnswering(kind);
    expect(channel).toBeDefined();
    const [pong, echo] = await Promise.all([channel.call('ping', ANSWER_MS), channel.call({ text: 'héllo ☃ 🎉', n: [1, 2.5, null] }, ANSWER_MS)]);
    expect(pong).toBe('pong');
    expect(echo).toEqual({ echo: { text: 'héllo ☃ 🎉', n: [1, 2.5, null] } });
  });

  run(`gives handler-error with the child's message${why}`, async () => {
    const { channel } = await startAnswering(kind);
    const err = await messageFailure(channel.call('fail', ANSWER_MS));
    expect([err.code, err.message]).toEqual(['handler-error', 'asked to fail']);
    // The child goes on answering.
    await expect(channel.call('ping', ANSWER_MS)).resolves.toBe('pong');
  });

  run(`delivers a cast${why}`, async () => {
    const { sup, channel } = await startAnswering(kind);
    channel.cast({ n: 1 });
    await until(() => sup.output('answer').some((l) => l.text === 'cast {"n":1}'), ANSWER_MS, 'the cast printed by the child');
  });

  run(`times out a call the child never answers, and answers the next${why}`, async () => {
    const { channel } = await startAnswering(kind);
    const err = await messageFailure(channel.call('silent', 300));
    expect([err.code, err.message]).toEqual(['timeout', 'no reply from the child within 300 ms']);
    await expect(channel.call('ping', ANSWER_MS)).resolves.toBe('pong');
  });

  run(`fails calls pending when the child exits with not-running, and the next instance has its own channel${why}`, async () => {
    const { sup, channel, osPid } = await startAnswering(kind, 'answer', { maxRestarts: 5 });
    const silent = channel.call('silent', ANSWER_MS);
    const exit = channel.call('exit', ANSWER_MS);
    for (const p of [silent, exit]) {
      const err = await messageFailure(p);
      expect(err.code).toBe('not-running');
      expect(err.message).toBe('the instance exited (failed: exit code 3) before it replied; the message was delivered and may have been handled');
    }
    await until(() => !isAlive(osPid), ANSWER_MS, 'the first instance gone');
    expect((await messageFailure(channel.call('ping', ANSWER_MS))).code).toBe('not-running');
    await until(() => sup.child('answer')?.status === 'running' && sup.child('answer')?.osPid !== osPid, ANSWER_MS, 'restarted');
    strays.push(sup.child('answer')!.osPid!);
    const next = sup.channelOf('answer')!;
    expect(next).not.toBe(channel);
    await expect(next.call('ping', ANSWER_MS)).resolves.toBe('pong');
  });

  run(`a stop with a call pending fails the call with not-running, and the process is gone${why}`, async () => {
    const { sup, channel, osPid } = await startAnswering(kind);
    await expect(channel.call('ping', ANSWER_MS)).resolves.toBe('pong');
    const pending = channel.call('silent', ANSWER_MS);
    await sup.terminateChild('answer');
    expect((await messageFailure(pending)).code).toBe('not-running');
    expect(sup.child('answer')?.status).toBe('stopped');
    expect(sup.channelOf('answer')).toBeUndefined();
    expect(isAlive(osPid)).toBe(false);
  });
});

describe('bad input from a child (Python on json-lines)', () => {
  const run = PYTHON ? it : it.skip;
  const why = PYTHON ? '' : ' (skipped: python3 is not installed)';
  const python: Kind = KINDS[1]!;

  run(`a line that is not JSON and a reply for an unknown id are logged with the reason and dropped; the call still gets its reply${why}`, async () => {
    const { channel, log } = await startAnswering(python);
    await expect(channel.call('garbage', ANSWER_MS)).resolves.toBe('after garbage');
    await expect(channel.call('unknown-id', ANSWER_MS)).resolves.toBe('after unknown id');
    const drops = log.entries.filter((e) => e.message.startsWith('dropped input from the child')).map((e) => e.message);
    expect(drops).toEqual([
      expect.stringMatching(/^dropped input from the child: not JSON \(/),
      'dropped input from the child: a reply for id 999999999, which has no pending call (it timed out, or was never made)',
    ]);
    expect(log.entries.find((e) => e.message.startsWith('dropped'))!.fields).toMatchObject({ child: 'answer', via: 'fd 3' });
  });

  run(`a reply over the limit fails its call with too-large at once when it starts with the id, and times out when it does not${why}`, async () => {
    const { channel, log } = await startAnswering(python);
    const err = await messageFailure(channel.call({ huge: 200_000 }, ANSWER_MS));
    expect(err.code).toBe('too-large');
    expect(err.message).toBe(`the child's reply is 200019 bytes; at most ${MAX_MESSAGE} are taken`);
    const idLast = await messageFailure(channel.call({ 'huge-id-last': 200_000 }, 1_000));
    expect(idLast.code).toBe('timeout');
    // Both dropped and logged; the child goes on answering.
    await expect(channel.call('ping', ANSWER_MS)).resolves.toBe('pong');
    expect(log.entries.filter((e) => /^dropped input from the child: a message of 2000\d\d bytes \(at most 65536\)/.test(e.message))).toHaveLength(2);
  });

  run(`a late reply is dropped, never given to a later call${why}`, async () => {
    const { sup, channel, log } = await startAnswering(python);
    expect((await messageFailure(channel.call({ late: 200 }, 50))).code).toBe('timeout');
    await until(() => sup.output('answer').some((l) => l.text === 'late sent'), ANSWER_MS, 'the late reply sent');
    await expect(channel.call('ping', ANSWER_MS)).resolves.toBe('pong');
    await until(() => log.entries.some((e) => e.message.includes('a reply for id 1, which has no pending call')), ANSWER_MS, 'the late reply dropped');
  });

  run(`race: a reply written just before the child exits is delivered, not failed as not-running${why}`, async () => {
    const { channel, osPid } = await startAnswering(python, 'answer', { restart: 'temporary' });
    await expect(channel.call('reply-and-exit', ANSWER_MS)).resolves.toBe('bye');
    await until(() => !isAlive(osPid), ANSWER_MS, 'the child gone');
  });
});

describe('channels, limits and opting in', () => {
  it('a child that did not opt in has no channel, no fd 3 and no POGO_IPC', async () => {
    if (!BASH) return expect(BASH).toBeUndefined();
    const { sup } = supervisor([BASH]);
    // bash -c opens no descriptor of its own, so fd 3 exists only if the node passed one.
    await sup.startChild({
      id: 'plain',
      start: {
        command: BASH,
        args: ['-c', 'if [ -e /dev/fd/3 ]; then echo "fd3 open"; else echo "no fd3"; fi; echo "POGO_IPC=${POGO_IPC-unset}"; exec sleep 600'],
      },
    });
    strays.push(sup.child('plain')!.osPid!);
    expect(sup.child('plain')?.status).toBe('running');
    expect(sup.channelOf('plain')).toBeUndefined();
    expect(sup.channelOf('no-such-child')).toBeUndefined();
    await until(() => sup.output('plain').length === 2, ANSWER_MS, 'the child printed');
    expect(sup.output('plain').map((l) => l.text)).toEqual(['no fd3', 'POGO_IPC=unset']);
  });

  it('the channel variables cannot be overridden by the spec env (POGO_IPC_FD stays the real descriptor)', async () => {
    if (!BASH) return expect(BASH).toBeUndefined();
    const { sup } = supervisor([BASH]);
    await sup.startChild({
      id: 'env',
      start: { command: BASH, args: [`${FIXTURES}answer.sh`], ipc: 'json-lines', env: { POGO_IPC_FD: '9', POGO_IPC: 'node' } },
    });
    strays.push(sup.child('env')!.osPid!);
    await expect(sup.channelOf('env')!.call('ping', ANSWER_MS)).resolves.toBe('pong');
  });

  it('a child that never reads: calls queue up to the bound, then are refused with timeout at once; stopping it fails the queued calls', async () => {
    const { sup } = supervisor([NODE], { ipcMaxQueuedBytes: 256 * 1024 });
    await sup.startChild({ id: 'deaf', start: { command: NODE, args: ['-e', 'setInterval(() => {}, 1000)'], ipc: 'json-lines' } });
    const osPid = sup.child('deaf')!.osPid!;
    strays.push(osPid);
    const channel: ChildChannel = sup.channelOf('deaf')!;
    const body: JsonValue = 'x'.repeat(60_000);
    const queued: Array<Promise<unknown>> = [];
    let refused: MessageError | undefined;
    // The kernel's socket buffer takes the first few; past it the node's queue grows to its bound. 400 × 60 kB is far past both.
    for (let i = 0; i < 400 && !refused; i++) {
      const p = channel.call(body, 10 * 60_000);
      queued.push(
        p.catch((err: unknown) => {
          if (err instanceof MessageError && err.message.startsWith('the child is not reading')) refused = err;
          return err;
        }),
      );
      await new Promise((r) => setImmediate(r));
    }
    expect(refused?.code).toBe('timeout');
    expect(refused?.message).toMatch(/^the child is not reading its messages: \d+ bytes wait to be written to it over fd 3 \(at most 262144\)$/);
    await sup.terminateChild('deaf');
    const outcomes = await Promise.all(queued);
    expect(outcomes.filter((e) => e instanceof MessageError && e.code === 'not-running').length).toBe(queued.length - 1);
    expect(isAlive(osPid)).toBe(false);
  });

  it('a planned move (takeHandover) lets the calls under way be answered before the stop; one never answered waits out the bound only', async () => {
    // Race "a move kills the calls under way" (os-child.ts; the calls tour: a child that exits at once on SIGTERM, as
    // Node does by default, failed 18 of a move's calls with not-running).
    const { sup } = supervisor([NODE]);
    await sup.startChild({ id: 'mv', start: { command: NODE, args: [`${FIXTURES}answer.mjs`], ipc: 'json-lines' } });
    strays.push(sup.child('mv')!.osPid!);
    const channel = sup.channelOf('mv')!;
    const under = [channel.call({ sleep: 300 }, ANSWER_MS), channel.call({ sleep: 600 }, ANSWER_MS)];
    const t0 = performance.now();
    await expect(sup.takeHandover('mv', ANSWER_MS)).resolves.toBeUndefined();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    await sup.terminateChild('mv');
    await expect(Promise.all(under)).resolves.toEqual([{ slept: 300 }, { slept: 600 }]);
    // A call the child never answers: the wait ends at the bound, and the stop fails it (outcome unknown).
    await sup.startChild({ id: 'mv2', start: { command: NODE, args: [`${FIXTURES}answer.mjs`], ipc: 'json-lines' } });
    strays.push(sup.child('mv2')!.osPid!);
    const silent = messageFailure(sup.channelOf('mv2')!.call('silent', ANSWER_MS));
    const t1 = performance.now();
    await sup.takeHandover('mv2', 300);
    expect(performance.now() - t1).toBeLessThan(ANSWER_MS / 2);
    await sup.terminateChild('mv2');
    expect((await silent).code).toBe('not-running');
  });

  it('a message over the limit is refused with too-large before it is written', async () => {
    const { sup } = supervisor([NODE]);
    await sup.startChild({ id: 'n', start: { command: NODE, args: [`${FIXTURES}answer.mjs`], ipc: 'node' } });
    strays.push(sup.child('n')!.osPid!);
    const channel = sup.channelOf('n')!;
    const err = await messageFailure(channel.call('x'.repeat(MAX_MESSAGE), ANSWER_MS));
    expect(err.code).toBe('too-large');
    // And a reply over it, on Node's IPC, fails its call with too-large too.
    const reply = await messageFailure(channel.call({ huge: 100_000 }, ANSWER_MS));
    expect([reply.code, reply.message]).toEqual(['too-large', `the child's reply is 100019 bytes; at most ${MAX_MESSAGE} are taken`]);
    await expect(channel.call('ping', ANSWER_MS)).resolves.toBe('pong');
  });
});

describe('the documented examples (docs/children.md, section: Children in any language)', () => {
  /** The section's fenced code blocks in `lang`. */
  function examples(lang: string): string[] {
    const text = readFileSync(CHILDREN_DOC, 'utf8');
    const start = text.indexOf('### Children in any language');
    const section = text.slice(start, text.indexOf('\n### ', start + 1));
    return [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
  }

  const cases: Array<[string, string | undefined, string, string, IpcMode[]]> = [
    ['python', PYTHON, 'python', 'example.py', ['json-lines']],
    ['bash', BASH, 'bash', 'example.sh', ['json-lines']],
    ['js', NODE, 'node', 'example.mjs', ['json-lines', 'node']],
  ];
  for (const [lang, command, name, file, modes] of cases) {
    for (const ipc of modes) {
      const run = command ? it : it.skip;
      run(`the ${name} example answers a call and takes a cast over ${ipc}${command ? '' : ` (skipped: ${name} is not installed)`}`, async () => {
        const [code] = examples(lang);
        expect(code).toBeDefined();
        const dir = mkdtempSync(join(tmpdir(), 'pogo-readme-'));
        try {
          writeFileSync(join(dir, file), code!);
          const { sup } = supervisor([command!]);
          await sup.startChild({ id: 'example', start: { command: command!, args: [join(dir, file)], ipc } });
          strays.push(sup.child('example')!.osPid!);
          const channel = sup.channelOf('example')!;
          await expect(channel.call({ a: [1, 'é'] }, ANSWER_MS)).resolves.toEqual({ echo: { a: [1, 'é'] } });
          channel.cast('hello');
          await until(() => sup.output('example').some((l) => l.text.includes('cast') && l.text.includes('hello')), ANSWER_MS, 'the cast printed');
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  }
});
