/**
 * What `pogo ctl start <file|->` reads: one JSON spec, a JSON array of
 * specs, or JSON lines — one spec per line, as generators that stream
 * (`jq -c '.[]'`, a loop printing one object at a time) write them.
 *
 * The text is read as one JSON document first; only when that fails, and
 * it has more than one line, is it read as JSON lines (blank lines
 * skipped, a trailing newline or CRLF allowed). Each line must then hold
 * one spec, a JSON object: a line holding an array is refused rather than
 * flattened, so that every spec has one line to be named by. An outsider's
 * tour piped `jq -c` into `start -` and got "Unexpected non-whitespace
 * character after JSON at position 85", which named neither the line nor
 * what `start` takes.
 *
 * Which error is shown when the text is neither: if its first non-blank
 * line is JSON on its own, the writer meant JSON lines, so the first line
 * that is not is named; otherwise the whole text's error, as JSON.parse
 * gave it. Pure: no I/O.
 */

/** The specs read, and for JSON lines the line each came from (1-based), to name a bad one by. */
export type SpecInput = { ok: true; value: unknown; lines?: readonly number[] } | { ok: false; message: string };

/** What the text says of its specs (see the header); `source` names it in the message ("stdin", the file). */
export function parseSpecInput(text: string, source: string): SpecInput {
  let whole: SyntaxError;
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    whole = err as SyntaxError;
  }
  const rows = text.split('\n');
  const specs: unknown[] = [];
  const lines: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!.trim();
    if (row === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(row) as unknown;
    } catch (err) {
      if (specs.length === 0) break; // not JSON lines either: the whole text's error says more
      return { ok: false, message: `${source}: line ${i + 1} is not JSON (${(err as Error).message}); JSON lines hold one spec per line` };
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      return { ok: false, message: `${source}: line ${i + 1} is not a spec (a JSON object); JSON lines hold one spec per line` };
    specs.push(value);
    lines.push(i + 1);
  }
  // Every line read was a spec (a bad one returned above, or broke off with none read). One alone would have parsed
  // whole: JSON lines are two or more.
  if (specs.length > 1) return { ok: true, value: specs, lines };
  return {
    ok: false,
    message: `${source} does not hold JSON (${whole.message}): give one spec, a JSON array of specs, or one spec per line`,
  };
}
