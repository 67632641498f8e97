/**
 * Command routing: what the gateway does with a UI session's `command`.
 *
 * 1. Validate: parseUiCommand (ui-protocol.ts), once, here at the edge; a
 *    refusal is `bad-request` naming the field.
 * 2. Check access: `explain`, `whereis`, `lock` and `unlock` are open to every
 *    session (explain and whereis read what the observer shows anyway); `audit` and
 *    `logs` need a viewer or operator credential (a locked operator session
 *    reads as a viewer does); every other op needs an operator session that
 *    is not locked. A refusal is `read-only`, saying what would do.
 * 3. Route:
 *      explain   answered here, from the observer's own supervisor
 *      lock      the session drops its operator rights (sessionAccess):
 *                its commands are refused here until it unlocks; it gets a
 *                snapshot for its new access (PatchFeed.resend)
 *      unlock    the session's own credential is checked again by a member
 *                (a token revoked meanwhile does not come back); refused,
 *                the session stays locked and keeps working
 *      audit     sent to every up member with the reader's cursors
 *                (`after`: each member answers only what is newer); their
 *                logs merged, oldest first; members that did not answer are
 *                listed (`unanswered`); a member refusing the credential
 *                refuses the whole request. A member of an older release
 *                takes no cursors: asked again without them
 *      logs      sent to the node the child runs on (its output is there)
 *      the rest  sent to one member (memberToAsk: one the other members
 *                cannot hear only when no other is linked), which checks the
 *                credential again, executes and audits (`restart`: a member
 *                passes it on to the node that runs the child; a `too-large`
 *                refusal is also logged here, naming who sent it; `call`
 *                waits as long as the call's own timeout, and a moment more)
 *
 * Every path answers with a CommandAck; an exception becomes `failed`, so
 * whatever a client sends, it gets a typed answer and the gateway serves on.
 */
import type { PogoNode } from '../node.js';
import type { CommandOp } from '../protocol.js';
import { credentialRole } from './auth.js';
import { memberToAsk } from './member-to-ask.js';
import { sessionAccess, type SessionData } from './server.js';
import type { Access } from './state.js';
import { jsonBytes } from './command-size.js';
import {
  commandFailure,
  DEFAULT_CALL_TIMEOUT_MS,
  parseUiCommand,
  type AuditEntry,
  type CommandAck,
  type CommandArgs,
  type CommandArgsInput,
  type CommandErrorCode,
  type CommandFailure,
  type UiCommand,
} from './ui-protocol.js';

const AUDIT_TIMEOUT_MS = 5_000;
const LOGS_TIMEOUT_MS = 5_000;
const COMMAND_TIMEOUT_MS = 30_000;

const fail = (code: CommandErrorCode, message: string): { ok: false; error: CommandFailure } => ({ ok: false, error: { code, message } });

/** Why a session may not send `op`, or undefined when it may. */
export function accessRefusal(op: UiCommand['op'], access: Access): string | undefined {
  if (op === 'explain' || op === 'lock' || op === 'unlock' || op === 'whereis') return undefined;
  if (op === 'audit' || op === 'logs') return access === 'none' ? `${op} needs a viewer or operator credential` : undefined;
  switch (access) {
    case 'operator':
      return undefined;
    case 'locked':
      return 'this session is locked: unlock it to change the cluster';
    case 'viewer':
      return 'this session uses a viewer credential: it can watch the cluster but not change it';
    case 'none':
      return 'this session is read-only: connect with an operator credential to change the cluster';
  }
}

/** A UI session as the router sees it: what it may do and who it is (mutable: lock, unlock), and how to tell its feed. */
export interface RoutedSession {
  data: SessionData;
  /** Its access changed: send it a snapshot for the new one. */
  accessChanged(): void;
}

export class CommandRouter {
  /** `onStop`: a session asks to stop a child (the timeline names who: event-intake.ts StopNote). */
  constructor(
    private readonly node: PogoNode,
    private readonly onStop: (id: string, user: string) => void = () => {},
  ) {}

  /** Answers one `command` payload from a session. Never rejects. */
  async route(session: RoutedSession, raw: unknown): Promise<CommandAck> {
    try {
      const command = parseUiCommand(raw);
      if (!command.ok) return fail('bad-request', command.message);
      const refusal = accessRefusal(command.value.op, sessionAccess(session.data));
      if (refusal) return fail('read-only', refusal);
      return await this.execute(session, command.value);
    } catch (err) {
      return fail('failed', `the command could not be handled: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500));
    }
  }

  private async execute(routed: RoutedSession, command: UiCommand): Promise<CommandAck> {
    const session = routed.data;
    switch (command.op) {
      case 'explain':
        try {
          return { ok: true, result: this.node.supervisor.explain(command.args.id) };
        } catch (err) {
          return { ok: false, error: commandFailure(String((err as { code?: unknown }).code ?? 'failed'), err instanceof Error ? err.message : String(err)) };
        }
      case 'lock':
        return this.lock(routed);
      case 'unlock':
        return this.unlock(routed);
      case 'audit':
        return this.audit(session, command.args);
      case 'logs':
        return this.logs(session, command.args);
      default:
        return this.forward(session, command);
    }
  }

  private lock(routed: RoutedSession): CommandAck<'lock'> {
    if (routed.data.access === 'operator' && !routed.data.locked) {
      routed.data.locked = true;
      routed.accessChanged();
    }
    return { ok: true, result: { access: sessionAccess(routed.data) } };
  }

  private async unlock(routed: RoutedSession): Promise<CommandAck<'unlock'>> {
    const session = routed.data;
    if (!session.locked) return { ok: true, result: { access: sessionAccess(session) } };
    const role = await credentialRole(this.node, session.credential, session.user);
    // Refused (revoked meanwhile) or not checkable: the session stays as it is, locked, and keeps working.
    if ('refused' in role)
      return fail(role.refused.startsWith('unauthorized') ? 'unauthorized' : 'unreachable', role.refused.replace(/^(unauthorized|unreachable): /, ''));
    // Race: two unlocks (or a lock) may be in flight; whichever answers last sets the state, and each resends it.
    session.access = role.access;
    session.locked = false;
    routed.accessChanged();
    return { ok: true, result: { access: sessionAccess(session) } };
  }

  /** The ops one member executes: to the member memberToAsk picks. */
  private async forward(
    session: SessionData,
    command: Extract<UiCommand, { op: Exclude<CommandOp, 'audit' | 'logs' | 'view' | 'whoami'> }>,
  ): Promise<CommandAck> {
    const to = memberToAsk(this.node);
    if (!to) return fail('unreachable', 'no member is reachable');
    const send = async <Op extends CommandOp>(op: Op, args: CommandArgsInput<Op>) => {
      const reply = await this.node.command(to, op, args, session.credential, session.user, COMMAND_TIMEOUT_MS);
      if (!reply.ok && reply.error.code === 'too-large')
        this.node.log.warn({ by: session.user, op, member: to, bytes: jsonBytes(args) }, `refused a ${op} from ${session.user}: ${reply.error.message}`);
      return reply;
    };
    switch (command.op) {
      case 'start':
        return send('start', command.args);
      case 'stop': {
        this.onStop(command.args.id, session.user);
        const reply = await send('stop', command.args);
        return reply.ok ? { ok: true, result: null } : reply;
      }
      case 'move':
        return send('move', command.args);
      case 'restart':
        return send('restart', command.args);
      case 'whereis':
        return send('whereis', command.args);
      case 'call': {
        // The member waits up to the call's own timeout (DEFAULT_CALL_TIMEOUT_MS when none is given); its answer needs a moment more.
        const reply = await this.node.command(
          to,
          'call',
          command.args,
          session.credential,
          session.user,
          (command.args.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS) + COMMAND_TIMEOUT_MS,
        );
        return reply;
      }
      default: {
        const reply = await send(command.op, command.args);
        return reply.ok ? { ok: true, result: null } : reply;
      }
    }
  }

  private async audit(session: SessionData, args: CommandArgs<'audit'>): Promise<CommandAck<'audit'>> {
    const members = this.node.members().filter((m) => m.role === 'member' && m.status === 'up');
    if (members.length === 0) return fail('unreachable', 'no member is reachable');
    const ask = async (member: string) => {
      const reply = await this.node.command(member, 'audit', args, session.credential, session.user, AUDIT_TIMEOUT_MS);
      // A member of an older release takes no arguments: its whole log, then.
      if (!reply.ok && reply.error.code === 'bad-request' && args.after !== undefined)
        return this.node.command(member, 'audit', {}, session.credential, session.user, AUDIT_TIMEOUT_MS);
      return reply;
    };
    const replies = await Promise.all(members.map(async (m) => ({ member: m.name, reply: await ask(m.name) })));
    const entries: AuditEntry[] = [];
    const unanswered: string[] = [];
    for (const { member, reply } of replies) {
      if (reply.ok) entries.push(...reply.result);
      else if (reply.error.code === 'unauthorized' || reply.error.code === 'forbidden') return { ok: false, error: reply.error };
      else unanswered.push(member);
    }
    entries.sort((a, b) => a.at - b.at);
    return { ok: true, result: { entries, unanswered } };
  }

  private async logs(session: SessionData, args: CommandArgs<'logs'>): Promise<CommandAck<'logs'>> {
    const child = this.node.supervisor.whichChildren('global').find((c) => c.id === args.id);
    if (!child) return fail('not-found', `no child ${JSON.stringify(args.id)}`);
    if (!child.node) return fail('not-running', `${args.id} is not running on any node`);
    const reply = await this.node.command(child.node, 'logs', args, session.credential, session.user, LOGS_TIMEOUT_MS);
    return reply.ok ? { ok: true, result: { node: child.node, lines: reply.result } } : reply;
  }
}
