/**
 * Node configuration: one documented object, validated once at start-up.
 *
 * Sources, later ones win: built-in defaults ← timing preset ← JSON file
 * (`--config`) ← `POGO_*` environment variables ← command-line flags. Every
 * field is described once in `CONFIG_FIELDS` (flag, environment variable,
 * unit, meaning), which also drives `pogo node --help`. Errors name the field
 * and where the bad value came from, e.g.
 * `heartbeatTimeoutMs (from --heartbeat-timeout-ms): must be greater than suspectAfterMs`.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { hostname } from 'node:os';
import { z } from 'zod';
import { MAX_TOKEN_LENGTH, MAX_TOKENS, parseTokens } from './credentials.js';
import { DnsServerSchema, SeedTextSchema } from './discovery/seed-spec.js';
import { AddressSchema, ClusterNameSchema, LabelsSchema, NodeNameSchema, RoleSchema } from './protocol.js';
import { tlsFileProblems } from './tls-files.js';

/** Failure-detection and gossip timings, in milliseconds. */
export interface TimingConfig {
  /** How often each link is pinged, in ms. */
  heartbeatIntervalMs: number;
  /** Silence on a link after which its peer is reported suspect, in ms. */
  suspectAfterMs: number;
  /** Silence on a link after which it is closed and the peer declared down, in ms; must be greater than suspectAfterMs. */
  heartbeatTimeoutMs: number;
  /** Longest a connection may take to complete the link handshake, in ms. */
  handshakeTimeoutMs: number;
  /** Longest a dial may take to connect before it counts as failed, in ms. */
  connectTimeoutMs: number;
  /** How often the whole membership table is gossiped to every linked peer, in ms (changes go out at once as deltas). */
  gossipIntervalMs: number;
  /** First delay before redialling a lost seed or member, in ms; it doubles (with jitter) on each failure. */
  reconnectBaseMs: number;
  /** Longest delay between redials, in ms (the cap of the exponential backoff). */
  reconnectMaxMs: number;
}

/**
 * Presets built from one default (`lan`): `local` for one machine (fast
 * detection), `wan` for links with long, jittery round trips.
 */
export const TIMING_PRESETS: Record<'local' | 'lan' | 'wan', TimingConfig> = {
  lan: {
    heartbeatIntervalMs: 1000,
    suspectAfterMs: 2000,
    heartbeatTimeoutMs: 3000,
    handshakeTimeoutMs: 5000,
    connectTimeoutMs: 3000,
    gossipIntervalMs: 1000,
    reconnectBaseMs: 100,
    reconnectMaxMs: 5000,
  },
  local: {
    heartbeatIntervalMs: 200,
    suspectAfterMs: 600,
    heartbeatTimeoutMs: 1000,
    handshakeTimeoutMs: 2000,
    connectTimeoutMs: 1000,
    gossipIntervalMs: 500,
    reconnectBaseMs: 50,
    reconnectMaxMs: 2000,
  },
  wan: {
    heartbeatIntervalMs: 1000,
    suspectAfterMs: 5000,
    heartbeatTimeoutMs: 15000,
    handshakeTimeoutMs: 15000,
    connectTimeoutMs: 10000,
    gossipIntervalMs: 2000,
    reconnectBaseMs: 500,
    reconnectMaxMs: 30000,
  },
};

const ms = (min: number) =>
  z
    .number()
    .int()
    .min(min)
    .max(24 * 3600 * 1000);

/** A token file's text (credentials.ts): one token, or `name:token` lines; a problem names the line. */
const tokensSchema = (defaultName: string) =>
  z
    .string()
    .max(MAX_TOKENS * (MAX_TOKEN_LENGTH + 80))
    .superRefine((text, ctx) => {
      const parsed = parseTokens(text, defaultName);
      if (!parsed.ok) for (const problem of parsed.problems.slice(0, 5)) ctx.addIssue({ code: 'custom', message: problem });
      else if (parsed.tokens.length === 0) ctx.addIssue({ code: 'custom', message: 'holds no token' });
    });

/** The schema of a node's configuration (what loadConfig and createNodeConfig validate against); it fills the defaults and checks each setting's range. */
export const NodeConfigSchema = z
  .object({
    name: NodeNameSchema,
    cluster: ClusterNameSchema.default('pogo'),
    role: RoleSchema.default('member'),
    host: z.string().min(1).max(255).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(4370),
    advertise: AddressSchema.optional(),
    seeds: z.array(SeedTextSchema).max(1000).default([]),
    dnsServer: z.array(DnsServerSchema).max(16).default([]),
    dnsIntervalMs: ms(100).default(5000),
    secret: z.string().min(16, 'must be at least 16 characters (use a long random string)').max(4096),
    labels: LabelsSchema.default({}),
    tlsCertFile: z.string().min(1).optional(),
    tlsKeyFile: z.string().min(1).optional(),
    tlsCaFile: z.string().min(1).optional(),
    tlsRejectUnauthorized: z.boolean().default(true),
    preset: z.enum(['local', 'lan', 'wan']).default('lan'),
    heartbeatIntervalMs: ms(10),
    suspectAfterMs: ms(10),
    heartbeatTimeoutMs: ms(10),
    handshakeTimeoutMs: ms(10),
    connectTimeoutMs: ms(10),
    gossipIntervalMs: ms(10),
    reconnectBaseMs: ms(1),
    reconnectMaxMs: ms(1),
    downReapAfterMs: ms(1000).default(15 * 60 * 1000),
    leftReapAfterMs: ms(1000).default(5 * 60 * 1000),
    maxMessageBytes: z
      .number()
      .int()
      .min(1024)
      .max(256 * 1024 * 1024)
      .default(16 * 1024 * 1024),
    maxPendingHandshakes: z.number().int().min(1).max(100_000).default(64),
    workers: z.array(z.string().min(1).max(4096)).max(100).default([]),
    allowCommands: z.array(z.string().min(1).max(4096)).max(1000).default([]),
    childStartTimeoutMs: ms(1).default(10_000),
    children: z.string().min(1).optional(),
    dataDir: z.string().min(1).max(4096).optional(),
    capacity: z.number().positive().max(1_000_000).default(1),
    netsplit: z.enum(['available', 'majority']).default('available'),
    expectedMembers: z.number().int().min(1).max(10_000).optional(),
    maxMovesPerSecond: z.number().positive().max(1_000_000).default(100),
    maxStartFailures: z.number().int().min(1).max(1000).default(3),
    requestTimeoutMs: ms(1).default(30_000),
    antiEntropyIntervalMs: ms(100).default(30_000),
    failureResetMs: ms(100).default(60_000),
    tombstoneTtlMs: ms(1000).default(3_600_000),
    forgetAfterMs: ms(1000).default(86_400_000),
    readyTimeoutMs: ms(1).default(5_000),
    // Default (the transform below): 1 MiB, or less when maxMessageBytes leaves no room for it (callEnvelopeRoom).
    callMaxBytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .optional(),
    handoverTimeoutMs: ms(1).default(5_000),
    maxOutstandingCalls: z.number().int().min(1).max(10_000_000).default(50_000),
    operatorToken: tokensSchema('operator').optional(),
    viewerToken: tokensSchema('viewer').optional(),
    statusPort: z.number().int().min(0).max(65535).optional(),
    statusHost: z.string().min(1).max(255).default('127.0.0.1'),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    stopWithParent: z.boolean().default(false),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.suspectAfterMs <= c.heartbeatIntervalMs)
      ctx.addIssue({ code: 'custom', path: ['suspectAfterMs'], message: `must be greater than heartbeatIntervalMs (${c.heartbeatIntervalMs})` });
    if (c.heartbeatTimeoutMs <= c.suspectAfterMs)
      ctx.addIssue({ code: 'custom', path: ['heartbeatTimeoutMs'], message: `must be greater than suspectAfterMs (${c.suspectAfterMs})` });
    if (c.reconnectMaxMs < c.reconnectBaseMs)
      ctx.addIssue({ code: 'custom', path: ['reconnectMaxMs'], message: `must be at least reconnectBaseMs (${c.reconnectBaseMs})` });
    if (c.netsplit === 'majority' && c.expectedMembers === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['expectedMembers'],
        message: 'required when netsplit is majority (the number of members the cluster should have)',
      });
    // A call frame carries the message plus an envelope (ids, pid): it must fit in one frame a peer accepts.
    const room = callEnvelopeRoom(c.maxMessageBytes);
    if (c.callMaxBytes !== undefined && c.callMaxBytes + room > c.maxMessageBytes)
      ctx.addIssue({
        code: 'custom',
        path: ['callMaxBytes'],
        message: `must be at most ${c.maxMessageBytes - room}: ${room} bytes below maxMessageBytes (${c.maxMessageBytes}), room for a call frame's envelope`,
      });
    if ((c.tlsCertFile === undefined) !== (c.tlsKeyFile === undefined))
      ctx.addIssue({ code: 'custom', path: [c.tlsCertFile === undefined ? 'tlsCertFile' : 'tlsKeyFile'], message: 'tlsCertFile and tlsKeyFile go together' });
  })
  .transform((c) => ({ ...c, callMaxBytes: c.callMaxBytes ?? defaultCallMaxBytes(c.maxMessageBytes) }));

/** Bytes a frame keeps for a call's envelope beyond its message: 64 KiB, or half of a smaller frame limit. */
export function callEnvelopeRoom(maxMessageBytes: number): number {
  return Math.min(64 * 1024, Math.floor(maxMessageBytes / 2));
}

/** callMaxBytes when none is given: 1 MiB, or what a smaller frame limit leaves for a message. */
export function defaultCallMaxBytes(maxMessageBytes: number): number {
  return Math.max(1024, Math.min(1024 * 1024, maxMessageBytes - callEnvelopeRoom(maxMessageBytes)));
}

/** A node's full configuration, every setting filled in (see createNodeConfig). */
export type NodeConfig = z.infer<typeof NodeConfigSchema>;
/** A node's configuration as given: only name, secret and what differs from the defaults. */
export type NodeConfigInput = z.input<typeof NodeConfigSchema>;

type FieldType = 'string' | 'int' | 'bool' | 'list' | 'labels';

export interface ConfigField {
  key: keyof NodeConfig | 'secretFile' | 'operatorTokenFile' | 'viewerTokenFile';
  type: FieldType;
  flag: string;
  env: string;
  description: string;
}

function field(key: ConfigField['key'], type: FieldType, description: string): ConfigField {
  const kebab = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const snake = key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
  return { key, type, flag: `--${kebab}`, env: `POGO_${snake}`, description };
}

/** Every setting, in the order `--help` shows them. */
export const CONFIG_FIELDS: readonly ConfigField[] = [
  field('name', 'string', 'node name, stable and unique in the cluster (default: host name)'),
  field('cluster', 'string', 'cluster name; nodes of other clusters are refused (default: pogo)'),
  field('role', 'string', 'member (hosts children) or observer (default: member)'),
  field('host', 'string', 'interface to listen on (default: 127.0.0.1; 0.0.0.0 for all)'),
  field('port', 'int', 'port to listen on; 0 picks a free one (default: 4370)'),
  field('advertise', 'string', 'host:port that peers use to reach this node (default: host:port)'),
  field(
    'seeds',
    'list',
    'nodes to join through, comma-separated or repeated: host:port, dns:<name>:<port> (every A/AAAA record of the name, at ' +
      'that port) or dns-srv:<name> (every SRV record: target and port); DNS seeds are looked up again every --dns-interval-ms',
  ),
  field(
    'dnsServer',
    'list',
    "DNS server(s) for dns: and dns-srv: seeds, as IP or IP:port, comma-separated or repeated (default: the system's, from /etc/resolv.conf)",
  ),
  field('dnsIntervalMs', 'int', 'look DNS seeds up again this often (±20%), ms; also the longest one lookup may take (default: 5000)'),
  field('secretFile', 'string', 'file holding the shared cluster secret (at least 16 characters)'),
  field('secret', 'string', 'the cluster secret itself (prefer --secret-file or POGO_SECRET)'),
  field('labels', 'labels', 'labels as key=value, comma-separated or repeated (e.g. region=eu)'),
  field('tlsCertFile', 'string', 'PEM certificate: serve https/wss and dial peers over TLS'),
  field('tlsKeyFile', 'string', 'PEM private key for --tls-cert-file'),
  field(
    'tlsCaFile',
    'string',
    "PEM CA bundle to pin: peers' certificates must chain to it; with --tls-cert-file, dialling peers must present one too (mutual TLS)",
  ),
  field('tlsRejectUnauthorized', 'bool', 'verify peer certificates (default: true; false is insecure, for tests only)'),
  field('preset', 'string', 'timing preset: local, lan or wan (default: lan)'),
  field('heartbeatIntervalMs', 'int', 'ping interval per link, ms (lan: 1000); a link to a node with a shorter one pings at that'),
  field('suspectAfterMs', 'int', 'silence before a peer is suspect, ms (lan: 2000); a link to a node with a longer one waits that long'),
  field('heartbeatTimeoutMs', 'int', 'silence before a peer is declared down, ms (lan: 3000); a link to a node with a longer one waits that long'),
  field('handshakeTimeoutMs', 'int', 'longest link handshake, ms (lan: 5000)'),
  field('connectTimeoutMs', 'int', 'longest dial, ms (lan: 3000)'),
  field('gossipIntervalMs', 'int', 'anti-entropy gossip interval, ms (lan: 1000)'),
  field('reconnectBaseMs', 'int', 'first redial delay, doubling per failure, ms (lan: 100)'),
  field('reconnectMaxMs', 'int', 'longest redial delay, ms (lan: 5000)'),
  field('downReapAfterMs', 'int', 'forget a member down this long, ms (default: 900000)'),
  field('leftReapAfterMs', 'int', 'forget a member that left after this long, ms (default: 300000)'),
  field('maxMessageBytes', 'int', 'largest frame accepted from a peer, bytes (default: 16 MiB)'),
  field('maxPendingHandshakes', 'int', 'incoming connections allowed in their handshake at once; one more drops the oldest (default: 64)'),
  field('workers', 'list', 'modules that define worker types (defineWorker), comma-separated or repeated; "examples" loads the built-in examples'),
  field('allowCommands', 'list', 'commands OS-process children may run, matched exactly (default: none)'),
  field('childStartTimeoutMs', 'int', 'longest a child may take to start, ms (default: 10000)'),
  field(
    'children',
    'string',
    'JSON file with an array of child specs to run in the cluster: each one the cluster does not hold is started when the node is ready; ' +
      'one stopped (pogo ctl stop) stays stopped while the cluster remembers the stop (--tombstone-ttl-ms)',
  ),
  field(
    'dataDir',
    'string',
    'directory (one per node, created with mode 0700) where a member keeps the desired state ' +
      '— specs, pins, drains — across restarts of the whole cluster (default: memory only)',
  ),
  field('capacity', 'int', 'placement weight of this node relative to others (default: 1)'),
  field('netsplit', 'string', 'available (each side of a split runs what it cannot see) or majority (default: available)'),
  field('expectedMembers', 'int', 'members the cluster should have (majority mode needs more than half of them up)'),
  field('maxMovesPerSecond', 'int', 'rebalancing moves this node makes per second at most (default: 100)'),
  field('maxStartFailures', 'int', 'failed starts on one node before the next node takes over (default: 3)'),
  field('requestTimeoutMs', 'int', 'how long startChild and friends wait for the cluster, ms (default: 30000)'),
  field('antiEntropyIntervalMs', 'int', 'full reconcile pass as a safety net, ms (default: 30000)'),
  field('failureResetMs', 'int', 'forget failed starts after this long, ms (default: 60000)'),
  field('tombstoneTtlMs', 'int', "keep a terminated child's tombstone at least this long, and until every member holds it, ms (default: 3600000)"),
  field(
    'forgetAfterMs',
    'int',
    'forget a member away this long (tombstones stop waiting for it; it discards older state if it comes back), ms (default: 86400000)',
  ),
  field('readyTimeoutMs', 'int', 'take children after this long even if some known member is unreachable, ms (default: 5000)'),
  field(
    'callMaxBytes',
    'int',
    'largest message, reply or handover state of a call to a child, bytes of JSON (default: 1 MiB, less if ' +
      'maxMessageBytes leaves no room; at most maxMessageBytes minus 64 KiB, or minus half of a limit under 128 KiB)',
  ),
  field(
    'handoverTimeoutMs',
    'int',
    "longest a moving worker's running message handlers may take to finish, then its onHandover, before it starts fresh elsewhere, ms (default: 5000)",
  ),
  field('maxOutstandingCalls', 'int', 'most calls and casts made on this node outstanding at once; one more is refused overloaded, not sent (default: 50000)'),
  field(
    'operatorTokenFile',
    'string',
    'file with the operator token, or several as name:token lines (the audit log names who ' +
      'acted by them): commands presenting one may change the cluster (default: commands off)',
  ),
  field('viewerTokenFile', 'string', 'file with the read-only viewer token, or several as name:token lines'),
  field('operatorToken', 'string', 'the operator token itself (prefer --operator-token-file)'),
  field('viewerToken', 'string', 'the viewer token itself (prefer --viewer-token-file)'),
  field('statusPort', 'int', 'serve GET /status (JSON), /children, /metrics (Prometheus) and /healthz over HTTP on this port; 0 picks one (default: off)'),
  field('statusHost', 'string', 'interface for the status endpoint (default: 127.0.0.1)'),
  field('logLevel', 'string', 'trace, debug, info, warn, error or silent (default: info)'),
  field(
    'stopWithParent',
    'bool',
    'stop gracefully, as on SIGTERM, once the process that started this one is gone: for nodes a launcher owns, such as those of pogo demo (default: false)',
  ),
];

/**
 * The timing settings: the preset and every value a preset sets, in `--help`
 * order. `pogo observe` takes these of all the settings (an observer's
 * failure detection is its own, as any node's).
 */
export const TIMING_FIELDS: readonly ConfigField[] = CONFIG_FIELDS.filter((f) => f.key === 'preset' || f.key in TIMING_PRESETS.lan);

/** A config that cannot be used: the message names each bad setting and where it came from. */
export class ConfigError extends Error {
  constructor(
    /** Each bad setting, one line each, naming the setting and where it came from (flag, environment variable or file). */
    readonly problems: string[],
  ) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Raw = Record<string, unknown>;

function convert(f: ConfigField, value: unknown, source: string, problems: string[]): unknown {
  if (typeof value !== 'string' && !Array.isArray(value)) return value;
  const text = Array.isArray(value) ? value.map(String) : [value];
  switch (f.type) {
    case 'string':
      return text[text.length - 1];
    case 'int': {
      const last = text[text.length - 1]!.trim();
      const n = Number(last);
      if (last === '' || !Number.isFinite(n)) problems.push(`${f.key} (from ${source}): ${JSON.stringify(last)} is not a number`);
      return n;
    }
    case 'bool': {
      const last = text[text.length - 1]!.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(last)) return true;
      if (['false', '0', 'no', 'off'].includes(last)) return false;
      problems.push(`${f.key} (from ${source}): ${JSON.stringify(last)} is not true or false`);
      return last;
    }
    case 'list':
      return text
        .flatMap((t) => t.split(','))
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    case 'labels': {
      const labels: Record<string, string> = {};
      for (const pair of text
        .flatMap((t) => t.split(','))
        .map((s) => s.trim())
        .filter(Boolean)) {
        const eq = pair.indexOf('=');
        if (eq <= 0) {
          problems.push(`${f.key} (from ${source}): ${JSON.stringify(pair)} is not key=value`);
          continue;
        }
        labels[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      return labels;
    }
  }
}

/** Where loadConfig reads settings from: command-line flags, the environment, a JSON file. */
export interface ConfigSources {
  /** Values from command-line flags, keyed by config key (strings as typed, or already typed). */
  flags?: Record<string, unknown>;
  /** Usually `process.env`. */
  env?: Record<string, string | undefined>;
  /** Path of a JSON config file. */
  file?: string;
  /** Used when no name is configured. */
  defaultName?: string;
  /** Filled with warnings that do not stop start-up: a secret, token or key file other users can read. Log them. */
  warnings?: string[];
  /** A command whose flag for a setting is not the node's (`pogo ctl --seed` for `seeds`): how its errors name it. */
  flagNames?: Record<string, string>;
}

/** The settings that name a file or a directory: in a config file, relative to the file's own directory. */
const PATH_SETTINGS = [
  'dataDir',
  'secretFile',
  'operatorTokenFile',
  'viewerTokenFile',
  'tlsCertFile',
  'tlsKeyFile',
  'tlsCaFile',
  'children',
  'workers',
] as const satisfies ReadonlyArray<ConfigField['key']>;

/**
 * A config file's setting `key`, converted, with a relative path made
 * absolute against `dir`, the file's directory: a file in /etc/pogo naming
 * `"dataDir": "data"` means /etc/pogo/data whatever directory the service
 * starts in (systemd starts it in /). Flags and variables stay relative to
 * the working directory, as a shell user expects. `workers` entries other
 * than paths (`examples`) stay.
 */
function fromFileDir(key: string, value: unknown, dir: string): unknown {
  if (!(PATH_SETTINGS as readonly string[]).includes(key)) return value;
  const abs = (v: unknown): unknown => (typeof v === 'string' && v !== '' && !isAbsolute(v) ? resolve(dir, v) : v);
  if (key === 'workers' && Array.isArray(value)) return value.map((w) => (w === 'examples' ? w : abs(w)));
  return abs(value);
}

/**
 * Merges the sources, reads the secret and token files, validates, and
 * checks the TLS files (readable, PEM, the key matching the certificate:
 * tls-files.ts). Throws ConfigError naming every bad field.
 */
export function loadConfig(sources: ConfigSources): NodeConfig {
  const problems: string[] = [];
  const merged: Raw = {};
  const origin: Record<string, string> = {};
  /**
   * Keys whose value did not convert, with the problem: reported once, for the source that wins (a flag overrides
   * POGO_PORT, so an invalid POGO_PORT under --port is no problem: the tour found it stopped the start), and the
   * schema's complaint about the same value is not said again.
   */
  const unconverted = new Map<string, string[]>();
  const apply = (values: Raw, sourceOf: (f: ConfigField) => string, fileDir?: string): void => {
    for (const f of CONFIG_FIELDS) {
      if (values[f.key] === undefined) continue;
      const source = sourceOf(f);
      const found: string[] = [];
      const value = convert(f, values[f.key], source, found);
      merged[f.key] = fileDir === undefined ? value : fromFileDir(f.key, value, fileDir);
      origin[f.key] = source;
      if (found.length > 0) unconverted.set(f.key, found);
      else unconverted.delete(f.key);
    }
  };

  if (sources.file !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(sources.file, 'utf8'));
    } catch (err) {
      throw new ConfigError([`config file ${sources.file}: ${(err as Error).message}`]);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError([`config file ${sources.file}: must hold a JSON object`]);
    const known = new Set<string>(CONFIG_FIELDS.map((f) => f.key));
    for (const key of Object.keys(parsed)) if (!known.has(key)) problems.push(`${key} (from ${sources.file}): unknown setting`);
    apply(parsed as Raw, () => sources.file!, dirname(resolve(sources.file)));
  }
  const env = sources.env ?? {};
  const fromEnv: Raw = {};
  for (const f of CONFIG_FIELDS) if (env[f.env] !== undefined && env[f.env] !== '') fromEnv[f.key] = env[f.env];
  apply(fromEnv, (f) => f.env);
  apply(sources.flags ?? {}, (f) => sources.flagNames?.[f.key] ?? f.flag);
  for (const found of unconverted.values()) problems.push(...found);

  const secretFile = merged['secretFile'] as string | undefined;
  delete merged['secretFile'];
  if (secretFile !== undefined) {
    if (merged['secret'] !== undefined)
      problems.push(`secret: give either a secret or a secret file, not both (${origin['secret']} and ${origin['secretFile']})`);
    try {
      merged['secret'] = readFileSync(secretFile, 'utf8').trim();
      origin['secret'] = `${origin['secretFile']} ${secretFile}`;
    } catch (err) {
      problems.push(`secretFile (from ${origin['secretFile']}): cannot read ${secretFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const operatorTokenFile = merged['operatorTokenFile'];
  const viewerTokenFile = merged['viewerTokenFile'];
  for (const [fileKey, key] of [
    ['operatorTokenFile', 'operatorToken'],
    ['viewerTokenFile', 'viewerToken'],
  ] as const) {
    const file = merged[fileKey] as string | undefined;
    delete merged[fileKey];
    if (file === undefined) continue;
    try {
      merged[key] = readFileSync(file, 'utf8').trim();
      origin[key] = `${origin[fileKey]} ${file}`;
    } catch (err) {
      problems.push(`${fileKey} (from ${origin[fileKey]}): cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (sources.warnings) {
    const files: Array<[string, unknown]> = [
      ['secret file', secretFile],
      ['operator token file', operatorTokenFile],
      ['viewer token file', viewerTokenFile],
      ['TLS key file', merged['tlsKeyFile']],
    ];
    for (const [what, file] of files) {
      const warning = typeof file === 'string' ? secretFileWarning(file, what) : undefined;
      if (warning) sources.warnings.push(warning);
    }
  }
  if (merged['name'] === undefined) merged['name'] = sources.defaultName ?? defaultNodeName();
  const preset = TIMING_PRESETS[(merged['preset'] as 'local' | 'lan' | 'wan' | undefined) ?? 'lan'] ?? TIMING_PRESETS.lan;
  for (const [key, value] of Object.entries(preset)) if (merged[key] === undefined) merged[key] = value;

  const result = NodeConfigSchema.safeParse(merged);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = String(issue.path[0] ?? '(config)');
      if (unconverted.has(key)) continue;
      const where = origin[key] ? ` (from ${origin[key]})` : merged[key] === undefined ? ' (required)' : '';
      const message = key === 'secret' && merged['secret'] === undefined ? 'required: give --secret-file, POGO_SECRET_FILE or POGO_SECRET' : issue.message;
      problems.push(`${issue.path.join('.') || key}${where}: ${message}`);
    }
  } else if (problems.length === 0) {
    // The TLS files, read and checked now (tls-files.ts): a bad one is a configuration error naming
    // its setting, not a stack trace when the node listens or a ctl handshake that never completes.
    problems.push(...tlsFileProblems(result.data, (key) => origin[key]));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return result.data!;
}

/** A warning when a secret, token or key file can be read (or written) by other users — group or world bits set — or undefined. */
export function secretFileWarning(path: string, what = 'secret file'): string | undefined {
  try {
    const mode = statSync(path).mode;
    if ((mode & 0o077) !== 0) return `${what} ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}`;
  } catch {
    return undefined;
  }
  return undefined;
}

export function defaultNodeName(): string {
  const cleaned = hostname()
    .replace(/[^A-Za-z0-9._@-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '');
  return (cleaned || 'node').slice(0, 128);
}

/** The TLS files a config names, read (undefined: no TLS). Throws the read error of a file that cannot be read. */
export function readTls(
  config: Pick<NodeConfig, 'tlsCertFile' | 'tlsKeyFile' | 'tlsCaFile' | 'tlsRejectUnauthorized'>,
): { cert?: string; key?: string; ca?: string; rejectUnauthorized: boolean } | undefined {
  if (!config.tlsCertFile && !config.tlsCaFile) return undefined;
  return {
    ...(config.tlsCertFile ? { cert: readFileSync(config.tlsCertFile, 'utf8') } : {}),
    ...(config.tlsKeyFile ? { key: readFileSync(config.tlsKeyFile, 'utf8') } : {}),
    ...(config.tlsCaFile ? { ca: readFileSync(config.tlsCaFile, 'utf8') } : {}),
    rejectUnauthorized: config.tlsRejectUnauthorized,
  };
}
