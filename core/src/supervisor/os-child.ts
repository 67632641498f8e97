/**
 * Runs an OS process as a child.
 *
 * - Spawned in its own process group (`detached`), so stopping it signals
 *   the whole group: nothing it forked is left behind. When the child ends,
 *   for any reason, the group gets a final SIGKILL for stragglers.
 * - On Linux, when `setpriv` is present, the child is started through
 *   `setpriv --pdeathsig SIGKILL`, which sets the parent-death signal and
 *   then execs the command (same pid, no extra process): if the node itself
 *   is killed with SIGKILL, its direct children die with it instead of
 *   running on as duplicates of what the cluster restarts elsewhere; a
 *   child whose node died before the signal was set does not run at all
 *   (`launchArgs`).
 * - Environment: the node's environment minus every `POGO_*` variable (the
 *   cluster secret must not leak into children), plus the spec's `env`.
 * - stdout and stderr are captured line by line into the child's LogRing.
 * - Exit: code 0 → normal; another code → error; a signal → killed.
 * - Stop: SIGTERM to the group, SIGKILL after the shutdown time
 *   (`brutal_kill`: SIGKILL at once; `infinity`: wait).
 * - Messages: a spec with `ipc` gets a channel (fd 3 with json-lines, or
 *   Node's IPC), exposed as `channel` (ipc-channel.ts, ipc-ports.ts); without
 *   `ipc` the child has none and its stdio is exactly what it was.
 * - A planned move (`takeHandover`; an OS child hands no state over): the
 *   instance is closed to new messages (local-supervisor.ts), and the calls
 *   it took are let be answered, within the handover timeout, before the
 *   SIGTERM. Race "a move kills the calls under way" (the calls tour: 18 of
 *   a move's calls failed `not-running`, "exited before it replied", from a
 *   child that exits at once on SIGTERM, as Node, Python and sh do by
 *   default). Casts have no answer to wait for: one written just before the
 *   stop is handled only by a child that reads its input to the end on
 *   SIGTERM (docs/children.md).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { CommandStart, Shutdown } from './child-spec.js';
import { DEFAULT_IPC_MAX_MESSAGE_BYTES, DEFAULT_IPC_MAX_QUEUED_BYTES, IpcChannel, type IpcLimits } from './ipc-channel.js';
import { connectIpc, ipcEnv, ipcStdio } from './ipc-ports.js';
import type { Logger } from '../logger.js';
import type { LogRing } from './log-ring.js';
import { describeExit, type ExitReason } from './restart-policy.js';
import { StartError, delay, type InstanceContext, type RunningChild } from './running-child.js';

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => process.platform === 'linux' && existsSync(p));
const SH = SETPRIV !== undefined && existsSync('/bin/sh') ? '/bin/sh' : undefined;
/** Run by /bin/sh between setpriv and the command: `$1` is the node's pid (see `launchArgs`). */
const PARENT_GUARD = '[ "$PPID" = "$1" ] || exit 137; shift; exec "$@"';

/**
 * The program and arguments that start `executable`. On Linux with setpriv:
 * `setpriv --pdeathsig SIGKILL`, then — race "the node killed during a
 * start" (an outsider's tour: a node SIGKILLed while it spawned a child left
 * that child running under init, for good, while the cluster ran or stopped
 * it elsewhere) — a shell that checks its parent is still the node before it
 * execs the command: the parent-death signal is set only if the parent is
 * alive then, and a parent that died before it is never signalled. Same
 * pid all along (each step execs the next).
 */
export function launchArgs(executable: string, args: readonly string[], nodePid = process.pid): [string, string[]] {
  if (SETPRIV === undefined) return [executable, [...args]];
  if (SH === undefined) return [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', executable, ...args]];
  return [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', SH, '-c', PARENT_GUARD, 'pogo-child', String(nodePid), executable, ...args]];
}

/** Finds an executable like the shell would; undefined when there is none. */
export function resolveExecutable(command: string, cwd: string | undefined, pathEnv = process.env['PATH'] ?? ''): string | undefined {
  const executable = (p: string): boolean => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (command.includes('/')) {
    const full = isAbsolute(command) ? command : resolve(cwd ?? process.cwd(), command);
    return executable(full) ? full : undefined;
  }
  for (const dir of pathEnv.split(delimiter)) {
    if (dir && executable(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('POGO_')) env[k] = v;
  return { ...env, ...extra };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/**
 * What to do about a spawn that failed for want of file descriptors (each
 * OS child holds two or three pipes here): a tour with `ulimit -n 200`
 * started 87 of 200 children, the rest failing with a bare EMFILE.
 */
function spawnHint(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EMFILE')
    return ' (this node has too many files open: each OS child holds 2-3 pipes; raise its limit: LimitNOFILE= in its systemd unit, ulimit -n)';
  if (code === 'ENFILE') return ' (the system has too many files open: fs.file-max)';
  return '';
}

const DEFAULT_LIMITS: IpcLimits = { maxMessageBytes: DEFAULT_IPC_MAX_MESSAGE_BYTES, maxQueuedBytes: DEFAULT_IPC_MAX_QUEUED_BYTES };

/** A planned move's wait (see the header): the calls under way answered, within `timeoutMs`; no state. */
async function settleCalls(channel: IpcChannel, timeoutMs: number, log: Logger): Promise<undefined> {
  const calls = channel.pendingCalls;
  if (calls > 0 && !(await channel.settled(timeoutMs)))
    log.warn(
      { calls: channel.pendingCalls, handoverTimeoutMs: timeoutMs },
      `calls still unanswered after ${timeoutMs} ms; the instance is stopped and their callers are told the outcome is unknown`,
    );
  return undefined;
}

export async function startOsChild(start: CommandStart, ctx: InstanceContext, ring: LogRing, limits: IpcLimits = DEFAULT_LIMITS): Promise<RunningChild> {
  if (start.cwd !== undefined && !existsSync(start.cwd)) throw new StartError(`working directory ${start.cwd} does not exist`);
  const executable = resolveExecutable(start.command, start.cwd, start.env['PATH'] ?? process.env['PATH']);
  if (!executable) throw new StartError(`command not found or not executable: ${start.command}`);
  const [file, argv] = launchArgs(executable, start.args);
  const child = spawn(file, argv, {
    cwd: start.cwd,
    env: { ...childEnv(start.env), ...ipcEnv(start.ipc) },
    detached: true,
    stdio: ipcStdio(start.ipc),
  });
  // Connected before the first tick, so nothing the child writes is missed.
  const channel = start.ipc ? new IpcChannel(ctx.clock, ctx.log, limits) : undefined;
  if (channel && start.ipc) connectIpc(start.ipc, child, channel, limits.maxMessageBytes, ctx.log);
  await new Promise<void>((resolveSpawn, reject) => {
    child.once('spawn', () => resolveSpawn());
    child.once('error', (err) => reject(new StartError(`cannot start ${start.command}: ${err.message}${spawnHint(err)}`)));
  });
  const pid = child.pid!;
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => ring.write('stdout', chunk, ctx.clock.now()));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => ring.write('stderr', chunk, ctx.clock.now()));
  child.on('error', (err) => ctx.log.warn({ err: err.message, osPid: pid }, 'child process error'));

  let exited = false;
  const exitWaiters: Array<() => void> = [];
  child.once('exit', (code, signal) => {
    exited = true;
    ring.end(ctx.clock.now());
    killGroup(pid, 'SIGKILL');
    const reason: ExitReason = signal ? { kind: 'killed', signal } : code === 0 ? { kind: 'normal' } : { kind: 'error', message: `exit code ${code}` };
    channel?.exited(describeExit(reason));
    ctx.onExit(reason);
    for (const w of exitWaiters.splice(0)) w();
  });
  const exitedPromise = (): Promise<void> => (exited ? Promise.resolve() : new Promise((r) => exitWaiters.push(r)));

  return {
    osPid: pid,
    ...(channel ? { channel, takeHandover: (timeoutMs: number) => settleCalls(channel, timeoutMs, ctx.log) } : {}),
    async stop(shutdown: Shutdown): Promise<void> {
      if (exited) return;
      if (shutdown === 'brutal_kill') {
        killGroup(pid, 'SIGKILL');
        return exitedPromise();
      }
      killGroup(pid, 'SIGTERM');
      if (shutdown === 'infinity') return exitedPromise();
      const timer = delay(ctx.clock, shutdown);
      const result = await Promise.race([exitedPromise().then(() => 'exited' as const), timer.promise.then(() => 'timeout' as const)]);
      timer.cancel();
      if (result === 'timeout') {
        ctx.log.warn({ osPid: pid, shutdownMs: shutdown }, `child did not exit within ${shutdown} ms of SIGTERM; sending SIGKILL`);
        killGroup(pid, 'SIGKILL');
        await exitedPromise();
      }
    },
  };
}
