/**
 * `pogo ctl call <id> <json>`: the message is checked at the command line
 * (exit 2 before any link): JSON, and plain JSON (`1e400` parses to
 * Infinity, which no frame carries). `-` reads it from stdin, for messages
 * larger than one command-line argument may be (128 KiB on Linux).
 */
import { describe, expect, it } from 'vitest';
import { EXIT, runCtl } from '../src/cli/ctl.js';

/** Runs `ctl call` with `stdin`, no token (a good message then fails as unauthorized, before dialling): exit code and output. */
async function call(args: string[], stdin = ''): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const io = {
    stdout: (t: string) => void out.push(t),
    stderr: (t: string) => void out.push(t),
    stdin: () => Promise.resolve(stdin),
    onStop: () => () => {},
  };
  const saved = process.env['POGO_TOKEN'];
  delete process.env['POGO_TOKEN'];
  try {
    return { code: await runCtl('call', args, { seed: ['127.0.0.1:1'] }, io), out: out.join('') };
  } finally {
    if (saved !== undefined) process.env['POGO_TOKEN'] = saved;
  }
}

describe('pogo ctl call: the message', () => {
  it('must be JSON, and plain JSON; the refusal says which', async () => {
    expect(await call(['kv', '{op'])).toMatchObject({ code: EXIT.usage, out: expect.stringContaining('call: message: must be JSON') });
    expect(await call(['kv', '1e400'])).toMatchObject({ code: EXIT.usage, out: expect.stringContaining('must be plain JSON (a number out of range') });
    // A good message goes on to the token check.
    expect(await call(['kv', '{"op":"get"}'])).toMatchObject({ code: EXIT.unauthorized });
  });

  it('`-` reads it from stdin, a message larger than a command-line argument may be', async () => {
    const big = JSON.stringify({ op: 'put', value: 'x'.repeat(200_000) });
    expect(await call(['kv', '-'], big)).toMatchObject({ code: EXIT.unauthorized });
    expect(await call(['kv', '-'], 'not json')).toMatchObject({ code: EXIT.usage, out: expect.stringContaining('call: message (stdin): must be JSON') });
    expect(await call(['kv', '-'], '[1e999]')).toMatchObject({ code: EXIT.usage, out: expect.stringContaining('must be plain JSON') });
  });

  it('one larger than any member takes is refused here, too-large, not sent (it ended the link: exit 3, "may or may not have been handled")', async () => {
    const huge = JSON.stringify({ op: 'put', value: 'x'.repeat(5 * 1024 * 1024) });
    expect(await call(['kv', '-'], huge)).toMatchObject({ code: EXIT.failed, out: expect.stringMatching(/too-large|message is 5\.0 MiB as JSON; not sent/) });
  });
});
