/**
 * Chaos on real processes, the bounded CI version of reliability/chaos.mjs:
 * five `pogo node` processes with 300 children; for about 75 s (at least one
 * round of each fault: SIGKILL and restart, SIGSTOP/SIGCONT, rolling
 * graceful restart, partition — network namespaces where the machine allows
 * it, else a frozen side), with children started and stopped meanwhile.
 * After every quiet period the script checks DESIGN §3.5 against what the
 * node processes really run. Fixed seed; no timing is asserted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';

const CHAOS = fileURLToPath(new URL('../../reliability/chaos.mjs', import.meta.url));
const SEED = 20261123;

/** Runs a reliability script; `done` resolves with its exit code and its output (stdout and stderr). */
function runScript(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; output: string }> } {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
  const done = new Promise<{ code: number | null; output: string }>((resolve) => child.on('close', (code) => resolve({ code, output })));
  return { child, done };
}

/** SIGINT (the script stops its nodes and removes its namespaces), then SIGKILL after 20 s; by pid. */
async function stopScript(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

let child: ChildProcess | undefined;
const dir = mkdtempSync(join(tmpdir(), 'pogo-chaos-test-'));
afterEach(async () => {
  await stopScript(child);
  child = undefined;
  rmSync(dir, { recursive: true, force: true });
});

interface ChaosResult {
  seed: number;
  partitionMethod: 'netns' | 'freeze';
  faults: { total: number; kills: number; freezes: number; rolling: number; partitions: number };
  childrenLost: number;
  duplicatesAfterQuiescence: number;
  longestRecoveryMs: number;
  violations: Array<{ invariant: string; ids: string[]; detail: string }>;
}

it('5 nodes, 300 children, every kind of fault: no child lost, no duplicate after quiescence', { timeout: 420_000 }, async () => {
  const json = join(dir, 'chaos.json');
  const args = [CHAOS, '--nodes', '5', '--children', '300', '--duration', '75s', '--min-rounds', '4', '--seed', String(SEED), '--quiet', '2s', '--json', json];
  const run = runScript(args);
  child = run.child;
  const { code, output } = await run.done;
  const result = JSON.parse(readFileSync(json, 'utf8')) as ChaosResult;
  const figure = output.split('\n').filter((l) => l.startsWith(`chaos: seed ${SEED},`)).at(-1);
  console.log(figure);
  expect(result.violations, output.slice(-6000)).toEqual([]);
  expect(code, output.slice(-3000)).toBe(0);
  expect(result.childrenLost).toBe(0);
  expect(result.duplicatesAfterQuiescence).toBe(0);
  // Every kind of fault was applied at least once (the first four rounds are one of each).
  expect(result.faults.kills).toBeGreaterThan(0);
  expect(result.faults.freezes).toBeGreaterThan(0);
  expect(result.faults.rolling).toBeGreaterThan(0);
  expect(result.faults.partitions).toBeGreaterThan(0);
});
