#!/usr/bin/env node
/**
 * Two things the desktop app got wrong about real network partitions, seen
 * on real processes in network namespaces (as reliability/lib/netns.mjs
 * builds them; root), through the browser UI served by `pogo observe --ui`
 * in Debian's Chromium — what an ops engineer reads:
 *
 *   node reliability/repro-observer-lane.mjs --scenario majority|majority-late|available \
 *     [--prefix pgc<pid>] [--base-port 47100] [--out <dir>] [--keep]
 *
 * - `majority`: three members (`--netsplit majority --expected-members 3`,
 *   data dirs, `--ready-timeout-ms 600000`) run 12 children; n3 is
 *   blackholed from n1, n2 and the observer's hub; n1 and n2 are SIGKILLed
 *   and restarted from their data dirs. They wait for n3, and every child
 *   is pending. Expected: the attention lane names "n1, n2 not ready" and
 *   whom they wait for (it named only "n3 silent").
 * - `majority-late`: the same, with the observer started after the restart
 *   and given n1 and n2 only, so that n3 is in no member table (only in
 *   their saved rosters): the lane said "Nothing needs attention".
 * - `available`: three members (default netsplit mode) run 12 children; n3
 *   is cut off from n1 and n2 (the observer still reaches it), so each side
 *   runs the other's children. Expected: n3's column counts what it runs
 *   (it said "0 children" while it ran all 12).
 *
 * Members listen on the namespaces' addresses at ports base+1..base+3; the
 * gateway on 127.0.0.1:base+10 inside the hub namespace, where Chromium
 * runs too (through a wrapper that enters it). Prints the lane's text and
 * each column's count, saves board.png in the output directory; exit code 1
 * when the expectation does not hold, 2 when the machine cannot run it.
 * Every process is stopped by pid and every namespace deleted at the end
 * (also on Ctrl-C).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM, CHROMIUM_FLAGS } from '../bench/lib/chromium.mjs';
import { netnsRun, reproStart, tickers } from './lib/netns-run.mjs';

const NAMES = ['n1', 'n2', 'n3'];

/** @satisfies {import('./lib/types.js').FlagSpec} */
const SPEC = {
  scenario: {
    type: 'string',
    default: 'majority',
    choices: ['majority', 'majority-late', 'available'],
    help: 'majority: n1, n2 wait for a blackholed n3; majority-late: the same, the observer started after; available: n3 cut off runs copies',
  },
  prefix: { type: 'string', default: `pgc${process.pid}`, help: 'prefix of the network namespaces' },
  'base-port': { type: 'int', default: 47100, min: 1024, help: 'members listen on base+1..base+3, the gateway on base+10' },
  out: { type: 'string', default: '', help: 'where logs and board.png go (default: a new directory under the system temp dir)' },
  keep: { type: 'bool', default: false, help: 'keep the logs and screenshot when the expectation holds' },
};

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const flags = reproStart('reliability/repro-observer-lane.mjs', SPEC);
  if (typeof flags === 'number') return flags;
  const majority = flags.scenario !== 'available';
  const late = flags.scenario === 'majority-late';
  const { out, layout, run, cleanup, memberArgs, observe } = netnsRun({
    prefix: flags.prefix,
    names: NAMES,
    out: flags.out,
    label: 'observer',
    basePort: flags.basePort,
  });
  try {
    tickers(out, 'repro-observer-lane-secret');
    // Chromium joins the hub namespace, where the gateway listens on loopback.
    const wrapper = join(out, 'chromium-in-hub.sh');
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${layout.hub} ${CHROMIUM} "$@"\n`);
    chmodSync(wrapper, 0o755);
    layout.create();

    /** @param {string} n */
    const nodeArgs = (n) =>
      memberArgs(
        n,
        majority ? ['--netsplit', 'majority', '--expected-members', '3', '--ready-timeout-ms', '600000', '--data-dir', join(out, `data-${n}`)] : [],
      );
    /** @type {Record<string, import('node:child_process').ChildProcess>} */
    const member = {};
    for (const n of NAMES) member[n] = run(layout.ns(n), n, nodeArgs(n));

    /** @type {ReturnType<typeof observe> | undefined} */
    let gateway;
    const startObserver = () => {
      gateway = observe(late ? ['n1', 'n2'] : NAMES);
    };
    if (!late) startObserver();
    await sleep(8_000);
    if (majority) {
      // n3 blackholed from everyone, then n1 and n2 restarted from their data dirs: they wait for n3.
      layout.partition(['n3'], ['n1', 'n2']);
      execFileSync('ip', ['-n', layout.hub, 'route', 'add', 'blackhole', `${layout.host('n3')}/32`]);
      execFileSync('ip', ['-n', layout.ns('n3'), 'route', 'add', 'blackhole', `${layout.observerHost}/32`]);
      await sleep(5_000);
      for (const n of ['n1', 'n2']) member[n]?.kill('SIGKILL');
      await sleep(500);
      for (const n of ['n1', 'n2']) member[n] = run(layout.ns(n), `${n}-again`, nodeArgs(n));
      if (late) startObserver();
      await sleep(10_000);
    } else {
      layout.partition(['n3'], ['n1', 'n2']);
      await sleep(12_000);
    }
    if (gateway === undefined) throw new Error('the observer was not started');
    const url = gateway.url();

    const { chromium } = await import('@playwright/test');
    const browser = await chromium.launch({ executablePath: wrapper, args: [...CHROMIUM_FLAGS] });
    let lane = '';
    /** @type {Record<string, string>} */
    const counts = {};
    try {
      const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
      await page.goto(url);
      // The lane names members not ready once children have waited 5 s in this window.
      await sleep(7_000);
      await page.screenshot({ path: join(out, 'board.png') });
      lane = await page.getByTestId('attention-lane').innerText();
      for (const column of await page.getByTestId('node-column').all())
        counts[(await column.getAttribute('data-node')) ?? '-'] = await column.getByTestId('child-count').innerText();
    } finally {
      await browser.close();
    }
    console.log(`lane:\n${lane}\n\ncolumns: ${JSON.stringify(counts)}\nscreenshot: ${join(out, 'board.png')}`);
    const ok = majority ? /n1, n2 not ready/.test(lane) && /n3/.test(lane.slice(lane.indexOf('not ready'))) : /^12 running/.test(counts['n3'] ?? '');
    console.log(ok ? 'as expected' : 'NOT as expected');
    if (ok && !flags.keep && !flags.out) rmSync(out, { recursive: true, force: true });
    return ok ? 0 : 1;
  } finally {
    cleanup();
  }
}

process.exitCode = await main();
