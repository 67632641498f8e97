/**
 * The pure decisions of the cluster harness (process-cluster.ts): the
 * `pogo node` command line for a node, the command that runs it (Node.js
 * flags, a prefix such as `ip netns exec`), the child's environment, and
 * reading the JSON log lines through which a process says where it listens.
 * Log lines cross a process boundary, so they are checked with a schema;
 * a line that is not one is kept as text, never fatal.
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The `pogo` command line's entry (core/bin/pogo.js). */
export const POGO_CLI: string = fileURLToPath(new URL('../../bin/pogo.js', import.meta.url));

/** How one `pogo node` is started: its `pogo node` flags. */
export interface NodeSpec {
  /** The node's name (`--name`). */
  name: string;
  /** The cluster secret's file. */
  secretFile: string;
  /** Listening interface (default: the CLI's, 127.0.0.1). */
  host?: string;
  /** Listening port; 0 (the default) picks a free one. */
  port?: number;
  /** Status endpoint port (0: a free one); omitted: no status endpoint. */
  statusPort?: number;
  /** host:port of members to join through. */
  seeds?: readonly string[];
  /** Any further `pogo node` flags (e.g. `--data-dir`, `--preset`). */
  flags?: readonly string[];
}

/** The `pogo node …` arguments (after the CLI's path) for `spec`. */
export function nodeCommandLine(spec: NodeSpec): string[] {
  return [
    'node',
    '--name',
    spec.name,
    ...(spec.host !== undefined ? ['--host', spec.host] : []),
    '--port',
    String(spec.port ?? 0),
    ...(spec.statusPort !== undefined ? ['--status-port', String(spec.statusPort)] : []),
    '--secret-file',
    spec.secretFile,
    ...(spec.seeds ?? []).flatMap((s) => ['--seeds', s]),
    ...(spec.flags ?? []),
  ];
}

/** How a `pogo` process is launched, whatever its subcommand. */
export interface LaunchOptions {
  /** Executable that runs the CLI (default: process.execPath; under Electron, Electron's binary with ELECTRON_RUN_AS_NODE). */
  execPath?: string;
  /** Node.js flags before the CLI's path (`--import` a hook, `--expose-gc`, `--cpu-prof`). */
  nodeOptions?: readonly string[];
  /** A command prefix that execs the rest, e.g. `['ip', 'netns', 'exec', 'ns1']`. */
  wrap?: readonly string[];
  /** Variables added to the environment (undefined removes one). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Leave out every POGO_* variable of this process's environment (the demo: a user's settings must not leak in). */
  dropPogoEnv?: boolean;
  /** Append stdout and stderr to this file instead of piping them here. */
  logFile?: string;
  /** With pipes: how many of the last output lines to keep (default: all). */
  keepLines?: number;
  /** With pipes: pass stderr through to this process's stderr instead of keeping it. */
  inheritStderr?: boolean;
  /** A stdin pipe and an fd 3 pipe, for a control hook. */
  control?: boolean;
  /** Working directory (default: this process's). */
  cwd?: string;
  /** It serves a status endpoint: read its URL too before it counts as started. */
  expectStatus?: boolean;
}

/** The executable and arguments that run `pogo <cliArgs>` as `launch` asks. */
export function spawnCommand(
  launch: Pick<LaunchOptions, 'execPath' | 'nodeOptions' | 'wrap'>,
  cliArgs: readonly string[],
  cli: string = POGO_CLI,
): { command: string; args: string[] } {
  const execPath = launch.execPath ?? process.execPath;
  const nodeArgs = [...(launch.nodeOptions ?? []), cli, ...cliArgs];
  const wrap = launch.wrap ?? [];
  if (wrap.length === 0) return { command: execPath, args: nodeArgs };
  return { command: wrap[0]!, args: [...wrap.slice(1), execPath, ...nodeArgs] };
}

/** The child's environment: `base` (less POGO_* with `dropPogoEnv`) with `env` laid over it. */
export function childEnvironment(
  base: Readonly<Record<string, string | undefined>>,
  launch: Pick<LaunchOptions, 'env' | 'dropPogoEnv'>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !(launch.dropPogoEnv && k.startsWith('POGO_'))) out[k] = v;
  for (const [k, v] of Object.entries(launch.env ?? {})) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** A JSON line of a `pogo` process: pino's (a level, a message, any fields), or a CLI's own output line (`pogo demo`: no level, read as 0). */
export const LogLineSchema = z.looseObject({ level: z.number().default(0), msg: z.string() });

/** One log line as the harness keeps it. */
export type LogLine = z.infer<typeof LogLineSchema>;

/** Parses one output line; anything that is not a pino JSON line is kept as `(not json) <text>` at level 0. */
export function readLogLine(text: string): LogLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { level: 0, msg: `(not json) ${text}` };
  }
  const line = LogLineSchema.safeParse(parsed);
  return line.success ? line.data : { level: 0, msg: `(not json) ${text}` };
}

/** What a log line tells of where a process listens. */
export interface StartInfo {
  /** The cluster address, from "node started". */
  address?: string;
  /** Its incarnation, from "node started". */
  incarnation?: string;
  /** The status endpoint's base URL, from "status endpoint listening". */
  statusUrl?: string;
  /** The gateway's URL with its token, from `pogo observe` / `pogo demo`'s "gateway listening". */
  gatewayUrl?: string;
}

/** The start information in `line`, if any. */
export function startInfo(line: LogLine): StartInfo {
  const str = (key: string): string | undefined => (typeof line[key] === 'string' ? line[key] : undefined);
  if (line.msg === 'node started') {
    const address = str('address');
    const incarnation = str('incarnation');
    return { ...(address !== undefined ? { address } : {}), ...(incarnation !== undefined ? { incarnation } : {}) };
  }
  if (line.msg === 'status endpoint listening') {
    const url = str('url');
    return url !== undefined ? { statusUrl: url } : {};
  }
  if (line.msg === 'gateway listening') {
    const url = str('url');
    return url !== undefined ? { gatewayUrl: url } : {};
  }
  return {};
}
