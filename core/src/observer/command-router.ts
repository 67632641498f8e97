/**
 * Command routing: what the gateway does with a UI session's `command`.
 *
 * 1. Validate: parseUiCommand (ui-protocol.ts), once, here at the edge; a
 *    refusal is `bad-request` naming the field.
 * 2. Check access: `explain` is open to every session (it reads what the
 *    observer shows anyway); `audit` and `logs` need a viewer or operator
 *    credential; every other op needs an operator one. A refusal is
 *    `read-only`, saying which credential would do.
 * 3. Route:
 *      explain   answered here, from the observer's own supervisor
 *      audit     sent to every up member; their logs merged, oldest first;
 *                members that did not answer are listed (`unanswered`); a
 *                member refusing the credential refuses the whole request
 *      logs      sent to the node the child runs on (its output is there)
 *      the rest  sent to one member (chooseMember), which checks the
 *                credential again, executes and audits
 *
 * Every path answers with a CommandAck; an exception becomes `failed`, so
 * whatever a client sends, it gets a typed answer and the gateway serves on.
 */
import { chooseMember } from '../choose-member.js';
import type { PogoNode } from '../node.js';
import type { CommandOp } from '../protocol.js';
import type { SessionData } from './server.js';
import { commandFailure, parseUiCommand, type AuditEntry, type CommandAck, type CommandArgs, type CommandArgsInput, type CommandErrorCode, type CommandFailure, type UiCommand } from './ui-protocol.js';

const AUDIT_TIMEOUT_MS = 5_000;
const LOGS_TIMEOUT_MS = 5_000;
const COMMAND_TIMEOUT_MS = 30_000;

const fail = (code: CommandErrorCode, message: string): { ok: false; error: CommandFailure } => ({ ok: false, error: { code, message } });

/** Why a session may not send `op`, or undefined when it may. */
export function accessRefusal(op: UiCommand['op'], access: SessionData['access']): string | undefined {
  if (op === 'explain') return undefined;
  if (op === 'audit' || op === 'logs') return access === 'none' ? `${op} needs a viewer or operator credential` : undefined;
  if (access === 'operator') return undefined;
  return access === 'viewer' ? 'this session uses a viewer credential: it can watch the cluster but not change it' : 'this session is read-only: connect with an operator credential to change the cluster';
}

export class CommandRouter {
  constructor(private readonly node: PogoNode) {}

  /** Answers one `command` payload from a session. Never rejects. */
  async route(session: SessionData, raw: unknown): Promise<CommandAck> {
    try {
      const command = parseUiCommand(raw);
      if (!command.ok) return fail('bad-request', command.message);
      const refusal = accessRefusal(command.value.op, session.access);
      if (refusal) return fail('read-only', refusal);
      return await this.execute(session, command.value);
    } catch (err) {
      return fail('failed', `the command could not be handled: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500));
    }
  }

  private async execute(session: SessionData, command: UiCommand): Promise<CommandAck> {
    switch (command.op) {
      case 'explain':
        try {
          return { ok: true, result: this.node.supervisor.explain(command.args.id) };
        } catch (err) {
          return { ok: false, error: commandFailure(String((err as { code?: unknown }).code ?? 'failed'), err instanceof Error ? err.message : String(err)) };
        }
      case 'audit':
        return this.audit(session);
      case 'logs':
        return this.logs(session, command.args);
      default:
        return this.forward(session, command);
    }
  }

  /** The ops one member executes: to the member chooseMember picks. */
  private async forward(session: SessionData, command: Extract<UiCommand, { op: Exclude<CommandOp, 'audit' | 'logs' | 'view' | 'whoami'> }>): Promise<CommandAck> {
    const to = chooseMember(this.node.members());
    if (!to) return fail('unreachable', 'no member is reachable');
    const send = <Op extends CommandOp>(op: Op, args: CommandArgsInput<Op>) => this.node.command(to, op, args, session.credential, session.user, COMMAND_TIMEOUT_MS);
    switch (command.op) {
      case 'start':
        return send('start', command.args);
      case 'move':
        return send('move', command.args);
      default: {
        const reply = await send(command.op, command.args);
        return reply.ok ? { ok: true, result: null } : reply;
      }
    }
  }

  private async audit(session: SessionData): Promise<CommandAck<'audit'>> {
    const members = this.node.members().filter((m) => m.role === 'member' && m.status === 'up');
    if (members.length === 0) return fail('unreachable', 'no member is reachable');
    const replies = await Promise.all(members.map(async (m) => ({ member: m.name, reply: await this.node.command(m.name, 'audit', {}, session.credential, session.user, AUDIT_TIMEOUT_MS) })));
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
