/**
 * The TLS files a configuration names, checked once at start-up
 * (loadConfig), so that a bad one stops `pogo node`, `pogo ctl` and
 * `pogo observe` with exit 2 and a message naming the setting and where it
 * came from — instead of a stack trace at listen time (the node) or a
 * handshake that silently never completes (ctl: a key that does not match
 * its certificate made it wait out its timeout and blame the member).
 *
 * What is checked, per file, in words an operator can act on:
 *   - it can be read (`cannot read n1.pem: no such file (ENOENT)`);
 *   - it holds PEM of the right kind: certificates for the certificate and
 *     the CA bundle, a private key for the key — a CA or certificate given
 *     as the key is named as such;
 *   - each certificate parses (node:crypto X509Certificate) and the key
 *     parses unencrypted (createPrivateKey: pogo takes no passphrase);
 *   - the key belongs to the certificate: node:tls createSecureContext
 *     with both, whose OpenSSL error ("key values mismatch") becomes the
 *     file names. A CA bundle is checked block by block, because
 *     createSecureContext accepts a CA file with no certificate in it.
 *
 * Reading and parsing only: no network, no clock.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

/** The TLS settings of a config (file paths; undefined: not given). */
export interface TlsFiles {
  tlsCertFile?: string | undefined;
  tlsKeyFile?: string | undefined;
  tlsCaFile?: string | undefined;
}

type TlsKey = keyof TlsFiles;

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** The PEM blocks of a text: each block's label (`CERTIFICATE`, `PRIVATE KEY`, ...) and text. */
function pemBlocks(text: string): Array<{ label: string; text: string }> {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1]!, text: m[0] }));
}

const isKeyLabel = (label: string): boolean => label.endsWith('PRIVATE KEY');

function readWords(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied',
    EISDIR: 'it is a directory',
    ENOTDIR: 'a part of the path is not a directory',
  };
  return code !== undefined && words[code] !== undefined ? `${words[code]} (${code})` : (code ?? (err as Error).message);
}

/** OpenSSL's message without its `error:0480006C:PEM routines::` prefix. */
function opensslWords(err: unknown): string {
  return ((err as Error).message ?? String(err)).replace(/^error:[0-9A-Fa-f]+:[^:]*::?/, '');
}

/**
 * The problems of the TLS files `files` names, one line each, naming the
 * setting and (through `sourceOf`) where it came from — `tlsKeyFile (from
 * --tls-key-file): ...`; empty when every file given is usable.
 */
export function tlsFileProblems(files: TlsFiles, sourceOf: (key: TlsKey) => string | undefined): string[] {
  const problems: string[] = [];
  const name = (key: TlsKey): string => {
    const source = sourceOf(key);
    return source === undefined ? key : `${key} (from ${source})`;
  };
  /** Another setting, named inside a message: `tlsCertFile, from --tls-cert-file`. */
  const other = (key: TlsKey): string => {
    const source = sourceOf(key);
    return source === undefined ? key : `${key}, from ${source}`;
  };
  const problem = (key: TlsKey, what: string): void => void problems.push(`${name(key)}: ${files[key]} ${what}`);

  const texts: Partial<Record<TlsKey, string>> = {};
  for (const key of ['tlsCertFile', 'tlsKeyFile', 'tlsCaFile'] as const) {
    const path = files[key];
    if (path === undefined) continue;
    try {
      texts[key] = readFileSync(path, 'utf8');
    } catch (err) {
      problems.push(`${name(key)}: cannot read ${path}: ${readWords(err)}`);
    }
  }

  let certUsable = false;
  if (texts.tlsCertFile !== undefined) {
    const blocks = pemBlocks(texts.tlsCertFile);
    const certs = blocks.filter((b) => b.label === 'CERTIFICATE');
    if (certs.length === 0)
      problem(
        'tlsCertFile',
        blocks.some((b) => isKeyLabel(b.label))
          ? 'holds a private key, not a certificate (is it the --tls-key-file?)'
          : 'holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" block)',
      );
    else certUsable = certsParse('tlsCertFile', certs, problem);
  }

  let keyUsable = false;
  if (texts.tlsKeyFile !== undefined) {
    const blocks = pemBlocks(texts.tlsKeyFile);
    const keys = blocks.filter((b) => isKeyLabel(b.label));
    if (keys.length === 0)
      problem(
        'tlsKeyFile',
        blocks.some((b) => b.label === 'CERTIFICATE')
          ? 'holds a certificate, not a private key (is it the --tls-cert-file or the CA?)'
          : 'holds no PEM private key (no "-----BEGIN ... PRIVATE KEY-----" block)',
      );
    else if (keys[0]!.label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type: 4,ENCRYPTED/.test(keys[0]!.text))
      problem('tlsKeyFile', 'holds an encrypted private key: pogo takes no passphrase; give it the key unencrypted (and readable by its user only)');
    else {
      try {
        createPrivateKey(keys[0]!.text);
        keyUsable = true;
      } catch (err) {
        problem('tlsKeyFile', `holds no usable private key: ${opensslWords(err)}`);
      }
    }
  }

  if (certUsable && keyUsable) {
    try {
      createSecureContext({ cert: texts.tlsCertFile!, key: texts.tlsKeyFile! });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH')
        problem('tlsKeyFile', `is not the private key of the certificate in ${files.tlsCertFile} (${other('tlsCertFile')})`);
      else problem('tlsCertFile', `and ${files.tlsKeyFile} (${other('tlsKeyFile')}) cannot be used together: ${opensslWords(err)}`);
    }
  }

  if (texts.tlsCaFile !== undefined) {
    const blocks = pemBlocks(texts.tlsCaFile);
    const certs = blocks.filter((b) => b.label === 'CERTIFICATE');
    if (blocks.some((b) => isKeyLabel(b.label))) problem('tlsCaFile', 'holds a private key: a CA bundle holds certificates only (is it the --tls-key-file?)');
    else if (certs.length === 0) problem('tlsCaFile', 'holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" block)');
    else certsParse('tlsCaFile', certs, problem);
  }
  return problems;
}

/** Whether every certificate block parses; the first that does not is a problem (its position named when there are several). */
function certsParse(key: TlsKey, certs: ReadonlyArray<{ text: string }>, problem: (key: TlsKey, what: string) => void): boolean {
  for (const [i, cert] of certs.entries()) {
    try {
      new X509Certificate(cert.text);
    } catch (err) {
      problem(key, `holds a certificate that cannot be read${certs.length > 1 ? ` (the ${ordinal(i + 1)})` : ''}: ${opensslWords(err)}`);
      return false;
    }
  }
  return true;
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}
