/**
 * Builds core/dist once before the core tests, so the real-process tests run
 * the CLI compiled from the sources under test, never a stale build: tsc's
 * output, then the CLI's bundle made from it (core/rolldown.config.mjs),
 * which the `pogo` bin runs, and the bundle's code cache (core/bin/bundle.js).
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const coreDir = fileURLToPath(new URL('../..', import.meta.url));
  // Resolved as core's own dev dependencies, wherever npm put them (core alone, or hoisted in the repository).
  const require = createRequire(new URL('../../package.json', import.meta.url));
  const tsc = require.resolve('typescript/bin/tsc');
  const rolldownPackage = require.resolve('rolldown/package.json');
  const rolldown = join(dirname(rolldownPackage), (require(rolldownPackage) as { bin: { rolldown: string } }).bin.rolldown);
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: coreDir, stdio: 'inherit' });
  execFileSync(process.execPath, [rolldown, '-c', 'rolldown.config.mjs', '--logLevel', 'warn'], { cwd: coreDir, stdio: 'inherit' });
  // The bundle's V8 code cache, as `npm run build` writes it (core/bin/bundle.js).
  execFileSync(process.execPath, ['bin/bundle.js', '--write-cache'], { cwd: coreDir, stdio: 'inherit' });
}
