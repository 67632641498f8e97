/**
 * A small authoritative DNS server for process tests: UDP on 127.0.0.1 (a
 * random port), packets encoded and decoded by `dns-packet`. It answers A,
 * AAAA and SRV questions from `zone`, which the test changes at will (the
 * next query sees the change: every answer has TTL 0, so no resolver keeps
 * it). A name not in the zone is NXDOMAIN; a name without records of the
 * asked type is an empty NOERROR answer (NODATA). It counts the questions
 * it was asked, by name, so a test can wait for a node to have asked again.
 */
import { createSocket, type Socket } from 'node:dgram';
import dnsPacket from 'dns-packet';

export interface ZoneEntry {
  a?: string[];
  aaaa?: string[];
  srv?: Array<{ target: string; port: number }>;
}

const NXDOMAIN = 3;

export class TestDnsServer {
  /** Names (lower case, no final dot) → records. */
  zone: Record<string, ZoneEntry> = {};
  /** Questions asked, by name. */
  readonly asked = new Map<string, number>();

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on('message', (message, remote) => this.answer(message, remote.port, remote.address));
  }

  static async start(): Promise<TestDnsServer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    return new TestDnsServer(socket, socket.address().port);
  }

  /** `127.0.0.1:<port>`, for `--dns-server`. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  timesAsked(name: string): number {
    return this.asked.get(name) ?? 0;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private answer(message: Buffer, port: number, address: string): void {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return; // not DNS: ignore, as a server would
    }
    const answers: dnsPacket.Answer[] = [];
    let rcode = 0;
    for (const question of query.questions ?? []) {
      const name = question.name.toLowerCase().replace(/\.$/, '');
      this.asked.set(name, (this.asked.get(name) ?? 0) + 1);
      const entry = this.zone[name];
      if (!entry) {
        rcode = NXDOMAIN;
        continue;
      }
      if (question.type === 'A') for (const ip of entry.a ?? []) answers.push({ type: 'A', name: question.name, ttl: 0, data: ip });
      if (question.type === 'AAAA') for (const ip of entry.aaaa ?? []) answers.push({ type: 'AAAA', name: question.name, ttl: 0, data: ip });
      if (question.type === 'SRV')
        for (const r of entry.srv ?? [])
          answers.push({ type: 'SRV', name: question.name, ttl: 0, data: { target: r.target, port: r.port, priority: 0, weight: 0 } });
    }
    const response = dnsPacket.encode({
      type: 'response',
      id: query.id ?? 0,
      // Authoritative; recursion desired echoed, available; the rcode in the low bits.
      flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | rcode,
      questions: query.questions ?? [],
      answers,
    });
    this.socket.send(response, port, address);
  }
}
