/**
 * `pogo observe` takes the TLS flags `pogo ctl` takes (--tls-ca-file,
 * --tls-cert-file, --tls-key-file): docs/operations.md gives the observer
 * the same three, but it had none, so an observer of a TLS cluster could be
 * set up only through POGO_TLS_* variables. The files are checked at
 * start-up as ctl and nodes check them: exit 2, naming the flag.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildCli } from '../src/cli/main.js';
import { runObserve } from '../src/cli/observe.js';

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('pogo observe over TLS', () => {
  it('has the TLS flags of pogo ctl, described alike', () => {
    const cli = buildCli();
    const flags = (name: string) => new Map(cli.commands.find((c) => c.name() === name)!.options.map((o) => [o.long, o.description]));
    const observe = flags('observe');
    const ctl = flags('ctl');
    for (const flag of ['--tls-ca-file', '--tls-cert-file', '--tls-key-file']) {
      expect(observe.get(flag), flag).toBeDefined();
      expect(observe.get(flag)).toBe(ctl.get(flag));
    }
  });

  it('passes them on: a file that cannot be read stops it with exit 2, naming the flag', async () => {
    vi.stubEnv('POGO_SECRET', 'observe-tls-secret-0123456789');
    let stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
    const code = await runObserve({ seed: ['127.0.0.1:1'], port: '0', tlsCaFile: '/nonexistent/ca.pem', tlsCertFile: undefined, tlsKeyFile: undefined });
    expect(code).toBe(2);
    expect(stderr).toMatch(/tlsCaFile \(from --tls-ca-file\): cannot read \/nonexistent\/ca\.pem/);
  });
});
