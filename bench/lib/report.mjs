/**
 * SUMMARY.md: the machine, the targets (met or missed, judged on medians)
 * and one table per scenario: median, min and max over the repeats.
 */
import { fmt } from './context.mjs';

/**
 * @typedef {object} Machine
 * @property {number} cores
 * @property {string} model
 * @property {number} memoryBytes
 * @property {string} os
 * @property {string} node
 * @property {string} date
 * @property {string} commit
 * @property {number[]} loadAverage
 */

/**
 * @param {object} run
 * @param {import('./types.js').ScenarioResult[]} run.results
 * @param {Machine} run.machine
 * @param {boolean} run.quick
 * @param {number} run.totalMs
 * @param {string} run.command
 * @returns {string}
 */
export function renderSummary({ results, machine, quick, totalMs, command }) {
  const out = [];
  out.push(`# Pogo benchmark results (${quick ? 'quick run: small sizes, one repeat' : 'full run'})`);
  out.push('');
  out.push(`\`${command}\` — ${machine.date}, commit ${machine.commit}, ${(totalMs / 1000).toFixed(0)} s in all.`);
  out.push('');
  out.push(
    `Machine: ${machine.cores} cores (${machine.model}), ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB ` +
      `memory, ${machine.os}, Node.js ${machine.node}; load average at start ${machine.loadAverage.join(' / ')}.`,
  );
  out.push('');
  out.push(
    'Every node is a real `pogo node` process on loopback unless the scenario says otherwise; times are ' +
      'measured by an observer node in the benchmark process. See bench/README.md for what each figure means.',
  );
  out.push('');
  const targets = results.flatMap((r) => (r.metrics ?? []).filter((m) => m.target).map((m) => ({ scenario: r.scenario, ...m })));
  if (targets.length > 0) {
    out.push('## Targets');
    out.push('');
    if (quick) {
      out.push('Quick sizes are far below the ones the targets are meant for; read these as a smoke check only.');
      out.push('');
    }
    out.push('| scenario | figure | target | median | met |');
    out.push('|---|---|---|---|---|');
    for (const t of targets) out.push(`| ${t.scenario} | ${t.name} | ${t.target} ${t.unit} | ${fmt(t.median)} ${t.unit} | ${t.met ? 'yes' : '**no**'} |`);
    out.push('');
  }
  for (const r of results) {
    out.push(`## ${r.scenario}${r.title ? `: ${r.title}` : ''}`);
    out.push('');
    if (r.status === 'skipped') {
      out.push(`Skipped: ${r.reason}.`);
      out.push('');
      continue;
    }
    if (r.status === 'failed') {
      out.push(`**Failed at step '${r.failedStep}':** ${(r.error ?? '').split('\n')[0]}`);
      out.push('');
    }
    const params = Object.entries(r.params ?? {}).map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : v}`);
    const host = r.hostMs === undefined ? '' : ` Host: reference workload ${r.hostMs} ms at its start (bench/lib/host-speed.mjs; lower is faster).`;
    if (params.length > 0) out.push(`Parameters: ${params.join(', ')}. Took ${(r.durationMs / 1000).toFixed(1)} s.${host}`);
    else if (host) out.push(host.trim());
    out.push('');
    if ((r.metrics ?? []).length > 0) {
      out.push('| figure | median | min | max | unit | n | target |');
      out.push('|---|---|---|---|---|---|---|');
      for (const m of r.metrics)
        out.push(
          `| ${m.name} | ${fmt(m.median)} | ${fmt(m.min)} | ${fmt(m.max)} | ${m.unit} | ` +
            `${m.n} | ${m.target ? `${m.target} (${m.met ? 'met' : '**missed**'})` : ''} |`,
        );
      out.push('');
      const notes = r.metrics.filter((m) => m.note);
      for (const m of notes) out.push(`- ${m.name}: ${m.note}`);
      if (notes.length > 0) out.push('');
    }
  }
  return `${out.join('\n')}\n`;
}
