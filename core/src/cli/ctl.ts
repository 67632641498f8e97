/**
 * `pogo ctl`: operate a cluster from a terminal or a script.
 *
 * It is a client, not a node (client-session.ts): it opens one
 * authenticated link to one member — the first `--seed` that answers, in
 * the order given — and asks it. It joins nothing, so it leaves no trace in
 * `/status`, `pogo status`, `explain` candidates or the observers' events,
 * and it costs the cluster one link for the length of the call. The member
 * it linked to executes every command and records it in its audit log:
 * `--seed` decides who executes (a command about one child's instance —
 * `restart`, `logs` — is passed on by that member to the node running it).
 *
 * Reads (`status`, `ls`, `explain`) are answered from the member's view and
 * need no token, as any linked node can read the cluster; a token given
 * (`--token-file` or POGO_TOKEN) is checked anyway, first (`whoami`), so a
 * wrong one fails — exit 4 — instead of going unnoticed. `audit` and `logs`
 * need a viewer or operator token, changes the operator token; a change
 * asked for without any token fails here, before anything is sent.
 *
 * The words after the command are the op's fields in the order CTL_FIELDS
 * gives (`move <id> <node>`), checked with the op's schema
 * (observer/ui-protocol.ts) before anything is sent: a bad one is a usage
 * error naming the field.
 *
 * `start <file>` (or `-` for stdin) takes one spec, a JSON array of
 * specs, or one spec per line (JSON lines: spec-input.ts), all checked
 * before any is sent (a bad one, two with one id, or one over the members'
 * 1 MiB command limit is a usage error naming its index, or its line). They go to the
 * member in `submit` batches of up to SUBMIT_BATCH_SPECS specs, up to
 * SUBMIT_BATCHES_IN_FLIGHT batches at once on the one link. Measured (1,000
 * specs, a 3-node cluster on the loaded 2-core test machine, load average
 * 6-8): one spec per command, 64 in flight, took 2.9-4.3 s, bound by the
 * members' work per command (a store write, its delta to every peer, their
 * acknowledgements, a reply frame each); in batches (one write and one
 * delta per peer for all of a batch's specs) 1.0-2.0 s, best at 250 specs
 * a batch, 4 in flight (100 x 4: 1.3-1.7 s, 100 x 10: 2.0 s, 500 x 2: 1.5
 * s, 1,000 x 1: 1.3 s). Each spec comes back
 * accepted — the cluster holds it — with its state (running where, failing
 * with the first error, finished, pending) or refused with why; each is
 * audited on its own. Exit 0 when every spec was accepted, 1 when any was
 * refused.
 *
 * `logs <id>` prints a command child's captured output (the newest 500
 * lines its node holds: a member answers at most 500 a call); lines from its stderr start with
 * `stderr| `, so one stream keeps their order. With `--follow` it keeps
 * asking for new lines (every FOLLOW_POLL_MS, after the last one printed:
 * `follow`), says so on stderr when the child moves to another node or gets
 * a new process, and ends on Ctrl-C or SIGTERM with exit 0 (or when the
 * child is stopped for good).
 *
 * `move <id> <node>` pins the child and waits for it to run there; when
 * it does not within `--timeout` (the node frozen or down), ctl asks where
 * it stands and says so: pinned, still running where, exit 1 — the move
 * stands, a retry is harmless (moveChild).
 *
 * `call <id> <json>` sends the JSON message (`-`: read from stdin) to the
 * child wherever it runs (operator token, audited) and prints its reply;
 * the call may take `--timeout` in all. Its typed errors (not-found, not-running, no-handler,
 * handler-error, timeout, too-large) exit 1 — a call's `timeout` is the
 * child's, not the cluster's being unreachable. `whereis <id>` prints the
 * node and pid of the child's instance, or says none runs (exit 1).
 *
 * Exit codes scripts can trust (`--json` prints `{ ok: false, error: {
 * code, message } }` on stdout for every one but 0):
 *   0 done
 *   1 the command failed (the member's typed error)
 *   2 bad usage or configuration (a wrong --cluster name included)
 *   3 no member could be reached, the link was lost, or the member did
 *     not answer within `--timeout` (ctl's own deadline, code `timeout`:
 *     the same unknown outcome as a lost link). A change (or a call) sent
 *     before the link was lost or the deadline passed may or may not have been
 *     executed: the message says so (CommandClient), and a script should
 *     check (`ls`, `explain`, `audit`) before it retries; one never sent
 *     says that it was not sent.
 *   4 a credential was refused: the token (or none given for a change), or
 *     the cluster secret (`auth-failed`: retrying will not help, so it is
 *     not reported as unreachable)
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { ClientSession, SessionError } from '../client-session.js';
import { SystemClock } from '../clock.js';
import { ConfigError, loadConfig, readTls, type NodeConfig } from '../config.js';
import { clientToken } from '../credentials.js';
import { splitSeeds } from '../discovery/seed-spec.js';
import type { Logger } from '../logger.js';
import {
  commandFailure,
  encodeWireArgs,
  formatBytes,
  GATEWAY_MAX_FRAME_BYTES,
  jsonBytes,
  MAX_CALL_COMMAND_TIMEOUT_MS,
  MAX_COMMAND_ARGS_BYTES,
  parseCommandArgs,
  tooLargeMessage,
  type AuditEntry,
  type ChildReport,
  type CommandArgs,
  type CommandArgsInput,
  type CommandFailure,
  type ExplanationReport,
  type MemberResults,
  type Submitted,
} from '../observer/ui-protocol.js';
import type { ChildCountsGlobal } from '../distributed/view.js';
import { isJsonValue, type CommandOp, type SaveFailing, type WaitsFor } from '../protocol.js';
import { unreachedAdvice, unreachedWaitedFor, waitedForParts } from '../distributed/wait-words.js';
import { CryptoRandom } from '../random.js';
import type { OutputLine } from '../supervisor/log-ring.js';
import { SocketIoTransport } from '../transport/socketio.js';
import { parseSpecInput } from './spec-input.js';
import { table } from './table.js';
import { printable, printableLines } from '../util/printable.js';
import { isLinked } from '../membership.js';
import { netsplitWarnings, type NetsplitSettings } from '../distributed/netsplit-settings.js';

export interface CtlOptions {
  seed: string[];
  /** DNS servers for dns: and dns-srv: seeds (IP or IP:port). */
  dnsServer?: string[];
  secretFile?: string;
  tokenFile?: string;
  cluster?: string;
  /** TLS files, as pogo node's --tls-* (or POGO_TLS_*). */
  tlsCaFile?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  json?: boolean;
  timeout?: string;
  by?: string;
  follow?: boolean;
  /** `stop`: a child the cluster does not hold is no failure. */
  ignoreNotFound?: boolean;
}

export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, unauthorized: 4 } as const;

/** Each command's words, named. */
export const CTL_FIELDS = {
  status: [],
  ls: [],
  explain: ['id'],
  audit: [],
  logs: ['id'],
  start: ['file'],
  stop: ['id'],
  restart: ['id'],
  move: ['id', 'node'],
  unpin: ['id'],
  drain: ['node'],
  undrain: ['node'],
  pause: [],
  resume: [],
  forget: ['node'],
  call: ['id', 'message'],
  whereis: ['id'],
} as const satisfies Record<string, readonly string[]>;
type CtlCommand = keyof typeof CTL_FIELDS;

/** Commands that change the cluster: they need the operator token. */
const CHANGES: ReadonlySet<CtlCommand> = new Set(['start', 'stop', 'restart', 'move', 'unpin', 'drain', 'undrain', 'pause', 'resume', 'forget', 'call']);

/** Specs per `submit` command, and their JSON at most (a batch is one frame). */
export const SUBMIT_BATCH_SPECS = 250;
const SUBMIT_BATCH_BYTES = 512 * 1024;
/** `submit` commands in flight at once on the link (see the header). */
export const SUBMIT_BATCHES_IN_FLIGHT = 4;
/** How often `logs --follow` asks for new lines, ms. */
export const FOLLOW_POLL_MS = 500;

type Spec = CommandArgs<'start'>['spec'];

/** A failure with its exit code and, for --json, its code. */
export class CtlFailure extends Error {
  constructor(
    readonly exit: number,
    readonly code: string,
    message: string,
    /** Printed with the error under --json (per-spec outcomes of a start). */
    readonly result?: unknown,
  ) {
    super(message);
  }
}

/** The exit code of a member's typed error. */
function exitOf(code: string): number {
  if (code === 'unauthorized' || code === 'forbidden' || code === 'commands-disabled') return EXIT.unauthorized;
  if (code === 'unreachable' || code === 'timeout') return EXIT.unreachable;
  return EXIT.failed;
}

/** What a command was asked to do, checked (everything that needs no cluster). */
interface Plan {
  command: CtlCommand;
  /** The op's checked fields (direct ops and explain, logs). */
  args: Record<string, unknown>;
  token: string;
  by: string;
  timeoutMs: number;
  /** `logs --follow`. */
  follow: boolean;
  /** `stop --ignore-not-found`. */
  ignoreNotFound: boolean;
  config: NodeConfig;
  /** `start`: the specs, checked, and whether the input held one spec (not an array). */
  specs?: { list: Spec[]; single: boolean };
}

interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** The whole of stdin (for `start -` and `call <id> -`). */
  stdin(): Promise<string>;
  /** Calls `stop` on Ctrl-C or SIGTERM (for `logs --follow`); returns the unsubscribe. */
  onStop(stop: () => void): () => void;
}

const processIo: Io = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  stdin: async () => {
    let text = '';
    process.stdin.setEncoding('utf8');
    for await (const chunk of process.stdin) text += chunk as string;
    return text;
  },
  onStop: (stop) => {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    };
  },
};

/** A logger that drops everything (pino is not loaded for a call this short). */
const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };

export async function runCtl(command: string, args: string[], opts: CtlOptions, io: Io = processIo): Promise<number> {
  const json = opts.json === true;
  const succeed = (human: string, result: unknown): number => {
    // Human text names ids and values others wrote: shown without their control characters (util/printable.ts).
    io.stdout(json ? `${JSON.stringify({ ok: true, result: result ?? null })}\n` : printableLines(human));
    return EXIT.ok;
  };
  let session: ClientSession | undefined;
  try {
    const plan = await prepare(command, args, opts, io);
    session = await connect(plan);
    return await execute(plan, session, io, json, succeed);
  } catch (err) {
    const failure = err instanceof CtlFailure ? err : new CtlFailure(EXIT.failed, 'failed', (err as Error).message ?? String(err));
    if (json) {
      const error = { code: failure.code, message: failure.message };
      io.stdout(`${JSON.stringify({ ok: false, error, ...(failure.result !== undefined ? { result: failure.result } : {}) })}\n`);
    }
    io.stderr(`pogo ctl: ${printableLines(failure.message)}\n`);
    return failure.exit;
  } finally {
    await session?.close().catch(() => undefined);
  }
}

/** Usage, files and configuration: everything checked before the cluster is asked. Throws CtlFailure. */
async function prepare(command: string, words: string[], opts: CtlOptions, io: Io): Promise<Plan> {
  if (!Object.hasOwn(CTL_FIELDS, command)) throw usage(`unknown command ${JSON.stringify(command)}; try pogo ctl --help`);
  const cmd = command as CtlCommand;
  const fields: readonly string[] = CTL_FIELDS[cmd];
  if (words.length !== fields.length)
    throw usage(`${cmd} takes ${fields.length} argument(s)${fields.length > 0 ? ` (${fields.join(', ')})` : ''}, got ${words.length}`);
  if (opts.follow && cmd !== 'logs') throw usage('--follow goes with logs only');
  if (opts.ignoreNotFound && cmd !== 'stop') throw usage('--ignore-not-found goes with stop only');
  const timeoutMs = opts.timeout === undefined ? 15_000 : Number(opts.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 3_600_000)
    throw usage(`--timeout must be a whole number of ms from 1 to 3600000, got ${JSON.stringify(opts.timeout)}`);
  if (opts.seed.length === 0) throw usage('give --seed host:port of a cluster member (repeat it for more; the first that answers executes)');

  // Checked here, at the command line, with the op's own schema: a bad argument never reaches the cluster.
  let args: Record<string, unknown> = {};
  let specs: Plan['specs'];
  if (cmd === 'start') {
    const input = await readSpecs(words[0]!, io);
    specs = checkSpecs(input.value, maxFrameBytes(), input.lines);
  } else if (cmd !== 'status' && cmd !== 'ls' && cmd !== 'audit') {
    const op = cmd === 'logs' ? 'logs' : cmd;
    const named: Record<string, unknown> = Object.fromEntries(fields.map((f, i) => [f, words[i]]));
    if (cmd === 'call') {
      named['message'] = await readMessage(words[1]!, io);
      named['timeoutMs'] = Math.min(timeoutMs, MAX_CALL_COMMAND_TIMEOUT_MS);
    }
    const checked = parseCommandArgs(op, named);
    if (!checked.ok) throw usage(checked.message);
    args = checked.value;
  }

  let token = process.env['POGO_TOKEN'] ?? '';
  if (opts.tokenFile) {
    let text: string;
    try {
      text = readFileSync(opts.tokenFile, 'utf8');
    } catch (err) {
      throw usage(`cannot read --token-file ${opts.tokenFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    // One entry, bare or name:token, as the members' token files hold them: the whole text was sent, so a
    // one-line "alice:…" file, as docs/operations.md shows, was refused as an unknown token.
    const parsed = clientToken(text);
    if (!parsed.ok) throw usage(`--token-file ${opts.tokenFile}: ${parsed.problem}`);
    token = parsed.token;
  }
  if (CHANGES.has(cmd) && token === '')
    throw new CtlFailure(EXIT.unauthorized, 'unauthorized', 'no token given: pass --token-file or POGO_TOKEN (changes need the operator token)');
  if ((cmd === 'audit' || cmd === 'logs') && token === '')
    throw new CtlFailure(EXIT.unauthorized, 'unauthorized', `no token given: pass --token-file or POGO_TOKEN (${cmd} needs a viewer or operator token)`);

  let config: NodeConfig;
  try {
    const name = `ctl-${hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '')}-${process.pid}`.slice(0, 128);
    config = loadConfig({
      flags: {
        name,
        role: 'observer',
        port: '0',
        seeds: opts.seed,
        logLevel: 'silent',
        ...(opts.dnsServer ? { dnsServer: opts.dnsServer } : {}),
        ...(opts.secretFile ? { secretFile: opts.secretFile } : {}),
        ...(opts.cluster ? { cluster: opts.cluster } : {}),
        ...(opts.tlsCaFile ? { tlsCaFile: opts.tlsCaFile } : {}),
        ...(opts.tlsCertFile ? { tlsCertFile: opts.tlsCertFile } : {}),
        ...(opts.tlsKeyFile ? { tlsKeyFile: opts.tlsKeyFile } : {}),
      },
      env: process.env,
      flagNames: { seeds: '--seed' },
    });
  } catch (err) {
    throw usage(err instanceof ConfigError ? err.message : (err as Error).message);
  }
  return {
    command: cmd,
    args,
    token,
    by: opts.by ?? process.env['USER'] ?? 'ctl',
    timeoutMs,
    follow: opts.follow === true,
    ignoreNotFound: opts.ignoreNotFound === true,
    config,
    ...(specs ? { specs } : {}),
  };
}

/** A bad command line: exit 2. */
function usage(message: string): CtlFailure {
  return new CtlFailure(EXIT.usage, 'usage', message);
}

/**
 * `call`'s message: the JSON argument, or stdin for `-` (a message larger
 * than one command-line argument may be, 128 KiB on Linux, up to the call
 * limit). Plain JSON only: a number JSON.parse makes Infinity (`1e400`) is
 * named as such, not as a bad command.
 */
async function readMessage(word: string, io: Io): Promise<unknown> {
  let text = word;
  if (word === '-') {
    try {
      text = await io.stdin();
    } catch (err) {
      throw usage(`call: cannot read the message from stdin: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  let message: unknown;
  try {
    message = JSON.parse(text) as unknown;
  } catch (err) {
    throw usage(`call: message${word === '-' ? ' (stdin)' : ''}: must be JSON (${(err as Error).message})`);
  }
  if (!isJsonValue(message)) throw usage('call: message: must be plain JSON (a number out of range, such as 1e400, is not; nor is nesting deeper than 128)');
  // Race "a message no frame carries": one over the member's frame limit ended the link unanswered, and ctl said exit 3,
  // "the message may or may not have been handled" (the calls tour, 20 MB on stdin). Above what any member takes for a
  // call (its --call-max-bytes, at most the frame limit) it is refused here; one between is the member's `too-large`.
  const bytes = jsonBytes(message);
  if (bytes > CALL_MESSAGE_NOT_SENT_BYTES)
    throw new CtlFailure(
      EXIT.failed,
      'too-large',
      `call: the message is ${formatBytes(bytes)} as JSON; not sent: a call's message may be at most the member's --call-max-bytes ` +
        `(1 MiB by default), and ctl sends none above ${formatBytes(CALL_MESSAGE_NOT_SENT_BYTES)}`,
    );
  return message;
}

/** The largest call message ctl sends (a member's own limit, --call-max-bytes, is smaller by default): the gateway's frame bound. */
const CALL_MESSAGE_NOT_SENT_BYTES = GATEWAY_MAX_FRAME_BYTES;

/** The specs in `start`'s file (or stdin for `-`): JSON or JSON lines (spec-input.ts). */
async function readSpecs(file: string, io: Io): Promise<{ value: unknown; lines?: readonly number[] | undefined }> {
  let text: string;
  try {
    text = file === '-' ? await io.stdin() : readFileSync(file, 'utf8');
  } catch (err) {
    throw usage(`cannot read ${file === '-' ? 'stdin' : `the spec file ${file}`}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const input = parseSpecInput(text, file === '-' ? 'stdin' : file);
  if (!input.ok) throw usage(input.message);
  return input;
}

/** The longest a `submit` waits for its specs' first outcomes, ms. */
const SUBMIT_WAIT_MAX_MS = 10_000;

/** A `submit` of no spec as its arguments travel (`[[],10000]`, the longest wait): one spec inside adds exactly its own bytes. */
const SUBMIT_ARGS_BYTES = jsonBytes(encodeWireArgs('submit', { specs: [], waitMs: SUBMIT_WAIT_MAX_MS }));

/** The largest frame this ctl's configuration allows (POGO_MAX_MESSAGE_BYTES; the members' own limit is usually the same). */
function maxFrameBytes(): number {
  const configured = Number(process.env['POGO_MAX_MESSAGE_BYTES']);
  return Number.isInteger(configured) && configured > 0 ? configured : 16 * 1024 * 1024;
}

/**
 * One spec or an array of specs, each checked as a member would (named by its index, or by its line when read
 * as JSON lines), ids unique, each small enough for a member to take (MAX_COMMAND_ARGS_BYTES) and for a frame.
 */
function checkSpecs(raw: unknown, frameBytes: number, lines?: readonly number[]): NonNullable<Plan['specs']> {
  const single = !Array.isArray(raw);
  const inputs = single ? [raw] : (raw as unknown[]);
  if (inputs.length === 0) throw new CtlFailure(EXIT.usage, 'usage', 'start: the array holds no spec');
  const problems: string[] = [];
  const list: Spec[] = [];
  const seen = new Map<string, number>();
  const name = (i: number) => (lines === undefined ? `[${i}]` : `line ${lines[i]}`);
  inputs.forEach((input, i) => {
    const at = single ? '' : `${name(i)} `;
    const checked = parseCommandArgs('start', { spec: input });
    if (!checked.ok) {
      problems.push(`${at}${checked.message.replace(/^start: /, '')}`);
      return;
    }
    const spec = checked.value.spec;
    const bytes = jsonBytes(spec);
    // The members refuse a command whose arguments pass MAX_COMMAND_ARGS_BYTES (commands.ts): a spec sent alone, in
    // its submit's arguments as they travel, must fit — else it is refused here, before anything is sent.
    if (bytes + SUBMIT_ARGS_BYTES > MAX_COMMAND_ARGS_BYTES) problems.push(`${at}spec ${JSON.stringify(spec.id)}: ${tooLargeMessage('start', bytes)}`);
    else if (bytes > frameBytes - 64 * 1024)
      problems.push(`${at}spec ${JSON.stringify(spec.id)} is ${bytes} bytes; a frame holds at most ${frameBytes} (--max-message-bytes of the members)`);
    const first = seen.get(spec.id);
    if (first !== undefined) problems.push(`${at}duplicate id ${JSON.stringify(spec.id)} (also ${name(first)})`);
    else seen.set(spec.id, i);
    list.push(spec);
  });
  if (problems.length > 0)
    throw new CtlFailure(
      EXIT.usage,
      'usage',
      `start: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}; nothing was sent`,
    );
  return { list, single };
}

/** The seeds as addresses to dial: DNS seeds looked up once (discovery/dns-lookup.ts, loaded only when there are some). */
async function seedAddresses(c: NodeConfig, timeoutMs: number): Promise<string[]> {
  if (splitSeeds(c.seeds).dns.length === 0) return c.seeds;
  const { createDnsQueries, expandSeeds } = await import('../discovery/dns-lookup.js');
  const { addresses, problems } = await expandSeeds(c.seeds, createDnsQueries(c.dnsServer, Math.max(1, Math.min(2000, timeoutMs / 3))));
  if (addresses.length === 0) throw new CtlFailure(EXIT.unreachable, 'unreachable', `no member could be reached: ${problems.join('; ')}`);
  return addresses;
}

/** Opens the session: the first seed that answers (client-session.ts). */
async function connect(plan: Plan): Promise<ClientSession> {
  const c = plan.config;
  let tls;
  try {
    tls = readTls(c);
  } catch (err) {
    throw new CtlFailure(EXIT.usage, 'usage', `cannot read a TLS file: ${(err as Error).message}`);
  }
  const within = (ms: number): number => Math.max(1, Math.min(ms, plan.timeoutMs));
  const clock = new SystemClock();
  const seeds = await seedAddresses(c, plan.timeoutMs);
  try {
    return await ClientSession.open({
      name: c.name,
      cluster: c.cluster,
      secret: c.secret,
      seeds,
      timing: {
        heartbeatIntervalMs: c.heartbeatIntervalMs,
        suspectAfterMs: c.suspectAfterMs,
        heartbeatTimeoutMs: c.heartbeatTimeoutMs,
        handshakeTimeoutMs: within(c.handshakeTimeoutMs),
      },
      transport: new SocketIoTransport({
        host: c.host,
        port: 0,
        maxMessageBytes: c.maxMessageBytes,
        connectTimeoutMs: within(c.connectTimeoutMs),
        ...(tls ? { tls } : {}),
        dialer: 'pogo ctl',
      }),
      clock,
      random: new CryptoRandom(),
      log: quiet,
      timeoutMs: plan.timeoutMs,
    });
  } catch (err) {
    if (!(err instanceof SessionError)) throw err;
    const exit =
      err.code === 'auth-failed'
        ? EXIT.unauthorized
        : err.code === 'cluster-mismatch'
          ? EXIT.usage
          : err.code === 'unreachable'
            ? EXIT.unreachable
            : EXIT.failed;
    throw new CtlFailure(exit, err.code, err.message);
  }
}

async function execute(plan: Plan, session: ClientSession, io: Io, json: boolean, succeed: (human: string, result: unknown) => number): Promise<number> {
  const ask = async <Op extends CommandOp>(op: Op, args: CommandArgsInput<Op>, timeoutMs = plan.timeoutMs): Promise<MemberResults[Op]> => {
    const reply = await session.command(op, args, plan.token, plan.by, timeoutMs);
    if (!reply.ok) throw failed(op, reply.error, session.member);
    return reply.result;
  };
  // A token given is checked first, on reads too: a typo must not go unnoticed.
  if (plan.token !== '') await ask('whoami', {});
  const args = plan.args;

  /**
   * After a change the member said ok to: what it says of itself (its status notices: it hears a minority, it runs
   * alone, no majority behind it) on stderr, as `ls` prints them. A status that fails adds nothing (the change is done).
   */
  const warnNotices = async (): Promise<void> => {
    const s = await ask('status', {}).catch(() => undefined);
    if (s !== undefined) printNotices(s);
  };
  /** What the member says of itself (its status notices), on stderr, named by it. */
  const printNotices = (s: MemberResults['status']): void => {
    for (const n of s.notices ?? []) io.stderr(`pogo ctl: warning: ${s.node}: ${printable(n)}\n`);
  };

  /** A member still syncing answers from a partial view: say so (on stderr), and which member. */
  const warnIfNotReady = (s: MemberResults['status']): void => {
    const self = s.members.find((m) => m.name === s.node);
    if (self?.ready !== false) return;
    // It names whom it waits for when it says (protocol 2.7): "still linking and syncing" hid a wait for a member gone.
    const parts = self.waitsFor !== undefined ? waitedForParts(self.waitsFor) : [];
    const why = parts.length > 0 ? `it waits for ${parts.join('; ')}` : 'it is still linking to and syncing with the cluster';
    io.stderr(`pogo ctl: warning: ${s.node} is not ready yet: ${why}. Its view may be incomplete; give another --seed first\n`);
  };

  switch (plan.command) {
    case 'status': {
      const s = await ask('status', {});
      warnIfNotReady(s);
      const members = s.members.filter((m) => m.role === 'member');
      const c = s.children;
      const draining = members.filter((m) => m.draining).map((m) => m.name);
      // What the answering member found at start (a state file moved aside) is a warning too, named by it.
      const notices = (s.notices ?? []).map((n) => `${s.node}: ${n}`);
      const warnings = [...statusWarnings(members, s.node), ...notices];
      return succeed(statusText({ members, children: c, paused: s.paused, node: s.node, notices }), {
        node: s.node,
        members,
        children: c,
        paused: s.paused,
        draining,
        // The text's lines on members not ready (each member's `waitsFor` and `startedAt` say it for scripts).
        notReady: notReadyLines(members),
        warnings,
      });
    }
    case 'ls': {
      const [view, s] = await Promise.all([ask('view', {}), ask('status', {})]);
      warnIfNotReady(s);
      // What the member says of itself (running alone, no majority behind it, a state file moved aside) qualifies its listing.
      printNotices(s);
      const children = [...view.children].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return succeed(json ? '' : lsTable(children), children);
    }
    case 'explain': {
      const e = await ask('explain', args as CommandArgs<'explain'>);
      return succeed(explainText(e), e);
    }
    case 'audit': {
      const { entries, unanswered } = await ask('audit-all', {});
      if (unanswered.length > 0) io.stderr(`pogo ctl: warning: ${unanswered.join(', ')} did not answer: their entries are missing\n`);
      return succeed(auditTable(entries), entries);
    }
    case 'start':
      return start(plan, session, io, json, succeed);
    case 'restart': {
      const r = await ask('restart', args as CommandArgs<'restart'>);
      return succeed(restartedText(r), r);
    }
    case 'logs': {
      const id = (args as CommandArgs<'logs'>).id;
      if (plan.follow) return follow(id, ask, io, json);
      // The newest 500 lines the node holds (a member answers the newest after a cursor: no paging forward).
      const lines = await ask('logs', { id, after: 0 });
      if (lines.length === 0) noteWorker(id, (await ask('explain', { id })).spec, io);
      return succeed(lines.map(outputLine).join(''), { id, lines });
    }
    case 'call': {
      const call = args as CommandArgs<'call'>;
      const reply = await session.command('call', call, plan.token, plan.by, plan.timeoutMs + 5_000);
      if (!reply.ok) {
        const f = failed('call', reply.error, session.member);
        // The child's own typed errors (its timeout included) are the call's failure, not an unreachable cluster.
        throw f.exit === EXIT.unreachable && reply.error.code === 'timeout' ? new CtlFailure(EXIT.failed, f.code, f.message) : f;
      }
      return succeed(`${JSON.stringify(reply.result.reply)}\n`, reply.result);
    }
    case 'whereis': {
      const at = await ask('whereis', args as CommandArgs<'whereis'>);
      if (at === null) {
        // Unknown, or known and not running: explain tells them apart (and fails as not-found for an unknown id,
        // reported as whereis's failure: "explain failed" named a command the operator never ran).
        const known = await session.command('explain', args as CommandArgs<'explain'>, plan.token, plan.by, plan.timeoutMs);
        if (!known.ok) throw failed('whereis', known.error, session.member);
        throw new CtlFailure(EXIT.failed, 'not-running', `${(args as CommandArgs<'whereis'>).id} has no running instance now (pogo ctl explain says why)`);
      }
      return succeed(`${at.node} ${at.pid}\n`, at);
    }
    case 'stop': {
      const { id } = args as CommandArgs<'stop'>;
      const r = await stopChild(session, { id }, plan);
      // "Ok" is the member's word: what it says of itself (it hears a minority, runs alone) qualifies it, as for ls.
      if (r.stopped) await warnNotices();
      return succeed(r.stopped ? `stop ${id}: ok (executed by ${session.member})\n` : `stop ${id}: nothing to stop (${r.why})\n`, null);
    }
    case 'move': {
      const r = await moveChild(session, args as CommandArgs<'move'>, plan);
      return succeed(`moved ${r.id} to ${r.node} (${r.pid})\n`, r);
    }
    default: {
      const op = plan.command;
      await ask(op, args as CommandArgsInput<typeof op>);
      if (op === 'drain' || op === 'undrain' || op === 'pause' || op === 'resume' || op === 'unpin') await warnNotices();
      const words = Object.values(args).map(String).join(' ');
      return succeed(`${op}${words ? ` ${words}` : ''}: ok (executed by ${session.member})\n`, null);
    }
  }
}

/**
 * `move <id> <node>`: the member pins the child to the node and answers
 * once it runs there, alone. That can take long, or not happen while the
 * node cannot start it (frozen, partitioned, down): the member holds the
 * pin and keeps the move going. So ctl waits for the answer for all of
 * `--timeout` but a last part (MOVE_CHECK_SHARE, at most 2 s), and if none
 * came in time, asks `explain` in that part and says where the move stands:
 *   - pinned to the node, not running there yet: exit 1, code `timeout`,
 *     naming where the child runs now and what it waits for — the move
 *     stands (a retry is harmless: a move is idempotent; `unpin` undoes
 *     it). It blamed the member with exit 3 ("no member could be
 *     reached"), though the member was linked and had done what it was
 *     asked.
 *   - pinned elsewhere or not at all: another change replaced it; exit 1.
 *   - the member answers neither: exit 3, the move may or may not have
 *     been applied.
 * Exported for tests (simulated: core/test/ctl-move.test.ts).
 */
export async function moveChild(
  session: Pick<ClientSession, 'command' | 'member' | 'open'>,
  target: CommandArgs<'move'>,
  o: { token: string; by: string; timeoutMs: number },
): Promise<MemberResults['move']> {
  const { id, node } = target;
  const checkMs = Math.max(1, Math.min(MOVE_CHECK_MAX_MS, Math.floor(o.timeoutMs * MOVE_CHECK_SHARE)));
  const waitMs = Math.max(1, o.timeoutMs - checkMs);
  const reply = await session.command('move', target, o.token, o.by, waitMs);
  if (reply.ok) return reply.result;
  // Refused (not-found, unknown-node, ...), or the link lost after it was sent (its message says the move may have been applied).
  if (reply.error.code !== 'timeout' || !session.open) throw failed('move', reply.error, session.member);
  const member = session.member;
  const e = await session.command('explain', { id }, o.token, o.by, checkMs);
  if (!e.ok) {
    if (e.error.code === 'not-found')
      throw new CtlFailure(EXIT.failed, 'terminated', `${id} was stopped while it moved to ${node} (${member} no longer knows it)`);
    throw new CtlFailure(
      EXIT.unreachable,
      'timeout',
      `${member} answered neither the move of ${id} to ${node} (within ${waitMs} ms) nor explain after it (${e.error.message}): ` +
        `the move may or may not have been applied; pogo ctl explain ${id} shows where it stands`,
    );
  }
  const where = e.result.instances.map((i) => `${i.node} (${i.pid})`).join(', ');
  const waiting = e.result.waiting.length > 0 ? `; waiting: ${e.result.waiting.join('; ')}` : '';
  const state = { id, node, pin: e.result.pin ?? null, instances: e.result.instances, waiting: e.result.waiting };
  if (e.result.pin !== node)
    throw new CtlFailure(
      EXIT.failed,
      'timeout',
      `the move of ${id} to ${node} was not done within ${waitMs} ms, and ${id} is ${e.result.pin ? `pinned to ${e.result.pin}` : 'not pinned'} ` +
        `now: another change replaced it (pogo ctl audit shows who)`,
      state,
    );
  throw new CtlFailure(
    EXIT.failed,
    'timeout',
    `the move of ${id} to ${node} is not done after ${waitMs} ms: ${member} holds it — ${id} is pinned to ${node} and moves there as ` +
      // As the member sees it: a member cut off from the node it runs on sees no instance (the re-check: "runs nowhere" while it ran).
      `soon as ${node} can start it — but ${where ? `it still runs on ${where}` : `${member} sees no instance of it now`}${waiting}. ` +
      `pogo ctl explain ${id} shows where it stands; pogo ctl unpin ${id} hands it back to hashing`,
    state,
  );
}

/**
 * `stop <id>`: the member stops the child wherever it runs and removes its
 * spec. With `--ignore-not-found` (as `kubectl delete --ignore-not-found`),
 * a child the cluster does not hold — stopped already, or never started —
 * is no failure: `stopped` false, with the member's words. For scripts that
 * make sure a child is gone, and for a stop retried after its answer was
 * lost (it may have been executed: the retry then finds nothing).
 *
 * The member answers once no instance is left, which can take long or not
 * come while it cannot see every instance (majority mode: a member it cannot
 * hear, not fenced, may run the child; a partial partition keeps it so until
 * the stop reaches that member the long way, the 30 s anti-entropy pass). As
 * for a move, ctl keeps the last part of `--timeout` to ask the member where
 * the stop stands: the child known no more (`explain` says not-found) means
 * the stop is recorded — exit 1, code `timeout`, saying so. It said exit 3,
 * "the stop may or may not have been executed" (an outsider's tour, n1 and
 * n3 cut apart, n2 hearing both), or, past the member's own wait, a message
 * naming a library call. Exported for tests (simulated:
 * core/test/ctl-stop.test.ts, core/test/ops-split.test.ts).
 */
export async function stopChild(
  session: Pick<ClientSession, 'command' | 'member' | 'open'>,
  target: CommandArgs<'stop'>,
  o: { token: string; by: string; timeoutMs: number; ignoreNotFound: boolean },
): Promise<{ stopped: boolean; why: string }> {
  const checkMs = Math.max(1, Math.min(MOVE_CHECK_MAX_MS, Math.floor(o.timeoutMs * MOVE_CHECK_SHARE)));
  const waitMs = Math.max(1, o.timeoutMs - checkMs);
  const reply = await session.command('stop', target, o.token, o.by, waitMs);
  if (reply.ok) return { stopped: true, why: '' };
  if (reply.error.code === 'not-found' && o.ignoreNotFound) return { stopped: false, why: reply.error.message };
  if (reply.error.code !== 'timeout' || !session.open) throw failed('stop', reply.error, session.member);
  const member = session.member;
  const e = await session.command('explain', { id: target.id }, o.token, o.by, checkMs);
  if (e.ok || e.error.code !== 'not-found') throw failed('stop', reply.error, member);
  throw new CtlFailure(
    EXIT.failed,
    'timeout',
    `the stop of ${target.id} is recorded on ${member} (${target.id} does not start again), but not done after ${waitMs} ms: ` +
      `${member} cannot confirm yet that no instance of it runs (a member it cannot hear may still run it, until the stop reaches ` +
      `that member). The stop stands (retrying is harmless); pogo ctl ls on another member shows where it runs`,
  );
}

/** Of a move's `--timeout`, the last part kept to ask where it stands when no answer came (and at most MOVE_CHECK_MAX_MS). */
const MOVE_CHECK_SHARE = 0.25;
const MOVE_CHECK_MAX_MS = 2_000;

/** A member's refusal, as ctl reports it. */
function failed(op: string, error: CommandFailure, member: string): CtlFailure {
  if (op === 'whoami')
    return new CtlFailure(exitOf(error.code), error.code, `the token was refused by ${member || 'the member'} (${error.code}): ${error.message}`);
  // A lost link names the member itself, and after a change was sent it may have been executed: not "failed".
  if (error.code === 'unreachable') return new CtlFailure(EXIT.unreachable, error.code, `${op} (unreachable): ${error.message}`);
  return new CtlFailure(exitOf(error.code), error.code, `${op} failed (${error.code}) at ${member || 'the member'}: ${error.message}`);
}

/**
 * The members of `pogo ctl status` as a table. Readiness is a running
 * member's: one down or gone shows `-` (it showed its last word, "yes").
 */
export function membersTable(members: ReadonlyArray<{ name: string; status: string; address: string; ready?: boolean; draining?: boolean }>): string {
  const rows = members.map((m) => [
    m.name,
    m.status,
    m.address,
    isLinked(m.status) ? (m.ready === true ? 'yes' : 'no') : '-',
    m.draining === true ? 'yes' : 'no',
  ]);
  return table(['NAME', 'STATUS', 'ADDRESS', 'READY', 'DRAINING'], rows);
}

/** A member as `pogo ctl status` reports it. */
export type StatusMember = Parameters<typeof membersTable>[0][number] & {
  netsplit?: NetsplitSettings | undefined;
  saveFailing?: SaveFailing | undefined;
  waitsFor?: WaitsFor | undefined;
  startedAt?: number | undefined;
};

/** A clock time as `pogo ctl` prints it: ISO 8601 to the second, UTC. */
const isoSeconds = (at: number): string => new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Why a member that is up is not ready, one line each, for `pogo ctl
 * status` (the text under the table): whom it waits for (its `waitsFor`,
 * protocol 2.7), since when (its start: a member is ready once per
 * incarnation), when it goes on without them (--ready-timeout-ms), and for
 * a member waited for that none here reaches, what to do. An outsider's
 * tour: two members restarted from their data dirs in majority mode waited
 * for the third, blackholed, and `status` said READY "no" and nothing else.
 */
export function notReadyLines(members: readonly StatusMember[]): string[] {
  const reached = new Set(members.filter((m) => isLinked(m.status)).map((m) => m.name));
  const lines: string[] = [];
  for (const m of members) {
    if (!isLinked(m.status) || m.ready === true) continue;
    const since = m.startedAt !== undefined ? ` since ${isoSeconds(m.startedAt)}` : '';
    const w = m.waitsFor;
    if (w === undefined) {
      // A member announces its wait once it has lasted a second; one before protocol 2.7 never does.
      lines.push(`${m.name} not ready${since}: it has not said what it waits for yet (pogo ctl status --seed at it says)`);
      continue;
    }
    const parts = waitedForParts(w);
    const what = parts.length > 0 ? `waits for ${parts.join('; ')}` : 'links to and syncs with every member it knows of';
    const until = w.until !== undefined ? `; at ${isoSeconds(w.until)} (--ready-timeout-ms, its clock) it takes children without them` : '';
    const lost = unreachedWaitedFor(w, (n) => reached.has(n));
    const advice = lost.length > 0 ? `; ${unreachedAdvice(lost)}` : '';
    lines.push(`${m.name} not ready${since}: ${what}${until}${advice}`);
  }
  return lines;
}

/**
 * What `pogo ctl status` warns of (the text's `warning:` lines, `warnings`
 * in its JSON): that no member can take a child, every one that is up
 * being drained (the tour drained every node: children ran on with no
 * owner, and nothing said so); and members linked now whose netsplit
 * settings differ from the others' (distributed/netsplit-settings.ts: they
 * link without a word, and majority mode's promise is gone); and members
 * that announce they cannot save their desired state (protocol 2.6) — but
 * `asked`, whose own notice says so at more length.
 */
export function statusWarnings(members: readonly StatusMember[], asked?: string): string[] {
  const up = members.filter((m) => isLinked(m.status));
  const warnings =
    up.length > 0 && up.every((m) => m.draining === true) ? ['every member that is up is draining: no child has a node to move to or start on'] : [];
  const saving = up
    .filter((m) => m.saveFailing !== undefined && m.name !== asked)
    .map(
      (m) =>
        `${m.name} cannot save its desired state to its data dir since ${new Date(m.saveFailing!.since).toISOString()} (${printable(m.saveFailing!.error)}): ` +
        'the others hold the state, but a restart of every member now would lose the changes made since; see its logs',
    );
  return [...warnings, ...netsplitWarnings(up), ...saving];
}

/** `pogo ctl status` as text: the members, the children's counts, and its warnings (`statusWarnings`). */
export function statusText(s: {
  members: readonly StatusMember[];
  children: ChildCountsGlobal;
  paused: boolean;
  node: string;
  /** The answering member's notices, named by it. */
  notices?: readonly string[];
}): string {
  const c = s.children;
  const warnings = [...statusWarnings(s.members, s.node), ...(s.notices ?? [])].map((w) => `warning: ${w}\n`).join('');
  const lines = notReadyLines(s.members);
  const waiting = lines.length > 0 ? `\n${lines.map((l) => `${l}\n`).join('')}` : '';
  return (
    `${membersTable(s.members)}${waiting}\nchildren: ${c.specs} (${c.running} running, ${c.pending} pending,` +
    ` ${c.moving} moving, ${c.failing} failing, ${c.unplaceable} unplaceable)${s.paused ? '; rebalancing paused' : ''}\n${warnings}asked ${s.node}\n`
  );
}

/**
 * `pogo ctl audit` as text. TOKEN is the name of the token the command presented, checked by the member (`-`: none,
 * or refused); BY is only who the client said it was (`--by`, default $USER). The table showed BY alone, so the
 * verified name that docs/operations.md promises was in --json only.
 */
export function auditTable(entries: readonly AuditEntry[]): string {
  const rows = entries.map((e) => [
    new Date(e.at).toISOString(),
    e.node,
    e.tokenName ?? '-',
    e.by,
    e.from,
    `${e.op} ${e.args.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ')}`.slice(0, 80),
    e.result,
  ]);
  return table(['WHEN', 'NODE', 'TOKEN', 'BY', 'FROM', 'COMMAND', 'RESULT'], rows);
}

/**
 * `pogo ctl explain` as text: the owner and why, its instances, each node's
 * score and what excluded it, and what it waits for. Paused, a child may be
 * held where it runs: then the hash's pick is where it goes on resume, not
 * its owner now, and the text says so.
 */
export function explainText(e: ExplanationReport): string {
  const held = e.resumeTo !== undefined && e.resumeTo !== e.owner;
  const mark = (node: string): string => (node === e.owner ? (held ? 'held (paused)' : 'owner') : held && node === e.resumeTo ? 'on resume' : '');
  const rows = e.candidates
    .filter((c) => !c.excludedBy.includes('observer'))
    .map((c) => [c.node, c.score === undefined ? '-' : c.score.toFixed(4), mark(c.node), c.excludedBy.join(', ')]);
  const placed = held
    ? `held on ${e.owner} while rebalancing is paused; on resume: ${e.resumeTo} (by ${e.by})`
    : `owner ${e.owner ?? 'none'} (by ${e.by})${e.paused ? ', rebalancing paused' : ''}`;
  const instances = e.instances.map((i) => `runs on ${i.node} (${i.pid}${i.osPid !== undefined ? `, os pid ${i.osPid}` : ''})\n`).join('');
  const waiting = e.waiting.map((w) => `waiting: ${w}\n`).join('');
  return (
    `${e.id}: ${placed}${e.pin ? `, pinned to ${e.pin}` : ''}\n` +
    `${instances}\n${table(['NODE', 'SCORE', 'PLACEMENT', 'EXCLUDED BY'], rows)}${waiting ? `\n${waiting}` : ''}`
  );
}

/**
 * What `ctl restart` prints. A restart in place starts the new instance
 * fresh, as OTP's restart_child does: no state is handed over (it is how an
 * operator clears a wedged instance's state); a move carries it
 * (docs/children.md, "Handover"). Said here, since a user who has seen
 * `kv-counter` keep its counts across moves may expect a restart to keep
 * them too.
 */
export function restartedText(r: { id: string; node: string; pid: string }): string {
  return `restarted ${r.id} on ${r.node}: new instance ${r.pid}, started fresh (a restart hands no state over; a move does)\n`;
}

/** The `ls` table: the OS pid of command children, and while rebalancing is paused where each child goes on resume. */
export function lsTable(children: readonly ChildReport[]): string {
  const paused = children.some((c) => c.resumeTo !== undefined);
  const header = ['ID', 'STATUS', 'NODE', 'OWNER', 'PIN', 'OS PID', ...(paused ? ['ON RESUME'] : []), 'LAST ERROR'];
  const rows = children.map((c) => [
    c.id,
    c.status,
    c.node ?? '-',
    c.owner ?? '-',
    c.pin ?? '-',
    c.osPid === undefined ? '-' : String(c.osPid),
    ...(paused ? [c.resumeTo === undefined ? '-' : c.resumeTo === c.node ? `${c.resumeTo} (stays)` : c.resumeTo] : []),
    c.lastError ?? '',
  ]);
  return `${table(header, rows)}${paused ? 'rebalancing is paused: ON RESUME is where each child runs once it resumes\n' : ''}`;
}

/** One output line as `logs` prints it: stderr lines marked. */
function outputLine(l: OutputLine): string {
  return `${l.stream === 'stderr' ? 'stderr| ' : ''}${l.text}\n`;
}

/** What one spec's submit came to. */
type SpecOutcome = ({ accepted: true } & Submitted) | { accepted: false; id: string; error: CommandFailure | { code: 'not-sent'; message: string } };

/** The specs in `submit` batches: at most SUBMIT_BATCH_SPECS each, and SUBMIT_BATCH_BYTES of JSON (a bigger spec goes alone). */
function batches(list: readonly Spec[]): Array<{ from: number; specs: Spec[] }> {
  const out: Array<{ from: number; specs: Spec[] }> = [];
  let bytes = 0;
  list.forEach((spec, i) => {
    const size = JSON.stringify(spec).length;
    const last = out.at(-1);
    if (last && last.specs.length < SUBMIT_BATCH_SPECS && bytes + size <= SUBMIT_BATCH_BYTES) {
      last.specs.push(spec);
      bytes += size;
    } else {
      out.push({ from: i, specs: [spec] });
      bytes = size;
    }
  });
  return out;
}

async function start(plan: Plan, session: ClientSession, io: Io, json: boolean, succeed: (human: string, result: unknown) => number): Promise<number> {
  const { list, single } = plan.specs!;
  // Answer before ctl's own timeout: a spec still pending then is reported pending.
  const waitMs = Math.max(0, Math.min(SUBMIT_WAIT_MAX_MS, plan.timeoutMs - 2_000));
  const outcomes: SpecOutcome[] = new Array<SpecOutcome>(list.length);
  const queue = batches(list);
  let next = 0;
  let stop: CtlFailure | undefined;
  const worker = async (): Promise<void> => {
    while (stop === undefined && next < queue.length) {
      const batch = queue[next++]!;
      const reply = await session.command('submit', { specs: batch.specs, waitMs }, plan.token, plan.by, plan.timeoutMs);
      if (!reply.ok) {
        batch.specs.forEach((spec, k) => (outcomes[batch.from + k] = { accepted: false, id: spec.id, error: reply.error }));
        // A refused credential or a lost link is the same for every spec: send no more.
        if (exitOf(reply.error.code) !== EXIT.failed) stop ??= failed('start', reply.error, session.member);
        continue;
      }
      reply.result.forEach(
        (o, k) =>
          (outcomes[batch.from + k] =
            'refused' in o ? { accepted: false, id: o.id, error: commandFailure(o.refused.code, o.refused.message) } : { accepted: true, ...o }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(SUBMIT_BATCHES_IN_FLIGHT, queue.length) }, worker));
  for (let i = 0; i < list.length; i++)
    outcomes[i] ??= {
      accepted: false,
      id: list[i]!.id,
      error: { code: 'not-sent', message: 'not sent: an earlier batch met a refusal that every spec would meet' },
    };
  const result = single ? outcomes[0] : outcomes;
  if (stop) throw new CtlFailure(stop.exit, stop.code, stop.message, result);
  const refused = outcomes.filter((o) => !o.accepted);
  const lines = outcomes.map(describeOutcome).join('');
  if (refused.length > 0) {
    if (single)
      throw new CtlFailure(
        EXIT.failed,
        refused[0]!.error.code,
        `start refused ${refused[0]!.id} (${refused[0]!.error.code}) at ${session.member}: ${refused[0]!.error.message}`,
      );
    if (!json) io.stdout(printableLines(lines));
    const named = refused
      .slice(0, 5)
      .map((o) => `${o.id} (${o.error.code})`)
      .join(', ');
    throw new CtlFailure(EXIT.failed, 'refused', `${refused.length} of ${list.length} specs refused: ${named}${refused.length > 5 ? ', …' : ''}`, result);
  }
  const counts = new Map<string, number>();
  for (const o of outcomes) if (o.accepted) counts.set(o.state, (counts.get(o.state) ?? 0) + 1);
  const summary = single
    ? ''
    : `${list.length} spec${list.length === 1 ? '' : 's'} accepted by ${session.member} (${[...counts].map(([state, n]) => `${n} ${state}`).join(', ')})\n`;
  return succeed(`${lines}${summary}`, result);
}

function describeOutcome(o: SpecOutcome): string {
  if (!o.accepted) return `${o.id}: refused (${o.error.code}): ${o.error.message}\n`;
  const where =
    o.node === undefined
      ? ''
      : o.state === 'failing'
        ? ` on ${o.node}`
        : ` on ${o.node} (${o.pid ?? '-'}${o.osPid !== undefined ? `, os pid ${o.osPid}` : ''})`;
  return `${o.id}: accepted, ${o.state}${where}${o.lastError ? `: ${o.lastError}` : ''}\n`;
}

/**
 * `logs --follow` (see the header): each round asks where the child runs
 * (`explain`), then for the lines after the last one printed. A member
 * numbers each child's lines in that child's ring, from 1, and answers the
 * newest 500 after a cursor; so:
 *   - another node, or the same node restarted (a new incarnation): a new
 *     ring, read from its start;
 *   - a new process on the same node: the ring is kept when its record is
 *     (a restart in place, a crash restarted there) and new when it is not
 *     (a temporary child started afresh, a child that left and came back).
 *     Which, the ring says: it is the same ring if it still holds, at its
 *     number, the last line printed. Otherwise everything it holds is new.
 *   - the same process: the same ring; if the last line printed is gone
 *     from it, lines were dropped before they could be read (more than a
 *     page between two rounds, or more than the ring holds): said so.
 */
async function follow(
  id: string,
  ask: <Op extends CommandOp>(op: Op, args: CommandArgsInput<Op>, timeoutMs?: number) => Promise<MemberResults[Op]>,
  io: Io,
  json: boolean,
): Promise<number> {
  let stopped = false;
  let wake: (() => void) | undefined;
  const unsubscribe = io.onStop(() => {
    stopped = true;
    wake?.();
  });
  const note = (text: string): void => io.stderr(`pogo ctl: ${printableLines(text)}\n`);
  try {
    let where: { node: string; pid: string; osPid?: number } | undefined;
    /** The last line printed from the current ring. */
    let last: OutputLine | undefined;
    let waitingSaid = false;
    let first = true;
    while (!stopped) {
      let instance: { node: string; pid: string; osPid?: number } | undefined;
      let unsynced = false;
      try {
        const e = await ask('explain', { id });
        if (first) noteWorker(id, e.spec, io);
        first = false;
        instance = e.instances[0];
      } catch (err) {
        if (err instanceof CtlFailure && err.code === 'not-found') {
          note(`${id} is no longer in the cluster (stopped)`);
          return EXIT.ok;
        }
        // The member asked has not synced with the cluster yet (just started): it will know in a moment.
        if (!(err instanceof CtlFailure && err.code === 'not-ready')) throw err;
        // Its words, without "explain failed … at <member>:" (the operator ran logs --follow, not explain).
        if (!waitingSaid) note(`waiting: ${err.message.slice(err.message.indexOf(': ') + 2)}`);
        waitingSaid = unsynced = true;
      }
      if (unsynced) {
        // Nothing to follow until the member knows the child: asked again after the poll interval.
      } else if (instance === undefined) {
        if (!waitingSaid) note(`${id} is not running now; waiting for it to start`);
        waitingSaid = true;
      } else {
        waitingSaid = false;
        const proc = instance.osPid !== undefined ? `os pid ${instance.osPid}` : instance.pid;
        let newProcess = false;
        if (where === undefined) note(`following ${id} on ${instance.node} (${proc})`);
        else if (nodeProcess(where.pid) !== nodeProcess(instance.pid)) {
          note(`${id} now runs on ${instance.node} (${proc}); following it there`);
          last = undefined;
        } else if (where.pid !== instance.pid) {
          note(`${id} has a new process on ${instance.node} (${proc})`);
          newProcess = true;
        }
        where = instance;
        let lines: OutputLine[] | undefined;
        try {
          lines = await readAfter(last, newProcess);
        } catch (err) {
          // Moved between the two questions: the next round finds it.
          if (!(err instanceof CtlFailure && (err.code === 'not-found' || err.code === 'not-running'))) throw err;
        }
        for (const l of lines ?? []) io.stdout(json ? `${JSON.stringify({ node: instance.node, ...l })}\n` : outputLine(l));
        if (lines && lines.length > 0) last = lines.at(-1);
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, FOLLOW_POLL_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return EXIT.ok;
  } finally {
    unsubscribe();
  }

  /** The lines to print after `last` (see above); `newProcess`: the ring may be another one. */
  async function readAfter(last: OutputLine | undefined, newProcess: boolean): Promise<OutputLine[]> {
    if (last === undefined) return ask('logs', { id, after: 0 });
    const probe = await ask('logs', { id, after: last.seq - 1 });
    const held = probe[0];
    if (held && held.seq === last.seq && held.stream === last.stream && held.at === last.at && held.text === last.text) return probe.slice(1);
    if (newProcess) return ask('logs', { id, after: 0 }); // a new ring: all of it is new
    const dropped = held === undefined ? 0 : held.seq - last.seq - 1;
    if (dropped > 0) io.stderr(`pogo ctl: ${dropped} line(s) of ${id} were dropped before they could be read\n`);
    return probe;
  }
}

/** Only command children have their output captured: say so when asked for a worker's. */
function noteWorker(id: string, spec: { start: { worker: string } | { command: string } }, io: Io): void {
  if ('worker' in spec.start)
    io.stderr(
      `pogo ctl: ${id} runs worker ${spec.start.worker} inside its node's process: its output ` +
        `goes to that node's log, not to a capture of its own (logs shows command children's)\n`,
    );
}

/** The node process of a pid (`node/incarnation`): output line numbers are its own. */
function nodeProcess(pid: string): string {
  return pid.split('/').slice(0, 2).join('/');
}
