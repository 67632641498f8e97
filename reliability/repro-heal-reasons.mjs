#!/usr/bin/env node
/**
 * The reason the desktop app's timeline gives for a move around a heal,
 * against what each member recorded itself, on real processes in network
 * namespaces (as reliability/lib/netns.mjs builds them; root):
 *
 *   node reliability/repro-heal-reasons.mjs [--prefix h1] [--base-port 47100] [--out <dir>] [--keep]
 *
 * Three members (`--netsplit majority --expected-members 3`) run 12
 * children, an observer (`pogo observe`) in the hub reaches all of them.
 * n3 is cut off from n1 and n2 (the observer still hears it): the majority
 * takes its children over once its lease has lapsed; then the split heals
 * and the children go back to n3, their owner by the hash. Each member
 * counts the moves it saw by reason (`pogo_child_moves_total`, its /metrics on
 * 127.0.0.1:base+21..base+23 in its namespace); the timeline is the
 * gateway's history as a UI receives it (a socket.io session on
 * 127.0.0.1:base+10 in the hub). Prints every move the timeline published
 * (from, reason, children) and each member's counts; exit code 1 when the
 * timeline gives a reason no member recorded for as many moves (race "a
 * heal told as a failure": "2 moved from n1 to n3 (node down or failing)"
 * where every member counted "join"), 2 when the machine cannot run it.
 * Every process is stopped by pid and every namespace deleted at the end
 * (also on Ctrl-C).
 */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { netnsRun, reproStart, tickers } from './lib/netns-run.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const NAMES = ['n1', 'n2', 'n3'];

/** @satisfies {import('./lib/types.js').FlagSpec} */
const SPEC = {
  prefix: { type: 'string', default: 'h1', help: 'prefix of the network namespaces' },
  'base-port': { type: 'int', default: 47100, min: 1024, help: 'members listen on base+1..base+3, their status on base+21..base+23, the gateway on base+10' },
  out: { type: 'string', default: '', help: 'where logs go (default: a new directory under the system temp dir)' },
  keep: { type: 'bool', default: false, help: 'keep the logs when the expectation holds' },
};

/** @typedef {{ at: number, from: string, reason: string, count: number, to: Record<string, number>, ids: string[] }} Move */

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads the gateway's history as a UI connecting now receives it; run inside the hub namespace, from the repository. */
const READER = `
import { io } from 'socket.io-client';
const u = new URL(process.argv[1]);
const socket = io(u.origin, { path: '/gateway', auth: { token: u.searchParams.get('token') }, transports: ['websocket'], reconnection: false, forceNew: true });
const timer = setTimeout(() => { console.error('no snapshot'); process.exit(1); }, 10000);
socket.on('connect_error', (e) => { console.error(String(e)); process.exit(1); });
socket.on('snapshot', (s) => {
  clearTimeout(timer);
  const since = Number(process.argv[2]);
  const moved = s.activity.filter((a) => a.type === 'moved' && a.at >= since);
  const moves = moved.map((a) => ({ at: a.at, from: a.from, reason: a.reason, count: a.count, to: a.nodes, ids: a.ids }));
  const nodes = s.events.filter((e) => e.type === 'node-down' || e.type === 'node-up').map((e) => ({ at: e.at, type: e.type, node: e.node, reason: e.reason }));
  console.log(JSON.stringify({ moves, nodes }));
  socket.close();
  process.exit(0);
});
`;

async function main() {
  const flags = reproStart('reliability/repro-heal-reasons.mjs', SPEC);
  if (typeof flags === 'number') return flags;
  const { out, layout, run, cleanup, memberArgs, observe } = netnsRun({
    prefix: flags.prefix,
    names: NAMES,
    out: flags.out,
    label: 'heal',
    basePort: flags.basePort,
  });
  const base = flags.basePort;
  try {
    tickers(out, 'repro-heal-reasons-secret');
    layout.create();

    for (const n of NAMES)
      run(layout.ns(n), n, memberArgs(n, ['--status-port', String(base + 21 + NAMES.indexOf(n)), '--netsplit', 'majority', '--expected-members', '3']));
    const gateway = observe(NAMES);
    /** Each member's moves by reason, as its /metrics counts them now. @param {string} tag */
    const countMoves = (tag) => {
      /** @type {Record<string, Record<string, number>>} */
      const counted = {};
      for (const n of NAMES) {
        const port = base + 21 + NAMES.indexOf(n);
        const metrics = execFileSync('ip', ['netns', 'exec', layout.ns(n), 'curl', '-s', `http://127.0.0.1:${port}/metrics`], {
          encoding: 'utf8',
          timeout: 10_000,
        });
        writeFileSync(join(out, `${n}-${tag}.metrics`), metrics);
        counted[n] = {};
        for (const m of metrics.matchAll(/^pogo_child_moves_total\{[^}]*reason="(\w+)"[^}]*\} (\d+)/gm)) counted[n][m[1] ?? ''] = Number(m[2]);
      }
      return counted;
    };
    await sleep(10_000);
    // The moves of the start (members joining one after the other) are no part of it: counted from here.
    const before = countMoves('before');
    const cutAt = Date.now();
    console.log('n3 cut off from n1 and n2 (the observer reaches all)');
    layout.partition(['n3'], ['n1', 'n2']);
    await sleep(15_000);
    console.log('healed');
    layout.heal();
    await sleep(15_000);
    const url = gateway.url();

    const told = /** @type {{ moves: Move[], nodes: unknown[] }} */ (
      JSON.parse(
        execFileSync('ip', ['netns', 'exec', layout.hub, process.execPath, '--input-type=module', '-e', READER, url, String(cutAt)], {
          cwd: root,
          encoding: 'utf8',
          timeout: 20_000,
        }),
      )
    );
    const after = countMoves('after');
    /** @type {Record<string, Record<string, number>>} */
    const counted = {};
    for (const n of NAMES) {
      counted[n] = {};
      for (const [reason, k] of Object.entries(after[n] ?? {})) if (k > (before[n]?.[reason] ?? 0)) counted[n][reason] = k - (before[n]?.[reason] ?? 0);
    }
    console.log('\nthe timeline (members up and down):');
    for (const e of told.nodes) console.log(`  ${JSON.stringify(e)}`);
    console.log('the timeline (moves):');
    /** @type {Record<string, number>} */
    const byReason = {};
    for (const m of told.moves) {
      byReason[m.reason] = (byReason[m.reason] ?? 0) + m.count;
      console.log(`  ${new Date(m.at).toISOString()} ${m.count} moved from ${m.from} to ${Object.keys(m.to).join(', ')} (${m.reason}): ${m.ids.join(' ')}`);
    }
    console.log(`\nthe timeline's moves by reason: ${JSON.stringify(byReason)}`);
    for (const n of NAMES) console.log(`${n} counted since the split (pogo_child_moves_total): ${JSON.stringify(counted[n])}`);
    // n1 and n2 saw every move as it was made (n3 counts the takeover by its own view, at the heal): the timeline must
    // give each reason as often as one of them counted it since the split.
    const same = (/** @type {Record<string, number> | undefined} */ c) =>
      JSON.stringify(Object.entries(c ?? {}).sort()) === JSON.stringify(Object.entries(byReason).sort());
    const ok = same(counted.n1) || same(counted.n2);
    console.log(ok ? 'as expected' : 'NOT as expected: the timeline gives reasons the members did not record');
    if (ok && !flags.keep && !flags.out) rmSync(out, { recursive: true, force: true });
    else console.log(`logs: ${out}`);
    return ok ? 0 : 1;
  } finally {
    cleanup();
  }
}

process.exitCode = await main();
