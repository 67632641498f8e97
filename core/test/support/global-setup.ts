/**
 * Builds core/dist once before the core tests, so the real-process tests run
 * the CLI compiled from the sources under test, never a stale build: tsc's
 * output, then the CLI's bundle made from it (core/rolldown.config.mjs),
 * which the `pogo` bin runs.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const coreDir = fileURLToPath(new URL('../..', import.meta.url));
  const tsc = fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url));
  const rolldown = fileURLToPath(new URL('../../../node_modules/rolldown/bin/cli.mjs', import.meta.url));
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: coreDir, stdio: 'inherit' });
  execFileSync(process.execPath, [rolldown, '-c', 'rolldown.config.mjs', '--logLevel', 'warn'], { cwd: coreDir, stdio: 'inherit' });
}
