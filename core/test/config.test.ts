import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, TIMING_PRESETS, loadConfig, secretFileWarning } from '../src/config.js';

const secret = 'a-long-enough-cluster-secret';
const dir = mkdtempSync(join(tmpdir(), 'pogo-config-'));

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('fills defaults and the lan preset', () => {
    const c = loadConfig({ flags: { name: 'n1', secret }, env: {} });
    expect(c).toMatchObject({ name: 'n1', cluster: 'pogo', role: 'member', host: '127.0.0.1', port: 4370, seeds: [], labels: {}, ...TIMING_PRESETS.lan });
  });

  it('layers file < env < flags, and parses lists, labels, numbers and booleans', () => {
    const file = join(dir, 'node.json');
    writeFileSync(file, JSON.stringify({ name: 'from-file', port: 4100, seeds: ['10.0.0.1:4370'], labels: { zone: 'a' }, heartbeatTimeoutMs: 9000 }));
    const c = loadConfig({
      file,
      env: { POGO_PORT: '4200', POGO_SECRET: secret, POGO_SEEDS: '10.0.0.2:4370,10.0.0.3:4370', POGO_TLS_REJECT_UNAUTHORIZED: 'false' },
      flags: { port: '4300', labels: ['region=eu', 'tier=web'] },
    });
    expect(c.name).toBe('from-file');
    expect(c.port).toBe(4300);
    expect(c.seeds).toEqual(['10.0.0.2:4370', '10.0.0.3:4370']);
    expect(c.labels).toEqual({ region: 'eu', tier: 'web' });
    expect(c.heartbeatTimeoutMs).toBe(9000);
    expect(c.tlsRejectUnauthorized).toBe(false);
  });

  it('a preset sets the timings, and explicit values still win', () => {
    const c = loadConfig({ flags: { name: 'n1', secret, preset: 'local', heartbeatTimeoutMs: '5000' }, env: {} });
    expect(c.heartbeatIntervalMs).toBe(TIMING_PRESETS.local.heartbeatIntervalMs);
    expect(c.heartbeatTimeoutMs).toBe(5000);
  });

  it('reads the secret from a file and warns when others can read it', () => {
    const file = join(dir, 'secret.txt');
    writeFileSync(file, `${secret}\n`);
    chmodSync(file, 0o644);
    expect(loadConfig({ flags: { name: 'n1', secretFile: file }, env: {} }).secret).toBe(secret);
    expect(secretFileWarning(file)).toMatch(/readable by other users.*chmod 600/);
    chmodSync(file, 0o600);
    expect(secretFileWarning(file)).toBeUndefined();
  });

  it('names every bad field and where it came from', () => {
    const found = problems(() => loadConfig({ flags: { name: 'bad name!', port: 'eighty', seeds: ['nope'] }, env: { POGO_ROLE: 'king' } }));
    const text = found.join('\n');
    expect(text).toMatch(/port \(from --port\): "eighty" is not a number/);
    expect(text).toMatch(/name \(from --name\)/);
    expect(text).toMatch(/seeds\.0 \(from --seeds\): "nope" is not host:port, dns:<name>:<port> or dns-srv:<name>/);
    expect(text).toMatch(/role \(from POGO_ROLE\)/);
    expect(text).toMatch(/secret \(required\): required: give --secret-file/);
  });

  it('says once what is wrong with a value that does not convert (--port eighty printed its error twice)', () => {
    const found = problems(() => loadConfig({ flags: { name: 'n1', secret, port: 'eighty', tlsRejectUnauthorized: 'maybe' }, env: {} }));
    expect(found.filter((p) => p.startsWith('port'))).toEqual(['port (from --port): "eighty" is not a number']);
    expect(found.filter((p) => p.startsWith('tlsRejectUnauthorized'))).toEqual([
      'tlsRejectUnauthorized (from --tls-reject-unauthorized): "maybe" is not true or false',
    ]);
    // A later source that converts wins, and the schema still checks its value; the overridden one is no problem.
    const later = problems(() => loadConfig({ flags: { name: 'n1', secret, port: '-5' }, env: { POGO_PORT: 'eighty' } }));
    expect(later.filter((p) => p.startsWith('port'))).toEqual([expect.stringMatching(/^port \(from --port\): /)]);
  });

  it('an invalid value a later source overrides stops nothing (POGO_PORT=eighty under --port 4001: the tour)', () => {
    expect(loadConfig({ flags: { name: 'n1', secret, port: '4001' }, env: { POGO_PORT: 'eighty' } }).port).toBe(4001);
    // Not overridden, it is reported, with its source.
    const found = problems(() => loadConfig({ flags: { name: 'n1', secret }, env: { POGO_PORT: 'eighty' } }));
    expect(found.filter((p) => p.startsWith('port'))).toEqual(['port (from POGO_PORT): "eighty" is not a number']);
  });

  it('checks relations between timings', () => {
    const found = problems(() => loadConfig({ flags: { name: 'n1', secret, heartbeatIntervalMs: '1000', suspectAfterMs: '500' }, env: {} }));
    expect(found.join('\n')).toMatch(/suspectAfterMs \(from --suspect-after-ms\): must be greater than heartbeatIntervalMs/);
  });

  it('a call message fits in a frame: callMaxBytes defaults to 1 MiB or what a smaller maxMessageBytes leaves; one set too close is refused, naming the most it may be', () => {
    expect(loadConfig({ flags: { name: 'n1', secret }, env: {} }).callMaxBytes).toBe(1024 * 1024);
    expect(loadConfig({ flags: { name: 'n1', secret, maxMessageBytes: '16384' }, env: {} }).callMaxBytes).toBe(8192);
    expect(loadConfig({ flags: { name: 'n1', secret, maxMessageBytes: String(512 * 1024) }, env: {} }).callMaxBytes).toBe(448 * 1024);
    expect(loadConfig({ flags: { name: 'n1', secret, maxMessageBytes: '16384', callMaxBytes: '4096' }, env: {} }).callMaxBytes).toBe(4096);
    const found = problems(() =>
      loadConfig({ flags: { name: 'n1', secret, maxMessageBytes: String(1024 * 1024), callMaxBytes: String(1024 * 1024) }, env: {} }),
    );
    expect(found.join('\n')).toMatch(/callMaxBytes \(from --call-max-bytes\): must be at most 983040: 65536 bytes below maxMessageBytes \(1048576\)/);
  });

  it('rejects unknown keys in a config file and an unreadable secret file', () => {
    const file = join(dir, 'typo.json');
    writeFileSync(file, JSON.stringify({ name: 'n1', secret, heartbeatTimeout: 5 }));
    expect(problems(() => loadConfig({ file, env: {} })).join('\n')).toMatch(/heartbeatTimeout \(from .*typo\.json\): unknown setting/);
    expect(problems(() => loadConfig({ flags: { name: 'n1', secretFile: join(dir, 'missing') }, env: {} })).join('\n')).toMatch(
      /secretFile \(from --secret-file\): cannot read .*ENOENT/,
    );
  });

  it("paths in a config file are relative to the file's directory; flags and variables stay relative to the working directory", () => {
    const etc = mkdtempSync(join(tmpdir(), 'pogo-etc-'));
    mkdirSync(join(etc, 'keys'));
    writeFileSync(join(etc, 'keys', 'secret'), secret, { mode: 0o600 });
    writeFileSync(join(etc, 'tokens'), 'alice:operator-token-of-alice', { mode: 0o600 });
    const file = join(etc, 'pogo.json');
    const write = (o: object) => writeFileSync(file, JSON.stringify(o));
    const workers = ['w.mjs', 'examples', '/opt/w.mjs'];
    write({ name: 'n1', secretFile: 'keys/secret', operatorTokenFile: './tokens', dataDir: 'data', workers, children: 'children.json' });
    // Started from elsewhere (systemd starts services in /): the file's own directory counts.
    const c = loadConfig({ file, env: {} });
    expect(c.secret).toBe(secret);
    expect(c.dataDir).toBe(join(etc, 'data'));
    expect(c.workers).toEqual([join(etc, 'w.mjs'), 'examples', '/opt/w.mjs']);
    expect(c.children).toBe(join(etc, 'children.json'));
    // A comma-separated list in the file, like the flag's.
    write({ name: 'n1', secret, workers: 'a.mjs, examples' });
    expect(loadConfig({ file, env: {} }).workers).toEqual([join(etc, 'a.mjs'), 'examples']);
    // A flag or a variable overriding the file is taken as typed (resolved later from the working directory).
    write({ name: 'n1', secret, dataDir: 'data' });
    expect(loadConfig({ file, env: { POGO_DATA_DIR: 'here' } }).dataDir).toBe('here');
    expect(loadConfig({ file, env: {}, flags: { dataDir: 'there' } }).dataDir).toBe('there');
  });

  it('rejects a short secret and a secret given twice', () => {
    expect(problems(() => loadConfig({ flags: { name: 'n1', secret: 'short' }, env: {} })).join('\n')).toMatch(
      /secret \(from --secret\): must be at least 16 characters/,
    );
    const file = join(dir, 'secret2.txt');
    writeFileSync(file, secret);
    expect(problems(() => loadConfig({ flags: { name: 'n1', secret, secretFile: file }, env: {} })).join('\n')).toMatch(/either a secret or a secret file/);
  });
});
