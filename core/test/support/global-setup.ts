/**
 * Builds core/dist once before the core tests, so the real-process tests run
 * the CLI compiled from the sources under test, never a stale build.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const coreDir = fileURLToPath(new URL('../..', import.meta.url));
  const tsc = fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url));
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: coreDir, stdio: 'inherit' });
}
