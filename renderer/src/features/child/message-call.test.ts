import { describe, expect, it } from 'vitest';
import { MAX_COMMAND_ARGS_BYTES } from 'pogo-core/command-size';
import { callInput, failureText, replyText } from './message-call';

describe('message-call', () => {
  it('takes any JSON value as the message, and an optional whole number of ms as the timeout', () => {
    expect(callInput('{"op":"get","key":"a"}', '')).toEqual({ ok: true, message: { op: 'get', key: 'a' }, timeoutMs: undefined });
    expect(callInput('null', ' 250 ')).toEqual({ ok: true, message: null, timeoutMs: 250 });
    expect(callInput('"ping"', '')).toEqual({ ok: true, message: 'ping', timeoutMs: undefined });
    expect(callInput('[1,2]', '60000')).toEqual({ ok: true, message: [1, 2], timeoutMs: 60_000 });
  });

  it('says what is wrong before anything is sent', () => {
    expect(callInput('   ', '')).toMatchObject({ ok: false, error: expect.stringMatching(/^Message: type a JSON value/) });
    expect(callInput('{op: get}', '')).toMatchObject({ ok: false, error: expect.stringMatching(/^Message: not valid JSON \(/) });
    for (const t of ['0', '-5', '1.5', '5s', 'abc']) expect(callInput('1', t)).toMatchObject({ ok: false, error: expect.stringMatching(/^Timeout: /) });
    const big = JSON.stringify('x'.repeat(MAX_COMMAND_ARGS_BYTES));
    expect(callInput(big, '')).toMatchObject({ ok: false, error: expect.stringMatching(/^Message: .* is over the 1 MiB a command may carry$/) });
  });

  it('puts each typed failure in words, keeping the cluster’s own message; an unknown code as it comes', () => {
    expect(failureText('handler-error', 'worker kv: boom')).toBe('handler-error: the child’s handler threw. worker kv: boom');
    expect(failureText('timeout', 'no reply in 250 ms')).toMatch(
      /^timeout: no reply within the timeout \(it may still have been delivered: calls are at most once\)\. no reply in 250 ms$/,
    );
    for (const code of ['not-found', 'not-running', 'no-handler', 'too-large']) expect(failureText(code, 'm')).toMatch(new RegExp(`^${code}: .+\\. m$`));
    expect(failureText('unauthorized', 'needs an operator')).toBe('unauthorized: needs an operator');
  });

  it('shows the reply as pretty JSON, cut when long', () => {
    expect(replyText({ count: 3 })).toBe('{\n  "count": 3\n}');
    expect(replyText(null)).toBe('null');
    const long = replyText('y'.repeat(100), 20);
    expect(long.startsWith('"yyyyyyyyyyyyyyyyyyy\n… (102 characters in all)')).toBe(true);
  });
});
