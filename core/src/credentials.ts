/**
 * Named tokens: the operator and viewer token files, and which name a
 * presented credential has.
 *
 * A member's token file (`--operator-token-file`, `--viewer-token-file`)
 * holds one token per line, each with a name for the audit log:
 *
 *     # comments and blank lines are ignored
 *     alice:9f2c0d1e7b5a43c8a1d2
 *     ops-team:5b7e1f0c3a9d4e2b8c6f
 *     k3J9xQ2mP8vR4tW7yZ1a        a bare token: named "operator" (or "viewer")
 *
 * A line with a `:` is `name:token`; a name is 1-64 letters, digits, ".",
 * "_", "@" or "-", starting with a letter or digit. A line without one is a
 * bare token, named by the file's default (`operator` or `viewer`), so the
 * one-token files of earlier releases keep working. A token itself holds no
 * `:` and no white space and is at least 16 characters long; no name and no
 * token may appear twice in one file. Problems name the line.
 *
 * Matching (`TokenSet.match`): a presented credential is hashed (SHA-256)
 * and compared with every token's hash in constant time, each and every
 * one, so neither which token matched nor how many there are shows in the
 * time taken. The member records the matched name in its audit log
 * (commands.ts): the name is verified by the credential, unlike the user
 * name a client declares.
 *
 * Clients (`pogo ctl --token-file`, the desktop app's token file) present
 * one token: `clientToken` reads a file of one entry, named or bare.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export const TOKEN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const MIN_TOKEN_LENGTH = 16;
export const MAX_TOKEN_LENGTH = 1024;
/** Tokens one file may hold. */
export const MAX_TOKENS = 1000;

export interface NamedToken {
  name: string;
  token: string;
}

export type TokenParse = { ok: true; tokens: NamedToken[] } | { ok: false; problems: string[] };

/** Reads a token file's text; `defaultName` names a bare token. Never throws. */
export function parseTokens(text: string, defaultName: string): TokenParse {
  const tokens: NamedToken[] = [];
  const problems: string[] = [];
  const names = new Set<string>();
  const values = new Set<string>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const at = `line ${i + 1}`;
    const colon = line.indexOf(':');
    const name = colon < 0 ? defaultName : line.slice(0, colon).trim();
    const token = colon < 0 ? line : line.slice(colon + 1).trim();
    if (!TOKEN_NAME_PATTERN.test(name))
      return void problems.push(
        `${at}: ${JSON.stringify(name.slice(0, 64))} is not a token name (1-64 letters,` +
          ` digits, ".", "_", "@", "-", starting with a letter or digit); write name:token`,
      );
    // A bare token (no name:) is named by the file's default name, which reads badly in a message ("the token of token").
    const whose = colon < 0 ? 'the token' : `the token of ${name}`;
    if (token.length < MIN_TOKEN_LENGTH) return void problems.push(`${at}: ${whose} must be at least ${MIN_TOKEN_LENGTH} characters`);
    if (token.length > MAX_TOKEN_LENGTH) return void problems.push(`${at}: ${whose} must be at most ${MAX_TOKEN_LENGTH} characters`);
    if (/[\s:]/.test(token)) return void problems.push(`${at}: ${whose} must not contain white space or ":"`);
    if (names.has(name)) return void problems.push(`${at}: the name ${name} is used twice`);
    if (values.has(token)) return void problems.push(`${at}: ${whose} is used twice in this file`);
    names.add(name);
    values.add(token);
    tokens.push({ name, token });
  });
  if (tokens.length > MAX_TOKENS) problems.push(`at most ${MAX_TOKENS} tokens per file (found ${tokens.length})`);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, tokens };
}

/** The one token a client presents, from a token file holding one entry (named or bare). */
export function clientToken(text: string): { ok: true; token: string; name: string } | { ok: false; problem: string } {
  const parsed = parseTokens(text, 'token');
  if (!parsed.ok) return { ok: false, problem: parsed.problems.join('; ') };
  if (parsed.tokens.length === 0) return { ok: false, problem: 'the file holds no token' };
  if (parsed.tokens.length > 1)
    return {
      ok: false,
      problem:
        `the file holds ${parsed.tokens.length} tokens (${parsed.tokens.map((t) => t.name).join(', ')}); ` +
        `a client presents one: give it a file with only yours`,
    };
  const { token, name } = parsed.tokens[0]!;
  return { ok: true, token, name };
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** A set of named tokens, kept as hashes. */
export class TokenSet {
  private readonly entries: ReadonlyArray<{ name: string; hash: Buffer }>;

  constructor(tokens: readonly NamedToken[]) {
    this.entries = tokens.map((t) => ({ name: t.name, hash: digest(t.token) }));
  }

  get size(): number {
    return this.entries.length;
  }

  /** The name of the token `credential` is, or undefined (also for ''). Compares with every entry, in constant time each. */
  match(credential: string): string | undefined {
    if (credential.length === 0) return undefined;
    const given = digest(credential);
    let found: string | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.hash, given) && found === undefined) found = e.name;
    return found;
  }
}
