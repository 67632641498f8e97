import { printable } from '../util/printable.js';

/**
 * A plain-text table for terminals: columns padded to their widest cell.
 * Cells are shown printable (util/printable.ts): a value another party
 * wrote (a child id from an old data dir, a label, a peer's error) cannot
 * forge a row or send the terminal an escape.
 */
export function table(header: string[], rows: string[][]): string {
  const safe = rows.map((r) => r.map(printable));
  const widths = header.map((h, i) => Math.max(h.length, ...safe.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...safe.map(line)].join('\n') + '\n';
}
