/**
 * `pogo ctl` against real `pogo node` processes on 127.0.0.1, two cases the
 * main ctl test (ctl.process.test.ts) does not cover:
 *
 * - A member that is not ready (it has not linked to the cluster it was
 *   told to join) answers from a partial view: `ctl ls` and `ctl status`
 *   still answer, and warn on stderr, naming it; a ready member gets no
 *   warning. The member is held not ready without timing: its only seed
 *   is a TCP server here that closes every connection at once, and its
 *   ready timeout is longer than the test.
 * - A cluster whose members speak TLS with mutual authentication: ctl,
 *   given the CA, its certificate and key (--tls-* flags, or POGO_TLS_* as for a node),
 *   links and lists; without a client certificate the member refuses it
 *   (exit 4, the handshake's reason); without TLS settings it cannot
 *   link (exit 3). TLS files that cannot be used — a key that is not the
 *   certificate's, a CA given as the key, a missing or non-PEM file — are
 *   refused at start-up by ctl and by `pogo node` alike: exit 2, naming
 *   the setting and its source (tls-files.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { afterEach, describe, expect, it } from 'vitest';
import { killStrays } from './support/wait.js';
import { CLI, ProcessCluster } from './support/processes.js';

let cluster: ProcessCluster | undefined;
let deadSeed: Server | undefined;
const ctlPids = new Set<number>();
afterEach(async () => {
  killStrays(ctlPids);
  await cluster?.stopAll();
  cluster = undefined;
  await new Promise<void>((resolve) => (deadSeed ? deadSeed.close(() => resolve()) : resolve()));
  deadSeed = undefined;
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `pogo ctl <args>` to its end (SIGKILL by pid after 60 s). */
function ctl(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, [CLI, 'ctl', ...args, '--secret-file', cluster!.secretFile, '--timeout', '20000'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  ctlPids.add(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(killer);
      ctlPids.delete(child.pid!);
      resolve({ code, stdout, stderr });
    });
  });
}

/** It names what it waits for (its own `waitsFor`, fresh: the cluster hears it only once it has waited a second). */
const NOT_READY =
  /^pogo ctl: warning: n1 is not ready yet: it waits for a first link to any of its seeds\. Its view may be incomplete; give another --seed first$/m;

describe('pogo ctl and a member that is not ready', () => {
  it('ls and status answer and warn on stderr, naming the member; a ready member gets no warning', async () => {
    deadSeed = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => deadSeed!.listen(0, '127.0.0.1', resolve));
    const port = (deadSeed.address() as { port: number }).port;
    cluster = new ProcessCluster();
    const n1 = await cluster.start('n1', [`127.0.0.1:${port}`], ['--ready-timeout-ms', '600000']);
    const s = await n1.status();
    expect(s.supervisor.ready).toBe(false);

    const ls = await ctl(['ls', '--seed', n1.address, '--json']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.parse(ls.stdout)).toEqual({ ok: true, result: [] });
    expect(ls.stderr).toMatch(NOT_READY);
    const status = await ctl(['status', '--seed', n1.address]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^n1 +up +127\.0\.0\.1:\d+ +no +no$/m);
    // Under the table, whom it waits for, since its start, until --ready-timeout-ms.
    expect(status.stdout).toMatch(
      /^n1 not ready since \S+Z: waits for a first link to any of its seeds; at \S+Z \(--ready-timeout-ms, its clock\) it takes children without them$/m,
    );
    expect(status.stderr).toMatch(NOT_READY);

    const n2 = await cluster.start('n2');
    await cluster.until(async () => (await n2.status()).supervisor.ready, 15_000, 'n2 ready');
    const ready = await ctl(['ls', '--seed', n2.address, '--json']);
    expect(ready.code, ready.stderr).toBe(0);
    expect(ready.stderr).not.toMatch(/warning/);
    expect((await n1.status()).supervisor.ready).toBe(false);
  });
});

describe('pogo ctl over TLS', () => {
  it('links to a member that requires client certificates when given the CA, a certificate and key; refused without a certificate, unreachable without TLS', async () => {
    cluster = new ProcessCluster();
    const dir = cluster.dir;
    const ca = await generate([{ name: 'commonName', value: 'pogo ctl test ca' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true },
      ],
    });
    const leaf = async (name: string): Promise<{ cert: string; key: string }> => {
      const l = await generate([{ name: 'commonName', value: 'localhost' }], {
        keyType: 'ec',
        algorithm: 'sha256',
        ca: { key: ca.private, cert: ca.cert },
        extensions: [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
          { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
          {
            name: 'subjectAltName',
            altNames: [
              { type: 7, ip: '127.0.0.1' },
              { type: 2, value: 'localhost' },
            ],
          },
        ],
      });
      const cert = join(dir, `${name}.pem`);
      const key = join(dir, `${name}.key`);
      writeFileSync(cert, l.cert);
      writeFileSync(key, l.private, { mode: 0o600 });
      return { cert, key };
    };
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, ca.cert);
    const server = await leaf('n1');
    const client = await leaf('ctl');
    const n1 = await cluster.start('n1', [], ['--workers', 'examples', '--tls-cert-file', server.cert, '--tls-key-file', server.key, '--tls-ca-file', caFile]);
    await cluster.until(async () => (await n1.status()).supervisor.ready, 15_000, 'n1 ready');

    const ok = await ctl(['ls', '--seed', n1.address, '--json', '--tls-ca-file', caFile, '--tls-cert-file', client.cert, '--tls-key-file', client.key]);
    // The same through POGO_TLS_*, as for a node.
    const okEnv = await ctl(['ls', '--seed', n1.address, '--json'], {
      POGO_TLS_CA_FILE: caFile,
      POGO_TLS_CERT_FILE: client.cert,
      POGO_TLS_KEY_FILE: client.key,
    });
    expect(okEnv.code, okEnv.stderr).toBe(0);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ ok: true, result: [] });

    const noCert = await ctl(['ls', '--seed', n1.address, '--json'], { POGO_TLS_CA_FILE: caFile });
    expect(noCert.code, noCert.stdout + noCert.stderr).toBe(4);
    expect(JSON.parse(noCert.stdout)).toMatchObject({
      ok: false,
      error: { code: 'auth-failed', message: expect.stringMatching(/TLS client certificate required/) as unknown },
    });

    const plain = await ctl(['ls', '--seed', n1.address, '--json', '--timeout', '3000']);
    expect(plain.code, plain.stdout + plain.stderr).toBe(3);
    // The hint names ctl, not "this node": ctl is no node, and its operator looked for a node's setting.
    expect(JSON.parse(plain.stdout)).toMatchObject({
      ok: false,
      error: { code: 'unreachable', message: expect.stringContaining('serves TLS and pogo ctl dials without it (give it --tls-ca-file') as unknown },
    });

    // A key that is not the certificate's, or the CA given as the key: a usage error naming the flag,
    // before anything is dialled (it waited out the connect timeout and reported the member unreachable).
    const mismatchFlags = ['--tls-ca-file', caFile, '--tls-cert-file', client.cert, '--tls-key-file', server.key];
    const mismatch = await ctl(['ls', '--seed', n1.address, '--json', ...mismatchFlags]);
    expect(mismatch.code, mismatch.stdout + mismatch.stderr).toBe(2);
    expect(mismatch.stderr).toContain(
      `tlsKeyFile (from --tls-key-file): ${server.key} is not the private key of the certificate in ${client.cert} (tlsCertFile, from --tls-cert-file)`,
    );
    const caAsKey = await ctl(['ls', '--seed', n1.address, '--json'], { POGO_TLS_CERT_FILE: client.cert, POGO_TLS_KEY_FILE: caFile });
    expect(caAsKey.code, caAsKey.stdout + caAsKey.stderr).toBe(2);
    expect(JSON.parse(caAsKey.stdout)).toMatchObject({
      ok: false,
      error: {
        code: 'usage',
        message: expect.stringContaining(`tlsKeyFile (from POGO_TLS_KEY_FILE): ${caFile} holds a certificate, not a private key`) as unknown,
      },
    });

    // pogo node: exit 2 and the setting named, not exit 1 with a stack trace in a log line.
    const node = (...tls: string[]) =>
      spawnSync(process.execPath, [CLI, 'node', '--name', 'n9', '--port', '0', '--secret-file', cluster!.secretFile, ...tls], {
        encoding: 'utf8',
        timeout: 20_000,
      });
    const missing = join(dir, 'nosuch.pem');
    const noFile = node('--tls-cert-file', missing, '--tls-key-file', server.key);
    expect(noFile.status, noFile.stderr).toBe(2);
    expect(noFile.stderr).toContain(`tlsCertFile (from --tls-cert-file): cannot read ${missing}: no such file (ENOENT)`);
    const wrongKey = node('--tls-cert-file', server.cert, '--tls-key-file', client.key);
    expect(wrongKey.status, wrongKey.stderr).toBe(2);
    expect(wrongKey.stderr).toContain(`tlsKeyFile (from --tls-key-file): ${client.key} is not the private key of the certificate in ${server.cert}`);
    const notPem = node('--tls-cert-file', cluster.secretFile, '--tls-key-file', server.key);
    expect(notPem.status, notPem.stderr).toBe(2);
    expect(notPem.stderr).toContain(`tlsCertFile (from --tls-cert-file): ${cluster.secretFile} holds no PEM certificate`);
  });
});
