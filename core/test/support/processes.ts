/**
 * Real `pogo node` OS processes for integration tests, on the one cluster
 * harness (core/src/harness/process-cluster.ts): spawned from the built CLI
 * on ephemeral loopback ports with a status endpoint, their JSON log lines
 * (level info) parsed as they come, and every one of them stopped by pid
 * when the test ends (`stopAll`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProcessCluster as HarnessCluster } from '../../src/harness/process-cluster.js';

export { POGO_CLI as CLI, type LogLine } from '../../src/harness/launch.js';
export { PogoProcess as NodeProcess } from '../../src/harness/pogo-process.js';

/** Preloaded into every process started here: it exits once the test runner that started it is gone (fixtures/exit-with-parent.mjs). */
export const EXIT_WITH_PARENT = new URL('../fixtures/exit-with-parent.mjs', import.meta.url).href;

/** The harness's cluster as the integration tests use it: `pogo-it-` directory, status endpoints, info logs kept, no process outliving its runner. */
export class ProcessCluster extends HarnessCluster {
  constructor(secret = 'integration-secret-0123456789abcdef') {
    super({ prefix: 'pogo-it-', secret, status: true, env: { POGO_LOG_LEVEL: 'info' }, nodeOptions: ['--import', EXIT_WITH_PARENT] });
  }
}

/**
 * A process that keeps one core busy until it is killed or the runner that
 * started it is gone: load for the tests that need a loaded machine, never
 * left behind by a killed runner. The loop runs in a worker thread, so the
 * main one stays free for EXIT_WITH_PARENT's check.
 */
export function spawnCpuHog(): ChildProcess {
  const code = "new (require('node:worker_threads').Worker)('for(;;){}', { eval: true });";
  return spawn(process.execPath, ['--import', EXIT_WITH_PARENT, '-e', code], { stdio: 'ignore' });
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
}
