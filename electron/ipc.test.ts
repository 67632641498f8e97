/** The IPC contract: every argument main receives is checked, and a bad one is a clear error, not a crash. */
import { describe, expect, it } from 'vitest';
import { FILE_DIALOGS, FILE_PURPOSES, IPC_ARGUMENTS, IPC_CHANNELS, methodOf, parseArguments } from './ipc';

const draft = { name: 'Staging', seeds: ['127.0.0.1:4370'], secretFile: '/srv/secret' };

describe('IPC channels', () => {
  it('gives each method its own namespaced channel, and a schema', () => {
    const channels = Object.values(IPC_CHANNELS);
    expect(new Set(channels).size).toBe(channels.length);
    expect(channels.every((c) => c.startsWith('pogo:'))).toBe(true);
    expect(Object.keys(IPC_ARGUMENTS).sort()).toEqual(Object.keys(IPC_CHANNELS).sort());
  });

  it('maps a channel back to its method, and knows no other channel', () => {
    expect(methodOf(IPC_CHANNELS.connect)).toBe('connect');
    expect(methodOf('pogo:something-else')).toBeUndefined();
  });

  it('has a native dialog title for every file purpose', () => {
    for (const purpose of FILE_PURPOSES) expect(FILE_DIALOGS[purpose].title).not.toBe('');
  });
});

describe('parseArguments', () => {
  it('accepts well-formed arguments', () => {
    expect(parseArguments('listConnections', [])).toEqual({ ok: true, args: [] });
    expect(parseArguments('saveConnection', [draft])).toEqual({ ok: true, args: [draft] });
    expect(parseArguments('saveConnection', [{ ...draft, id: 'abc-1' }])).toEqual({ ok: true, args: [{ ...draft, id: 'abc-1' }] });
    expect(parseArguments('chooseFile', ['operator-token'])).toEqual({ ok: true, args: ['operator-token'] });
    expect(parseArguments('connect', ['abc-1'])).toEqual({ ok: true, args: ['abc-1'] });
  });

  it('refuses a wrong number of arguments', () => {
    expect(parseArguments('startDemo', ['extra'])).toEqual({ ok: false, error: 'startDemo: expected 0 arguments, got 1' });
    expect(parseArguments('connect', [])).toEqual({ ok: false, error: 'connect: expected 1 argument, got 0' });
  });

  it('names the bad field of a connection', () => {
    const result = parseArguments('saveConnection', [{ ...draft, seeds: ['127.0.0.1'] }]);
    expect(result).toEqual({ ok: false, error: 'saveConnection: seeds[0]: "127.0.0.1" is not host:port, dns:<name>:<port> or dns-srv:<name>' });
  });

  it('refuses values of the wrong type or outside the allowed set, without throwing', () => {
    for (const bad of [null, 42, { toString: 'x' }, '../../etc/passwd', 'x'.repeat(65)]) {
      const result = parseArguments('connect', [bad]);
      expect(result.ok).toBe(false);
    }
    const purpose = parseArguments('chooseFile', ['password']);
    expect(purpose.ok).toBe(false);
    if (!purpose.ok) expect(purpose.error).toMatch(/^chooseFile: /);
    expect(parseArguments('saveConnection', ['not an object']).ok).toBe(false);
    expect(parseArguments('saveConnection', [{ ...draft, secret: 'sneaky' }]).ok).toBe(false);
  });
});
