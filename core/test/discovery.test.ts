/**
 * DNS discovery without a network: the pure parts (seed parsing, answers →
 * addresses), one lookup against a fake `DnsQueries`, the discovery loop on
 * a ManualClock, and a simulated cluster (in-memory network) whose third
 * node finds the others through a fake DNS answer that changes.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { addressOf, classifyDnsError, combineQueries, diffAddresses, jitteredDelay, nextAddresses, outcomeKey } from '../src/discovery/dns-answer.js';
import { expandSeeds, lookupSeed, type DnsQueries, type SrvRecord } from '../src/discovery/dns-lookup.js';
import { SeedDiscovery } from '../src/discovery/seed-discovery.js';
import { formatSeed, parseDnsServer, parseSeed, splitSeeds, type DnsSeedSpec } from '../src/discovery/seed-spec.js';
import { MemoryLogger } from '../src/logger.js';
import { PogoNode, createNodeConfig } from '../src/node.js';
import { SeededRandom } from '../src/random.js';
import { MemoryNetwork } from '../src/transport/memory.js';
import { SimCluster, flushMicrotasks } from './support/sim.js';

function dnsError(code: string, name = 'x'): Error {
  return Object.assign(new Error(`query ${code} ${name}`), { code });
}

/** One name's records; a string is the error code its query fails with; `hang`: no query about it ever answers (until cancelled). */
interface FakeRecords {
  a?: string[] | string;
  aaaa?: string[] | string;
  srv?: SrvRecord[] | string;
  hang?: boolean;
}

/** A DNS server in memory: an unknown name is NXDOMAIN, a missing type NODATA. */
class FakeDns implements DnsQueries {
  zone: Record<string, FakeRecords> = {};
  readonly asked: string[] = [];
  cancels = 0;
  getServers?: () => string[];
  private readonly hanging = new Set<(err: Error) => void>();

  resolve4(name: string): Promise<string[]> {
    return this.answer(name, 'a') as Promise<string[]>;
  }
  resolve6(name: string): Promise<string[]> {
    return this.answer(name, 'aaaa') as Promise<string[]>;
  }
  resolveSrv(name: string): Promise<SrvRecord[]> {
    return this.answer(name, 'srv') as Promise<SrvRecord[]>;
  }
  cancel(): void {
    this.cancels++;
    for (const reject of this.hanging) reject(dnsError('ECANCELLED'));
    this.hanging.clear();
  }
  get inFlight(): number {
    return this.hanging.size;
  }

  private answer(name: string, type: 'a' | 'aaaa' | 'srv'): Promise<unknown> {
    this.asked.push(`${type} ${name}`);
    const entry = this.zone[name];
    if (!entry) return Promise.reject(dnsError('ENOTFOUND', name));
    if (entry.hang) return new Promise((_, reject) => this.hanging.add(reject));
    const value = entry[type];
    if (value === undefined) return Promise.reject(dnsError('ENODATA', name));
    if (typeof value === 'string') return Promise.reject(dnsError(value, name));
    return Promise.resolve(value);
  }
}

const srv = (name: string, port: number): SrvRecord => ({ name, port, priority: 0, weight: 0 });
const dnsSeed = (text: string): DnsSeedSpec => {
  const parsed = parseSeed(text);
  if (!parsed.ok || parsed.value.kind === 'address') throw new Error(`not a DNS seed: ${text}`);
  return parsed.value;
};

describe('seeds as written', () => {
  it('parses host:port, dns:<name>:<port> and dns-srv:<name>, and formats them back', () => {
    expect(parseSeed('10.0.0.1:4370')).toEqual({ ok: true, value: { kind: 'address', address: '10.0.0.1:4370' } });
    expect(parseSeed('[::1]:4370')).toEqual({ ok: true, value: { kind: 'address', address: '[::1]:4370' } });
    expect(parseSeed('dns:pogo.default.svc.cluster.local:4370')).toEqual({
      ok: true,
      value: { kind: 'dns', name: 'pogo.default.svc.cluster.local', port: 4370 },
    });
    expect(parseSeed('dns:pogo.:4370')).toEqual({ ok: true, value: { kind: 'dns', name: 'pogo.', port: 4370 } });
    expect(parseSeed('dns-srv:_pogo._tcp.pogo.default.svc.cluster.local')).toEqual({
      ok: true,
      value: { kind: 'dns-srv', name: '_pogo._tcp.pogo.default.svc.cluster.local' },
    });
    for (const text of ['10.0.0.1:4370', 'dns:pogo:4370', 'dns-srv:_pogo._tcp.pogo']) {
      const parsed = parseSeed(text);
      expect(parsed.ok && formatSeed(parsed.value)).toBe(text);
    }
  });

  it('keeps `dns:4370` a host called dns (a compose service may be named so)', () => {
    expect(parseSeed('dns:4370')).toEqual({ ok: true, value: { kind: 'address', address: 'dns:4370' } });
  });

  it('says what is wrong with a bad seed', () => {
    const error = (text: string): string => {
      const parsed = parseSeed(text);
      if (parsed.ok) throw new Error(`${text} parsed`);
      return parsed.error;
    };
    expect(error('dns:pogo')).toMatch(/give the port too, as dns:<name>:<port>/);
    expect(error('dns:pogo:0')).toMatch(/port 0 is out of range/);
    expect(error('dns:pogo:99999')).toMatch(/port 99999 is out of range/);
    expect(error('dns:pogo:http')).toMatch(/"http" is not a port/);
    expect(error('dns::4370')).toMatch(/the name is empty/);
    expect(error('dns:-bad.example:4370')).toMatch(/"-bad" is not a DNS label/);
    expect(error(`dns:${'a'.repeat(64)}:4370`)).toMatch(/is not a DNS label/);
    expect(error(`dns:${Array.from({ length: 60 }, () => 'abcd').join('.')}:4370`)).toMatch(/longer than 253/);
    expect(error('dns-srv:pogo:4370')).toMatch(/takes no port/);
    expect(error('nope')).toMatch(/is not host:port, dns:<name>:<port> or dns-srv:<name>/);
    // A host:port whose port cannot be dialled: refused (it was taken, and dialled in vain for ever).
    expect(error('127.0.0.1:99999')).toBe('"127.0.0.1:99999": port 99999 is out of range (1-65535)');
    expect(error('n1:0')).toMatch(/port 0 is out of range/);
    expect(error('[::1]:65536')).toMatch(/port 65536 is out of range/);
    expect(parseSeed('[::1]:65535')).toEqual({ ok: true, value: { kind: 'address', address: '[::1]:65535' } });
  });

  it('splits static seeds from DNS seeds', () => {
    expect(splitSeeds(['10.0.0.1:4370', 'dns:pogo:4370', 'dns-srv:_p._tcp.pogo', 'bad'])).toEqual({
      addresses: ['10.0.0.1:4370'],
      dns: [
        { kind: 'dns', name: 'pogo', port: 4370 },
        { kind: 'dns-srv', name: '_p._tcp.pogo' },
      ],
      invalid: [expect.stringMatching(/"bad" is not host:port/)],
    });
  });

  it('takes a DNS server as an IP with an optional port, never a name', () => {
    for (const ok of ['127.0.0.1', '127.0.0.1:5353', '::1', '[::1]:53', '10.96.0.10']) expect(parseDnsServer(ok)).toEqual({ ok: true, value: ok });
    for (const bad of ['kube-dns', 'kube-dns:53', '127.0.0.1:0', '127.0.0.1:70000', '[::1]', '']) expect(parseDnsServer(bad).ok, bad).toBe(false);
  });

  it('config: DNS seeds, --dns-server and --dns-interval-ms are validated at start-up, naming the field', () => {
    const secret = 'a-long-enough-cluster-secret';
    const c = loadConfig({ flags: { name: 'n1', secret, seeds: 'dns:pogo:4370,10.0.0.1:4370', dnsServer: '127.0.0.1:5353', dnsIntervalMs: '2000' }, env: {} });
    expect(c.seeds).toEqual(['dns:pogo:4370', '10.0.0.1:4370']);
    expect(c.dnsServer).toEqual(['127.0.0.1:5353']);
    expect(c.dnsIntervalMs).toBe(2000);
    expect(loadConfig({ flags: { name: 'n1', secret }, env: {} }).dnsIntervalMs).toBe(5000);
    let problems: string[] = [];
    try {
      loadConfig({ flags: { name: 'n1', secret, seeds: 'dns:pogo', dnsServer: 'kube-dns', dnsIntervalMs: '5' }, env: {} });
    } catch (err) {
      problems = (err as ConfigError).problems;
    }
    expect(problems.join('\n')).toMatch(/seeds\.0 \(from --seeds\): "dns:pogo": give the port too/);
    expect(problems.join('\n')).toMatch(/dnsServer\.0 \(from --dns-server\): "kube-dns" is not an IP address/);
    expect(problems.join('\n')).toMatch(/dnsIntervalMs \(from --dns-interval-ms\)/);
  });
});

describe('answers to addresses (pure)', () => {
  it('classifies query errors: NXDOMAIN and NODATA are answers, the rest failures', () => {
    expect(classifyDnsError(dnsError('ENOTFOUND'))).toEqual({ kind: 'empty', code: 'ENOTFOUND' });
    expect(classifyDnsError(dnsError('ENODATA'))).toEqual({ kind: 'empty', code: 'ENODATA' });
    expect(classifyDnsError(dnsError('ETIMEOUT'))).toMatchObject({ kind: 'failed', code: 'ETIMEOUT' });
    expect(classifyDnsError(dnsError('ECONNREFUSED'))).toMatchObject({ kind: 'failed', code: 'ECONNREFUSED' });
    expect(classifyDnsError('weird')).toMatchObject({ kind: 'failed', code: 'EUNKNOWN', message: 'weird' });
  });

  it('formats record addresses for dialling; anything not an IP is dropped', () => {
    expect(addressOf('127.0.0.2', 4370)).toBe('127.0.0.2:4370');
    expect(addressOf('fd00::1', 4370)).toBe('[fd00::1]:4370');
    expect(addressOf('pogo-0', 4370)).toBeUndefined();
    expect(addressOf('127.0.0.2', 0)).toBeUndefined();
  });

  it('combines the queries of one lookup: union of records; any unanswered query makes it a failure', () => {
    expect(
      combineQueries([
        { kind: 'records', addresses: ['b:1', 'a:1'] },
        { kind: 'empty', code: 'ENODATA' },
      ]),
    ).toEqual({ kind: 'answer', addresses: ['a:1', 'b:1'] });
    expect(
      combineQueries([
        { kind: 'empty', code: 'ENOTFOUND' },
        { kind: 'empty', code: 'ENOTFOUND' },
      ]),
    ).toEqual({ kind: 'answer', addresses: [], empty: 'ENOTFOUND' });
    expect(
      combineQueries([
        { kind: 'records', addresses: ['a:1'] },
        { kind: 'failed', code: 'ETIMEOUT', message: 'slow' },
      ]),
    ).toEqual({ kind: 'failure', addresses: ['a:1'], error: 'ETIMEOUT: slow' });
  });

  it('an answer replaces the address set; a failure only adds to it', () => {
    const before = new Set(['a:1', 'b:1']);
    expect([...nextAddresses(before, { kind: 'answer', addresses: ['b:1', 'c:1'] })]).toEqual(['b:1', 'c:1']);
    expect([...nextAddresses(before, { kind: 'answer', addresses: [], empty: 'ENOTFOUND' })]).toEqual([]);
    expect([...nextAddresses(before, { kind: 'failure', addresses: ['c:1'], error: 'ETIMEOUT' })].sort()).toEqual(['a:1', 'b:1', 'c:1']);
    expect(diffAddresses(before, new Set(['b:1', 'c:1']))).toEqual({ added: ['c:1'], removed: ['a:1'] });
  });

  it('the same outcome has the same key; a different one another', () => {
    expect(outcomeKey({ kind: 'answer', addresses: ['a:1'] })).toBe(outcomeKey({ kind: 'answer', addresses: ['a:1'] }));
    expect(outcomeKey({ kind: 'answer', addresses: [] })).not.toBe(outcomeKey({ kind: 'answer', addresses: [], empty: 'ENOTFOUND' }));
    expect(outcomeKey({ kind: 'failure', addresses: [], error: 'ETIMEOUT: x' })).not.toBe(outcomeKey({ kind: 'answer', addresses: [] }));
  });

  it('jitter keeps the delay within ±20% of the interval', () => {
    expect(jitteredDelay(5000, 0)).toBe(4000);
    expect(jitteredDelay(5000, 0.5)).toBe(5000);
    expect(jitteredDelay(5000, 0.999999)).toBe(6000);
    expect(jitteredDelay(1, 0)).toBe(1);
  });
});

describe('one lookup against a fake DNS', () => {
  it('dns: asks A and AAAA and dials every address at the port', async () => {
    const dns = new FakeDns();
    dns.zone['pogo'] = { a: ['127.0.0.3', '127.0.0.2'], aaaa: ['fd00::7'] };
    expect(await lookupSeed(dns, dnsSeed('dns:pogo:4370'))).toEqual({ kind: 'answer', addresses: ['127.0.0.2:4370', '127.0.0.3:4370', '[fd00::7]:4370'] });
    expect(dns.asked.sort()).toEqual(['a pogo', 'aaaa pogo']);
  });

  it('dns: an IPv4-only name (AAAA is NODATA) is a full answer; an unknown name an empty one', async () => {
    const dns = new FakeDns();
    dns.zone['pogo'] = { a: ['127.0.0.2'] };
    expect(await lookupSeed(dns, dnsSeed('dns:pogo:4370'))).toEqual({ kind: 'answer', addresses: ['127.0.0.2:4370'] });
    expect(await lookupSeed(dns, dnsSeed('dns:nobody:4370'))).toEqual({ kind: 'answer', addresses: [], empty: 'ENOTFOUND' });
  });

  it('dns-srv: resolves each target, each at its own port; an IP target is taken as it is', async () => {
    const dns = new FakeDns();
    dns.zone['_pogo._tcp.pogo'] = { srv: [srv('pogo-0.pogo.', 4001), srv('pogo-1.pogo', 4002), srv('127.0.0.9', 4003), srv('pogo-1.pogo', 4002)] };
    dns.zone['pogo-0.pogo'] = { a: ['127.0.0.1'] };
    dns.zone['pogo-1.pogo'] = { a: ['127.0.0.1'], aaaa: ['::1'] };
    expect(await lookupSeed(dns, dnsSeed('dns-srv:_pogo._tcp.pogo'))).toEqual({
      kind: 'answer',
      addresses: ['127.0.0.1:4001', '127.0.0.1:4002', '127.0.0.9:4003', '[::1]:4002'],
    });
    // The duplicate record is asked once.
    expect(dns.asked.filter((q) => q === 'a pogo-1.pogo')).toHaveLength(1);
  });

  it('dns-srv: no SRV record is an empty answer; a target that cannot be resolved makes a failure that keeps the rest', async () => {
    const dns = new FakeDns();
    expect(await lookupSeed(dns, dnsSeed('dns-srv:_pogo._tcp.none'))).toEqual({ kind: 'answer', addresses: [], empty: 'ENOTFOUND' });
    dns.zone['_pogo._tcp.pogo'] = { srv: [] };
    expect(await lookupSeed(dns, dnsSeed('dns-srv:_pogo._tcp.pogo'))).toEqual({ kind: 'answer', addresses: [], empty: 'ENODATA' });
    dns.zone['_pogo._tcp.pogo'] = { srv: [srv('ok', 4001), srv('broken', 4002)] };
    dns.zone['ok'] = { a: ['127.0.0.2'] };
    dns.zone['broken'] = { a: 'ESERVFAIL', aaaa: 'ESERVFAIL' };
    expect(await lookupSeed(dns, dnsSeed('dns-srv:_pogo._tcp.pogo'))).toMatchObject({
      kind: 'failure',
      addresses: ['127.0.0.2:4001'],
      error: expect.stringMatching(/ESERVFAIL/),
    });
  });
});

describe('seeds looked up once (pogo ctl)', () => {
  it('keeps the order, replaces each DNS seed by its addresses, and says why one gave none', async () => {
    const dns = new FakeDns();
    dns.zone['pogo'] = { a: ['127.0.0.3', '127.0.0.2'] };
    dns.zone['down'] = { a: 'ETIMEOUT', aaaa: 'ETIMEOUT' };
    expect(await expandSeeds(['10.0.0.1:4370', 'dns:pogo:4370', 'dns:nobody:4370', 'dns:down:4370', '127.0.0.2:4370'], dns)).toEqual({
      addresses: ['10.0.0.1:4370', '127.0.0.2:4370', '127.0.0.3:4370'],
      problems: ['dns:nobody:4370: no address (ENOTFOUND)', expect.stringMatching(/^dns:down:4370: ETIMEOUT/)],
    });
  });
});

/** A discovery on a ManualClock, with a fixed jitter (delay = interval) and what it handed on recorded. */
function discoveryRig(seeds: string[], self = '127.0.0.1:4370', intervalMs = 1000) {
  const clock = new ManualClock(0);
  const dns = new FakeDns();
  const log = new MemoryLogger();
  const handed: string[][] = [];
  const discovery = new SeedDiscovery({
    seeds: seeds.map(dnsSeed),
    queries: dns,
    self,
    intervalMs,
    clock,
    random: { next: () => 0.5, int: () => 0, hex: () => '00' },
    log,
    onAddresses: (addresses) => handed.push([...addresses]),
  });
  /** Lets a round's queries settle; then moves time to the next round. */
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await flushMicrotasks();
  };
  const nextRound = async (): Promise<void> => {
    clock.advance(intervalMs);
    await settle();
  };
  return { clock, dns, log, handed, discovery, settle, nextRound };
}

describe('the discovery loop (ManualClock, fake DNS)', () => {
  it('hands on the addresses at start, then only when the answer changes, every interval', async () => {
    const rig = discoveryRig(['dns:pogo:4370']);
    rig.dns.zone['pogo'] = { a: ['127.0.0.2', '127.0.0.3'] };
    rig.discovery.start();
    await rig.settle();
    expect(rig.handed).toEqual([['127.0.0.2:4370', '127.0.0.3:4370']]);
    await rig.nextRound();
    expect(rig.handed).toHaveLength(1); // same answer: nothing new
    rig.dns.zone['pogo'] = { a: ['127.0.0.2', '127.0.0.3', '127.0.0.4'] };
    await rig.nextRound();
    expect(rig.handed.at(-1)).toEqual(['127.0.0.2:4370', '127.0.0.3:4370', '127.0.0.4:4370']);
    rig.dns.zone['pogo'] = { a: ['127.0.0.4'] };
    await rig.nextRound();
    expect(rig.handed.at(-1)).toEqual(['127.0.0.4:4370']);
    expect(rig.dns.asked.filter((q) => q === 'a pogo')).toHaveLength(4);
    expect(rig.discovery.status()).toEqual([{ seed: 'dns:pogo:4370', addresses: ['127.0.0.4:4370'], lookedUpAt: 3000 }]);
    // One info line per change of the answer (3 changes of 4 lookups).
    expect(rig.log.entries.filter((e) => e.message.startsWith('dns:pogo:4370 resolved to'))).toHaveLength(3);
  });

  it("never hands on this node's own address, and says so once", async () => {
    const rig = discoveryRig(['dns:pogo:4370'], '127.0.0.2:4370');
    rig.dns.zone['pogo'] = { a: ['127.0.0.2', '127.0.0.3'] };
    rig.discovery.start();
    await rig.settle();
    await rig.nextRound();
    expect(rig.handed).toEqual([['127.0.0.3:4370']]);
    const lines = rig.log.entries.filter((e) => e.message.includes("besides this node's own (127.0.0.2:4370, skipped)"));
    expect(lines).toHaveLength(1);
  });

  it('a name that resolves to this node alone: nothing to dial, a logged reason, and it keeps looking', async () => {
    const rig = discoveryRig(['dns:pogo:4370'], '127.0.0.2:4370');
    rig.dns.zone['pogo'] = { a: ['127.0.0.2'] };
    rig.discovery.start();
    await rig.settle();
    await rig.nextRound();
    expect(rig.handed).toEqual([]);
    const warned = rig.log.entries.filter((e) => e.level === 'warn' && e.message.includes('it names only this node itself (127.0.0.2:4370)'));
    expect(warned).toHaveLength(1);
    expect(rig.discovery.status()[0]).toMatchObject({ addresses: [], problem: 'only this node itself' });
    rig.dns.zone['pogo'] = { a: ['127.0.0.2', '127.0.0.3'] };
    await rig.nextRound();
    expect(rig.handed).toEqual([['127.0.0.3:4370']]);
  });

  it('NXDOMAIN: logged once, not every interval; links made stay; found again when the name comes back', async () => {
    const rig = discoveryRig(['dns:pogo:4370']);
    rig.dns.zone['pogo'] = { a: ['127.0.0.2'] };
    rig.discovery.start();
    await rig.settle();
    delete rig.dns.zone['pogo'];
    for (let i = 0; i < 5; i++) await rig.nextRound();
    expect(rig.handed).toEqual([['127.0.0.2:4370'], []]);
    const warned = rig.log.entries.filter((e) => e.level === 'warn');
    expect(warned).toHaveLength(1);
    expect(warned[0]!.message).toMatch(
      /dns:pogo:4370 resolves to no other node: the name does not exist \(NXDOMAIN\); links already made stay, looking again every 1000 ms/,
    );
    expect(rig.discovery.status()[0]).toMatchObject({ addresses: [], problem: 'no address (ENOTFOUND)' });
    rig.dns.zone['pogo'] = { a: ['127.0.0.2'] };
    await rig.nextRound();
    expect(rig.handed.at(-1)).toEqual(['127.0.0.2:4370']);
  });

  it('a DNS server that fails keeps the addresses found before (logged once)', async () => {
    const rig = discoveryRig(['dns:pogo:4370']);
    rig.dns.zone['pogo'] = { a: ['127.0.0.2'] };
    rig.discovery.start();
    await rig.settle();
    rig.dns.zone['pogo'] = { a: 'ESERVFAIL', aaaa: 'ESERVFAIL' };
    for (let i = 0; i < 3; i++) await rig.nextRound();
    expect(rig.handed).toEqual([['127.0.0.2:4370']]);
    const warned = rig.log.entries.filter((e) => e.level === 'warn');
    expect(warned).toHaveLength(1);
    expect(warned[0]!.message).toMatch(/cannot resolve dns:pogo:4370: ESERVFAIL.*keeping the 1 address\(es\) found before/);
  });

  it('a failed lookup names the DNS servers it asked, when the resolver says (a wrong --dns-server shows)', async () => {
    const rig = discoveryRig(['dns:pogo:4370']);
    rig.dns.getServers = () => ['10.9.9.9', '10.9.9.10:5353'];
    rig.dns.zone['pogo'] = { a: 'ECONNREFUSED', aaaa: 'ECONNREFUSED' };
    rig.discovery.start();
    await rig.settle();
    const warned = rig.log.entries.filter((e) => e.level === 'warn');
    expect(warned[0]!.message).toMatch(/^cannot resolve dns:pogo:4370 \(asked 10\.9\.9\.9, 10\.9\.9\.10:5353\): ECONNREFUSED/);
  });

  it('race "DNS down when the node starts": a seed never answered is unresolved until an answer, even "nothing there"', async () => {
    const rig = discoveryRig(['dns:pogo:4370', 'dns:other:4370']);
    rig.dns.zone['pogo'] = { a: 'ECONNREFUSED', aaaa: 'ECONNREFUSED' };
    rig.dns.zone['other'] = { a: ['127.0.0.5'] };
    expect(rig.discovery.unresolved()).toEqual([
      { seed: 'dns:pogo:4370', problem: 'not looked up yet' },
      { seed: 'dns:other:4370', problem: 'not looked up yet' },
    ]);
    rig.discovery.start();
    await rig.settle();
    expect(rig.discovery.unresolved()).toEqual([{ seed: 'dns:pogo:4370', problem: expect.stringMatching(/^ECONNREFUSED/) }]);
    await rig.nextRound();
    expect(rig.discovery.unresolved()).toHaveLength(1);
    delete rig.dns.zone['pogo']; // NXDOMAIN: an answer
    await rig.nextRound();
    expect(rig.discovery.unresolved()).toEqual([]);
    // Answered once, a later failure does not make it unresolved again (a failure keeps what was known).
    rig.dns.zone['pogo'] = { a: 'ESERVFAIL', aaaa: 'ESERVFAIL' };
    await rig.nextRound();
    expect(rig.discovery.unresolved()).toEqual([]);
  });

  it('race "a round outlasts its interval": its queries are cancelled at the deadline and the next round runs', async () => {
    const rig = discoveryRig(['dns:pogo:4370']);
    rig.dns.zone['pogo'] = { hang: true };
    rig.discovery.start();
    await rig.settle();
    expect(rig.dns.inFlight).toBe(2);
    rig.clock.advance(999);
    await rig.settle();
    expect(rig.dns.cancels).toBe(0);
    rig.clock.advance(1);
    await rig.settle();
    expect(rig.dns.cancels).toBe(1);
    expect(rig.discovery.status()[0]!.problem).toMatch(/ECANCELLED/);
    rig.dns.zone['pogo'] = { a: ['127.0.0.2'] };
    await rig.nextRound();
    expect(rig.handed).toEqual([['127.0.0.2:4370']]);
  });

  it('race "stopped while a round is in flight": nothing is applied and no round follows', async () => {
    const rig = discoveryRig(['dns:pogo:4370']);
    rig.dns.zone['pogo'] = { hang: true };
    rig.discovery.start();
    await rig.settle();
    rig.discovery.stop();
    await rig.settle();
    expect(rig.handed).toEqual([]);
    expect(rig.clock.pending()).toBe(0);
    rig.dns.zone['pogo'] = { a: ['127.0.0.2'] };
    rig.clock.advance(10_000);
    await rig.settle();
    expect(rig.handed).toEqual([]);
  });

  it('several seeds: the union is handed on, and an address leaves only when no seed gives it', async () => {
    const rig = discoveryRig(['dns:a:4370', 'dns-srv:_p._tcp.b']);
    rig.dns.zone['a'] = { a: ['127.0.0.2', '127.0.0.3'] };
    rig.dns.zone['_p._tcp.b'] = { srv: [srv('127.0.0.3', 4370), srv('127.0.0.5', 4371)] };
    rig.discovery.start();
    await rig.settle();
    expect(rig.handed).toEqual([['127.0.0.2:4370', '127.0.0.3:4370', '127.0.0.5:4371']]);
    rig.dns.zone['a'] = { a: ['127.0.0.2'] };
    await rig.nextRound();
    expect(rig.handed).toHaveLength(1); // 127.0.0.3:4370 still given by the SRV seed
  });
});

describe('a simulated cluster found through DNS', () => {
  it('links to every address of the answer, picks up a node added later, stops dialling an address that left, and leaves a dead member to membership', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const random = new SeededRandom(7);
    const network = new MemoryNetwork({ clock, random, latencyMs: 1, jitterMs: 2, connectTimeoutMs: 500 });
    const log = new MemoryLogger();
    const dns = new FakeDns();
    const nodes: PogoNode[] = [];
    const start = async (name: string, address: string, seeds: string[] = []): Promise<PogoNode> => {
      const node = await PogoNode.start(createNodeConfig({ name, secret: 'simulation-secret-0123456789', seeds, dnsIntervalMs: 1000, preset: 'local' }), {
        clock,
        random,
        log,
        transport: network.transport(address),
        dnsQueries: dns,
      });
      nodes.push(node);
      return node;
    };
    const run = async (ms: number): Promise<void> => {
      const target = clock.now() + ms;
      await flushMicrotasks();
      while (clock.step(target)) await flushMicrotasks();
    };
    const until = async (predicate: () => boolean, maxMs: number, what: string): Promise<void> => {
      const end = clock.now() + maxMs;
      while (!predicate()) {
        if (clock.now() >= end) throw new Error(`${what} did not hold within ${maxMs} ms of simulated time`);
        await run(10);
      }
    };
    const up = (node: PogoNode): string[] => node.upMembers().sort();

    await start('b', '127.0.0.2:4370');
    await start('c', '127.0.0.3:4370');
    dns.zone['pogo.test'] = { a: ['127.0.0.2', '127.0.0.3', '127.0.0.9'] }; // .9: nothing listens there
    const seeker = await start('seeker', '127.0.0.1:4370', ['dns:pogo.test:4370']);
    await until(() => up(seeker).join() === 'b,c,seeker', 10_000, 'seeker linked to b and c');
    expect(seeker.status().dialing.map((d) => d.address)).toEqual(['127.0.0.9:4370']);

    await start('d', '127.0.0.4:4370');
    dns.zone['pogo.test'] = { a: ['127.0.0.2', '127.0.0.3', '127.0.0.4'] };
    await until(() => up(seeker).join() === 'b,c,d,seeker', 10_000, 'seeker linked to d, added to the answer later');
    // The address that left the answer is no longer dialled.
    await until(() => seeker.status().dialing.length === 0, 10_000, '127.0.0.9 no longer dialled');
    // Each node's own links: a full mesh, d included (b and c learned of it through seeker's gossip).
    await until(() => nodes.every((n) => up(n).join() === 'b,c,d,seeker'), 10_000, 'full mesh of four');
    expect(seeker.status().discovery).toEqual([
      { seed: 'dns:pogo.test:4370', addresses: ['127.0.0.2:4370', '127.0.0.3:4370', '127.0.0.4:4370'], lookedUpAt: expect.any(Number) },
    ]);

    // b dies and leaves the answer: not dropped by discovery; membership keeps dialling the member it knows there.
    network.crash('127.0.0.2:4370');
    nodes[0]!.kill();
    dns.zone['pogo.test'] = { a: ['127.0.0.3', '127.0.0.4'] };
    await until(() => seeker.member('b')?.status === 'down' && seeker.status().discovery[0]!.addresses.length === 2, 10_000, 'b down and out of the answer');
    await run(3000);
    expect(seeker.status().dialing.map((d) => d.address)).toEqual(['127.0.0.2:4370']);
    const b2 = await start('b', '127.0.0.2:4370');
    await until(() => up(seeker).join() === 'b,c,d,seeker' && up(b2).join() === 'b,c,d,seeker', 10_000, 'b back, redialled as a member');
    for (const n of nodes) n.kill();
  });
});

describe('race "DNS down when the node starts" (simulation)', () => {
  it('a member whose DNS does not answer takes no child by its ready timeout; once DNS answers it joins, and each child runs once', async () => {
    const sim = new SimCluster(11);
    try {
      const dns = new FakeDns();
      sim.dnsQueries = dns;
      const b = await sim.start('b', [], {}, undefined, undefined, '127.0.0.2:4370');
      await sim.until(() => b.supervisor.isReady, 10_000, 'b ready');
      await sim.resolve(b.supervisor.startChild({ id: 'once', start: { worker: 'w' } }));
      dns.zone['pogo.test'] = { a: 'ECONNREFUSED', aaaa: 'ECONNREFUSED' }; // the DNS server is down
      const config = { seeds: ['dns:pogo.test:4370'], dnsIntervalMs: 1000, preset: 'local' as const };
      const seeker = await sim.start('seeker', [], config, undefined, undefined, '127.0.0.9:4370');
      // As `--children` does at start: the node asks for the spec the cluster already runs.
      void seeker.supervisor.startChild({ id: 'once', start: { worker: 'w' } }).catch(() => undefined);
      await sim.run(15_000); // three ready timeouts
      expect(seeker.supervisor.isReady).toBe(false);
      expect(sim.instances('once')).toEqual(['b']);
      const said = sim.log.entries.filter(
        (e) => e.fields?.node === 'seeker' && /not taking children yet: dns:pogo.test:4370 has not been resolved/.test(e.message),
      );
      expect(said).toHaveLength(1);
      // DNS is back: it links, becomes ready, and the child still runs once.
      dns.zone['pogo.test'] = { a: ['127.0.0.2'] };
      await sim.until(() => seeker.supervisor.isReady && sim.fullMesh(), 15_000, 'seeker joined');
      await sim.run(3000);
      expect(sim.instances('once')).toHaveLength(1);
    } finally {
      sim.stopAll();
    }
  });
});
