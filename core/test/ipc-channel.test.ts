/**
 * An OS child's message channel without a process: the protocol's decoding
 * (supervisor/ipc-protocol.ts) and IpcChannel (supervisor/ipc-channel.ts)
 * over a fake port, on a ManualClock. Every typed error the channel gives,
 * every dropped input with its logged reason, the backpressure bound, and
 * the exit race (a reply written just before the child exits is delivered).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import type { JsonValue } from '../src/groups.js';
import { MemoryLogger } from '../src/logger.js';
import { DROP_LOG_EVERY, DROP_LOG_FIRST, IpcChannel, shouldLogDrop, type IpcPort } from '../src/supervisor/ipc-channel.js';
import { decodeChildLine, decodeChildMessage, encodeCall, encodeCast, replyIdOfHead, type NodeToChildMessage } from '../src/supervisor/ipc-protocol.js';
import { HEAD_BYTES } from '../src/supervisor/line-codec.js';
import { messageFailure } from './support/messages.js';
import { StallableClock } from './support/stallable-clock.js';

describe('ipc-protocol', () => {
  it('writes calls and casts with the documented key order and no spaces', () => {
    expect(encodeCall(7, { a: [1, 'é'] })).toBe('{"id":7,"type":"call","body":{"a":[1,"é"]}}');
    expect(encodeCast(null)).toBe('{"type":"cast","body":null}');
    expect(encodeCall(1, undefined as unknown as JsonValue)).toBeUndefined();
  });

  it('decodes replies and errors, null being a reply', () => {
    expect(decodeChildLine('{"id":3,"reply":null}')).toEqual({ ok: true, id: 3, reply: null });
    expect(decodeChildLine(' {"reply":{"n":1},"id":4} ')).toEqual({ ok: true, id: 4, reply: { n: 1 } });
    expect(decodeChildLine('{"id":5,"error":"boom"}')).toEqual({ ok: true, id: 5, error: 'boom' });
  });

  it.each([
    ['not JSON', 'hello', /^not JSON \(/],
    ['a JSON array', '[1]', /^not an object: expected \{"id":N,"reply":<JSON>\} or \{"id":N,"error":"message"\}/],
    ['neither reply nor error', '{"id":1,"result":2}', /^neither "reply" nor "error"/],
    ['both reply and error', '{"id":1,"reply":2,"error":"x"}', /^both "reply" and "error"/],
    ['no id', '{"reply":2}', /^id: required/],
    ['id a string', '{"id":"1","reply":2}', /^id: must be a number/],
    ['id 0', '{"id":0,"reply":2}', /^id: must be more than 0/],
    ['id 1.5', '{"id":1.5,"reply":2}', /^id: must be a whole number/],
    ['error not a string', '{"id":1,"error":{"message":"x"}}', /^error: must be a string/],
    ['an extra field', '{"id":1,"reply":2,"extra":true}', /^extra: unknown field/],
  ])('drops %s with a reason', (_name, line, reason) => {
    const decoded = decodeChildLine(line);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.reason).toMatch(reason);
  });

  it('decodeChildMessage never throws, whatever it is given', () => {
    for (const v of [undefined, null, 1, 'x', [], {}, { id: 1 }, Object.create(null) as object, { id: 1, reply: () => 1 }])
      expect(decodeChildMessage(v).ok).toBe(false);
  });

  it('reads a call id from the head of an over-size line only when the line starts with it', () => {
    expect(replyIdOfHead('{"id":42,"reply":"xxxx')).toBe(42);
    expect(replyIdOfHead(' { "id" : 42 , "reply":"xxxx')).toBe(42);
    expect(replyIdOfHead('{"reply":"xxxx","id":42}')).toBeUndefined();
    expect(replyIdOfHead('{"id":0,"reply":1')).toBeUndefined();
    expect(replyIdOfHead('{"id":4')).toBeUndefined(); // the head was cut inside the id: no guess
  });
});

/** A port that records what is sent and lets the test say when (and how) each write completes. */
class FakePort implements IpcPort {
  readonly via = 'fake';
  readonly sent: Array<{ text: string; message: NodeToChildMessage; done: (err?: Error | null) => void }> = [];
  autoDone = true;
  send(text: string, message: NodeToChildMessage, done: (err?: Error | null) => void): void {
    this.sent.push({ text, message, done });
    if (this.autoDone) queueMicrotask(() => done(null));
  }
  lastId(): number {
    return (this.sent.at(-1)!.message as { id: number }).id;
  }
}

function setup(limits = { maxMessageBytes: 1000, maxQueuedBytes: 3000 }) {
  const clock = new ManualClock();
  const log = new MemoryLogger();
  const channel = new IpcChannel(clock, log, limits);
  const port = new FakePort();
  channel.attach(port);
  const line = (text: string) => channel.onLine({ kind: 'line', text });
  const drops = () =>
    log.entries.filter((e) => e.message.startsWith('dropped input from the child: ')).map((e) => e.message.slice('dropped input from the child: '.length));
  return { clock, log, channel, port, line, drops };
}

describe('IpcChannel', () => {
  it('writes a call, resolves it with the reply to its id, and leaves no timer behind', async () => {
    const { channel, port, line, clock } = setup();
    const a = channel.call({ q: 1 }, 1000);
    const b = channel.call('two', 1000);
    expect(port.sent.map((s) => s.text)).toEqual(['{"id":1,"type":"call","body":{"q":1}}', '{"id":2,"type":"call","body":"two"}']);
    line('{"id":2,"reply":"second"}'); // any order
    line('{"id":1,"reply":{"a":[1]}}');
    await expect(a).resolves.toEqual({ a: [1] });
    await expect(b).resolves.toBe('second');
    expect(channel.pendingCalls).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it("turns the child's error into handler-error with its message", async () => {
    const { channel, line } = setup();
    const p = channel.call('x', 1000);
    line('{"id":1,"error":"no such tenant"}');
    const err = await messageFailure(p);
    expect([err.code, err.message]).toEqual(['handler-error', 'no such tenant']);
  });

  it('race "a caller woken from a freeze": a timeout whose timer runs late waits a turn, so a reply the child wrote in time answers the call', async () => {
    const inner = new ManualClock();
    const clock = new StallableClock(inner);
    const channel = new IpcChannel(clock, new MemoryLogger(), { maxMessageBytes: 1000, maxQueuedBytes: 3000 });
    channel.attach(new FakePort());
    const answered = channel.call('in time', 500);
    const silent = channel.call('never answered', 500);
    // The node is frozen past both deadlines; on waking, the timers run before the socket is read.
    clock.held = true;
    inner.advance(2000);
    clock.release();
    channel.onLine({ kind: 'line', text: '{"id":1,"reply":"written before the deadline"}' }); // the poll phase that follows
    await expect(answered).resolves.toBe('written before the deadline');
    const err = await messageFailure(silent); // no reply in that turn: timeout, as before
    expect([err.code, err.message]).toEqual(['timeout', 'no reply from the child within 500 ms']);
  });

  it('times a call out on the clock; the late reply is dropped and logged, and never answers a later call', async () => {
    const { channel, port, line, clock, drops } = setup();
    const p = channel.call('slow', 500);
    clock.advance(499);
    expect(channel.pendingCalls).toBe(1);
    clock.advance(1);
    const err = await messageFailure(p);
    expect([err.code, err.message]).toEqual(['timeout', 'no reply from the child within 500 ms']);
    const next = channel.call('fast', 500);
    expect(port.lastId()).toBe(2);
    line('{"id":1,"reply":"late"}');
    line('{"id":2,"reply":"mine"}');
    await expect(next).resolves.toBe('mine');
    expect(drops()).toEqual(['a reply for id 1, which has no pending call (it timed out, or was never made)']);
  });

  it('drops bad input with its reason and goes on answering', async () => {
    const { channel, line, drops } = setup();
    const p = channel.call('x', 1000);
    line('not json');
    line('{"id":1,"result":2}');
    channel.onLine({ kind: 'not-utf8', bytes: 3 });
    line('{"id":1,"reply":"fine"}');
    await expect(p).resolves.toBe('fine');
    expect(drops()).toEqual([expect.stringMatching(/^not JSON/), expect.stringMatching(/^neither "reply" nor "error"/), 'a line of 3 bytes that is not UTF-8']);
  });

  it('fails a call at once with too-large when its over-size reply starts with its id; otherwise drops it and the call times out', async () => {
    const { channel, clock, drops } = setup();
    const a = channel.call('big', 1000);
    const head = `{"id":1,"reply":"${'x'.repeat(100)}`.slice(0, HEAD_BYTES);
    channel.onLine({ kind: 'too-large', bytes: 5000, head });
    const err = await messageFailure(a);
    expect(err.code).toBe('too-large');
    expect(err.message).toBe("the child's reply is 5000 bytes; at most 1000 are taken");
    const b = channel.call('big, id last', 1000);
    channel.onLine({ kind: 'too-large', bytes: 5000, head: '{"reply":"xxxxxxxx' });
    expect(channel.pendingCalls).toBe(1);
    clock.advance(1000);
    expect((await messageFailure(b)).code).toBe('timeout');
    expect(drops()).toEqual(['a message of 5000 bytes (at most 1000): call 1 failed with too-large', 'a message of 5000 bytes (at most 1000)']);
  });

  it('refuses a message over the limit before writing anything, as a call and as a cast', async () => {
    const { channel, port } = setup({ maxMessageBytes: 100, maxQueuedBytes: 1000 });
    const err = await messageFailure(channel.call('x'.repeat(100), 1000));
    expect(err.code).toBe('too-large');
    expect(err.message).toMatch(/^the message is 132 bytes of JSON; a child takes at most 100$/);
    expect(() => channel.cast('é'.repeat(40))).toThrow(
      expect.objectContaining({ code: 'too-large', message: expect.stringMatching(/^the message is 1\d\d bytes/) as unknown }),
    );
    expect(port.sent).toEqual([]);
    expect(channel.pendingCalls).toBe(0);
  });

  it('refuses calls with timeout while the child is not taking what was written (bounded queue), and takes them again once it does', async () => {
    const { channel, port } = setup({ maxMessageBytes: 1000, maxQueuedBytes: 3000 });
    port.autoDone = false;
    const calls: Array<Promise<JsonValue>> = [];
    for (let i = 0; i < 3; i++) calls.push(channel.call('x'.repeat(900), 60_000));
    const refused = await messageFailure(channel.call('x'.repeat(900), 60_000));
    expect(refused.code).toBe('timeout');
    expect(refused.message).toMatch(/^the child is not reading its messages: 27\d\d bytes wait to be written to it over fake \(at most 3000\)$/);
    expect(() => channel.cast('x'.repeat(900))).toThrow(expect.objectContaining({ code: 'timeout' }));
    expect(port.sent).toHaveLength(3);
    port.sent[0]!.done(null);
    void channel.call('x'.repeat(900), 60_000).catch(() => undefined);
    expect(port.sent).toHaveLength(4);
    expect(channel.pendingCalls).toBe(4);
  });

  it('a cast is written without an id and waits for nothing', () => {
    const { channel, port, clock } = setup();
    channel.cast({ event: 'reload' });
    expect(port.sent.map((s) => s.text)).toEqual(['{"type":"cast","body":{"event":"reload"}}']);
    expect(channel.pendingCalls).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('race: a reply written just before the exit is still delivered; the calls left fail with not-running once the input has ended', async () => {
    const { channel, line } = setup();
    const answered = channel.call('a', 60_000);
    const unanswered = channel.call('b', 60_000);
    channel.exited('failed: exit code 3');
    // New calls are refused at once: the instance is gone.
    const after = await messageFailure(channel.call('c', 60_000));
    expect([after.code, after.message]).toEqual(['not-running', 'the instance has exited (failed: exit code 3)']);
    expect(() => channel.cast('d')).toThrow(expect.objectContaining({ code: 'not-running' }));
    line('{"id":1,"reply":"just in time"}');
    expect(channel.pendingCalls).toBe(1);
    channel.inputEnded('the child closed fd 3');
    await expect(answered).resolves.toBe('just in time');
    const err = await messageFailure(unanswered);
    expect(err.code).toBe('not-running');
    expect(err.message).toBe('the instance exited (failed: exit code 3) before it replied; the message was delivered and may have been handled');
  });

  it('the same the other way round: input ended first, then the exit', async () => {
    const { channel, clock } = setup();
    const p = channel.call('a', 60_000);
    channel.inputEnded('the child closed fd 3');
    const refused = await messageFailure(channel.call('b', 60_000));
    expect([refused.code, refused.message]).toEqual(['no-handler', 'the child does not take messages: the child closed fd 3']);
    expect(channel.pendingCalls).toBe(1);
    channel.exited('exited normally');
    expect((await messageFailure(p)).code).toBe('not-running');
    expect(clock.pending()).toBe(0);
  });

  it('a failed write ends the input: later calls are refused with no-handler', async () => {
    const { channel, port } = setup();
    port.autoDone = false;
    const p = channel.call('a', 1000);
    port.sent[0]!.done(new Error('EPIPE'));
    const err = await messageFailure(channel.call('b', 1000));
    expect([err.code, err.message]).toEqual(['no-handler', 'the child does not take messages: writing to fake failed: EPIPE']);
    channel.exited('killed by SIGKILL');
    expect((await messageFailure(p)).code).toBe('not-running');
  });

  it('a channel with no port attached refuses with no-handler', async () => {
    const channel = new IpcChannel(new ManualClock(), new MemoryLogger(), { maxMessageBytes: 10, maxQueuedBytes: 20 });
    expect((await messageFailure(channel.call(1, 10))).code).toBe('no-handler');
  });

  it('refuses a timeout that is not a positive number, and a body with no JSON form', async () => {
    const { channel, port } = setup();
    for (const t of [0, -1, Number.NaN, Infinity]) expect((await messageFailure(channel.call(1, t))).code).toBe('timeout');
    expect((await messageFailure(channel.call(undefined as unknown as JsonValue, 100))).message).toMatch(/not JSON/);
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    expect((await messageFailure(channel.call(cycle as JsonValue, 100))).message).toMatch(/^the message body is not JSON: /);
    expect(port.sent).toEqual([]);
  });

  it('Node IPC messages: the same shapes, measured for the limit (a too-large reply fails its call at once)', async () => {
    const { channel, drops } = setup({ maxMessageBytes: 100, maxQueuedBytes: 1000 });
    const ok = channel.call('a', 1000);
    const big = channel.call('b', 1000);
    channel.onMessage({ id: 1, reply: ['fine'] });
    channel.onMessage({ id: 2, reply: 'x'.repeat(200) });
    channel.onMessage('just a string');
    await expect(ok).resolves.toEqual(['fine']);
    expect((await messageFailure(big)).code).toBe('too-large');
    expect(drops()).toEqual(['a message of 219 bytes (at most 100): call 2 failed with too-large', expect.stringMatching(/^not an object/)]);
  });

  it('logs the first drops of an instance, then one in DROP_LOG_EVERY', () => {
    const { channel, drops } = setup();
    for (let i = 0; i < 2 * DROP_LOG_EVERY; i++) channel.onLine({ kind: 'line', text: 'bad' });
    expect(channel.dropped).toBe(2 * DROP_LOG_EVERY);
    expect(drops()).toHaveLength(DROP_LOG_FIRST + 2);
    expect(drops()[DROP_LOG_FIRST - 1]).toMatch(/further drops are logged once per 1000$/);
    expect([1, DROP_LOG_FIRST, DROP_LOG_FIRST + 1, DROP_LOG_EVERY].map(shouldLogDrop)).toEqual([true, true, false, true]);
  });
});
