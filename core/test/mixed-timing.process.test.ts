/**
 * Mixed timing settings on real processes, under CPU load (issue 14): two
 * members on the `local` preset and one on the default (`lan`), a real
 * `pogo observe` on the default, two busy loops on the machine's cores, and
 * `pogo ctl` starting and stopping children (each call another short-lived
 * observer on the default preset) for at least 60 s.
 *
 * Before links derived their heartbeat from both ends (link.ts, "Mixed
 * settings"), the local members timed out every link of a node that pings
 * once a second, and such runs logged dozens of member-downs and hundreds of
 * real child stops and restarts. Judged from each process's own record
 * (fixtures/record-hook.mjs): no member-down anywhere; every child has
 * exactly the instances the traffic asked for, by the members' own records
 * of their local children; and every start or stop the observer reported is
 * in those records. No timing is asserted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { CLI, EXIT_WITH_PARENT, NodeProcess, ProcessCluster, spawnCpuHog, writeJson } from './support/processes.js';
import { isAlive, killStrays, until } from './support/wait.js';

const HOOK = new URL('./fixtures/record-hook.mjs', import.meta.url).href;
/** Operation under load, at least. */
const LOADED_MS = 60_000;
const INITIAL = Array.from({ length: 12 }, (_, i) => `k${i}`);

interface Line {
  t: number;
  k: 'start' | 'member' | 'child' | 'dist';
  [field: string]: unknown;
}

const cluster = new ProcessCluster();
const strays: number[] = [];
afterAll(async () => {
  killStrays(strays);
  await cluster.stopAll();
});

const recordFile = (name: string): string => join(cluster.dir, `${name}.record.jsonl`);
function record(name: string): Line[] {
  const file = recordFile(name);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Line);
}

/** Runs `pogo ctl` to the end (bounded); its pid is killed if the test ends first. */
function ctl(args: string[], seed: string, tokenFile: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(
    process.execPath,
    [CLI, 'ctl', ...args, '--seed', seed, '--secret-file', cluster.secretFile, '--token-file', tokenFile, '--json', '--timeout', '30000'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  strays.push(child.pid!);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

interface Instance {
  node: string;
  id: string;
  /** Known once it runs (the record's `starting` line has none). */
  pid: string | undefined;
  /** Index of its `starting` line in the member's record, and of the line that ended it. */
  startedAt: number;
  endedAt: number | undefined;
}

/**
 * The instances each member's own record says it ran. An instance begins
 * with `starting` (a restart in place, running → starting, is a new one:
 * the child really stopped), gets its pid with `running`, and ends with
 * `stopped`, `removed` or `failing`.
 */
function memberInstances(members: readonly string[]): Instance[] {
  const all: Instance[] = [];
  for (const node of members) {
    const open = new Map<string, Instance>();
    record(node).forEach((l, index) => {
      if (l.k !== 'child') return;
      const id = String(l['id']);
      const current = open.get(id);
      const to = l['to'];
      if (to === 'starting') {
        if (current) current.endedAt = index;
        const inst: Instance = { node, id, pid: undefined, startedAt: index, endedAt: undefined };
        all.push(inst);
        open.set(id, inst);
      } else if (to === 'running' && current && typeof l['pid'] === 'string') current.pid = l['pid'];
      else if ((to === 'stopped' || to === 'removed' || to === 'failing') && current) {
        current.endedAt = index;
        open.delete(id);
      }
    });
  }
  return all;
}

const key = (i: { node: string; id: string; pid: string | undefined }): string => `${i.node} ${i.id} ${i.pid ?? '?'}`;

it(
  '2 local members + 1 lan member, a lan observer and pogo ctl, 60 s under CPU load: no member-down, no child stop or start nobody asked for',
  { timeout: 180_000 },
  async () => {
    const operatorToken = cluster.writeSecret('operator.txt', 'operator-token-0123456789abcdef');
    const children = writeJson(
      cluster.dir,
      'children.json',
      INITIAL.map((id, i) => ({ id, start: { worker: i % 2 === 0 ? 'counter' : 'ticker', args: { intervalMs: 5_000 } } })),
    );
    const member = (name: string, preset: 'local' | 'lan', seeds: string[], extra: string[] = []) =>
      cluster.start(name, seeds, ['--preset', preset, '--workers', 'examples', '--operator-token-file', operatorToken, ...extra], {
        nodeOptions: ['--import', HOOK],
        env: { POGO_TEST_RECORD: recordFile(name) },
      });
    const m1 = await member('m1', 'local', [], ['--children', children]);
    await member('m2', 'local', [m1.address]);
    await member('m3', 'lan', [m1.address]);
    const members = ['m1', 'm2', 'm3'];
    // Settled: the initial children placed over the three members (moved off m1 as the others
    // joined), each running once by the members' own records.
    const runningIds = (): string[] =>
      memberInstances(members)
        .filter((i) => i.endedAt === undefined)
        .map((i) => i.id)
        .sort();
    await cluster.until(
      async () => {
        const s = await m1.status();
        const c = s.supervisor.cluster;
        return (
          s.supervisor.ready &&
          s.members.filter((m) => m.role === 'member' && m.status === 'up').length === 3 &&
          c.running === INITIAL.length &&
          c.moving === 0 &&
          c.pending === 0 &&
          JSON.stringify(runningIds()) === JSON.stringify([...INITIAL].sort())
        );
      },
      30_000,
      'three members ready, the initial children placed and running',
    );

    // The observer: a real `pogo observe`, default timing.
    const preload = ['--import', EXIT_WITH_PARENT, '--import', HOOK];
    const observerChild = spawn(
      process.execPath,
      [...preload, CLI, 'observe', '--seed', m1.address, '--secret-file', cluster.secretFile, '--port', '0', '--name', 'obs'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, POGO_TEST_RECORD: recordFile('obs') },
      },
    );
    const observer = new NodeProcess('obs', observerChild);
    cluster.procs.push(observer);
    await observer.waitForLog((l) => l.msg === 'gateway listening', 20_000, 'the gateway');
    await until(
      () => members.every((m) => record('obs').some((l) => l.k === 'member' && l['kind'] === 'member-up' && l['peer'] === m)),
      20_000,
      'the observer sees every member',
    );

    // The links use the derived numbers at both ends.
    const links = (await m1.status()).links;
    expect(links.find((l) => l.peer === 'm2')?.heartbeat).toEqual({ intervalMs: 200, suspectAfterMs: 600, timeoutMs: 1_000 });
    expect(links.find((l) => l.peer === 'm3')?.heartbeat).toEqual({ intervalMs: 200, suspectAfterMs: 2_000, timeoutMs: 3_000 });
    expect(links.find((l) => l.peer === 'obs')?.heartbeat).toEqual({ intervalMs: 200, suspectAfterMs: 2_000, timeoutMs: 3_000 });

    // From here on every start and stop of an instance must be one the traffic asks for.
    const baseline = new Map(members.map((m) => [m, record(m).length]));

    // CPU load: one busy loop per core of this 2-core machine.
    const load: ChildProcess[] = [0, 1].map(() => spawnCpuHog());
    for (const p of load) strays.push(p.pid!);
    const loadedSince = performance.now();

    // Traffic: pogo ctl starts a child, stops one, starts one..., one call after another.
    const started: string[] = [];
    const stopped: string[] = [];
    const failedCalls: string[] = [];
    let n = 0;
    const seeds = [m1.address, (await m1.status()).members.find((m) => m.name === 'm3')!.address];
    while (performance.now() - loadedSince < LOADED_MS) {
      const seed = seeds[n % seeds.length]!;
      if (n % 3 === 2 && started.length + INITIAL.length > stopped.length) {
        const id = [...INITIAL, ...started].find((x) => !stopped.includes(x))!;
        const result = await ctl(['stop', id], seed, operatorToken);
        if (result.code === 0) stopped.push(id);
        else failedCalls.push(`stop ${id}: ${result.code} ${result.out.slice(0, 300)}`);
      } else {
        const id = `x${n}`;
        const spec = join(cluster.dir, `${id}.json`);
        writeFileSync(spec, JSON.stringify({ id, start: { worker: 'counter', args: { intervalMs: 2_000 } } }));
        const result = await ctl(['start', spec], seed, operatorToken);
        if (result.code === 0) started.push(id);
        else failedCalls.push(`start ${id}: ${result.code} ${result.out.slice(0, 300)}`);
      }
      n++;
    }
    const loadAlive = load.every((p) => isAlive(p.pid!));
    for (const p of load) p.kill('SIGKILL');
    const loadedMs = performance.now() - loadedSince;

    // The end state: every child that should run runs once, by the members' own records, and the
    // observer's reports have caught up with them.
    const expected = new Set([...INITIAL, ...started].filter((id) => !stopped.includes(id)));
    /** What runs by the members' records, and by the observer's reports: `node id pid`, sorted. */
    const runningNow = (): { members: string[]; observer: string[] } => {
      const observed = new Map<string, number>();
      for (const l of record('obs')) {
        if (l.k !== 'dist' || (l['type'] !== 'started' && l['type'] !== 'stopped')) continue;
        const k = key({ node: String(l['node']), id: String(l['id']), pid: String(l['pid']) });
        observed.set(k, (observed.get(k) ?? 0) + (l['type'] === 'started' ? 1 : -1));
      }
      return {
        members: memberInstances(members)
          .filter((i) => i.endedAt === undefined)
          .map(key)
          .sort(),
        observer: [...observed]
          .filter(([, c]) => c > 0)
          .map(([k]) => k)
          .sort(),
      };
    };
    const settled = (): boolean => {
      const now = runningNow();
      const ids = now.members.map((k) => k.split(' ')[1]!);
      return ids.length === expected.size && ids.every((id) => expected.has(id)) && JSON.stringify(now.observer) === JSON.stringify(now.members);
    };
    await until(settled, 30_000, 'members run what was asked, and the observer says so').catch((err: Error) => {
      const now = runningNow();
      throw new Error(
        `${err.message}\nexpected: ${[...expected].sort().join(' ')}\nmembers run: ${now.members.join(', ')}\nobserver says: ` +
          `${now.observer.join(', ')}\nctl starts ${started.join(' ')}; stops ${stopped.join(' ')}; failed ${failedCalls.join(' | ')}`,
      );
    });

    const report = `${loadedMs.toFixed(0)} ms under load, ${started.length} ctl starts, ${stopped.length} ctl stops, ${failedCalls.length} failed calls`;
    console.log(`mixed timing: ${report}`);

    // 1. No member-down, anywhere (a ctl session that ends leaves: member-left).
    const downs = [...members, 'obs'].flatMap((name) =>
      record(name)
        .filter((l) => l.k === 'member' && l['kind'] === 'member-down')
        .map((l) => `${name}: ${String(l['peer'])} down (${String(l['reason'])})`),
    );
    expect(downs, report).toEqual([]);

    // 2. The members' own records, since the load began: an instance started for each child ctl
    //    started, and one stopped for each child ctl stopped; nothing else.
    const instances = memberInstances(members);
    const startsSince = instances.filter((i) => i.startedAt >= baseline.get(i.node)!);
    const stopsSince = instances.filter((i) => i.endedAt !== undefined && i.endedAt >= baseline.get(i.node)!);
    const unasked: string[] = [];
    for (const id of new Set([...INITIAL, ...started, ...startsSince.map((i) => i.id), ...stopsSince.map((i) => i.id)])) {
      const starts = startsSince.filter((i) => i.id === id);
      const stops = stopsSince.filter((i) => i.id === id);
      const asked = { starts: started.includes(id) ? 1 : 0, stops: stopped.includes(id) ? 1 : 0 };
      if (starts.length !== asked.starts)
        unasked.push(`${id}: ${starts.length} instance(s) started (${starts.map(key).join(', ')}), ${asked.starts} asked for`);
      if (stops.length !== asked.stops) unasked.push(`${id}: ${stops.length} instance(s) stopped (${stops.map(key).join(', ')}), ${asked.stops} asked for`);
    }
    expect(unasked, report).toEqual([]);

    // 3. Every start and stop the observer reported is in the member's own record.
    const byKey = new Map(instances.map((i) => [key(i), i]));
    const invented = record('obs')
      .filter((l) => l.k === 'dist' && (l['type'] === 'started' || l['type'] === 'stopped'))
      .filter((l) => {
        const inst = byKey.get(key({ node: String(l['node']), id: String(l['id']), pid: String(l['pid']) }));
        return inst === undefined || (l['type'] === 'stopped' && inst.endedAt === undefined);
      })
      .map((l) => `${String(l['type'])} ${String(l['id'])} on ${String(l['node'])} (${String(l['pid'])})`);
    expect(invented, report).toEqual([]);
    // (A ctl session that ends is a node-down of an observer to the supervisor: it left.)
    expect(record('obs').filter((l) => l.k === 'dist' && l['type'] === 'node-down' && l['role'] === 'member')).toEqual([]);

    // The run was what it says: loaded throughout, with traffic.
    expect(loadAlive).toBe(true);
    expect(loadedMs).toBeGreaterThanOrEqual(LOADED_MS);
    expect(started.length).toBeGreaterThan(0);
    expect(stopped.length).toBeGreaterThan(0);
    expect(failedCalls, report).toEqual([]);
  },
);
