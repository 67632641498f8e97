/**
 * Real `pogo node` OS processes for integration tests, on the one cluster
 * harness (core/src/harness/process-cluster.ts): spawned from the built CLI
 * on ephemeral loopback ports with a status endpoint, their JSON log lines
 * (level info) parsed as they come, and every one of them stopped by pid
 * when the test ends (`stopAll`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProcessCluster as HarnessCluster } from '../../src/harness/process-cluster.js';

export { POGO_CLI as CLI, type LogLine } from '../../src/harness/launch.js';
export { PogoProcess as NodeProcess } from '../../src/harness/pogo-process.js';

/** The harness's cluster as the integration tests use it: `pogo-it-` directory, status endpoints, info logs kept. */
export class ProcessCluster extends HarnessCluster {
  constructor(secret = 'integration-secret-0123456789abcdef') {
    super({ prefix: 'pogo-it-', secret, status: true, env: { POGO_LOG_LEVEL: 'info' } });
  }
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
}
