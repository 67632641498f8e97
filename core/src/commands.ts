/**
 * Operator commands over links: an observer (or `pogo ctl`, which joins as a
 * short-lived observer) sends `cmd` to a member; the member checks the
 * credential, executes the command with its distributed supervisor, records
 * it in its audit log, and answers `cmd.reply` with a result or a typed
 * error.
 *
 * Credentials: a member configured with `--operator-token-file` accepts the
 * tokens in it for every command; with `--viewer-token-file` it accepts
 * those for read-only commands (`audit`, `logs`). A token file may hold
 * several tokens, each with a name (credentials.ts: `name:token` lines);
 * the name of the token a command presented is recorded in the audit log
 * (`tokenName`), beside the user name the client declares (`by`). Without
 * an operator token, changes are refused: commands are off until one is
 * configured. Tokens are compared in constant time and never logged.
 *
 * Size: arguments larger than MAX_COMMAND_ARGS_BYTES as JSON (1 MiB: a spec
 * is replicated to every member) are refused with `too-large`, naming the
 * limit, and the refusal is audited like any other.
 *
 * Trust model: the cluster secret makes a process a cluster node, which can
 * write process groups directly; the operator token guards the command path
 * that observers, the gateway and the UI use, so the people who operate the
 * cluster never need the cluster secret to read it.
 *
 * `view`, `status` and `explain` need no token (OPEN_READS): they return
 * the member's view of members and children, which any linked node can
 * read from process groups and the store anyway; an observer uses `view` to
 * show what it cannot see itself (see gateway.ts), `pogo ctl` all three.
 * A credential sent with them is not checked (a client that wants to know
 * asks `whoami`).
 *
 * `submit` starts children like `start` but answers, for each, as soon as
 * the cluster holds its spec and a first outcome is known (running, a
 * failed start, it ended), or after its `waitMs` with the state then:
 * accepted and where it stands, or refused and why
 * (DistributedSupervisor.submitChild). Its specs travel in one frame, so
 * the cluster takes them in one write (one delta per peer for the whole
 * batch); each spec gets its own audit entry.
 *
 * `call` (operator, audited; since 2.3) sends a message to a child wherever
 * it runs and answers with its reply and the instance that gave it
 * (DistributedSupervisor.callDetailed, distributed/calls.ts); its typed
 * errors (`not-found`, `not-running`, `no-handler`, `handler-error`,
 * `timeout`, `too-large`) come back as the command's error. `whereis` (an
 * open read, like `view`) answers where the child's instance runs, or null.
 *
 * `whoami` tells a client which role its credential has (the gateway asks
 * once per session); `logs` returns the captured output of an OS-process
 * child (viewer or operator); `restart` (operator) stops a child's instance
 * and starts a new one on the same node.
 *
 * Commands about one child's instance (`restart`, `logs`) are executed by
 * the node that runs it: a member that receives one for a child running
 * elsewhere forwards it to that node over their link, with the caller's
 * credential and name, marked `forwarded` (protocol 2.2), and answers with
 * that node's reply. The node it reaches executes a forwarded command
 * itself and never forwards it again, so two members whose views differ for
 * a moment cannot pass it back and forth. Both audit a mutating one: the
 * member asked (from: the caller) and the node that executed it (from: the
 * member that forwarded it).
 *
 * Audit: each member keeps its last `auditSize` commands (who, what, when,
 * result), numbered from 1 per incarnation (`seq`, `incarnation`); `audit`
 * returns them, and clients merge the logs of all members. Credential
 * refusals (`unauthorized`, `forbidden`, `commands-disabled`) are kept in a
 * ring of their own, as large, and a reply that cannot hold every entry
 * keeps the commands a credential allowed first: anyone who can link (the
 * cluster secret, no token) could otherwise push the operators' commands out
 * of the log with a burst of refused ones (an outsider's tour: 1,100 refused
 * `drain`s left no trace of the `pause` before them). A reader that
 * polls passes where it is (`after`: per member, the incarnation and seq of
 * the newest entry it holds) and gets only newer entries — all of them when
 * the member's incarnation is another (it restarted: its log began again).
 * With one link (a client), `audit-all` asks one member for all of them.
 * The reply must stay one deliverable frame whatever was sent: arguments
 * larger than `AUDIT_ARGS_CHARS` or nested deeper than `AUDIT_ARGS_DEPTH`
 * are recorded as a shortened string, and `audit` returns the newest entries
 * that fit in `AUDIT_REPLY_CHARS`.
 *
 * Arguments are named (`move: { id, node }`, observer/ui-protocol.ts). The
 * link message carries them as a positional array (protocol.ts `cmd`,
 * unchanged for mixed-version clusters): the client encodes them in each
 * op's field order, and the member names and validates them with the op's
 * schema after the credential check, so a refusal names the field and an
 * unauthorised caller learns nothing about what it sent. A client checks
 * the frame before sending it (`CommandClient.request`): one the member
 * would drop as malformed fails at once with `bad-request`; and it checks
 * the member's result with the op's result schema, so callers get typed
 * results (`CommandOutcome`).
 */
import type { Clock, TimerHandle } from './clock.js';
import { parseTokens, TokenSet } from './credentials.js';
import type { DistributedSupervisor } from './distributed/distributed-supervisor.js';
import type { JsonValue } from './groups.js';
import type { Logger } from './logger.js';
import { isLinked, type Member } from './membership.js';
import { jsonBytes, MAX_COMMAND_ARGS_BYTES, tooLargeMessage } from './observer/command-size.js';
import {
  commandFailure,
  decodeWireCommand,
  encodeWireArgs,
  parseMemberResult,
  type AuditEntry,
  type CommandArgsInput,
  type CommandErrorCode,
  type CommandOutcome,
  type MemberCommand,
  type MemberStatusReply,
  type MemberViewReply,
  type SubmitOutcome,
} from './observer/ui-protocol.js';
import { CommandSchema, decodeWith, type Command, type CommandOp, type CommandReply, type WaitsFor } from './protocol.js';
import type { OutputLine } from './supervisor/log-ring.js';

export const MUTATING_OPS: ReadonlySet<CommandOp> = new Set([
  'start',
  'stop',
  'move',
  'unpin',
  'drain',
  'undrain',
  'pause',
  'resume',
  'forget',
  'restart',
  'submit',
  'call',
]);
/** Reads that need no credential: what any linked node can read from pg and the store anyway. */
export const OPEN_READS: ReadonlySet<CommandOp> = new Set(['view', 'status', 'explain', 'whereis']);

/** Arguments kept verbatim in an audit entry up to this JSON length and nesting; beyond, a shortened string. */
export const AUDIT_ARGS_CHARS = 2048;
export const AUDIT_ARGS_DEPTH = 8;
/** `audit` returns the newest entries whose JSON fits in this many characters. */
export const AUDIT_REPLY_CHARS = 512 * 1024;

function depthOf(value: JsonValue, limit: number): number {
  if (value === null || typeof value !== 'object') return 0;
  if (limit <= 0) return 1;
  let deepest = 0;
  for (const child of Array.isArray(value) ? value : Object.values(value)) deepest = Math.max(deepest, depthOf(child, limit - 1));
  return 1 + deepest;
}

/** What the audit log keeps of a command's arguments. */
function auditArgs(args: JsonValue[]): JsonValue[] {
  const text = JSON.stringify(args);
  if (text.length <= AUDIT_ARGS_CHARS && depthOf(args, AUDIT_ARGS_DEPTH + 1) <= AUDIT_ARGS_DEPTH) return args;
  return [`${text.slice(0, 200)}… (${text.length} characters, shortened for the audit log)`];
}

export type { AuditEntry, MemberViewReply };

export class CommandError extends Error {
  constructor(
    readonly code: CommandErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** Codes of a command refused for its credential, before anything was done. */
const REFUSAL_CODES: ReadonlySet<string> = new Set(['unauthorized', 'forbidden', 'commands-disabled']);

/** An entry of a command refused for its credential (by this member or another: read from its result). */
function isCredentialRefusal(entry: Pick<AuditEntry, 'ok' | 'result'>): boolean {
  return !entry.ok && REFUSAL_CODES.has(entry.result.slice(0, entry.result.indexOf(':')));
}

/**
 * The newest entries (in the order given) whose JSON fits in AUDIT_REPLY_CHARS: a reply stays one
 * deliverable frame. The commands a credential allowed are fitted first, credential refusals in what
 * is left, so a flood of refusals cannot crowd them out of a reply.
 */
function newestFitting(entries: readonly AuditEntry[]): AuditEntry[] {
  let budget = AUDIT_REPLY_CHARS;
  const kept = new Set<AuditEntry>();
  for (const refusals of [false, true]) {
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i]!;
      if (isCredentialRefusal(entry) !== refusals) continue;
      const size = JSON.stringify(entry).length + 1;
      if (size > budget) break;
      budget -= size;
      kept.add(entry);
    }
  }
  return entries.filter((e) => kept.has(e));
}

/** Results cross the wire as JSON: drop what JSON cannot carry (undefined fields) now, so the reply validates. */
function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

/** The tokens of a token file's text (already validated by the config); none for undefined. */
function tokenSet(text: string | undefined, defaultName: string): TokenSet | undefined {
  if (text === undefined || text === '') return undefined;
  const parsed = parseTokens(text, defaultName);
  if (!parsed.ok) throw new Error(`invalid ${defaultName} token file: ${parsed.problems.join('; ')}`);
  return parsed.tokens.length > 0 ? new TokenSet(parsed.tokens) : undefined;
}

/** The executor's section of the node's config (config-sections.ts), spread whole into its options: who may command the cluster. */
export type CommandsConfig = Pick<CommandExecutorOptions, 'operatorToken' | 'viewerToken'>;

export interface CommandExecutorOptions {
  node: string;
  /** This member's incarnation: the audit log's entries are numbered within it. */
  incarnation: string;
  supervisor: DistributedSupervisor;
  /** This member's member table (clients are not in it). */
  members(): ReadonlyArray<Pick<Member, 'name' | 'status' | 'role' | 'address' | 'ready' | 'netsplit' | 'saveFailing' | 'waitsFor' | 'startedAt'>>;
  /** What this member found at start that an operator must hear of (node.ts `notices`), for `status`. */
  notices?(): readonly string[];
  clock: Clock;
  log: Logger;
  /** The operator token file's text: one token, or `name:token` lines (credentials.ts). */
  operatorToken: string | undefined;
  /** The viewer token file's text, likewise. */
  viewerToken: string | undefined;
  /** Captured output of a local OS-process child (for `logs`); throws when this node has no record of the child. */
  output?(id: string, afterSeq: number, limit: number): OutputLine[];
  /** Sends a command on to member `peer` marked `forwarded` (see the header); undefined: this node forwards nothing. */
  forward?<Op extends CommandOp>(peer: string, op: Op, args: CommandArgsInput<Op>, credential: string, by: string): Promise<CommandOutcome<Op>>;
  /** How many entries each audit ring keeps: the commands a credential allowed, and the credential refusals (1,000). */
  auditSize?: number;
}

/** `waitsFor` as a `status` reply member carries it: absent when there is none. */
const waitingOf = (w: WaitsFor | undefined): { waitsFor?: WaitsFor } => (w !== undefined ? { waitsFor: w } : {});

/** What `status` says on a member ready without having synced with any other (`knowsTheCluster`): a warning in `pogo ctl status` and `ls`. */
const ALONE_NOTICE =
  'it runs alone: it has synced with no other member since it started (its seeds did not answer, or every member it knows of is ' +
  "down), so what it lists is its own view, not necessarily the cluster's; what it cannot tell it answers not-ready";

/** What `status` says on a member without its lease (majority mode): `pogo ctl status` prints it as a warning. */
const NO_QUORUM_NOTICE =
  'no majority of the expected members confirms hearing this member (--netsplit majority): it runs and starts nothing, and a change ' +
  'given to it reaches the members it cannot hear only when they hear it again';

/**
 * What `status` says on a member (available mode) that hears at most half
 * of the members it knows, itself included (pure; undefined otherwise). It
 * cannot tell the ones it lost dead from cut off: if they run, their side
 * runs every child too, and a change given here reaches them only when they
 * hear each other again. Race "a stop through the minority answered ok":
 * `pogo ctl stop` through n3, cut off from n1 and n2, said "ok (executed by
 * n3)", exit 0, and the child ran on n2 for 34 s more, until the heal; its
 * `ls` and `status` said nothing of it (an outsider's tour, network
 * namespaces). In majority mode NO_QUORUM_NOTICE says it (and such a stop
 * fails `no-quorum`).
 */
export function minorityNotice(members: ReadonlyArray<Pick<Member, 'name' | 'status' | 'role' | 'netsplit'>>, self: string): string | undefined {
  if (members.find((m) => m.name === self)?.netsplit?.mode === 'majority') return undefined;
  const known = members.filter((m) => m.role === 'member' && m.status !== 'left');
  const unheard = known.filter((m) => m.name !== self && !isLinked(m.status)).map((m) => m.name);
  const heard = known.length - unheard.length;
  if (unheard.length === 0 || heard * 2 > known.length) return undefined;
  return (
    `it hears ${heard} of the ${known.length} members it knows (${unheard.sort().join(', ')}: down as far as it can tell; it cannot tell ` +
    'dead from cut off): if they run, their side runs every child too (available mode: a child may run on both sides until ' +
    'they hear each other again), and a change given here, a stop included, reaches them only then'
  );
}

/** Member side: checks, executes, audits. */
export class CommandExecutor {
  private readonly operator: TokenSet | undefined;
  private readonly viewer: TokenSet | undefined;
  /** The commands a credential allowed (whatever their outcome), oldest first. */
  private readonly audit: AuditEntry[] = [];
  /** Commands refused for their credential, oldest first: a ring of their own (see the header). */
  private readonly refusals: AuditEntry[] = [];
  private lastSeq = 0;

  constructor(private readonly o: CommandExecutorOptions) {
    this.operator = tokenSet(o.operatorToken, 'operator');
    this.viewer = tokenSet(o.viewerToken, 'viewer');
  }

  /** The role and token name of a credential (an operator token wins when a token is in both files). */
  private identify(credential: string): { role: 'operator' | 'viewer'; name: string } | undefined {
    const operator = this.operator?.match(credential);
    if (operator !== undefined) return { role: 'operator', name: operator };
    const viewer = this.viewer?.match(credential);
    return viewer !== undefined ? { role: 'viewer', name: viewer } : undefined;
  }

  async execute(from: string, cmd: Command): Promise<CommandReply> {
    if (OPEN_READS.has(cmd.op)) return this.openRead(cmd);
    // The audit's time is when the command was given, not when it finished: a move that waits for its node
    // (cut off, busy) was audited at its end, after commands given later, though its pin was written first.
    const at = this.o.clock.now();
    const who = this.identify(cmd.credential);
    const role = who?.role;
    let reply: CommandReply;
    if (this.operator === undefined && MUTATING_OPS.has(cmd.op)) {
      reply = this.error(cmd, 'commands-disabled', `node ${this.o.node} accepts no commands: start it with --operator-token-file`);
    } else if (role === undefined) {
      // No token at all is not a wrong one: say which (a script that forgot it should read why).
      reply =
        cmd.credential === ''
          ? this.error(cmd, 'unauthorized', `no token given: ${cmd.op} needs ${MUTATING_OPS.has(cmd.op) ? 'an operator' : 'a viewer or operator'} token`)
          : this.operator === undefined && this.viewer === undefined
            ? this.error(
                cmd,
                'unauthorized',
                `node ${this.o.node} holds no tokens to check it against: start it with --operator-token-file (and --viewer-token-file)`,
              )
            : this.error(cmd, 'unauthorized', 'the credential is not valid for this cluster');
    } else if (role === 'viewer' && MUTATING_OPS.has(cmd.op)) {
      reply = this.error(cmd, 'forbidden', `a viewer credential cannot ${cmd.op}; use an operator credential`);
    } else if (cmd.args.length > 0 && jsonBytes(cmd.args) > MAX_COMMAND_ARGS_BYTES) {
      // Measured on the arguments as they arrived (the spec, for a start), before any of them is read.
      reply = this.error(cmd, 'too-large', tooLargeMessage(cmd.op, jsonBytes(cmd.op === 'start' || cmd.op === 'submit' ? cmd.args[0] : cmd.args)));
    } else {
      const command = decodeWireCommand(cmd.op, cmd.args);
      if (!command.ok) reply = this.error(cmd, 'bad-request', command.message);
      else {
        try {
          const result = await this.run(command.value, cmd, role);
          reply = { t: 'cmd.reply', id: cmd.id, ok: true, ...(result !== undefined ? { result: toJson(result) } : {}) };
        } catch (err) {
          const failure = commandFailure(String((err as { code?: unknown }).code ?? 'failed'), (err as Error).message ?? String(err));
          reply = this.error(cmd, failure.code, failure.message);
        }
      }
    }
    if (!MUTATING_OPS.has(cmd.op) && reply.ok) return reply; // reads are not audited, refusals are
    if (cmd.op === 'submit' && reply.ok) this.recordEach(at, from, cmd, reply.result as SubmitOutcome[], who?.name);
    else this.record(at, from, cmd, reply, who?.name);
    return reply;
  }

  /** Answers a read that needs no credential (never audited). */
  private openRead(cmd: Command): CommandReply {
    const command = decodeWireCommand(cmd.op, cmd.args);
    if (!command.ok) return this.error(cmd, 'bad-request', command.message);
    const sup = this.o.supervisor;
    try {
      switch (command.value.op) {
        case 'view': {
          const view: MemberViewReply = {
            node: this.o.node,
            members: this.o.members().map((m) => ({ name: m.name, status: m.status })),
            children: sup.whichChildren('global'),
          };
          return { t: 'cmd.reply', id: cmd.id, ok: true, result: toJson(view) };
        }
        case 'status': {
          const draining = new Set(sup.draining());
          const members = this.o.members().map((m) => ({
            name: m.name,
            status: m.status,
            role: m.role,
            address: m.address,
            ready: m.ready === true,
            draining: draining.has(m.name),
            ...(m.netsplit !== undefined ? { netsplit: m.netsplit } : {}),
            ...(m.saveFailing !== undefined ? { saveFailing: m.saveFailing } : {}),
            // Whom a member not ready waits for (protocol 2.7): its READY "no" said neither why nor for whom.
            // This member's own, fresh: it announces its wait only once it has lasted a second (node.ts).
            ...(m.ready !== true ? waitingOf(m.name === this.o.node ? (sup.waitsFor ?? m.waitsFor) : m.waitsFor) : {}),
            startedAt: m.startedAt,
          }));
          // A member cut off from the majority says so: its status showed members down and children pending,
          // nothing that said it ran nothing and kept what it was told to itself (an outsider's tour).
          const notices = [
            ...(this.o.notices?.() ?? []),
            ...(sup.hasQuorum ? [] : [NO_QUORUM_NOTICE]),
            // A member ready alone (the calls tour: `status` said READY yes, no warning, while it knew nothing of the cluster).
            ...(sup.isReady && !sup.knowsTheCluster ? [ALONE_NOTICE] : []),
          ];
          const minority = minorityNotice(this.o.members(), this.o.node);
          if (minority !== undefined && !notices.includes(ALONE_NOTICE)) notices.push(minority);
          const status: MemberStatusReply = {
            node: this.o.node,
            members,
            children: sup.countChildren(),
            paused: sup.rebalancingPaused,
            ...(notices.length > 0 ? { notices: [...notices] } : {}),
          };
          return { t: 'cmd.reply', id: cmd.id, ok: true, result: toJson(status) };
        }
        case 'explain':
          return { t: 'cmd.reply', id: cmd.id, ok: true, result: toJson(sup.explain(command.value.args.id)) };
        case 'whereis':
          return { t: 'cmd.reply', id: cmd.id, ok: true, result: sup.whereis(command.value.args.id) ?? null };
        default:
          return this.error(cmd, 'bad-request', `${cmd.op} is not an open read`);
      }
    } catch (err) {
      const failure = commandFailure(String((err as { code?: unknown }).code ?? 'failed'), (err as Error).message ?? String(err));
      return this.error(cmd, failure.code, failure.message);
    }
  }

  /** Runs a validated command; undefined for ops that answer nothing (no `result` on the wire). */
  private async run(command: MemberCommand, cmd: Command, role: 'operator' | 'viewer'): Promise<unknown> {
    const sup = this.o.supervisor;
    switch (command.op) {
      case 'start':
        return sup.startChild(command.args.spec);
      case 'stop':
        await sup.terminateChild(command.args.id);
        return undefined;
      case 'move':
        return sup.moveChild(command.args.id, command.args.node);
      case 'unpin':
        sup.unpin(command.args.id);
        return this.recorded(`the unpin of ${command.args.id}`);
      case 'drain':
        sup.drain(command.args.node);
        return this.recorded(`the drain of ${command.args.node}`);
      case 'undrain':
        sup.undrain(command.args.node);
        return this.recorded(`the undrain of ${command.args.node}`);
      case 'forget':
        sup.forget(command.args.node);
        return undefined;
      case 'pause':
        sup.setRebalancing(true);
        return this.recorded('the pause of rebalancing');
      case 'resume':
        sup.setRebalancing(false);
        return this.recorded('the resume of rebalancing');
      case 'audit': {
        const cursor = command.args.after?.[this.o.node];
        // A cursor of another incarnation is from before a restart: this log began again, all of it is new.
        const after = cursor !== undefined && cursor.incarnation === this.o.incarnation ? cursor.seq : 0;
        const entries = this.auditLog();
        return newestFitting(after === 0 ? entries : entries.filter((e) => (e.seq ?? 0) > after));
      }
      case 'audit-all':
        return this.clusterAudit(cmd);
      case 'whoami':
        return { role };
      case 'logs': {
        const { id, after } = command.args;
        try {
          return this.o.output?.(id, after, 500) ?? [];
        } catch {
          // Not here: the node that runs it has its output.
          if (cmd.forwarded) throw new CommandError('not-found', `no child ${id} runs on ${this.o.node}`);
          return this.forwarded(this.runnerOf(id, false), command, cmd);
        }
      }
      case 'restart': {
        const at = this.runnerOf(command.args.id, cmd.forwarded === true);
        return at === this.o.node ? sup.restartChild(command.args.id) : this.forwarded(at, command, cmd);
      }
      case 'submit': {
        const { specs, waitMs } = command.args;
        return Promise.all(
          specs.map((spec) =>
            sup.submitChild(spec, waitMs).then(
              (s): SubmitOutcome => s,
              (err: unknown): SubmitOutcome => ({
                id: spec.id,
                refused: commandFailure(String((err as { code?: unknown }).code ?? 'failed'), (err as Error).message ?? String(err)),
              }),
            ),
          ),
        );
      }
      case 'call': {
        const { id, message, timeoutMs } = command.args;
        return sup.callDetailed(id, message, timeoutMs === undefined ? {} : { timeoutMs });
      }
      case 'view':
      case 'status':
      case 'explain':
      case 'whereis':
        return undefined; // open reads: answered before the credential check (openRead)
    }
  }

  /**
   * Every up member's audit log merged, oldest first (`audit-all`): this
   * member's own and each other's `audit`, asked with the caller's
   * credential. A refusal of the credential refuses the whole request; a
   * member that does not answer is named in `unanswered`. The newest entries
   * that fit one reply.
   */
  private async clusterAudit(cmd: Command): Promise<{ entries: AuditEntry[]; unanswered: string[] }> {
    const peers = this.o.members().filter((m) => m.role === 'member' && m.name !== this.o.node && isLinked(m.status));
    const forward = this.o.forward;
    const replies = forward
      ? await Promise.all(peers.map(async (m) => ({ member: m.name, reply: await forward(m.name, 'audit', {}, cmd.credential, cmd.by) })))
      : [];
    const entries = this.auditLog();
    const unanswered: string[] = [];
    for (const { member, reply } of replies) {
      if (reply.ok) entries.push(...reply.result);
      else if (reply.error.code === 'unauthorized' || reply.error.code === 'forbidden')
        throw new CommandError(reply.error.code, `${member}: ${reply.error.message}`);
      else unanswered.push(member);
    }
    return { entries: newestFitting(entries.sort((a, b) => a.at - b.at)), unanswered };
  }

  /**
   * The node to execute a command about `id`'s instance: this one when it
   * runs an instance (or the command was forwarded here), else the node
   * that does. Throws `not-found` / `not-running`.
   */
  private runnerOf(id: string, forwarded: boolean): string {
    if (forwarded) return this.o.node;
    const runners = this.o.supervisor.runnersOf(id);
    if (runners === undefined) {
      const none = this.o.supervisor.noChild(id); // not-found, or not-ready from a node that has not synced
      throw new CommandError(none.code, none.message);
    }
    if (runners.length === 0) throw new CommandError('not-running', `${id} is not running on any node now (pogo ctl ls shows its status)`);
    return runners.some((r) => r.node === this.o.node) ? this.o.node : runners[0]!.node;
  }

  /**
   * A change of the desired state this member made (drain, undrain, unpin,
   * pause, resume): done (undefined), or, on a member without its lease
   * (majority mode, cut off from the majority), `no-quorum` saying it is
   * recorded here and reaches the majority only when they hear this member
   * again. An outsider's tour: `pogo ctl drain n2` sent to the cut-off n3
   * said "ok" while n2 kept its children until the heal.
   */
  private recorded(what: string): undefined {
    if (this.o.supervisor.hasQuorum) return undefined;
    throw new CommandError(
      'no-quorum',
      `${what} is recorded on ${this.o.node}, but ${this.o.node} has no majority of the expected members behind it: the members it cannot hear ` +
        `learn of it only when they hear ${this.o.node} again, and act on it then (send it to a member of the majority to have it now)`,
    );
  }

  /** Forwards `command` to `peer` (see the header) and answers with its result or throws its error. */
  private async forwarded(peer: string, command: MemberCommand, cmd: Command): Promise<unknown> {
    if (!this.o.forward) throw new CommandError('not-running', `${command.op} must be executed by ${peer}, and ${this.o.node} forwards no commands`);
    const reply = await this.o.forward(peer, command.op, command.args, cmd.credential, cmd.by);
    if (!reply.ok) throw new CommandError(reply.error.code, reply.error.message);
    return reply.result;
  }

  private error(cmd: Command, code: CommandErrorCode, message: string): CommandReply {
    return { t: 'cmd.reply', id: cmd.id, ok: false, error: { code, message: message.slice(0, 2000) } };
  }

  /** A submit executed: one audit entry per spec, with its own outcome. */
  private recordEach(at: number, from: string, cmd: Command, outcomes: readonly SubmitOutcome[], tokenName: string | undefined): void {
    const specs = Array.isArray(cmd.args[0]) ? cmd.args[0] : [];
    outcomes.forEach((o, i) => {
      const spec = specs[i] ?? o.id;
      this.push(at, from, cmd, tokenName, [spec], !('refused' in o), 'refused' in o ? `${o.refused.code}: ${o.refused.message}` : 'ok');
    });
    const refused = outcomes.filter((o) => 'refused' in o).length;
    this.o.log.info({ from, by: cmd.by, tokenName, op: cmd.op, specs: outcomes.length, refused }, 'command');
  }

  private record(at: number, from: string, cmd: Command, reply: CommandReply, tokenName: string | undefined): void {
    const entry = this.push(at, from, cmd, tokenName, cmd.args, reply.ok, reply.ok ? 'ok' : `${reply.error?.code}: ${reply.error?.message}`);
    const log = reply.ok ? this.o.log.info.bind(this.o.log) : this.o.log.warn.bind(this.o.log);
    log({ from, by: cmd.by, tokenName, op: cmd.op, ok: reply.ok, result: entry.result.slice(0, 500) }, 'command');
  }

  /** An audit entry of a command given at `at` (clock time), in the ring. */
  private push(at: number, from: string, cmd: Command, tokenName: string | undefined, args: JsonValue[], ok: boolean, result: string): AuditEntry {
    const entry: AuditEntry = {
      at,
      node: this.o.node,
      from,
      by: cmd.by,
      ...(tokenName !== undefined ? { tokenName } : {}),
      incarnation: this.o.incarnation,
      seq: ++this.lastSeq,
      op: cmd.op,
      args: auditArgs(args),
      ok,
      result,
    };
    const ring = isCredentialRefusal(entry) ? this.refusals : this.audit;
    ring.push(entry);
    if (ring.length > (this.o.auditSize ?? 1000)) ring.shift();
    return entry;
  }

  /** Both rings merged in the order the entries were made (seq). */
  private auditLog(): AuditEntry[] {
    return [...this.audit, ...this.refusals].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  }
}

/**
 * What became of a change that was sent but not answered: the member may
 * have executed it (and audited it) before the link broke or the time ran
 * out. Said in the error, so that neither an operator nor a script takes
 * `unreachable` or `timeout` for "nothing happened" and applies it twice.
 */
function unanswered(op: CommandOp): string {
  if (!MUTATING_OPS.has(op)) return '';
  return op === 'call'
    ? ': the message may or may not have been handled (it is not sent again; check before sending it again)'
    : `: the ${op} may or may not have been executed (it is not sent again; check before retrying)`;
}

/**
 * Client side: sends commands and matches replies; a lost link fails the
 * pending ones. A command that could not be handed to the link fails as
 * plainly `unreachable` (nothing was sent); one sent and then not answered
 * — the link lost, or no reply in time — says, for a change, that it may
 * have been executed (`unanswered`).
 */
export class CommandClient {
  private nextId = 1;
  private readonly pending = new Map<string, { peer: string; op: CommandOp; resolve: (r: CommandReply) => void; timer: TimerHandle }>();

  constructor(
    private readonly send: (peer: string, cmd: Command) => boolean,
    private readonly clock: Clock,
  ) {}

  /**
   * Sends `op` with its named arguments to member `peer`. The member
   * validates the arguments (the caller need not: the gateway and `pogo ctl`
   * did at their own edge); the answer's result is checked here.
   */
  async request<Op extends CommandOp>(
    peer: string,
    op: Op,
    args: CommandArgsInput<Op>,
    credential: string,
    by: string,
    timeoutMs: number,
    options: { forwarded?: boolean } = {},
  ): Promise<CommandOutcome<Op>> {
    const reply = await this.exchange(peer, op, args, credential, by, timeoutMs, options.forwarded === true);
    if (!reply.ok) return { ok: false, error: commandFailure(reply.error?.code ?? 'failed', reply.error?.message ?? 'failed') };
    const result = parseMemberResult(op, reply.result);
    return result.ok
      ? { ok: true, result: result.value }
      : { ok: false, error: { code: 'bad-reply', message: `${peer} answered with ${result.message}`.slice(0, 2000) } };
  }

  private exchange<Op extends CommandOp>(
    peer: string,
    op: Op,
    args: CommandArgsInput<Op>,
    credential: string,
    by: string,
    timeoutMs: number,
    forwarded: boolean,
  ): Promise<CommandReply> {
    const id = `c${this.nextId++}`;
    // Arguments often come from a UI or a script: a command the member would refuse as malformed
    // (or one too deep to encode) fails here with a typed error instead of breaking the link.
    let wire: JsonValue[];
    try {
      wire = encodeWireArgs(op, args);
    } catch {
      return Promise.resolve({
        t: 'cmd.reply',
        id,
        ok: false,
        error: { code: 'bad-request', message: `invalid ${String(op).slice(0, 40)} command: its arguments must be an object` },
      });
    }
    const cmd: Command = { t: 'cmd', id, op, args: wire, credential, by, ...(forwarded ? { forwarded: true as const } : {}) };
    const checked = decodeWith(CommandSchema, cmd);
    if (!checked.ok)
      return Promise.resolve({
        t: 'cmd.reply',
        id,
        ok: false,
        error: { code: 'bad-request', message: `invalid ${String(op).slice(0, 40)} command: ${checked.reason}`.slice(0, 2000) },
      });
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.pending.delete(id);
        resolve({ t: 'cmd.reply', id, ok: false, error: { code: 'timeout', message: `${peer} did not answer ${op} within ${timeoutMs} ms${unanswered(op)}` } });
      }, timeoutMs);
      this.pending.set(id, { peer, op, resolve, timer });
      if (!this.send(peer, checked.message))
        this.settle({ t: 'cmd.reply', id, ok: false, error: { code: 'unreachable', message: `not linked to ${peer}: ${op} was not sent` } });
    });
  }

  settle(reply: CommandReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    this.clock.clearTimeout(p.timer);
    p.resolve(reply);
  }

  peerDown(peer: string): void {
    for (const [id, p] of this.pending)
      if (p.peer === peer)
        this.settle({
          t: 'cmd.reply',
          id,
          ok: false,
          error: { code: 'unreachable', message: `lost the link to ${peer} after ${p.op} was sent${unanswered(p.op)}` },
        });
  }
}
