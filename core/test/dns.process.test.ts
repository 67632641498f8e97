/**
 * DNS discovery with real processes: `pogo node` OS processes on loopback
 * addresses 127.0.0.2, 127.0.0.3, … (so that A records alone tell them
 * apart, as pod IPs do) and a DNS server in this test process on 127.0.0.1
 * (support/dns-server.ts). Every process is stopped by pid after each test;
 * every wait is on a condition, bounded.
 *
 * What a node found is judged by each node's own status: the seeker's
 * members and the found nodes' own links to it.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { killStrays } from './support/wait.js';
import { CLI, EXIT_WITH_PARENT, ProcessCluster, type NodeProcess } from './support/processes.js';
import { TestDnsServer } from './support/dns-server.js';

let cluster: ProcessCluster | undefined;
let dns: TestDnsServer | undefined;
/** `pogo ctl` processes still running, stopped by pid at the end. */
const ctlPids = new Set<number>();
afterEach(async () => {
  killStrays(ctlPids);
  await cluster?.stopAll();
  await dns?.close();
  cluster = undefined;
  dns = undefined;
});

const FAST = ['--preset', 'local'];
/** The ready timeout short, to see what it does within the test. */
const READY_SOON = [...FAST, '--ready-timeout-ms', '500'];
const portOf = (p: NodeProcess): number => Number(p.address.slice(p.address.lastIndexOf(':') + 1));
/** Runs `pogo ctl` to its end (killed after `ms`): exit code and output. */
function runCtl(args: string[], ms: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'ctl', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  ctlPids.add(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      ctlPids.delete(child.pid!);
      resolve({ code, stdout, stderr });
    }),
  );
}
/** A port free on `host` now (the kernel's pick for a listener that is closed at once). */
const freePort = (host: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
/** Names of the members `p` itself sees up. */
const upAt = async (p: NodeProcess): Promise<string[]> =>
  (await p.status()).members
    .filter((m) => m.status === 'up')
    .map((m) => m.name)
    .sort();
/** Whether `p` holds a link of its own to `peer`. */
const linkedTo = async (p: NodeProcess, peer: string): Promise<boolean> => (await p.status()).links.some((l) => l.peer === peer);

describe('DNS discovery (real processes, a DNS server on 127.0.0.1)', () => {
  it('dns:<name>:<port> links to every address of the answer, and to a node added to it later, without a restart', async () => {
    cluster = new ProcessCluster();
    dns = await TestDnsServer.start();
    // Two nodes on one port at two loopback addresses: the A records are all that tell them apart.
    const b = await cluster.start('b', [], ['--host', '127.0.0.2', ...FAST]);
    const port = portOf(b);
    const c = await cluster.start('c', [], ['--host', '127.0.0.3', '--port', String(port), ...FAST]);
    expect([b.address, c.address]).toEqual([`127.0.0.2:${port}`, `127.0.0.3:${port}`]);
    dns.zone['pogo.test'] = { a: ['127.0.0.2', '127.0.0.3'] };

    const seeker = await cluster.start('seeker', [`dns:pogo.test:${port}`], ['--dns-server', dns.address, '--dns-interval-ms', '300', ...FAST]);
    await cluster.until(async () => (await upAt(seeker)).join() === 'b,c,seeker', 15_000, 'seeker sees b and c up');
    // b and c each hold a link to seeker: they learned of it only by being dialled (neither has a seed).
    await cluster.until(async () => (await linkedTo(b, 'seeker')) && (await linkedTo(c, 'seeker')), 15_000, 'b and c linked to seeker');
    expect(seeker.lines.some((l) => l.msg === `dns:pogo.test:${port} resolved to 2 address(es)`)).toBe(true);

    // A fourth node, then the answer grows: seeker dials it (d has no seeds and nobody else knew of it).
    const d = await cluster.start('d', [], ['--host', '127.0.0.4', '--port', String(port), ...FAST]);
    const asked = dns.timesAsked('pogo.test');
    dns.zone['pogo.test'] = { a: ['127.0.0.2', '127.0.0.3', '127.0.0.4'] };
    const pickedUpMs = await cluster.until(async () => (await upAt(seeker)).join() === 'b,c,d,seeker', 15_000, 'seeker sees d up');
    console.log(`a node added to the answer linked ${pickedUpMs.toFixed(0)} ms after the change (--dns-interval-ms 300)`);
    expect(dns.timesAsked('pogo.test')).toBeGreaterThan(asked); // found by asking again, not by chance
    const dLinks = (await d.status()).links;
    expect(dLinks.find((l) => l.peer === 'seeker')?.direction).toBe('in');
    await cluster.until(
      async () => {
        for (const p of [b, c, d, seeker]) if ((await upAt(p)).join() !== 'b,c,d,seeker') return false;
        return true;
      },
      15_000,
      'full mesh of four, each by its own links',
    );
    expect((await seeker.status()).discovery).toEqual([
      { seed: `dns:pogo.test:${port}`, addresses: [`127.0.0.2:${port}`, `127.0.0.3:${port}`, `127.0.0.4:${port}`], lookedUpAt: expect.any(Number) },
    ]);
    expect(seeker.exited).toBe(false);
  });

  it('dns-srv:<name> dials each SRV target at its own port; pogo ctl --seed takes it too', async () => {
    cluster = new ProcessCluster();
    dns = await TestDnsServer.start();
    const viewer = cluster.writeSecret('viewer.txt', 'viewer-token-0123456789abcdef');
    const n1 = await cluster.start('n1', [], [...FAST, '--viewer-token-file', viewer]);
    const n2 = await cluster.start('n2', [], [...FAST, '--viewer-token-file', viewer]);
    expect(portOf(n1)).not.toBe(portOf(n2));
    dns.zone['_pogo._tcp.pogo.test'] = {
      srv: [
        { target: 'n1.pogo.test', port: portOf(n1) },
        { target: 'n2.pogo.test', port: portOf(n2) },
      ],
    };
    dns.zone['n1.pogo.test'] = { a: ['127.0.0.1'] };
    dns.zone['n2.pogo.test'] = { a: ['127.0.0.1'] };

    const seeker = await cluster.start('seeker', ['dns-srv:_pogo._tcp.pogo.test'], ['--dns-server', dns.address, '--dns-interval-ms', '300', ...FAST]);
    await cluster.until(async () => (await upAt(seeker)).join() === 'n1,n2,seeker', 15_000, 'seeker sees n1 and n2 up');
    await cluster.until(async () => (await linkedTo(n1, 'seeker')) && (await linkedTo(n2, 'seeker')), 15_000, 'n1 and n2 linked to seeker');
    expect((await seeker.status()).discovery[0]!.addresses).toEqual([n1.address, n2.address].sort());

    // pogo ctl looks the seed up once and dials the addresses in turn.
    const ctl = await runCtl(
      [
        'status',
        '--seed',
        'dns-srv:_pogo._tcp.pogo.test',
        '--dns-server',
        dns.address,
        '--secret-file',
        cluster.secretFile,
        '--token-file',
        viewer,
        '--json',
        '--timeout',
        '20000',
      ],
      30_000,
    );
    expect(ctl.code, ctl.stderr).toBe(0);
    expect(['n1', 'n2']).toContain((JSON.parse(ctl.stdout) as { result: { node: string } }).result.node);
    const nowhere = await runCtl(
      ['status', '--seed', 'dns:nobody.pogo.test:4370', '--dns-server', dns.address, '--secret-file', cluster.secretFile, '--token-file', viewer, '--json'],
      30_000,
    );
    expect(nowhere.code).toBe(3);
    expect(JSON.parse(nowhere.stdout)).toEqual({
      ok: false,
      error: { code: 'unreachable', message: 'no member could be reached: dns:nobody.pogo.test:4370: no address (ENOTFOUND)' },
    });

    // pogo observe takes the same seed and --dns-server (the desktop app's way in through DNS).
    const observer = spawn(
      process.execPath,
      [
        '--import',
        EXIT_WITH_PARENT,
        CLI,
        'observe',
        '--seed',
        'dns-srv:_pogo._tcp.pogo.test',
        '--dns-server',
        dns.address,
        '--secret-file',
        cluster.secretFile,
        '--port',
        '0',
        '--name',
        'obs',
        ...FAST,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    ctlPids.add(observer.pid!);
    let observerErr = '';
    observer.stderr.setEncoding('utf8').on('data', (c: string) => (observerErr += c));
    await cluster.until(async () => (await linkedTo(n1, 'obs')) && (await linkedTo(n2, 'obs')), 15_000, 'the observer, seeded by dns-srv, linked to n1 and n2');
    expect(observerErr).toContain('Gateway: http://127.0.0.1:'); // and nothing saying it failed
    const exited = new Promise<number | null>((resolve) => observer.once('exit', (code) => resolve(code)));
    observer.kill('SIGTERM');
    expect(await exited).toBe(0);
    ctlPids.delete(observer.pid!);
  });

  it('bad input: a name that does not resolve, and a DNS server that does not answer, are logged once and the node keeps running and asking', async () => {
    cluster = new ProcessCluster();
    dns = await TestDnsServer.start();
    const lonely = await cluster.start('lonely', ['dns:nobody.pogo.test:4370'], ['--dns-server', dns.address, '--dns-interval-ms', '200', ...READY_SOON]);
    await cluster.until(async () => dns!.timesAsked('nobody.pogo.test') >= 8, 15_000, 'four lookups of nobody.pogo.test (A and AAAA each)');
    const warned = lonely.lines.filter((l) => String(l.msg).startsWith('dns:nobody.pogo.test:4370 resolves to no other node'));
    expect(warned).toHaveLength(1);
    expect(String(warned[0]!.msg)).toMatch(/the name does not exist \(NXDOMAIN\)/);
    expect((await lonely.status()).discovery).toEqual([
      { seed: 'dns:nobody.pogo.test:4370', addresses: [], problem: 'no address (ENOTFOUND)', lookedUpAt: expect.any(Number) },
    ]);

    // No DNS server at all at that port (nothing listens there: refused).
    const closed = await TestDnsServer.start();
    const nowhere = closed.address;
    await closed.close();
    const deaf = await cluster.start('deaf', ['dns:pogo.test:4370'], ['--dns-server', nowhere, '--dns-interval-ms', '200', ...READY_SOON]);
    await cluster.until(async () => (await deaf.status()).discovery[0]?.problem !== undefined, 15_000, 'a failed lookup reported');
    expect((await deaf.status()).discovery[0]!.problem).toMatch(/ECONNREFUSED|ETIMEOUT|ECANCELLED/);
    await deaf.waitForLog((l) => String(l.msg).startsWith('cannot resolve dns:pogo.test:4370'), 10_000, 'the failure logged');
    // Race "DNS down when the node starts": an answer ("nothing there") lets the ready timeout make the first pod ready; a
    // DNS server that never answered does not: a cluster may run behind the name (the deaf node would run a second copy).
    await cluster.until(async () => (await lonely.status()).supervisor.ready, 10_000, 'the NXDOMAIN node ready by its timeout');
    await deaf.waitForLog((l) => String(l.msg).startsWith('not taking children yet: dns:pogo.test:4370 has not been resolved'), 10_000, 'why not ready');
    expect((await deaf.status()).supervisor.ready).toBe(false);
    for (const p of [lonely, deaf]) expect(p.exited).toBe(false);
    expect((await upAt(lonely)).join()).toBe('lonely');
  });

  it('bad input: a name that resolves to this node itself is skipped with a logged reason, by address and by identity', async () => {
    cluster = new ProcessCluster();
    dns = await TestDnsServer.start();
    // By address: the answer holds the node's own advertised address.
    const port = await freePort('127.0.0.5');
    dns.zone['self.pogo.test'] = { a: ['127.0.0.5'] };
    const mirror = await cluster.start(
      'mirror',
      [`dns:self.pogo.test:${port}`],
      ['--host', '127.0.0.5', '--port', String(port), '--dns-server', dns.address, '--dns-interval-ms', '200', ...FAST],
    );
    await mirror.waitForLog((l) => String(l.msg).includes(`it names only this node itself (127.0.0.5:${port})`), 15_000, 'the self answer logged');
    expect((await mirror.status()).dialing).toEqual([]);

    // By identity: the node advertises a name, the answer gives the IP it listens on; its first dial reaches itself.
    dns.zone['alias.pogo.test'] = { a: ['127.0.0.6'] };
    const alias = await cluster.start(
      'alias',
      [`dns:alias.pogo.test:${port}`],
      ['--host', '127.0.0.6', '--port', String(port), '--advertise', `alias-node:${port}`, '--dns-server', dns.address, '--dns-interval-ms', '200', ...FAST],
    );
    await alias.waitForLog((l) => l.msg === `127.0.0.6:${port} reaches this node itself; not dialled again`, 15_000, 'the self dial logged');
    const asked = dns.timesAsked('alias.pogo.test');
    await cluster.until(async () => dns!.timesAsked('alias.pogo.test') >= asked + 4, 15_000, 'two more lookups');
    expect((await alias.status()).dialing).toEqual([]);
    expect(alias.lines.filter((l) => String(l.msg).includes('reaches this node itself'))).toHaveLength(1);
    for (const p of [mirror, alias]) expect(p.exited).toBe(false);
  });
});
