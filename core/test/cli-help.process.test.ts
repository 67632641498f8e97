/**
 * `pogo … --help` read by a reader that stops early (`pogo node --help |
 * head -1`): the help ends quietly with exit 0, as a Unix tool's would, not
 * with an unhandled EPIPE and its stack trace.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI } from './support/processes.js';

/** Runs `pogo ...args` with its stdout's read end closed before it writes; its exit code and stderr. */
async function helpIntoClosedPipe(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  // The reader goes away at once: the CLI's first write (well after its start-up) meets a closed pipe.
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, stderr };
}

describe('pogo help into a closed pipe', () => {
  it.each(['node --help', '--help', 'ctl --help', 'help node'])(
    'pogo %s ends with 0 and no trace',
    async (line) => {
      const { code, stderr } = await helpIntoClosedPipe(line.split(' '));
      expect(stderr).not.toMatch(/EPIPE|Unhandled|at /);
      expect(code).toBe(0);
    },
    30_000,
  );
});
