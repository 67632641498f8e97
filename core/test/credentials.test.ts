/**
 * Named tokens (credentials.ts): the token file format, which name a
 * presented credential has, what a client reads from its own file, and
 * the config's refusal of a bad file, naming the line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { clientToken, parseTokens, TokenSet } from '../src/credentials.js';

const A = 'alice-token-0123456789';
const B = 'ops-team-token-0123456789';

describe('token files', () => {
  it('reads name:token lines and a bare token (named by the default); comments and blank lines are skipped', () => {
    expect(parseTokens(`# the team\nalice:${A}\n\n  ops-team : ${B}  \n`, 'operator')).toEqual({
      ok: true,
      tokens: [
        { name: 'alice', token: A },
        { name: 'ops-team', token: B },
      ],
    });
    // A one-token file of earlier releases keeps working.
    expect(parseTokens(`${A}\n`, 'operator')).toEqual({ ok: true, tokens: [{ name: 'operator', token: A }] });
    expect(parseTokens(A, 'viewer')).toEqual({ ok: true, tokens: [{ name: 'viewer', token: A }] });
    expect(parseTokens('\r\n# nothing\r\n', 'operator')).toEqual({ ok: true, tokens: [] });
  });

  it('refuses a bad line, naming it and saying what is wrong', () => {
    const problems = (text: string) => {
      const parsed = parseTokens(text, 'operator');
      return parsed.ok ? [] : parsed.problems;
    };
    expect(problems(`alice:short`)).toEqual(['line 1: the token of alice must be at least 16 characters']);
    expect(problems(`alice:${A}\nalice:${B}`)).toEqual(['line 2: the name alice is used twice']);
    expect(problems(`alice:${A}\nbob:${A}`)).toEqual(['line 2: the token of bob is used twice in this file']);
    expect(problems(`bad name:${A}`)).toEqual([expect.stringMatching(/^line 1: "bad name" is not a token name/)]);
    expect(problems(`:${A}`)).toEqual([expect.stringMatching(/^line 1: "" is not a token name/)]);
    expect(problems(`alice:${A} ${B}`)).toEqual(['line 1: the token of alice must not contain white space or ":"']);
    expect(problems(`x\nalice:${A}\nshort`)).toEqual([
      // A bare token: named by the file's default name (operator), not said as "the token of operator".
      'line 1: the token must be at least 16 characters',
      'line 3: the token must be at least 16 characters',
    ]);
  });

  it('a presented credential has the name of the token it is, and none when it matches no token', () => {
    const set = new TokenSet([
      { name: 'alice', token: A },
      { name: 'ops-team', token: B },
    ]);
    expect(set.match(A)).toBe('alice');
    expect(set.match(B)).toBe('ops-team');
    expect(set.match('')).toBeUndefined();
    expect(set.match(`${A}x`)).toBeUndefined();
    expect(set.match(A.slice(0, -1))).toBeUndefined();
    expect(new TokenSet([]).match(A)).toBeUndefined();
  });

  it('a client presents the one token of its file, named or bare, and refuses a file of several', () => {
    expect(clientToken(`${A}\n`)).toEqual({ ok: true, token: A, name: 'token' });
    expect(clientToken(`alice:${A}`)).toEqual({ ok: true, token: A, name: 'alice' });
    expect(clientToken('# none\n')).toEqual({ ok: false, problem: 'the file holds no token' });
    expect(clientToken(`alice:${A}\nops-team:${B}`)).toEqual({
      ok: false,
      problem: expect.stringMatching(/^the file holds 2 tokens \(alice, ops-team\); a client presents one/),
    });
  });
});

describe('token files in the node config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pogo-credentials-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  const base = { name: 'n1', secret: 'config-secret-0123456789' };

  it('takes a file of named tokens as it is, and refuses a bad one naming the file and the line', () => {
    const config = loadConfig({ flags: { ...base, operatorTokenFile: file('ops.txt', `alice:${A}\nops-team:${B}\n`) }, env: {} });
    expect(parseTokens(config.operatorToken!, 'operator')).toMatchObject({ ok: true, tokens: [{ name: 'alice' }, { name: 'ops-team' }] });
    const bad = file('bad.txt', `alice:${A}\nbob:short\n`);
    let error: unknown;
    try {
      loadConfig({ flags: { ...base, viewerTokenFile: bad }, env: {} });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([`viewerToken (from --viewer-token-file ${bad}): line 2: the token of bob must be at least 16 characters`]);
    expect(() => loadConfig({ flags: { ...base, operatorTokenFile: file('empty.txt', '# nobody yet\n') }, env: {} })).toThrow(
      /operatorToken .*: holds no token/,
    );
  });
});
