/**
 * Running the reliability scripts (reliability/*.mjs) from tests: output
 * collected, and a stop that lets the script clean up (SIGINT: it stops its
 * nodes and removes its namespaces) before a SIGKILL, by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/** Runs a script with Node; `done` resolves with its exit code and its output (stdout and stderr). */
export function runScript(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; output: string }> } {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
  const done = new Promise<{ code: number | null; output: string }>((resolve) => child.on('close', (code) => resolve({ code, output })));
  return { child, done };
}

/** SIGINT, then SIGKILL after 20 s; by pid. */
export async function stopScript(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/**
 * For a test file that runs a script: a scratch directory, and `run`
 * (runScript) whose process is stopped, by pid, after each test; the
 * directory goes then too.
 */
export function scriptHarness(prefix: string): { dir: string; run: typeof runScript } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let child: ChildProcess | undefined;
  afterEach(async () => {
    await stopScript(child);
    child = undefined;
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    run: (args) => {
      const started = runScript(args);
      child = started.child;
      return started;
    },
  };
}
