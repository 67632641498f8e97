/**
 * `pogo node`: run a cluster member (or observer) in this process.
 *
 * Its own module, imported by main.ts only when `pogo node` runs, for two
 * reasons. Start-up: the other commands (`pogo ctl` above all) never load
 * the node. And one copy of module state: the `pogo` bin is a bundle
 * (core/rolldown.config.mjs) that leaves this module, and everything it
 * imports, to the library's own compiled files, so a worker module loaded
 * with `--workers` that imports 'pogo-core' shares this process's worker
 * registry, its AsyncLocalStorage scope and its classes (the `ConfigError`
 * PogoNode.start throws is the one caught here) instead of meeting a second
 * copy inside the bundle.
 *
 * Exit codes: 1 the node cannot start (cannot listen); 2 invalid
 * configuration or a worker module that cannot be loaded.
 */
import { ConfigError, loadConfig } from '../config.js';
import { configSections } from '../config-sections.js';
import type { PogoNode } from '../node.js';
import type { StatusServer } from '../status-server.js';
import { watchParent } from '../util/watch-parent.js';

/** Runs the node with the options commander parsed (flags; `config`: the --config file). */
export async function runNode(opts: Record<string, unknown>): Promise<void> {
  const { config: file, ...flags } = opts;
  const warnings: string[] = [];
  let config;
  try {
    config = loadConfig({ flags, env: process.env, warnings, ...(typeof file === 'string' ? { file } : {}) });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`pogo node: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  const [{ createLogger }, { PogoNode }, { startStatusServer, STATUS_ENDPOINTS }, { loadWorkerModules }, { defaultWorkers, installWorkerFaultHandlers }] =
    await Promise.all([
      import('../logger.js'),
      import('../node.js'),
      import('../status-server.js'),
      import('../supervisor/load-workers.js'),
      import('../supervisor/workers.js'),
    ]);
  const log = createLogger({ level: config.logLevel });
  // Secret, token and key files other users can read: said once, at start.
  for (const warning of warnings) log.warn({}, warning);
  installWorkerFaultHandlers(log, (err) => {
    log.error({ err }, 'uncaught exception outside any worker; exiting so the service manager restarts the node');
    process.exit(1);
  });
  try {
    await loadWorkerModules(config.workers, defaultWorkers);
  } catch (err) {
    process.stderr.write(`pogo node: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  if (config.workers.length > 0) log.info({ workers: defaultWorkers.names() }, 'worker types loaded');

  // Signal handlers go in before the node starts: a SIGTERM that lands while
  // it starts (a service manager's stop right after its start) must still
  // end in a graceful leave, not in the default action, which kills the
  // process outright.
  let node: PogoNode | undefined;
  let status: StatusServer | undefined;
  let stopSignal: string | undefined;
  const stopNode = (running: PogoNode, signal: string): void => {
    log.info({ signal }, 'shutting down');
    void (async () => {
      try {
        await running.stop(`received ${signal}`);
        await status?.close();
      } catch (err) {
        log.error({ err }, 'error during shutdown');
      } finally {
        process.exit(); // 0 unless a failure set process.exitCode
      }
    })();
  };
  const shutdown = (signal: string): void => {
    if (stopSignal !== undefined) return;
    stopSignal = signal;
    if (node !== undefined) stopNode(node, signal); // else: once the start has finished
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // Race "a launcher killed outright": `pogo demo` or the desktop app SIGKILLed ran no stop, and its
  // members ran on, orphans, for as long as nobody looked.
  if (config.stopWithParent)
    watchParent((parent) => {
      log.warn({ parent }, `the process that started this node (pid ${parent}) is gone; stopping (--stop-with-parent)`);
      shutdown('parent gone');
    });

  // The status port is tried before the node starts: a node that has joined (and maybe taken
  // children) is not worth starting for it to leave again because that port is taken.
  const statusConfig = configSections(config).status;
  if (statusConfig !== undefined) {
    const taken = await listenProblem(statusConfig.host, statusConfig.port);
    if (taken !== undefined) {
      process.stderr.write(`pogo node: cannot serve the status endpoint on --status-port ${statusConfig.host}:${statusConfig.port}: ${taken}\n`);
      process.exitCode = 1;
      return;
    }
  }
  try {
    node = await PogoNode.start(config, { log });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`pogo node: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      process.stderr.write(`pogo node: cannot listen on --host/--port ${config.host}:${config.port}: ${listenWords(code)}\n`);
    } else {
      log.error({ err, host: config.host, port: config.port }, `cannot start node: ${(err as Error).message}`);
    }
    process.exitCode = 1;
    return;
  }
  if (stopSignal !== undefined) {
    stopNode(node, stopSignal);
    return;
  }
  if (statusConfig !== undefined) {
    try {
      status = await startStatusServer(node, statusConfig);
    } catch (err) {
      // Race "the port was taken meanwhile": leave as on SIGTERM, and say why.
      log.error({ err }, `cannot serve the status endpoint on ${statusConfig.host}:${statusConfig.port}; leaving`);
      process.stderr.write(
        `pogo node: cannot serve the status endpoint on --status-port ${statusConfig.host}:${statusConfig.port}: ${(err as Error).message}\n`,
      );
      stopSignal = 'status endpoint failed';
      stopNode(node, stopSignal);
      process.exitCode = 1;
      return;
    }
    log.info({ url: status.url, endpoints: STATUS_ENDPOINTS }, 'status endpoint listening');
  }
  // The listening server keeps the process alive (the node's own timers are unref'ed).
}

/** Why listening on host:port fails now (in words), or undefined when it can (the probe closes at once). */
async function listenProblem(host: string, port: number): Promise<string | undefined> {
  if (port === 0) return undefined;
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(listenWords(err.code ?? err.message)));
    probe.listen(port, host, () => probe.close(() => resolve(undefined)));
  });
}

function listenWords(code: string): string {
  if (code === 'EADDRINUSE') return 'the address is already in use (another process listens there)';
  if (code === 'EACCES') return 'permission denied (ports below 1024 need privileges)';
  if (code === 'EADDRNOTAVAIL') return 'no interface of this machine has that address';
  return code;
}
