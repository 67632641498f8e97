/**
 * `pogo ctl start`'s input (cli/spec-input.ts): one spec, a JSON array, or
 * JSON lines — what `jq -c '.[]' specs.json | pogo ctl start -` pipes in —
 * and, through `runCtl`, a bad spec named by its line.
 */
import { describe, expect, it } from 'vitest';
import { EXIT, runCtl } from '../src/cli/ctl.js';
import { parseSpecInput } from '../src/cli/spec-input.js';

const spec = (id: string) => JSON.stringify({ id, start: { worker: 'idle' } });

describe('parseSpecInput', () => {
  it('reads one JSON document whole: one spec or an array, pretty-printed or not', () => {
    expect(parseSpecInput(spec('a'), 'f')).toEqual({ ok: true, value: { id: 'a', start: { worker: 'idle' } } });
    const pretty = JSON.stringify([{ id: 'a' }, { id: 'b' }], null, 2);
    expect(parseSpecInput(pretty, 'f')).toEqual({ ok: true, value: [{ id: 'a' }, { id: 'b' }] });
  });

  it('reads JSON lines as the specs, one per line, with the line of each; blank lines, CRLF and a last newline are allowed', () => {
    const text = `${spec('a')}\r\n\n${spec('b')}\n${spec('c')}\n`;
    const read = parseSpecInput(text, 'stdin');
    expect(read).toMatchObject({ ok: true, lines: [1, 3, 4] });
    expect(read.ok && (read.value as Array<{ id: string }>).map((s) => s.id)).toEqual(['a', 'b', 'c']);
  });

  it('names the first line that is not JSON when the text began as JSON lines', () => {
    const read = parseSpecInput(`${spec('a')}\n${spec('b')}\n{"id": "c",\n`, 'stdin');
    expect(read).toMatchObject({ ok: false, message: expect.stringMatching(/^stdin: line 3 is not JSON \(.+\); JSON lines hold one spec per line$/) });
  });

  it('refuses a line that is JSON but not one spec, rather than flattening it', () => {
    expect(parseSpecInput(`${spec('a')}\n[${spec('b')}]\n`, 'f')).toMatchObject({
      ok: false,
      message: 'f: line 2 is not a spec (a JSON object); JSON lines hold one spec per line',
    });
    expect(parseSpecInput(`${spec('a')}\n42\n`, 'f')).toMatchObject({ ok: false, message: expect.stringContaining('line 2 is not a spec') });
  });

  it("says what start takes, with JSON.parse's own error, when the text is neither", () => {
    for (const text of ['not json', '{\n  "id": "a",\n', '', '  \n'])
      expect(parseSpecInput(text, 'specs.json')).toMatchObject({
        ok: false,
        message: expect.stringMatching(/^specs\.json does not hold JSON \(.+\): give one spec, a JSON array of specs, or one spec per line$/),
      });
  });
});

/** Runs `ctl start -` with `stdin` and no token: a good input goes on to the token check (exit 4) before any link. */
async function start(stdin: string): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t), stdin: () => Promise.resolve(stdin), onStop: () => () => {} };
  const saved = process.env['POGO_TOKEN'];
  delete process.env['POGO_TOKEN'];
  try {
    return { code: await runCtl('start', ['-'], { seed: ['127.0.0.1:1'] }, io), out: out.join('') };
  } finally {
    if (saved !== undefined) process.env['POGO_TOKEN'] = saved;
  }
}

describe('pogo ctl start - with JSON lines', () => {
  it('takes them as a list of specs', async () => {
    expect(await start(`${spec('a')}\n${spec('b')}\n`)).toMatchObject({ code: EXIT.unauthorized });
  });

  it('names a bad spec, and a duplicate id, by line', async () => {
    const bad = await start(`${spec('a')}\n\n{"id": "b", "start": {}}\n${spec('a')}\n`);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.out).toContain('start: line 3 ');
    expect(bad.out).toContain('line 4 duplicate id "a" (also line 1)');
    expect(bad.out).toContain('nothing was sent');
  });
});
