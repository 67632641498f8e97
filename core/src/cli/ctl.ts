/**
 * `pogo ctl`: operate a cluster from a terminal or a script.
 *
 * It joins the cluster as a short-lived observer (it needs the cluster
 * secret to link, and never hosts children), reads what it needs from its
 * own view, and sends changes to a member as commands carrying the operator
 * token, which the member checks and records in its audit log.
 *
 * The words after the command are the op's fields in the order CTL_FIELDS
 * gives (`move <id> <node>`), checked with the op's schema
 * (observer/ui-protocol.ts) before anything is sent: a bad one is a usage
 * error naming the field. The member to ask is the one chooseMember picks.
 *
 * Exit codes scripts can trust:
 *   0 done   1 the command failed (typed error printed)   2 bad usage or configuration
 *   3 the cluster could not be reached   4 the token was refused
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { chooseMember } from '../choose-member.js';
import { ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { PogoNode } from '../node.js';
import { parseCommandArgs, type AuditEntry, type CommandArgs, type CommandArgsInput, type MemberResults } from '../observer/ui-protocol.js';
import type { CommandOp } from '../protocol.js';
import { table } from './table.js';

export interface CtlOptions {
  seed: string[];
  secretFile?: string;
  tokenFile?: string;
  cluster?: string;
  json?: boolean;
  timeout?: string;
  by?: string;
}

export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, unauthorized: 4 } as const;

class CtlExit extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Each command's words, named: `spec` is read from the file given. `status`, `ls`, `explain` and `audit` read; the rest are member ops. */
export const CTL_FIELDS = {
  status: [],
  ls: [],
  explain: ['id'],
  audit: [],
  start: ['spec'],
  stop: ['id'],
  move: ['id', 'node'],
  unpin: ['id'],
  drain: ['node'],
  undrain: ['node'],
  pause: [],
  resume: [],
  forget: ['node'],
} as const satisfies Record<string, readonly string[]>;
type CtlCommand = keyof typeof CTL_FIELDS;

export async function runCtl(command: string, args: string[], opts: CtlOptions): Promise<number> {
  const out = (text: string): void => void process.stdout.write(text);
  const fail = (code: number, message: string): number => {
    if (opts.json) out(`${JSON.stringify({ ok: false, error: { code: code === EXIT.unreachable ? 'unreachable' : code === EXIT.usage ? 'usage' : 'failed', message } })}\n`);
    process.stderr.write(`pogo ctl: ${message}\n`);
    return code;
  };
  if (!Object.hasOwn(CTL_FIELDS, command)) return fail(EXIT.usage, `unknown command ${JSON.stringify(command)}; try pogo ctl --help`);
  const fields: readonly string[] = CTL_FIELDS[command as CtlCommand];
  if (args.length !== fields.length) return fail(EXIT.usage, `${command} takes ${fields.length} argument(s)${fields.length > 0 ? ` (${fields.join(', ')})` : ''}, got ${args.length}`);
  const named: Record<string, unknown> = Object.fromEntries(fields.map((f, i) => [f, args[i]]));
  if (command === 'start') {
    try {
      named['spec'] = JSON.parse(readFileSync(args[0]!, 'utf8'));
    } catch (err) {
      return fail(EXIT.usage, `cannot read the spec file ${args[0]}: ${(err as Error).message}`);
    }
  }
  // Checked here, at the command line, with the op's own schema: a bad argument never reaches the cluster.
  const checkedOp = command === 'status' || command === 'ls' ? undefined : (command as Exclude<CtlCommand, 'status' | 'ls'>);
  let parsed: unknown;
  if (checkedOp) {
    const checked = parseCommandArgs(checkedOp, named);
    if (!checked.ok) return fail(EXIT.usage, checked.message);
    parsed = checked.value;
  }
  if (opts.seed.length === 0) return fail(EXIT.usage, 'give --seed host:port of a cluster node');

  const timeoutMs = Number(opts.timeout ?? 15_000);
  let config;
  try {
    config = loadConfig({
      flags: { name: `ctl-${hostname().replace(/[^A-Za-z0-9._-]/g, '-')}-${process.pid}`.slice(0, 128), role: 'observer', port: '0', seeds: opts.seed, readyTimeoutMs: String(timeoutMs), logLevel: 'silent', ...(opts.secretFile ? { secretFile: opts.secretFile } : {}), ...(opts.cluster ? { cluster: opts.cluster } : {}) },
      env: process.env,
    });
  } catch (err) {
    return fail(EXIT.usage, err instanceof ConfigError ? err.message : (err as Error).message);
  }
  let token = process.env['POGO_TOKEN'] ?? '';
  if (opts.tokenFile) {
    try {
      token = readFileSync(opts.tokenFile, 'utf8').trim();
    } catch (err) {
      return fail(EXIT.usage, `cannot read --token-file ${opts.tokenFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }

  const node = await PogoNode.start(config, { log: createLogger({ level: 'silent' }) });
  try {
    const deadline = performance.now() + timeoutMs;
    while (!(node.supervisor.isReady && node.upMembers().length > 1)) {
      if (performance.now() > deadline) throw new CtlExit(EXIT.unreachable, `could not join the cluster through ${opts.seed.join(', ')} within ${timeoutMs} ms (wrong address, secret or cluster name?)`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const target = chooseMember(node.members());
    const by = opts.by ?? process.env['USER'] ?? 'ctl';
    const send = async <Op extends CommandOp>(op: Op, cmdArgs: CommandArgsInput<Op>): Promise<MemberResults[Op]> => {
      if (!target) throw new CtlExit(EXIT.unreachable, 'no member of the cluster is reachable');
      const reply = await node.command(target, op, cmdArgs, token, by, timeoutMs);
      if (!reply.ok) {
        const code = reply.error.code;
        const exit = code === 'unauthorized' || code === 'forbidden' || code === 'commands-disabled' ? EXIT.unauthorized : code === 'unreachable' ? EXIT.unreachable : EXIT.failed;
        if (opts.json) out(`${JSON.stringify({ ok: false, error: reply.error })}\n`);
        throw new CtlExit(exit, `${op} failed (${code}): ${reply.error.message}`);
      }
      return reply.result;
    };
    const done = (human: string, data: unknown): void => void out(opts.json ? `${JSON.stringify({ ok: true, result: data ?? null })}\n` : human);
    // `parsed` is what parseCommandArgs(command, ...) returned above, and each case asks for its own command's.
    const argsOf = <Op extends CommandOp | 'explain'>(_op: Op): CommandArgs<Op> => parsed as CommandArgs<Op>;

    switch (command as CtlCommand) {
      case 'status': {
        const status = node.status();
        const view = { members: status.members.filter((m) => m.role === 'member'), children: status.supervisor.cluster, draining: status.supervisor.draining, paused: status.supervisor.paused };
        const rows = view.members.map((m) => [m.name, m.status, m.role, m.address, m.ready ? 'yes' : 'no', view.draining.includes(m.name) ? 'yes' : 'no']);
        const c = view.children;
        done(`${table(['NAME', 'STATUS', 'ROLE', 'ADDRESS', 'READY', 'DRAINING'], rows)}\nchildren: ${c.specs} (${c.running} running, ${c.pending} pending, ${c.moving} moving, ${c.failing} failing, ${c.unplaceable} unplaceable)${view.paused ? '; rebalancing paused' : ''}\n`, view);
        break;
      }
      case 'ls': {
        const children = node.supervisor.whichChildren('global').sort((a, b) => (a.id < b.id ? -1 : 1));
        const rows = children.map((c) => [c.id, c.status, c.node ?? '-', c.owner ?? '-', c.pin ?? '-', c.pid ?? '-', c.lastError ?? '']);
        done(table(['ID', 'STATUS', 'NODE', 'OWNER', 'PIN', 'PID', 'LAST ERROR'], rows), children);
        break;
      }
      case 'explain': {
        const e = node.supervisor.explain(argsOf('explain').id);
        const rows = e.candidates.filter((c) => !c.excludedBy.includes('observer')).map((c) => [c.node, c.score === undefined ? '-' : c.score.toFixed(4), c.node === e.owner ? 'owner' : '', c.excludedBy.join(', ')]);
        const waiting = e.waiting.map((w) => `waiting: ${w}\n`).join('');
        done(`${e.id}: owner ${e.owner ?? 'none'} (by ${e.by})${e.pin ? `, pinned to ${e.pin}` : ''}${e.paused ? ', rebalancing paused' : ''}\n\n${table(['NODE', 'SCORE', '', 'EXCLUDED BY'], rows)}${waiting ? `\n${waiting}` : ''}`, e);
        break;
      }
      case 'start': {
        const r = await send('start', argsOf('start'));
        done(`started ${r.id} on ${r.node} (${r.pid})\n`, r);
        break;
      }
      case 'move': {
        const r = await send('move', argsOf('move'));
        done(`moved ${r.id} to ${r.node} (${r.pid})\n`, r);
        break;
      }
      case 'stop':
      case 'unpin':
      case 'drain':
      case 'undrain':
      case 'pause':
      case 'resume':
      case 'forget': {
        const op = command as 'stop' | 'unpin' | 'drain' | 'undrain' | 'pause' | 'resume' | 'forget';
        await send(op, argsOf(op));
        done(`${command}${args.length > 0 ? ` ${args.join(' ')}` : ''}: ok\n`, null);
        break;
      }
      case 'audit': {
        const all: AuditEntry[] = [];
        for (const m of node.members().filter((x) => x.role === 'member' && (x.status === 'up' || x.status === 'suspect'))) {
          const reply = await node.command(m.name, 'audit', {}, token, by, timeoutMs);
          if (!reply.ok && (reply.error.code === 'unauthorized' || reply.error.code === 'forbidden')) throw new CtlExit(EXIT.unauthorized, `audit refused by ${m.name}: ${reply.error.message}`);
          if (reply.ok) all.push(...reply.result);
        }
        all.sort((a, b) => a.at - b.at);
        const rows = all.map((e) => [new Date(e.at).toISOString(), e.node, e.by, e.from, `${e.op} ${e.args.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ')}`.slice(0, 80), e.result]);
        done(table(['WHEN', 'NODE', 'BY', 'FROM', 'COMMAND', 'RESULT'], rows), all);
        break;
      }
    }
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CtlExit) {
      process.stderr.write(`pogo ctl: ${err.message}\n`);
      return err.code;
    }
    const code = (err as { code?: string }).code;
    if (opts.json) out(`${JSON.stringify({ ok: false, error: { code: code ?? 'failed', message: (err as Error).message } })}\n`);
    process.stderr.write(`pogo ctl: ${(err as Error).message}\n`);
    return EXIT.failed;
  } finally {
    await node.stop('ctl done', 500).catch(() => undefined);
  }
}
