/**
 * The config by layer (config-sections.ts): the flat config the flags and
 * the config file give maps onto one section per layer, each with the
 * values its layer reads, derived values computed once.
 */
import { describe, expect, it } from 'vitest';
import { TIMING_PRESETS, loadConfig } from '../src/config.js';
import { IPC_ENVELOPE_BYTES, configSections } from '../src/config-sections.js';

const base = { name: 'n1', secret: 'a-secret-of-16-chars' };

describe('configSections', () => {
  it('maps the timing preset onto the link and membership sections', () => {
    const config = loadConfig({ flags: { ...base, preset: 'local' }, env: {} });
    const s = configSections(config);
    const local = TIMING_PRESETS.local;
    expect(s.link).toEqual({
      secret: base.secret,
      maxPendingHandshakes: 64,
      timing: {
        heartbeatIntervalMs: local.heartbeatIntervalMs,
        suspectAfterMs: local.suspectAfterMs,
        heartbeatTimeoutMs: local.heartbeatTimeoutMs,
        handshakeTimeoutMs: local.handshakeTimeoutMs,
      },
    });
    expect(s.membership).toEqual({
      gossipIntervalMs: local.gossipIntervalMs,
      reconnectBaseMs: local.reconnectBaseMs,
      reconnectMaxMs: local.reconnectMaxMs,
      downReapAfterMs: config.downReapAfterMs,
      leftReapAfterMs: config.leftReapAfterMs,
    });
  });

  it('flags given as text land in their layer: distributed, supervisor, commands, discovery, status, transport', () => {
    const config = loadConfig({
      flags: {
        ...base,
        netsplit: 'majority',
        expectedMembers: '3',
        requestTimeoutMs: '1234',
        callMaxBytes: '4096',
        childStartTimeoutMs: '777',
        allowCommands: 'node,sleep',
        seeds: 'a:1,b:2',
        dnsIntervalMs: '900',
        statusPort: '0',
        port: '0',
        operatorToken: 'an-operator-token-of-length',
      },
      env: {},
    });
    const s = configSections(config);
    expect(s.distributed).toMatchObject({
      netsplit: 'majority',
      expectedMembers: 3,
      startChildTimeoutMs: 1234,
      callMaxBytes: 4096,
      leaseMs: config.heartbeatTimeoutMs,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
    });
    expect(s.supervisor).toEqual({ allowCommands: ['node', 'sleep'], startTimeoutMs: 777, ipcMaxMessageBytes: 4096 + IPC_ENVELOPE_BYTES });
    expect(s.commands).toEqual({ operatorToken: 'an-operator-token-of-length', viewerToken: undefined });
    expect(s.discovery).toEqual({ seeds: ['a:1', 'b:2'], dnsServer: [], dnsIntervalMs: 900 });
    expect(s.status).toEqual({ host: '127.0.0.1', port: 0 });
    expect(s.transport).toEqual({ host: '127.0.0.1', port: 0, maxMessageBytes: config.maxMessageBytes, connectTimeoutMs: config.connectTimeoutMs });
    expect(s.tls).toEqual({ tlsCertFile: undefined, tlsKeyFile: undefined, tlsCaFile: undefined, tlsRejectUnauthorized: true });
  });

  it('leaves the status endpoint off without a status port', () => {
    const s = configSections(loadConfig({ flags: { ...base, statusHost: '0.0.0.0' }, env: {} }));
    expect(s.status).toBeUndefined();
  });

  it('is pure: the same config maps to equal sections, and the config is left as it was', () => {
    const config = loadConfig({ flags: base, env: {} });
    const before = JSON.stringify(config);
    expect(configSections(config)).toEqual(configSections(config));
    expect(JSON.stringify(config)).toBe(before);
  });
});
