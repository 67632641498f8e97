#!/usr/bin/env node
/**
 * What a node's memory is made of, per child: a small real cluster (the
 * benchmark's `pogo node` processes with the control hook), C idle children
 * spread over N nodes, then each node's resident memory and heap figures and
 * one node's V8 heap snapshot summarised by what the objects are.
 *
 *   node bench/tools/heap-probe.mjs [--nodes 5] [--children 5000] [--top 30] [--out /tmp/heap-probe] [--keep]
 *                                   [--node-args "--max-semi-space-size=4"]
 *
 * Why a cluster and not one in-process node: a member of a cluster holds a
 * replica of every child's register and a `run:<id>` group entry for every
 * live instance, but runs only its own share of the children; one lone node
 * would run them all. With N nodes and C children each node holds C
 * registers and C group entries and runs about C/N children, so the per-child
 * figures below mix the two costs the way the 20 × 20,000 benchmark does
 * when C/N matches (20,000 / 20 = 1,000 local children).
 *
 * The summary groups the snapshot's nodes by V8 type and constructor (or
 * internal name); strings are grouped by type only (`concatenated string`
 * counts the cons-string tree nodes), then plain objects by their property
 * names (which module made them). Figures are self sizes; "per child"
 * divides by C. The snapshot's own GC (a full one) runs before it is taken,
 * so memoryUsage() after it shows live data, not garbage waiting. Timings are
 * not measured here; RSS varies with the machine's load and GC timing, the
 * snapshot's counts do not.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BenchCluster } from '../lib/cluster.mjs';
import { rssBytes, sleep } from '../lib/harness.mjs';
import { NODE_FLAGS, names } from '../scenarios/common.mjs';

/**
 * A .heapsnapshot file (V8's JSON): flat arrays of node and edge fields, described by `meta`.
 * @typedef {object} HeapSnapshot
 * @property {{ meta: { node_fields: string[], node_types: [string[], ...unknown[]], edge_fields: string[], edge_types: [string[], ...unknown[]] } }} snapshot
 * @property {number[]} nodes
 * @property {number[]} edges
 * @property {string[]} strings
 */

const argv = process.argv.slice(2);
/**
 * @param {string} name
 * @param {string | number} fallback
 * @returns {string}
 */
const opt = (name, fallback) => {
  const at = argv.indexOf(`--${name}`);
  return /** @type {string} */ (at >= 0 ? argv[at + 1] : fallback);
};
const nodes = Number(opt('nodes', 5));
const children = Number(opt('children', 5000));
const top = Number(opt('top', 30));
const out = opt('out', '/tmp/heap-probe');
const nodeArgs = opt('node-args', '').split(' ').filter(Boolean);

/**
 * Sums a .heapsnapshot's nodes by type and name: Map key → { count, bytes }.
 * @param {HeapSnapshot} snapshot
 */
export function summarize(snapshot) {
  const meta = snapshot.snapshot.meta;
  const fields = meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = meta.node_types[0];
  const { nodes: flat, strings } = snapshot;
  /** @type {Map<string, { count: number, bytes: number }>} */
  const groups = new Map();
  let total = 0;
  for (let i = 0; i < flat.length; i += width) {
    const type = types[flat[i + typeAt]];
    const size = flat[i + sizeAt];
    total += size;
    const key = type.includes('string') ? `(${type})` : `${type}: ${strings[flat[i + nameAt]].slice(0, 60)}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { count: 0, bytes: 0 }));
    g.count++;
    g.bytes += size;
  }
  return { groups, total };
}

/**
 * Plain objects (constructor `Object`) grouped by their first property
 * names, which tell which module made them; `dictionary` is the size of the
 * property dictionaries they point at (an object in dictionary mode keeps
 * its properties in a hash table beside it).
 * @param {HeapSnapshot} snapshot
 */
export function plainObjects(snapshot) {
  const meta = snapshot.snapshot.meta;
  const width = meta.node_fields.length;
  const edgeWidth = meta.edge_fields.length;
  const types = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const { nodes: flat, edges, strings } = snapshot;
  const edgeCountAt = meta.node_fields.indexOf('edge_count');
  /** @type {Map<string, { count: number, bytes: number, dictionary: number }>} */
  const groups = new Map();
  for (let i = 0, e = 0; i < flat.length; i += width) {
    const end = e + flat[i + edgeCountAt] * edgeWidth;
    if (types[flat[i]] === 'object' && strings[flat[i + 1]] === 'Object') {
      /** @type {string[]} */
      const props = [];
      let dictionary = 0;
      for (let f = e; f < end; f += edgeWidth) {
        const type = edgeTypes[edges[f]];
        if (type === 'property' && props.length < 8) props.push(strings[edges[f + 1]]);
        else if (type === 'internal' && strings[edges[f + 1]] === 'properties') dictionary += flat[edges[f + 2] + 3];
      }
      const key = `{${props.join(',')}}`;
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = { count: 0, bytes: 0, dictionary: 0 }));
      g.count++;
      g.bytes += flat[i + 3];
      g.dictionary += dictionary;
    }
    e = end;
  }
  return groups;
}

const cluster = new BenchCluster({ flags: NODE_FLAGS, nodeArgs });
try {
  const members = names(nodes);
  await cluster.startAll(members);
  await cluster.observe(120_000);
  const empty = cluster.live().map((n) => (rssBytes(n.pid) ?? NaN) / 2 ** 20);
  const t0 = performance.now();
  await cluster.startChildren(cluster.live(), children, { boundMs: 600_000 });
  await cluster.waitSettled(members, 600_000);
  process.stdout.write(`${nodes} nodes, ${children} children settled in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  await sleep(3000);
  const rss = cluster.live().map((n) => (rssBytes(n.pid) ?? NaN) / 2 ** 20);
  /** @param {number[]} xs */
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  process.stdout.write(`RSS MiB per node, no children: median ${med(empty).toFixed(1)}\n`);
  process.stdout.write(`RSS MiB per node, ${children} children: median ${med(rss).toFixed(1)}  [${rss.map((r) => r.toFixed(1)).join(' ')}]\n`);
  const probed = /** @type {import('../lib/cluster.mjs').BenchNode} */ (cluster.live()[1] ?? cluster.live()[0]);
  const file = join(out, `${probed.name}-${children}.heapsnapshot`);
  const { memory } = await probed.request('heap', { file }, 600_000);
  /** @param {number} b */
  const mib = (b) => (b / 2 ** 20).toFixed(1);
  process.stdout.write(
    `${probed.name} after a full GC: rss ${mib(memory.rss)} heapTotal ${mib(memory.heapTotal)} heapUsed ${mib(memory.heapUsed)} ` +
      `external ${mib(memory.external)} MiB (${(memory.heapUsed / children).toFixed(0)} B heap per child, fixed part included)\n`,
  );
  /** @type {HeapSnapshot} */
  const snapshot = JSON.parse(readFileSync(file, 'utf8'));
  const { groups, total } = summarize(snapshot);
  process.stdout.write(`snapshot: ${mib(total)} MiB in all\n`);
  process.stdout.write(`${'bytes'.padStart(11)} ${'count'.padStart(9)} ${'B/child'.padStart(8)} ${'n/child'.padStart(7)}  what\n`);
  for (const [key, g] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)) {
    process.stdout.write(
      `${String(g.bytes).padStart(11)} ${String(g.count).padStart(9)} ` +
        `${(g.bytes / children).toFixed(0).padStart(8)} ${(g.count / children).toFixed(1).padStart(7)}  ${key}\n`,
    );
  }
  process.stdout.write(`\nplain objects by property names: ${'bytes'.padStart(9)} ${'dict'.padStart(9)} ${'count'.padStart(8)}\n`);
  for (const [key, g] of [...plainObjects(snapshot)].sort((a, b) => b[1].bytes + b[1].dictionary - a[1].bytes - a[1].dictionary).slice(0, top)) {
    process.stdout.write(`${String(g.bytes).padStart(9)} ${String(g.dictionary).padStart(9)} ${String(g.count).padStart(8)}  ${key.slice(0, 120)}\n`);
  }
  if (!argv.includes('--keep')) rmSync(file, { force: true });
} finally {
  await cluster.close();
}
