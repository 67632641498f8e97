/**
 * The TLS files are checked once at start-up (tls-files.ts, through
 * loadConfig): a file that cannot be read, is not PEM of the right kind,
 * or a key that is not the certificate's, is a ConfigError naming the
 * setting and where it came from — for `pogo node`, `pogo ctl` and
 * `pogo observe` alike, since all three load their config with loadConfig.
 * Throwaway certificates come from selfsigned (a dev dependency).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { tlsFileProblems } from '../src/tls-files.js';

const secret = 'a-long-enough-cluster-secret';
const dir = mkdtempSync(join(tmpdir(), 'pogo-tls-files-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
};
const paths: Record<string, string> = {};

beforeAll(async () => {
  const certs: string[] = [];
  for (const n of ['n1', 'n2']) {
    const pair = await generate([{ name: 'commonName', value: n }], { keyType: 'ec', algorithm: 'sha256' });
    paths[`${n}.pem`] = file(`${n}.pem`, pair.cert);
    paths[`${n}.key`] = file(`${n}.key`, pair.private);
    certs.push(pair.cert);
  }
  paths['bundle.pem'] = file('bundle.pem', certs.join('\n'));
  paths['junk.txt'] = file('junk.txt', 'not a certificate\n');
  paths['broken.pem'] = file('broken.pem', '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
});

function problems(flags: Record<string, unknown>, env: Record<string, string> = {}): string[] {
  try {
    loadConfig({ flags: { name: 'n1', secret, ...flags }, env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('TLS files checked at start-up', () => {
  it('accepts a certificate with its own key and a CA bundle', () => {
    expect(problems({ tlsCertFile: paths['n1.pem'], tlsKeyFile: paths['n1.key'], tlsCaFile: paths['bundle.pem'] })).toEqual([]);
  });

  it('a file that cannot be read names the setting, its source and why', () => {
    const missing = join(dir, 'nosuch.pem');
    expect(problems({ tlsCertFile: missing, tlsKeyFile: paths['n1.key'] })).toEqual([
      `tlsCertFile (from --tls-cert-file): cannot read ${missing}: no such file (ENOENT)`,
    ]);
    expect(problems({}, { POGO_TLS_CA_FILE: missing })).toEqual([`tlsCaFile (from POGO_TLS_CA_FILE): cannot read ${missing}: no such file (ENOENT)`]);
  });

  it('a key that is not the certificate’s is named, with the certificate it does not match', () => {
    expect(problems({ tlsCertFile: paths['n1.pem'], tlsKeyFile: paths['n2.key'] })).toEqual([
      `tlsKeyFile (from --tls-key-file): ${paths['n2.key']} is not the private key of the certificate in ${paths['n1.pem']} ` +
        '(tlsCertFile, from --tls-cert-file)',
    ]);
  });

  it('a file that is not PEM of its kind says what it holds instead', () => {
    expect(problems({ tlsCertFile: paths['junk.txt'], tlsKeyFile: paths['n1.key'] })).toEqual([
      `tlsCertFile (from --tls-cert-file): ${paths['junk.txt']} holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" block)`,
    ]);
    // A CA (or the certificate) given as the key, and the key given as the certificate.
    expect(problems({ tlsCertFile: paths['n1.pem'], tlsKeyFile: paths['bundle.pem'] })).toEqual([
      `tlsKeyFile (from --tls-key-file): ${paths['bundle.pem']} holds a certificate, not a private key (is it the --tls-cert-file or the CA?)`,
    ]);
    expect(problems({ tlsCertFile: paths['n1.key'], tlsKeyFile: paths['n1.key'] })).toEqual([
      `tlsCertFile (from --tls-cert-file): ${paths['n1.key']} holds a private key, not a certificate (is it the --tls-key-file?)`,
    ]);
    // node:tls accepts a CA file with no certificate in it: checked here.
    expect(problems({ tlsCaFile: paths['junk.txt'] })).toEqual([
      `tlsCaFile (from --tls-ca-file): ${paths['junk.txt']} holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" block)`,
    ]);
    expect(problems({ tlsCaFile: paths['n1.key'] })).toEqual([
      `tlsCaFile (from --tls-ca-file): ${paths['n1.key']} holds a private key: a CA bundle holds certificates only (is it the --tls-key-file?)`,
    ]);
    const [broken] = problems({ tlsCaFile: paths['broken.pem'] });
    expect(broken).toMatch(new RegExp(`^tlsCaFile \\(from --tls-ca-file\\): ${paths['broken.pem']} holds a certificate that cannot be read: `));
  });

  it('the source named is where the value came from: a config file, too', () => {
    const config = file('node.json', JSON.stringify({ tlsCertFile: paths['n1.pem'], tlsKeyFile: paths['n2.key'] }));
    const found = (() => {
      try {
        loadConfig({ file: config, flags: { name: 'n1', secret }, env: {} });
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    })();
    expect(found).toEqual([
      `tlsKeyFile (from ${config}): ${paths['n2.key']} is not the private key of the certificate in ${paths['n1.pem']} (tlsCertFile, from ${config})`,
    ]);
  });

  it('names a setting without a source plainly (the check on its own)', () => {
    expect(tlsFileProblems({ tlsKeyFile: paths['junk.txt'] }, () => undefined)).toEqual([
      `tlsKeyFile: ${paths['junk.txt']} holds no PEM private key (no "-----BEGIN ... PRIVATE KEY-----" block)`,
    ]);
  });
});
