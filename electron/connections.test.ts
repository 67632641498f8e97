/**
 * Saved connections on disk: round trip, atomic 0600 writes, and files that
 * are missing, corrupt or partly invalid (reported, never thrown).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONNECTIONS_FILE, ConnectionDraftSchema, describeIssues, loadConnections, saveConnections } from './connections';
import type { SavedConnection } from './preload-api';

const prod: SavedConnection = {
  id: 'prod',
  name: 'Production',
  seeds: ['10.0.0.1:4370', 'db-2.internal:4370'],
  secretFile: '/etc/pogo/secret',
  operatorTokenFile: '/home/me/.pogo/operator',
};
const lab: SavedConnection = {
  id: 'lab',
  name: 'Lab',
  seeds: ['[::1]:4370'],
  cluster: 'lab',
  secretFile: '/tmp/lab-secret',
  viewerTokenFile: '/tmp/viewer',
  tls: { caFile: '/tmp/ca.pem' },
  preset: 'local',
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pogo-connections-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const file = (): string => join(dir, CONNECTIONS_FILE);

describe('loadConnections / saveConnections', () => {
  it('lists nothing, without an error, when nothing was saved yet', async () => {
    expect(await loadConnections(dir)).toEqual({ connections: [] });
  });

  it('reads back what it saved, written with mode 0600 and no temporary file left behind', async () => {
    await saveConnections(dir, [prod, lab]);
    expect(await loadConnections(dir)).toEqual({ connections: [prod, lab] });
    if (process.platform !== 'win32') expect(statSync(file()).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual([CONNECTIONS_FILE]);
  });

  it('replaces the whole list on save', async () => {
    await saveConnections(dir, [prod, lab]);
    await saveConnections(dir, [lab]);
    expect((await loadConnections(dir)).connections).toEqual([lab]);
  });

  it('creates the directory when it does not exist yet', async () => {
    const nested = join(dir, 'a', 'b');
    await saveConnections(nested, [prod]);
    expect((await loadConnections(nested)).connections).toEqual([prod]);
  });

  it('reports a file that is not JSON, with an empty list, instead of throwing', async () => {
    writeFileSync(file(), '{ "version": 1, "connections": [');
    const loaded = await loadConnections(dir);
    expect(loaded.connections).toEqual([]);
    expect(loaded.error).toContain(file());
    expect(loaded.error).toContain('not valid JSON');
  });

  it('reports a file of the wrong shape, naming the field', async () => {
    writeFileSync(file(), JSON.stringify({ version: 2, connections: [] }));
    const loaded = await loadConnections(dir);
    expect(loaded.connections).toEqual([]);
    expect(loaded.error).toMatch(/version: /);
  });

  it('reports a path it cannot read as a file', async () => {
    mkdirSync(file());
    const loaded = await loadConnections(dir);
    expect(loaded.connections).toEqual([]);
    expect(loaded.error).toContain('could not be read');
  });

  it('skips invalid entries, keeps the valid ones, and names each bad field', async () => {
    const bad = { ...lab, id: 'bad', seeds: ['no-port'] };
    const relative = { ...lab, id: 'rel', secretFile: 'secret.txt' };
    writeFileSync(file(), JSON.stringify({ version: 1, connections: [prod, bad, relative, prod] }));
    const loaded = await loadConnections(dir);
    expect(loaded.connections).toEqual([prod]);
    expect(loaded.error).toContain('connections[1].seeds[0]: "no-port" is not host:port, dns:<name>:<port> or dns-srv:<name>');
    expect(loaded.error).toContain('connections[2].secretFile: must be an absolute path');
    expect(loaded.error).toContain('connections[3].id: prod is used twice');
  });

  it('keeps a copy of a file it could not read entirely before saving over it', async () => {
    writeFileSync(file(), 'not json at all');
    await saveConnections(dir, [prod]);
    expect(readFileSync(`${file()}.bad`, 'utf8')).toBe('not json at all');
    expect(await loadConnections(dir)).toEqual({ connections: [prod] });
  });

  it('refuses to save an invalid list, naming the field, and leaves the old file as it was', async () => {
    await saveConnections(dir, [prod]);
    const before = readFileSync(file(), 'utf8');
    await expect(saveConnections(dir, [prod, { ...lab, name: ' ' }])).rejects.toThrow('connections[1].name: must not be empty');
    await expect(saveConnections(dir, [prod, prod])).rejects.toThrow('the id prod is used twice');
    expect(readFileSync(file(), 'utf8')).toBe(before);
  });
});

describe('ConnectionDraftSchema', () => {
  const draft = { name: 'Staging', seeds: ['127.0.0.1:4370'], secretFile: '/srv/secret' };

  it('accepts a new connection without an id', () => {
    expect(ConnectionDraftSchema.parse(draft)).toEqual(draft);
  });

  it('takes DNS seeds and DNS servers, as pogo observe does, and names a bad one', () => {
    const dns = { ...draft, seeds: ['dns-srv:_pogo._tcp.pogo.svc.cluster.local', 'dns:pogo:4370', '10.0.0.1:4370'], dnsServer: ['10.96.0.10', '[::1]:53'] };
    expect(ConnectionDraftSchema.parse(dns)).toEqual(dns);
    expect(describeIssues(ConnectionDraftSchema.safeParse({ ...draft, seeds: ['dns-srv:_pogo._tcp:4370'] }).error!)).toContain(
      'seeds[0]: "dns-srv:_pogo._tcp:4370": dns-srv:<name> takes no port',
    );
    expect(describeIssues(ConnectionDraftSchema.safeParse({ ...draft, dnsServer: ['dns.example'] }).error!)).toContain(
      'dnsServer[0]: "dns.example" is not an IP address',
    );
  });

  it('takes a timing preset of pogo node --preset', () => {
    for (const preset of ['local', 'lan', 'wan'] as const) expect(ConnectionDraftSchema.parse({ ...draft, preset })).toEqual({ ...draft, preset });
  });

  it('takes the user name for the audit log, trimmed, up to 64 characters', () => {
    expect(ConnectionDraftSchema.parse({ ...draft, user: ' alice ' })).toEqual({ ...draft, user: 'alice' });
    expect(describeIssues(ConnectionDraftSchema.safeParse({ ...draft, user: 'x'.repeat(65) }).error!)).toBe('user: must be at most 64 characters');
  });

  it('names every bad field', () => {
    const parsed = ConnectionDraftSchema.safeParse({
      ...draft,
      seeds: [],
      secretFile: 'relative',
      cluster: '-x',
      tls: { certFile: '/c.pem' },
      preset: 'fast',
      extra: 1,
      user: '   ',
    });
    expect(parsed.success).toBe(false);
    const message = describeIssues(parsed.error!);
    expect(message).toContain('seeds: give at least one seed');
    expect(message).toContain('secretFile: must be an absolute path');
    expect(message).toContain('cluster: ');
    expect(message).toContain('tls.keyFile: a client certificate and its key go together');
    expect(message).toContain('preset: must be local, lan or wan');
    expect(message).toContain('extra');
    expect(message).toContain('user: must not be empty');
  });
});
