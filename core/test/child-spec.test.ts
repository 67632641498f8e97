/**
 * Tests for child specs (supervisor/child-spec.ts): defaults, the two start
 * forms, the field and reason a `SpecError` names for every invalid field,
 * and the structural comparison `sameSpec` / `canonicalJson`.
 */
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/protocol.js';
import {
  ChildSpecSchema,
  SpecError,
  decodeNormalSpec,
  decodeWireSpec,
  isCommandStart,
  parseChildSpec,
  sameSpec,
  specText,
  type ChildSpec,
} from '../src/supervisor/child-spec.js';

const worker = { worker: 'ticker' };
const command = { command: 'sleep', args: ['60'] };

/** Parses and returns the SpecError it must throw. */
function specError(input: unknown): SpecError {
  try {
    parseChildSpec(input);
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return err as SpecError;
  }
  throw new Error(`expected parseChildSpec to reject ${JSON.stringify(input)}`);
}

describe('parseChildSpec: defaults and accepted forms', () => {
  it('fills every OTP default for a minimal command spec', () => {
    expect(parseChildSpec({ id: 'a', start: { command: 'sleep' } })).toEqual({
      id: 'a',
      start: { command: 'sleep', args: [], env: {} },
      restart: 'permanent',
      shutdown: 5000,
      maxRestarts: 3,
      maxSeconds: 5,
      labels: {},
      handoff: 'stop-first',
    });
  });

  it('fills the defaults for a minimal worker spec and leaves args absent', () => {
    const spec = parseChildSpec({ id: 'w', start: worker });
    expect(spec).toEqual({
      id: 'w',
      start: { worker: 'ticker' },
      restart: 'permanent',
      shutdown: 5000,
      maxRestarts: 3,
      maxSeconds: 5,
      labels: {},
      handoff: 'stop-first',
    });
    expect('args' in spec.start).toBe(false);
    expect(isCommandStart(spec.start)).toBe(false);
  });

  it('accepts any printable id: spaces, slashes, colons, non-Latin letters, emoji, a bidi mark', () => {
    for (const id of ['a b', 'a/b', '../../etc/passwd', 'run:x', '__proto__', 'café', '子供', '🚀', 'x\u200fy', 'x\u00a0y'])
      expect(parseChildSpec({ id, start: worker }).id).toBe(id);
  });

  it('accepts the worker form with any JSON args', () => {
    const args = { intervalMs: 10, message: 'hi', nested: [1, null, { ok: true }] };
    const spec = parseChildSpec({ id: 'w', start: { worker: 'ticker', args } });
    expect(spec.start).toEqual({ worker: 'ticker', args });
    expect(isCommandStart(spec.start)).toBe(false);
  });

  it('accepts the command form with args, env and cwd', () => {
    const start = { command: '/bin/sh', args: ['-c', 'sleep 1'], env: { FOO: 'bar', EMPTY: '' }, cwd: '/tmp' };
    const spec = parseChildSpec({ id: 'c', start });
    expect(spec.start).toEqual(start);
    expect(isCommandStart(spec.start)).toBe(true);
  });

  it('keeps every field that is given', () => {
    const input = {
      id: 'x'.repeat(256),
      start: command,
      restart: 'transient',
      shutdown: 'brutal_kill',
      maxRestarts: 0,
      maxSeconds: 0.5,
      labels: { zone: 'eu', gpu: '' },
      handoff: 'start-first',
    };
    expect(parseChildSpec(input)).toEqual({ ...input, start: { ...command, env: {} } });
  });

  it.each([['brutal_kill'], ['infinity'], [1], [24 * 3600 * 1000]])('accepts shutdown %j', (shutdown) => {
    expect(parseChildSpec({ id: 'a', start: worker, shutdown }).shutdown).toBe(shutdown);
  });

  it.each([['permanent'], ['transient'], ['temporary']])('accepts restart %j', (restart) => {
    expect(parseChildSpec({ id: 'a', start: worker, restart }).restart).toBe(restart);
  });
});

describe('parseChildSpec: invalid specs', () => {
  const base = { id: 'a', start: worker };
  const rows: Array<[name: string, input: unknown, field: string, reason: RegExp]> = [
    // id
    ['id missing', { start: worker }, 'id', /^required$/],
    ['id empty', { id: '', start: worker }, 'id', /must not be empty/],
    ['id of 257 characters', { id: 'x'.repeat(257), start: worker }, 'id', /at most 256 characters/],
    ['id not a string', { id: 42, start: worker }, 'id', /^must be a string$/],
    ['id with a newline (a forged row in `ctl ls`)', { id: 'a\nk9  running  n1', start: worker }, 'id', /control characters/],
    ['id with a terminal escape', { id: '\u001b[31mred', start: worker }, 'id', /control characters/],
    ['id with a NUL', { id: 'a\u0000b', start: worker }, 'id', /control characters/],
    ['id with DEL', { id: 'a\u007f', start: worker }, 'id', /control characters/],
    ['id with a C1 control (CSI)', { id: 'a\u009b31m', start: worker }, 'id', /control characters/],
    // start
    ['start missing', { id: 'a' }, 'start', /\{ worker, args \} or \{ command, args, env, cwd \}/],
    ['start of neither form', { id: 'a', start: { program: 'x' } }, 'start', /\{ worker, args \} or \{ command, args, env, cwd \}/],
    ['start not an object', { id: 'a', start: 'sleep 60' }, 'start', /\{ worker, args \} or \{ command, args, env, cwd \}/],
    ['start.worker empty', { id: 'a', start: { worker: '' } }, 'start.worker', /must name a worker type/],
    ['start with both worker and command', { id: 'a', start: { worker: 'ticker', command: 'sleep' } }, 'start', /worker .* or command .*, not both/],
    ['start.worker with an unknown extra key', { id: 'a', start: { worker: 'ticker', extra: 1 } }, 'start.extra', /^unknown field$/],
    ['start.command with an unknown extra key', { id: 'a', start: { command: 'sleep', shell: true } }, 'start.shell', /^unknown field$/],
    ['start.command empty', { id: 'a', start: { command: '' } }, 'start.command', /must name a command/],
    ['start.args not strings', { id: 'a', start: { command: 'sleep', args: ['1', 2] } }, 'start.args.1', /expected string, received number/],
    ['start.env value not a string', { id: 'a', start: { command: 'sleep', env: { A: 'ok', B: 1 } } }, 'start.env.B', /expected string, received number/],
    ['start.cwd empty', { id: 'a', start: { command: 'sleep', cwd: '' } }, 'start.cwd', /1 character/],
    [
      'start.ipc unknown',
      { id: 'a', start: { command: 'sleep', ipc: 'stdio' } },
      'start.ipc',
      /must be 'json-lines' \(a line protocol on a file descriptor\) or 'node' \(Node.js's IPC channel\)/,
    ],
    ['start.ipc not a string', { id: 'a', start: { command: 'sleep', ipc: true } }, 'start.ipc', /must be 'json-lines'.* or 'node'/],
    ['start.ipc on a worker', { id: 'a', start: { worker: 'ticker', ipc: 'node' } }, 'start.ipc', /^unknown field$/],
    // restart
    ['restart unknown', { ...base, restart: 'sometimes' }, 'restart', /permanent.*transient.*temporary/],
    // shutdown (1.5: the schema's own 'must be a whole number of milliseconds' is what a user needs to read)
    ['shutdown 0', { ...base, shutdown: 0 }, 'shutdown', /more than 0 ms/],
    ['shutdown -5', { ...base, shutdown: -5 }, 'shutdown', /more than 0 ms/],
    ['shutdown 1.5', { ...base, shutdown: 1.5 }, 'shutdown', /whole number of milliseconds/],
    ['shutdown above 24 h', { ...base, shutdown: 24 * 3600 * 1000 + 1 }, 'shutdown', /at most 24 hours/],
    ['shutdown "forever"', { ...base, shutdown: 'forever' }, 'shutdown', /milliseconds > 0, 'brutal_kill' or 'infinity'/],
    ['shutdown null', { ...base, shutdown: null }, 'shutdown', /milliseconds > 0, 'brutal_kill' or 'infinity'/],
    // intensity
    ['maxRestarts negative', { ...base, maxRestarts: -1 }, 'maxRestarts', />=\s*0/],
    ['maxRestarts 1.5', { ...base, maxRestarts: 1.5 }, 'maxRestarts', /int/],
    ['maxSeconds 0', { ...base, maxSeconds: 0 }, 'maxSeconds', />\s*0/],
    // labels, handoff
    ['labels value not a string', { ...base, labels: { zone: 'eu', gpu: 1 } }, 'labels.gpu', /expected string, received number/],
    ['handoff unknown', { ...base, handoff: 'overlap' }, 'handoff', /stop-first.*start-first/],
    // unknown keys
    ['an unknown top-level key', { ...base, restartz: 'permanent' }, 'restartz', /^unknown field$/],
    // not an object
    ['input null', null, '(spec)', /expected object, received null/],
    ['input a string', 'ticker', '(spec)', /expected object, received string/],
    ['input an array', [base], '(spec)', /expected object, received array/],
  ];

  const cases = rows.map(([name, input, field, reason]) => ({ name, input, field, reason }));

  it.each(cases)('$name → field $field', ({ input, field, reason }) => {
    const err = specError(input);
    expect(err.name).toBe('SpecError');
    expect(err.field).toBe(field);
    expect(err.reason).toMatch(reason);
    expect(err.message.startsWith(`invalid child spec: ${field}: `)).toBe(true);
    expect(err.message).toBe(`invalid child spec: ${field}: ${err.reason}`);
  });
});

describe('control characters in an id', () => {
  it('are refused in a new spec, but a spec already held (a register, a data dir) is read as it is: an upgrade drops none', () => {
    expect(() => parseChildSpec({ id: 'a\nb', start: worker })).toThrow(/^invalid child spec: id: must not contain control characters/);
    expect(decodeWireSpec({ id: 'a\nb', start: worker })?.id).toBe('a\nb');
    expect(ChildSpecSchema.safeParse({ id: 'a\u001bb', start: worker }).success).toBe(true);
  });
});

describe('ipc on a command start', () => {
  it('accepts json-lines and node, and leaves it absent when not given', () => {
    expect(parseChildSpec({ id: 'a', start: { command: 'sleep', ipc: 'json-lines' } }).start).toEqual({
      command: 'sleep',
      args: [],
      env: {},
      ipc: 'json-lines',
    });
    expect(parseChildSpec({ id: 'a', start: { command: 'node', ipc: 'node' } }).start).toEqual({ command: 'node', args: [], env: {}, ipc: 'node' });
    expect('ipc' in parseChildSpec({ id: 'a', start: { command: 'sleep' } }).start).toBe(false);
  });

  it('keeps the canonical text of a spec without ipc exactly as it was (registers and data dirs written before ipc)', () => {
    const spec = parseChildSpec({ id: 'c', start: { command: 'node', args: ['s.js'], env: { B: '2', A: '1' }, cwd: '/srv' } });
    const before =
      '{"handoff":"stop-first","id":"c","labels":{},"maxRestarts":3,"maxSeconds":5,"restart":"permanent",' +
      '"shutdown":5000,"start":{"args":["s.js"],"command":"node","cwd":"/srv","env":{"A":"1","B":"2"}}}';
    expect(specText(spec)).toBe(before);
    expect(canonicalJson(spec)).toBe(before);
    expect(specText(decodeNormalSpec(JSON.parse(before))!)).toBe(before);
  });

  it('makes a spec with ipc a different spec, whose canonical text ends its start with ipc', () => {
    const plain = parseChildSpec({ id: 'c', start: { command: 'node', args: ['s.js'] } });
    const withIpc = parseChildSpec({ id: 'c', start: { command: 'node', args: ['s.js'], ipc: 'node' } });
    expect(sameSpec(plain, withIpc)).toBe(false);
    expect(specText(withIpc)).toBe(canonicalJson(withIpc));
    expect(specText(withIpc).endsWith(',"env":{},"ipc":"node"}}')).toBe(true);
    expect(decodeNormalSpec(JSON.parse(JSON.stringify(withIpc)))).toEqual(withIpc);
    expect(decodeNormalSpec({ ...withIpc, start: { ...withIpc.start, ipc: 'stdio' } })).toBeUndefined();
  });
});

describe('sameSpec and canonicalJson', () => {
  const a = parseChildSpec({
    id: 'c',
    start: { command: 'node', args: ['server.js', '--port', '8080'], env: { A: '1', B: '2' } },
    labels: { zone: 'eu', disk: 'ssd' },
    restart: 'transient',
  });

  it('ignores key order, at every depth', () => {
    const b = parseChildSpec({
      restart: 'transient',
      labels: { disk: 'ssd', zone: 'eu' },
      start: { env: { B: '2', A: '1' }, args: ['server.js', '--port', '8080'], command: 'node' },
      id: 'c',
    });
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(b));
    expect(sameSpec(a, b)).toBe(true);
    expect(canonicalJson(a)).toBe(canonicalJson(b));
  });

  it('tells specs apart that differ in one argument', () => {
    const b: ChildSpec = parseChildSpec({
      id: 'c',
      start: { command: 'node', args: ['server.js', '--port', '8081'], env: { A: '1', B: '2' } },
      labels: { zone: 'eu', disk: 'ssd' },
      restart: 'transient',
    });
    expect(sameSpec(a, b)).toBe(false);
  });

  it('tells specs apart whose args differ only in order', () => {
    const b = parseChildSpec({ ...a, start: { command: 'node', args: ['--port', '8080', 'server.js'], env: { A: '1', B: '2' } } });
    expect(sameSpec(a, b)).toBe(false);
  });

  it('compares explicit defaults equal to omitted ones', () => {
    expect(
      sameSpec(parseChildSpec({ id: 'w', start: worker }), parseChildSpec({ id: 'w', start: worker, restart: 'permanent', shutdown: 5000, labels: {} })),
    ).toBe(true);
    expect(sameSpec(parseChildSpec({ id: 'w', start: worker }), parseChildSpec({ id: 'w', start: worker, shutdown: 5001 }))).toBe(false);
  });

  it('writes sorted keys, keeps array order, and drops undefined properties', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1, { z: null, y: 'x' }], c: true } })).toBe('{"a":{"c":true,"d":[3,1,{"y":"x","z":null}]},"b":1}');
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson([])).toBe('[]');
  });

  it('writes primitives as JSON', () => {
    expect(canonicalJson('a"b')).toBe('"a\\"b"');
    expect(canonicalJson(1.5)).toBe('1.5');
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(false)).toBe('false');
  });

  it('sorts keys by code unit, not by locale', () => {
    expect(canonicalJson({ b: 1, B: 2, a: 3, _: 4 })).toBe('{"B":2,"_":4,"a":3,"b":1}');
  });

  it('is parseable JSON equal to the value', () => {
    const value = { id: 'x', n: [1, 'two', { three: 3 }], o: { q: null, p: 'p' } };
    expect(JSON.parse(canonicalJson(value))).toEqual(value);
  });
});
