/**
 * The `pogo` command line.
 *
 *   pogo node [options]       run a cluster member (or observer) in this process
 *   pogo status --url URL     print a node's live view (from its --status-port)
 *   pogo ctl <command> ...    operate a cluster (ctl.ts)
 *   pogo observe | demo       the UI gateway, a demo cluster (observe.ts, demo.ts)
 *
 * Exit codes: 0 success; 1 runtime failure (cannot listen, node unreachable);
 * 2 invalid usage or configuration (`pogo ctl` adds 3 and 4: ctl.ts).
 *
 * Start-up cost: each command's code is imported when that command runs,
 * not here, so `pogo ctl` (run once per call by scripts) loads the client
 * and no node. The `pogo` bin runs this module bundled with the client and
 * its libraries into one file (core/rolldown.config.mjs, which says what
 * stays out: the node, observe and demo commands); `node dist/cli/main.js`
 * runs the same CLI unbundled. Measured: bench/scenarios/ctl.mjs.
 */
import { readFileSync } from 'node:fs';
import { Command, Option, type CommanderError } from 'commander';
import { table } from './table.js';
import { CONFIG_FIELDS, TIMING_FIELDS, type ConfigField } from '../config.js';
import type { CtlOptions } from './ctl.js';
import type { DemoOptions } from './demo.js';
import type { ObserveOptions } from './observe.js';
import type { NodeStatus } from '../node.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The command-line option of a setting (`--heartbeat-interval-ms <n>`), described as in `pogo node --help`. */
function configOption(f: ConfigField): Option {
  const repeatable = f.type === 'list' || f.type === 'labels';
  const option = new Option(`${f.flag} <${f.type === 'int' ? 'n' : f.type === 'bool' ? 'bool' : 'value'}>`, `${f.description} [${f.env}]`);
  if (repeatable) option.argParser(collect);
  return option;
}

export function buildCli(): Command {
  const program = new Command('pogo')
    .description('Pogo for Node.js: a distributed supervisor for Node.js clusters')
    .version(pkg.version)
    .showHelpAfterError()
    .exitOverride();

  const node = program
    .command('node')
    .description('run a node: join the cluster through its seeds and stay linked to every member')
    .option('--config <file>', 'JSON file with any of the settings below (flags and POGO_* variables override it)')
    .addHelpText(
      'after',
      `
Every setting can also come from an environment variable (POGO_ + the flag in
SCREAMING_SNAKE_CASE, e.g. POGO_SECRET_FILE, POGO_SEEDS) or the --config file
(keys in camelCase, e.g. "heartbeatTimeoutMs"). Precedence: flag > environment
> file > preset > default.

Example: a three-node cluster on one machine
  head -c 32 /dev/urandom | base64 > secret.txt && chmod 600 secret.txt
  pogo node --name n1 --port 4001 --secret-file secret.txt --status-port 5001
  pogo node --name n2 --port 4002 --seeds 127.0.0.1:4001 --secret-file secret.txt
  pogo node --name n3 --port 4003 --seeds 127.0.0.1:4001 --secret-file secret.txt
  pogo status --url http://127.0.0.1:5001

Example: seeds from DNS (a Kubernetes headless Service: every pod's IP)
  pogo node --host 0.0.0.0 --advertise "$POD_IP:4370" --secret-file secret.txt \\
    --seeds dns:pogo.default.svc.cluster.local:4370`,
    );
  for (const f of CONFIG_FIELDS) node.addOption(configOption(f));
  node.action(async (opts: Record<string, unknown>) => {
    const { runNode } = await import('./run-node.js');
    await runNode(opts);
  });

  program
    .command('status')
    .description("print a node's live view: members, links, groups")
    .requiredOption('--url <url>', 'status endpoint of a node (its --status-port), e.g. http://127.0.0.1:5001 or 127.0.0.1:5001')
    .option('--json', 'print the raw JSON')
    .action(async (opts: { url: string; json?: boolean }) => {
      await runStatus(opts.url, opts.json === true);
    });
  const observe = program
    .command('observe')
    .description('join a cluster as an observer and serve the UI gateway (and the UI with --ui) on loopback')
    .option('--seed <host:port>', 'a node of the cluster (repeat for more); dns:<name>:<port> or dns-srv:<name> too, looked up periodically', collect)
    .option('--dns-server <ip[:port]>', "DNS server for dns: and dns-srv: seeds (repeat for more; or POGO_DNS_SERVER; default: the system's)", collect)
    .option('--secret-file <file>', 'the cluster secret (or POGO_SECRET_FILE / POGO_SECRET)')
    .option('--cluster <name>', 'cluster name (default: pogo)')
    .option('--name <name>', 'observer name (default: observer-<host>-<pid>)')
    .option('--host <host>', 'gateway interface (default: 127.0.0.1)')
    .option('--port <port>', 'gateway port (default: 7070; 0 picks one)')
    .option('--ui [dir]', 'serve the built renderer (default: the repository build in out/renderer)')
    .option('--tls-ca-file <file>', "CA that signed the members' certificates, when the cluster links over TLS (or POGO_TLS_CA_FILE)")
    .option('--tls-cert-file <file>', 'client certificate, when the members require one (or POGO_TLS_CERT_FILE; with --tls-key-file)')
    .option('--tls-key-file <file>', 'key of --tls-cert-file (or POGO_TLS_KEY_FILE)')
    .option('--log-level <level>', "the observer's log level: trace, debug, info, warn, error, fatal, silent (or POGO_LOG_LEVEL; default: warn)");
  for (const f of TIMING_FIELDS) observe.addOption(configOption(f));
  observe
    .addHelpText(
      'after',
      `
Timing: the observer's own failure detection, as pogo node takes it (flags,
or POGO_PRESET, POGO_HEARTBEAT_INTERVAL_MS, ...). It need not match the
members' settings: each link pings at the shorter interval of its two ends and
declares the other end down only after the longer of their two timeouts, so
the default (lan) works against a cluster on local. Give the members' preset
to notice a lost member as soon as they do, or wan for an observer behind a
slow or jittery network.

Example:
  pogo observe --seed 10.0.0.1:4370 --secret-file secret.txt --ui --preset local`,
    )
    .action(async (opts: Omit<ObserveOptions, 'seed'> & { seed?: string[] }) => {
      const { runObserve } = await import('./observe.js');
      process.exitCode = await runObserve({ ...opts, seed: opts.seed ?? (process.env['POGO_SEEDS'] ?? '').split(',').filter(Boolean) });
    });

  program
    .command('demo')
    .description('start a local demo cluster (N member processes with example workers and children) and an observer with the gateway; Ctrl-C stops everything')
    .option('--nodes <n>', 'member processes (default: 3)')
    .option('--ui [dir]', 'serve the built renderer too')
    .option('--port <port>', 'gateway port (default: 7070; 0 picks one)')
    .option('--base-port <port>', 'first member port (default: any free port)')
    .action(async (opts: DemoOptions) => {
      const { runDemo } = await import('./demo.js');
      process.exitCode = await runDemo(opts);
    });

  program
    .command('ctl')
    .description(
      'operate the cluster through one member: status | ls | explain <id> | audit | start <file|-> | stop <id> [--ignore-not-found] | ' +
        'restart <id> | logs <id> [--follow] | move <id> <node> | unpin <id> | drain <node> | undrain <node> | pause | resume | ' +
        'forget <node> | call <id> <json> | whereis <id>',
    )
    .argument('<command>', 'what to do')
    .argument('[args...]', 'its arguments')
    .option(
      '--seed <host:port>',
      'a member of the cluster (repeat for more: the first that answers executes; or POGO_SEEDS); ' +
        'dns:<name>:<port> or dns-srv:<name> stands for the addresses the name resolves to now',
      collect,
    )
    .option('--dns-server <ip[:port]>', "DNS server for dns: and dns-srv: seeds (repeat for more; or POGO_DNS_SERVER; default: the system's)", collect)
    .option('--secret-file <file>', 'the cluster secret (or POGO_SECRET_FILE / POGO_SECRET)')
    .option('--token-file <file>', 'operator or viewer token (or POGO_TOKEN); changes need the operator token, audit and logs a viewer one')
    .option('--cluster <name>', 'cluster name (default: pogo)')
    .option('--tls-ca-file <file>', "CA that signed the members' certificates, when the cluster links over TLS (or POGO_TLS_CA_FILE)")
    .option('--tls-cert-file <file>', 'client certificate, when the members require one (or POGO_TLS_CERT_FILE; with --tls-key-file)')
    .option('--tls-key-file <file>', 'key of --tls-cert-file (or POGO_TLS_KEY_FILE)')
    .option('--by <name>', 'who you are, for the audit log (default: $USER)')
    .option('--timeout <ms>', 'how long to wait for the cluster, ms (default: 15000)')
    .option('--follow', 'logs: keep printing new lines until Ctrl-C')
    .option('--ignore-not-found', 'stop: exit 0 when the cluster holds no such child (stopped already, or never started)')
    .option('--json', 'print JSON for scripts: { ok: true, result } or { ok: false, error: { code, message } }')
    .addHelpText('after', CTL_HELP)
    .action(async (command: string, args: string[], opts: Omit<CtlOptions, 'seed'> & { seed?: string[] }) => {
      const { runCtl } = await import('./ctl.js');
      await exitOnceWritten(await runCtl(command, args, { ...opts, seed: opts.seed ?? (process.env['POGO_SEEDS'] ?? '').split(',').filter(Boolean) }));
    });
  return program;
}

const CTL_HELP = `
pogo ctl links to one member, as a client (it joins nothing and leaves no
trace in the cluster's status): the first --seed that answers, in the order
given. That member executes the commands and records them in its audit log.

Commands:
  status                 members and child counts, as the member sees them
  ls                     every child: status, node, OS pid of command
                         children; while rebalancing is paused, ON RESUME
                         says where each child goes when it resumes
  explain <id>           why a child runs where it does
  audit                  every member's audit log, merged (viewer token)
  start <file|->         start the spec, every spec of a JSON array, or one
                         spec per line (JSON lines), in the file (- reads
                         stdin); each is accepted (the cluster holds it:
                         its state is printed) or refused
  stop <id>              stop a child and remove its spec; with
                         --ignore-not-found, no such child is exit 0
  restart <id>           a new instance of the child on the node it runs
                         on, started fresh: the old instance hands no
                         state over (to keep it, move the child instead)
  logs <id> [--follow]   a command child's output (viewer token); stderr
                         lines start with "stderr| "; --follow keeps going,
                         across moves and restarts, until Ctrl-C
  move <id> <node>       pin a child to a node;  unpin <id>: hand it back
  drain <node>, undrain <node>, pause, resume, forget <node>
  call <id> <json>       send a JSON message to the child and print its
                         reply (operator token; --timeout bounds the call);
                         <json> - reads the message from stdin
  whereis <id>           the node and pid of the child's running instance

Tokens: reads need none; a token given is checked first anyway, so a wrong
one exits 4. Changes need the operator token.

Exit codes:
  0 done
  1 the command failed (start: some spec was refused)
  2 bad usage or configuration (a wrong --cluster name included)
  3 no member could be reached, the link was lost, or the member did not
    answer within --timeout (a change may or may not have been executed)
  4 a credential was refused: the token (or none was given for a change),
    or the cluster secret (auth-failed: retrying will not help)
With --json, stdout holds { ok: true, result } on success and
{ ok: false, error: { code, message } } on every failure.

Examples:
  pogo ctl ls --seed 10.0.0.1:4370 --seed 10.0.0.2:4370 --secret-file /etc/pogo/secret
  pogo ctl start specs.json --seed 10.0.0.1:4370 --secret-file /etc/pogo/secret --token-file ~/.pogo/operator
  generate-specs | pogo ctl start - --json ...
  pogo ctl logs mailer-eu --follow --token-file ~/.pogo/viewer ...`;

/**
 * Ends a `pogo ctl` call as soon as its output is written (every earlier
 * write to stdout and stderr has completed once an empty one has). Letting
 * the event loop run dry instead would also wait out the link's close
 * handshake with the member — the WebSocket close frame there and back,
 * then TCP's — which held a finished call for 25 to 135 ms on the loaded
 * test machine; the member treats the link's end the same either way.
 */
async function exitOnceWritten(code: number): Promise<void> {
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))));
  process.exit(code);
}

async function runStatus(url: string, json: boolean): Promise<void> {
  let body: NodeStatus;
  try {
    // host:port alone (as every other pogo flag takes addresses) means http://host:port.
    const base = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`;
    const res = await fetch(`${base.replace(/\/+$/, '').replace(/\/status$/, '')}/status`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    body = (await res.json()) as NodeStatus;
  } catch (err) {
    process.stderr.write(`pogo status: cannot read ${url}: ${(err as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return;
  }
  const rows = body.members.map((m) => [
    m.name,
    m.status,
    m.role,
    m.address,
    m.incarnation,
    Object.entries(m.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',') || '-',
  ]);
  process.stdout.write(`node ${body.name} (cluster ${body.cluster}, incarnation ${body.incarnation})\n\n`);
  process.stdout.write(table(['NAME', 'STATUS', 'ROLE', 'ADDRESS', 'INCARNATION', 'LABELS'], rows));
  const sup = body.supervisor;
  const c = sup.cluster;
  process.stdout.write(
    `\nchildren: ${c.specs} in the cluster (${c.running} running, ${c.pending} pending, ${c.moving} moving, ` +
      `${c.duplicate} duplicate, ${c.failing} failing, ${c.unplaceable} unplaceable); ${sup.local.active} on this node` +
      `${sup.draining.length > 0 ? `; draining: ${sup.draining.join(', ')}` : ''}` +
      `${sup.paused ? '; rebalancing paused' : ''}${sup.ready ? '' : '; this node is not ready yet'}\n`,
  );
  // Saving to the data dir (absent without one, and from an older node's status): said only while it fails.
  const saving = body.stateSaving;
  if (saving?.failingSince !== undefined)
    process.stdout.write(
      `warning: saving the desired state to the data dir has failed since ${new Date(saving.failingSince).toISOString()} ` +
        `(${saving.lastError ?? 'unknown error'})\n`,
    );
  // DNS seeds (absent from an older node's status).
  for (const d of body.discovery ?? [])
    process.stdout.write(`seed ${d.seed}: ${d.addresses.length > 0 ? d.addresses.join(', ') : `no address${d.problem ? ` (${d.problem})` : ''}`}\n`);
  // The supervisor's own scope ('pogo') is summarised above; list the application's groups.
  const groups = Object.entries(body.groups)
    .filter(([scope]) => scope !== 'pogo')
    .flatMap(([scope, gs]) => Object.entries(gs).map(([g, members]) => [scope, g, String(members.length)]));
  if (groups.length > 0) process.stdout.write(`\n${table(['SCOPE', 'GROUP', 'MEMBERS'], groups)}`);
}

/**
 * A reader that stops early (`pogo ctl ls | head`) closes the pipe, and the
 * next write fails with EPIPE: the client commands then end quietly with their
 * own exit code, as Unix tools do, instead of dying on an unhandled error;
 * so does help (`pogo node --help | head`). A node (`pogo node`, `observe`,
 * `demo`) keeps Node's default: its log going nowhere is not something to
 * hide.
 */
function endQuietlyOnClosedPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}

export async function main(argv: string[]): Promise<void> {
  const command = argv.slice(2).find((a) => !a.startsWith('-'));
  const help = argv.slice(2).some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-V') || command === undefined || command === 'help';
  if (command === 'ctl' || command === 'status' || help) endQuietlyOnClosedPipe();
  const program = buildCli();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const code = (err as { exitCode?: number; code?: string }).exitCode;
    const name = (err as { code?: string }).code;
    if (name === 'commander.helpDisplayed' || name === 'commander.version' || name === 'commander.help') {
      process.exitCode = 0;
      return;
    }
    if (code !== undefined) {
      // `pogo ctl --json` promises the error object on every failure, bad usage included (commander said why on stderr).
      if (argv.slice(2).includes('ctl') && argv.includes('--json')) {
        const message = (err as CommanderError).message.replace(/^error: /, '');
        process.stdout.write(`${JSON.stringify({ ok: false, error: { code: 'usage', message } })}\n`);
      }
      process.exitCode = 2;
      return;
    }
    throw err;
  }
}

await main(process.argv);
