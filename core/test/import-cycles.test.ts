/**
 * No import cycles in core/src, type-only imports included (CONTRIBUTING:
 * no import cycles). ESLint's `import-x/no-cycle` skips `import type`
 * (erased at run time), so a cycle made only of type imports — a layer's
 * part naming its parent's config type, say — passes lint; this test
 * catches it.
 *
 * The graph: every relative import and re-export of every .ts file under
 * core/src, found with TypeScript's own import scanner (`preProcessFile`),
 * a `.js` specifier naming its `.ts` file. Cycles are the strongly
 * connected components of more than one file (Tarjan), or a file that
 * imports itself.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/** Groups of modules that import each other in a cycle (each sorted; pure). */
function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(group.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Each file of core/src and the files of core/src it imports (relative paths). */
function srcGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of tsFiles(SRC)) {
    const imports = ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
    const local = imports.filter((s) => s.startsWith('.')).map((s) => relative(SRC, resolve(dirname(file), s.replace(/\.js$/, '.ts'))));
    graph.set(relative(SRC, file), [...new Set(local)]);
  }
  return graph;
}

describe('import cycles', () => {
  it('finds a cycle, type-only or not, and no cycle where there is none', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts', 'd.ts']],
      ['d.ts', []],
      ['e.ts', ['e.ts']],
    ]);
    expect(importCycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts'], ['e.ts']]);
    expect(
      importCycles(
        new Map([
          ['a.ts', ['b.ts']],
          ['b.ts', []],
        ]),
      ),
    ).toEqual([]);
  });

  it('core/src has none, type imports included', () => {
    const graph = srcGraph();
    // The scanner saw the imports: the graph is not empty.
    expect(graph.get('node.ts')).toContain('config-sections.ts');
    expect(graph.get('distributed/distributed-supervisor.ts')).toContain('distributed/reconciler.ts');
    expect(importCycles(graph)).toEqual([]);
  });
});
