/**
 * The UI protocol's schemas (observer/ui-protocol.ts): for every op, good
 * arguments are accepted and bad ones refused with the field named, at each
 * boundary that uses them (a UI's command at the gateway, `pogo ctl`'s
 * arguments, a member decoding the positional form of a link message); the
 * positional form round-trips; member results and handshakes are checked.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COMMAND_ARG_SCHEMAS,
  COMMAND_ERROR_CODES,
  GATEWAY_MAX_FRAME_BYTES,
  MAX_COMMAND_ARGS_BYTES,
  MemberViewReplySchema,
  UI_OPS,
  WIRE_FIELDS,
  checkMemberViews,
  commandFailure,
  decodeWireCommand,
  encodeWireArgs,
  formatBytes,
  isPlainViewReply,
  jsonBytes,
  oversizedRequest,
  parseCommandArgs,
  parseHandshakeAuth,
  parseMemberResult,
  parseUiCommand,
  tooLargeMessage,
  type AnyOp,
} from '../src/observer/ui-protocol.js';
import { utf8Length } from '../src/observer/command-size.js';
import { COMMAND_OPS, CommandSchema, type CommandOp, type JsonValue } from '../src/protocol.js';

const SPEC = { id: 'web-1', start: { worker: 'ticker', args: { intervalMs: 100 } } };
const NODE_NAME = 'must be a node name: 1-128 characters of letters, digits, ".", "_", "@", "-", starting with a letter or digit';
const NOT_AN_OBJECT = 'args: must be an object of plain JSON fields, nested at most 128 levels';

/** Per op: arguments that must pass (with what they become), and arguments that must be refused (with the exact refusal). */
const CASES: { [Op in AnyOp]: { good: Array<[unknown, unknown]>; bad: Array<[unknown, string]> } } = {
  start: {
    good: [
      [{ spec: SPEC }, { spec: { ...SPEC, restart: 'permanent', shutdown: 5000, maxRestarts: 3, maxSeconds: 5, labels: {}, handoff: 'stop-first' } }],
      [
        { spec: { id: 'job', start: { command: '/usr/bin/env', args: ['true'] }, restart: 'temporary' } },
        { spec: expect.objectContaining({ id: 'job', restart: 'temporary', start: { command: '/usr/bin/env', args: ['true'], env: {} } }) },
      ],
    ],
    bad: [
      [{}, 'start: spec: required'],
      [{ spec: 'web-1' }, 'start: spec: must be a child spec: an object { id, start, … }'],
      [{ spec: { ...SPEC, id: '' } }, 'start: spec.id: must not be empty'],
      [{ spec: { ...SPEC, start: { worker: '' } } }, 'start: spec.start.worker: must name a worker type'],
      [{ spec: { ...SPEC, shutdown: -1 } }, 'start: spec.shutdown: must be more than 0 ms'],
      [{ spec: { ...SPEC, colour: 'red' } }, 'start: spec.colour: unknown field'],
      [{ spec: SPEC, node: 'a' }, 'start: node: unknown field'],
    ],
  },
  stop: {
    good: [[{ id: 'web-1' }, { id: 'web-1' }]],
    bad: [
      [{}, 'stop: id: required'],
      [{ id: '' }, 'stop: id: must not be empty'],
      [{ id: 7 }, 'stop: id: must be a string'],
      [{ id: 'x'.repeat(257) }, 'stop: id: must be at most 256 characters'],
      [['web-1'], `stop: ${NOT_AN_OBJECT}`],
    ],
  },
  move: {
    good: [
      [
        { id: 'web-1', node: 'n2' },
        { id: 'web-1', node: 'n2' },
      ],
    ],
    bad: [
      [{ id: 'web-1' }, 'move: node: required'],
      [{ node: 'n2' }, 'move: id: required'],
      [{ id: 'web-1', node: 'not a node' }, `move: node: ${NODE_NAME}`],
      [{ id: 'web-1', node: 2 }, 'move: node: must be a node name'],
      [{ id: 'web-1', node: 'n2', to: 'n3' }, 'move: to: unknown field'],
    ],
  },
  unpin: { good: [[{ id: 'web-1' }, { id: 'web-1' }]], bad: [[{ node: 'n1' }, 'unpin: id: required; node: unknown field']] },
  drain: {
    good: [[{ node: 'n1' }, { node: 'n1' }]],
    bad: [
      [{}, 'drain: node: required'],
      [{ node: '-n1' }, `drain: node: ${NODE_NAME}`],
    ],
  },
  undrain: { good: [[{ node: 'n1' }, { node: 'n1' }]], bad: [[{ id: 'n1' }, 'undrain: node: required; id: unknown field']] },
  forget: { good: [[{ node: 'gone-1' }, { node: 'gone-1' }]], bad: [[{ node: '' }, `forget: node: ${NODE_NAME}`]] },
  pause: {
    good: [
      [undefined, {}],
      [{}, {}],
    ],
    bad: [
      [{ id: 'x' }, 'pause: id: unknown field'],
      [[], `pause: ${NOT_AN_OBJECT}`],
    ],
  },
  resume: { good: [[{}, {}]], bad: [[null, `resume: ${NOT_AN_OBJECT}`]] },
  audit: {
    good: [
      [{}, {}],
      [{ after: { n1: { incarnation: 'abc123', seq: 7 } } }, { after: { n1: { incarnation: 'abc123', seq: 7 } } }],
    ],
    bad: [
      [{ since: 0 }, 'audit: since: unknown field'],
      [{ after: { n1: { incarnation: 'abc', seq: -1 } } }, 'audit: after.n1.seq: must be 0 or more'],
      [{ after: { n1: { seq: 1 } } }, 'audit: after.n1.incarnation: required'],
      [{ after: { 'not a node': { incarnation: 'abc', seq: 1 } } }, 'audit: after.not a node'],
      [
        { after: Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [`n${i}`, { incarnation: 'a', seq: 1 }])) },
        'audit: after: must name at most 1024 members',
      ],
    ],
  },
  'audit-all': { good: [[{}, {}]], bad: [[{ node: 'n1' }, 'audit-all: node: unknown field']] },
  view: { good: [[{}, {}]], bad: [['all', `view: ${NOT_AN_OBJECT}`]] },
  whoami: { good: [[{}, {}]], bad: [[{ role: 'operator' }, 'whoami: role: unknown field']] },
  logs: {
    good: [
      [{ id: 'job' }, { id: 'job', after: 0 }],
      [
        { id: 'job', after: 42 },
        { id: 'job', after: 42 },
      ],
    ],
    bad: [
      [{ after: 1 }, 'logs: id: required'],
      [{ id: 'job', after: -1 }, 'logs: after: must be 0 or more'],
      [{ id: 'job', after: 1.5 }, 'logs: after: must be a whole number'],
      [{ id: 'job', after: '3' }, 'logs: after: must be a number'],
    ],
  },
  explain: { good: [[{ id: 'web-1' }, { id: 'web-1' }]], bad: [[{ id: null }, 'explain: id: must be a string']] },
  call: {
    good: [
      [
        { id: 'kv', message: { op: 'get', key: 'a' } },
        { id: 'kv', message: { op: 'get', key: 'a' } },
      ],
      [
        { id: 'kv', message: null, timeoutMs: 250 },
        { id: 'kv', message: null, timeoutMs: 250 },
      ],
    ],
    bad: [
      [{ id: 'kv' }, 'call: message: required'],
      [{ id: 'kv', message: 1, timeoutMs: 0 }, 'call: timeoutMs: must be 1 or more'],
      [{ id: 'kv', message: 1, timeoutMs: 600_001 }, 'call: timeoutMs: must be at most 600000 (10 minutes)'],
      [{ message: 1 }, 'call: id: required'],
    ],
  },
  whereis: { good: [[{ id: 'web-1' }, { id: 'web-1' }]], bad: [[{}, 'whereis: id: required']] },
  restart: {
    good: [[{ id: 'web-1' }, { id: 'web-1' }]],
    bad: [
      [{}, 'restart: id: required'],
      [{ id: 'web-1', node: 'n2' }, 'restart: node: unknown field'],
    ],
  },
  status: { good: [[{}, {}]], bad: [[{ verbose: true }, 'status: verbose: unknown field']] },
  submit: {
    good: [
      [{ specs: [SPEC] }, { specs: [expect.objectContaining({ id: 'web-1', restart: 'permanent' })], waitMs: 10_000 }],
      [
        { specs: [SPEC, { ...SPEC, id: 'web-2' }], waitMs: 0 },
        { specs: [expect.objectContaining({ id: 'web-1' }), expect.objectContaining({ id: 'web-2' })], waitMs: 0 },
      ],
    ],
    bad: [
      [{}, 'submit: specs: required'],
      [{ specs: [] }, 'submit: specs: must hold at least one spec'],
      [{ specs: SPEC }, 'submit: specs: must be an array of child specs'],
      [{ specs: [SPEC], waitMs: -1 }, 'submit: waitMs: must be 0 or more'],
      [{ specs: [SPEC], waitMs: 600_001 }, 'submit: waitMs: must be at most 600000'],
      [{ specs: [SPEC, { ...SPEC, restart: 'sometimes' }] }, 'submit: specs.1.restart: '],
    ],
  },
  lock: { good: [[{}, {}]], bad: [[{ for: 60 }, 'lock: for: unknown field']] },
  unlock: { good: [[undefined, {}]], bad: [[{ credential: 'x' }, 'unlock: credential: unknown field']] },
};

const ALL_OPS = [...new Set<AnyOp>([...COMMAND_OPS, ...UI_OPS])];

describe('UI protocol: command arguments', () => {
  it('has a schema and cases for every op', () => {
    expect(Object.keys(COMMAND_ARG_SCHEMAS).sort()).toEqual([...ALL_OPS].sort());
    expect(Object.keys(CASES).sort()).toEqual([...ALL_OPS].sort());
  });

  for (const op of ALL_OPS) {
    it(`${op}: good arguments are accepted, bad ones refused naming the field`, () => {
      for (const [args, value] of CASES[op].good) expect(parseCommandArgs(op, args), JSON.stringify(args)).toEqual({ ok: true, value });
      for (const [args, message] of CASES[op].bad)
        expect(parseCommandArgs(op, args), JSON.stringify(args)).toEqual({
          ok: false,
          message: expect.stringMatching(new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)),
        });
    });
  }

  it('never throws, whatever it is given', () => {
    const hostile: unknown[] = [
      Object.create({ id: 'x' }),
      { __proto__: { id: 'x' } },
      { toString: 1 },
      new Date(0),
      () => 1,
      Symbol('x'),
      10n,
      { id: { valueOf: {} } },
    ];
    let deep: unknown = 'x';
    for (let i = 0; i < 5_000; i++) deep = { spec: deep };
    hostile.push(deep);
    for (const op of ALL_OPS) for (const args of hostile) expect(parseCommandArgs(op, args).ok, `${op}`).toBe(false);
  });
});

describe('UI protocol: a UI session’s command (the gateway edge)', () => {
  it('accepts every UI op with good arguments, and refuses member-only and unknown ops', () => {
    for (const op of UI_OPS) for (const [args, value] of CASES[op].good) expect(parseUiCommand({ op, args })).toEqual({ ok: true, value: { op, args: value } });
    expect(parseUiCommand({ op: 'pause' })).toEqual({ ok: true, value: { op: 'pause', args: {} } });
    for (const op of ['view', 'whoami', 'format-disk', 'START', 7])
      expect(parseUiCommand({ op, args: {} })).toMatchObject({ ok: false, message: expect.stringContaining('unknown command') });
  });

  it('refuses bad arguments with the same message as parseCommandArgs, and a malformed envelope', () => {
    for (const op of UI_OPS)
      for (const [args, message] of CASES[op].bad) expect(parseUiCommand({ op, args })).toMatchObject({ ok: false, message: expect.stringContaining(message) });
    expect(parseUiCommand(null)).toEqual({ ok: false, message: 'a command must be { op, args }' });
    expect(parseUiCommand(['move', 'x', 'y'])).toEqual({ ok: false, message: 'a command must be { op, args }' });
    expect(parseUiCommand({ op: 'stop', args: { id: 'x' }, as: 'root' })).toEqual({
      ok: false,
      message: 'a command is { op, args }: "as" is not a field of it',
    });
    // The positional form of earlier releases is refused, not guessed at.
    expect(parseUiCommand({ op: 'move', args: ['web-1', 'n2'] })).toEqual({ ok: false, message: `move: ${NOT_AN_OBJECT}` });
  });
});

describe('UI protocol: the positional form on links (member protocol unchanged)', () => {
  it('every member op round-trips: encode, then the member decodes to what the client meant', () => {
    for (const op of COMMAND_OPS) {
      for (const [args, value] of CASES[op].good) {
        if (args === undefined) continue;
        const wire = encodeWireArgs(op, args as never);
        // What the link carries still validates as a `cmd` of protocol 2.0.
        expect(CommandSchema.safeParse({ t: 'cmd', id: 'c1', op, args: wire, credential: '', by: '' }).success, op).toBe(true);
        expect(wire.length).toBeLessThanOrEqual(WIRE_FIELDS[op].length);
        expect(decodeWireCommand(op, wire)).toEqual({ ok: true, value: { op, args: value } });
      }
    }
  });

  it('keeps the positions earlier releases send and read', () => {
    expect(encodeWireArgs('move', { id: 'web-1', node: 'n2' })).toEqual(['web-1', 'n2']);
    expect(encodeWireArgs('logs', { id: 'job' })).toEqual(['job']);
    expect(encodeWireArgs('logs', { id: 'job', after: 5 })).toEqual(['job', 5]);
    expect(encodeWireArgs('start', { spec: SPEC })).toEqual([SPEC]);
    expect(encodeWireArgs('pause', {})).toEqual([]);
    // An audit without cursors is what earlier releases send (and the only form they take).
    expect(encodeWireArgs('audit', {})).toEqual([]);
    expect(encodeWireArgs('audit', { after: { n1: { incarnation: 'a', seq: 3 } } })).toEqual([{ n1: { incarnation: 'a', seq: 3 } }]);
    expect(decodeWireCommand('move', ['web-1', 'n2'])).toEqual({ ok: true, value: { op: 'move', args: { id: 'web-1', node: 'n2' } } });
  });

  it('a member names the field of a positional argument that is missing or wrong, and refuses extra ones', () => {
    const refusals: Array<[CommandOp, JsonValue[], string]> = [
      ['move', ['web-1'], 'move: node: required'],
      ['move', [1, 'n2'], 'move: id: must be a string'],
      ['logs', ['job', -5], 'logs: after: must be 0 or more'],
      ['start', [{ id: 'x', start: {} }], 'start: spec.start'],
      ['move', ['web-1', 'n2', 'n3'], 'move: takes 2 argument(s) (id, node), got 3'],
      ['pause', ['now'], 'pause: takes no arguments, got 1'],
    ];
    for (const [op, wire, message] of refusals) expect(decodeWireCommand(op, wire)).toMatchObject({ ok: false, message: expect.stringContaining(message) });
  });
});

describe('UI protocol: results and errors', () => {
  it('checks what a member answers, per op', () => {
    expect(parseMemberResult('start', { id: 'a', node: 'n1', pid: 'n1/abcdef0123456789/c1' })).toEqual({
      ok: true,
      value: { id: 'a', node: 'n1', pid: 'n1/abcdef0123456789/c1' },
    });
    expect(parseMemberResult('start', { id: 'a' })).toMatchObject({ ok: false, message: expect.stringMatching(/^start result: node: .*; pid: /) });
    expect(parseMemberResult('stop', undefined)).toEqual({ ok: true, value: null });
    expect(parseMemberResult('restart', { id: 'a', node: 'n1', pid: 'n1/abcdef0123456789/c2' })).toMatchObject({ ok: true });
    const outcomes: JsonValue = [
      { id: 'a', state: 'failing', node: 'n1', lastError: 'cannot start' },
      { id: 'b', state: 'finished' },
      { id: 'c', refused: { code: 'conflict', message: 'another spec' } },
    ];
    expect(parseMemberResult('submit', outcomes)).toEqual({ ok: true, value: outcomes });
    expect(parseMemberResult('submit', [{ id: 'a', state: 'started' }])).toMatchObject({ ok: false, message: expect.stringContaining('0') });
    expect(parseMemberResult('submit', [{ id: 'a', state: 'running', osPid: -3 }])).toMatchObject({ ok: false });
    expect(parseMemberResult('submit', { id: 'a', state: 'running' })).toMatchObject({ ok: false });
    const status = {
      node: 'n1',
      members: [{ name: 'n1', status: 'up', role: 'member', address: '127.0.0.1:4001', ready: true, draining: false }],
      children: { specs: 1, running: 1, pending: 0, moving: 0, duplicate: 0, failing: 0, unplaceable: 0, local: 1 },
      paused: false,
    };
    expect(parseMemberResult('status', status)).toEqual({ ok: true, value: status });
    expect(parseMemberResult('status', { ...status, members: [{ ...status.members[0], role: 'client' }] })).toMatchObject({
      ok: false,
      message: expect.stringContaining('members.0.role'),
    });
    const explanation: JsonValue = {
      id: 'a',
      spec: { id: 'a', start: { worker: 'w' }, restart: 'permanent', handoff: 'stop-first' },
      owner: 'n1',
      by: 'hash',
      paused: false,
      instances: [{ node: 'n1', pid: 'n1/abcdef0123456789/c1', osPid: 4242 }],
      candidates: [
        { node: 'n1', excludedBy: [], score: 1.5 },
        { node: 'o', excludedBy: ['observer'] },
      ],
      waiting: [],
    };
    expect(parseMemberResult('explain', explanation)).toMatchObject({ ok: true, value: { instances: [{ osPid: 4242 }] } });
    expect(parseMemberResult('whoami', { role: 'viewer' })).toEqual({ ok: true, value: { role: 'viewer' } });
    expect(parseMemberResult('whoami', { role: 'root' })).toMatchObject({ ok: false, message: expect.stringContaining('role') });
    expect(parseMemberResult('logs', [{ seq: 1, at: 2, stream: 'stdout', text: 'hi' }])).toEqual({
      ok: true,
      value: [{ seq: 1, at: 2, stream: 'stdout', text: 'hi' }],
    });
    expect(parseMemberResult('logs', [{ seq: 1, at: 2, stream: 'tty', text: 'hi' }])).toMatchObject({
      ok: false,
      message: expect.stringContaining('0.stream'),
    });
    // A newer member may add fields and audit ops this release does not know: kept, not refused.
    const entry = { at: 1, node: 'n1', from: 'obs', by: 'alice', op: 'reboot', args: ['x'], ok: false, result: 'bad-request: no', extra: true };
    expect(parseMemberResult('audit', [entry])).toEqual({
      ok: true,
      value: [{ at: 1, node: 'n1', from: 'obs', by: 'alice', op: 'reboot', args: ['x'], ok: false, result: 'bad-request: no' }],
    });
    // This release's entries name the verified token and number themselves; an older member's, without those fields, still parse (above).
    const named = { ...entry, tokenName: 'ops-team', incarnation: 'abc', seq: 4 };
    expect(parseMemberResult('audit', [named])).toMatchObject({ ok: true, value: [{ by: 'alice', tokenName: 'ops-team', incarnation: 'abc', seq: 4 }] });
    expect(parseMemberResult('audit', [{ ...named, tokenName: 7 }])).toMatchObject({ ok: false, message: expect.stringContaining('0.tokenName') });
    expect(parseMemberResult('view', { node: 'n1', members: [{ name: 'n2', status: 'gone' }], children: [] })).toMatchObject({
      ok: false,
      message: expect.stringContaining('members.0.status'),
    });
  });

  it('keeps known error codes and turns unknown ones into `failed`, keeping the code in the message', () => {
    for (const code of COMMAND_ERROR_CODES) expect(commandFailure(code, 'm')).toEqual({ code, message: 'm' });
    expect(commandFailure('disk-on-fire', 'it is hot')).toEqual({ code: 'failed', message: 'disk-on-fire: it is hot' });
  });
});

describe('UI protocol: the fast check of a member view', () => {
  // Values that are right for a field, and values that are wrong for some.
  const anyValue = fc.oneof(
    fc.constantFrom<unknown>(undefined, null, '', 'x', 'running', 'up', 'stop-first', 'permanent', 0, 1.5, -1, true, [], {}),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const maybe = <T>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 9, arbitrary: good }, { weight: 1, arbitrary: anyValue });
  const extra = fc.option(fc.constantFrom('colour', 'since', 'id'), { nil: undefined, freq: 6 });
  const withExtra = (o: Record<string, unknown>, key: string | undefined): Record<string, unknown> => (key === undefined ? o : { ...o, [key]: 1 });
  const start = maybe(fc.oneof(fc.record({ worker: fc.string() }), fc.record({ command: fc.string(), args: fc.array(fc.string()) })));
  const spec = maybe(
    fc.record({
      id: maybe(fc.string()),
      start,
      restart: maybe(fc.constantFrom('permanent', 'transient', 'temporary')),
      handoff: maybe(fc.constantFrom('stop-first', 'start-first')),
      labels: fc.constant({}),
    }),
  );
  const osPid = maybe(fc.oneof(fc.integer({ min: 1, max: 4_194_304 }), fc.constantFrom(0, -5, 2.5, 2 ** 60)));
  const instance = fc
    .tuple(fc.record({ node: maybe(fc.string()), pid: maybe(fc.string()), osPid }, { requiredKeys: ['node', 'pid'] }), extra)
    .map(([o, k]) => withExtra(o, k === 'id' ? undefined : k));
  const failure = fc.record({ node: maybe(fc.string()), failures: maybe(fc.nat()), lastError: maybe(fc.string()) });
  const child = fc
    .tuple(
      fc.record(
        {
          id: maybe(fc.string()),
          spec,
          rev: maybe(fc.string()),
          status: maybe(fc.constantFrom('running', 'pending', 'moving', 'duplicate', 'failing', 'unplaceable')),
          node: maybe(fc.string()),
          pid: maybe(fc.string()),
          instances: maybe(fc.array(instance, { maxLength: 2 })),
          restarts: maybe(fc.nat()),
          owner: maybe(fc.string()),
          pin: maybe(fc.string()),
          failures: maybe(fc.array(failure, { maxLength: 2 })),
          lastError: maybe(fc.string()),
          osPid,
          resumeTo: maybe(fc.string()),
        },
        { requiredKeys: ['id', 'spec', 'rev', 'status', 'instances', 'restarts', 'failures'] },
      ),
      extra,
    )
    .map(([o, k]) => withExtra(o, k === 'id' ? undefined : k));
  const view = fc.record({
    node: maybe(fc.string()),
    members: maybe(fc.array(fc.record({ name: maybe(fc.string()), status: maybe(fc.constantFrom('up', 'suspect', 'down', 'left')) }), { maxLength: 3 })),
    children: maybe(fc.array(child, { maxLength: 3 })),
  });

  it("accepts only what the schema accepts unchanged, and whatever it refuses takes the schema's path", () => {
    let fast = 0;
    fc.assert(
      fc.property(view, (raw) => {
        const json = JSON.parse(JSON.stringify(raw)) as unknown;
        const parsed = MemberViewReplySchema.safeParse(json);
        if (isPlainViewReply(json)) {
          fast++;
          expect(parsed.success).toBe(true);
          expect(parsed.data).toEqual(json);
        }
        // The answer is the schema's either way.
        expect(parseMemberResult('view', json as never).ok).toBe(parsed.success);
      }),
      { seed: 1414, numRuns: 3_000 },
    );
    // Most generated views are valid somewhere and broken somewhere else; enough take the fast path to matter.
    expect(fast).toBeGreaterThan(100);
  });
});

describe('UI protocol: the members of the state', () => {
  const good = {
    name: 'n1',
    status: 'down',
    role: 'member',
    address: '127.0.0.1:1',
    incarnation: 'abc',
    labels: { zone: 'a' },
    workers: ['w'],
    ready: true,
    draining: false,
    reachable: false,
    silent: true,
  };

  it('keeps the members it can read and names the field of each it cannot; never throws', () => {
    const { members, refused } = checkMemberViews([
      good,
      { ...good, name: 'n2', status: 'unreachable', silent: false },
      { ...good, name: 'n3', silent: undefined },
      { ...good, name: 'n4', status: 'gone' },
      null,
      'n5',
    ]);
    expect(members.map((m) => m.name)).toEqual(['n1', 'n2']);
    expect(refused).toHaveLength(4);
    expect(refused[0]).toMatch(/^member n3: silent: /);
    expect(refused[1]).toMatch(/^member n4: status: /);
    expect(refused[2]).toMatch(/^member \(no name\)/);
    fc.assert(fc.property(fc.array(fc.anything()), (raw) => void checkMemberViews(raw)));
  });
});

describe('UI protocol: the handshake', () => {
  it('reads token, credential, user and lock without ever throwing; a malformed token is empty (refused)', () => {
    expect(parseHandshakeAuth({ token: 't', credential: 'c', user: 'alice', locked: true })).toEqual({
      token: 't',
      credential: 'c',
      user: 'alice',
      locked: true,
    });
    expect(parseHandshakeAuth({ token: 't' })).toEqual({ token: 't', credential: '', user: '', locked: false });
    expect(parseHandshakeAuth({ token: 5, credential: {}, user: ['x'], locked: 'yes' })).toEqual({ token: '', credential: '', user: '', locked: false });
    expect(parseHandshakeAuth({ token: 'x'.repeat(2_000) }).token).toBe('');
    expect(parseHandshakeAuth({ token: 't', credential: 'c'.repeat(2_000), user: 'u'.repeat(200) })).toEqual({
      token: 't',
      credential: 'c'.repeat(1024),
      user: 'u'.repeat(64),
      locked: false,
    });
    for (const raw of [undefined, null, 'token', [], Object.create(null)])
      expect(parseHandshakeAuth(raw)).toEqual({ token: '', credential: '', user: '', locked: false });
  });
});

describe('UI protocol: size', () => {
  it('measures UTF-8 JSON, formats sizes, and names the limit in a refusal', () => {
    expect(jsonBytes({ a: 'é' })).toBe(10);
    expect(formatBytes(900)).toBe('900 bytes');
    expect(formatBytes(MAX_COMMAND_ARGS_BYTES)).toBe('1 MiB');
    expect(formatBytes(1.25 * 1024 * 1024)).toBe('1.3 MiB');
    expect(tooLargeMessage('start', 1_300_000)).toBe('the spec is 1.2 MiB as JSON (1,300,000 bytes); a command may carry at most 1 MiB (1,048,576 bytes)');
  });

  it('counts UTF-8 bytes as TextEncoder writes them, lone surrogates (U+FFFD) and pairs included', () => {
    const encoded = (s: string) => new TextEncoder().encode(s).length;
    for (const s of ['', 'a', 'é', '€', '😀', '\ud800', '\udc00', '\ud800a', 'a\udc00\ud800', '\ud83d\ude00\ud83d']) expect(utf8Length(s)).toBe(encoded(s));
    fc.assert(
      fc.property(
        fc.string({ unit: fc.oneof(fc.constant('\ud800'), fc.constant('\udfff'), fc.string({ unit: 'binary', maxLength: 1 })), maxLength: 40 }),
        (s) => {
          expect(utf8Length(s)).toBe(encoded(s));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a UI sends anything the gateway can receive, and refuses locally only what it could not', () => {
    const spec = (bytes: number) => ({ id: 'big', start: { worker: 'w', args: { blob: 'x'.repeat(bytes) } } });
    expect(oversizedRequest({ op: 'start', args: { spec: spec(2 * MAX_COMMAND_ARGS_BYTES) } })).toBeUndefined();
    const refusal = oversizedRequest({ op: 'start', args: { spec: spec(GATEWAY_MAX_FRAME_BYTES) } });
    expect(refusal).toMatchObject({
      code: 'too-large',
      message: expect.stringMatching(/^the spec is 4\.0 MiB as JSON .*at most 1 MiB .*; not sent: the gateway takes frames of at most 4 MiB$/),
    });
  });
});
