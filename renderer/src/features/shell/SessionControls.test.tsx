/** The credential field takes a token, or a token file's `name:token` line as pasted (its token is presented). */
import { describe, expect, it } from 'vitest';
import { pastedCredential, unlockAction } from './SessionControls';

describe('pastedCredential', () => {
  it('a name:token line gives its token; a bare token, white space trimmed, is itself', () => {
    expect(pastedCredential('alice:3f9a0c7b1d2e4f5a6b7c8d9e')).toBe('3f9a0c7b1d2e4f5a6b7c8d9e');
    expect(pastedCredential('  k3J9xQ2mP8vR4tW7yZ1a/+==\n')).toBe('k3J9xQ2mP8vR4tW7yZ1a/+==');
    expect(pastedCredential('ops-team@eu.1:5b7e1f0c3a9d4e2b')).toBe('5b7e1f0c3a9d4e2b');
    // Not a name before the colon: left as typed, for the member to refuse.
    expect(pastedCredential('not a name:token')).toBe('not a name:token');
    expect(pastedCredential('')).toBe('');
  });

  it('Unlock tries a typed credential, or unlocks a locked session', () => {
    expect(unlockAction('x', 'none')).toBe('try-credential');
    expect(unlockAction('', 'locked')).toBe('unlock');
    expect(unlockAction('', 'operator')).toBeNull();
  });
});
