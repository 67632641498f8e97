/**
 * The canonical text of a parsed child spec: equal specs, equal text
 * (`canonicalJson` of the spec without its generic sorting: registers.test.ts
 * holds the two equal for every spec). Written piece by piece to a sink, so
 * that the store can hash a register's text without building it
 * (store/replica.ts, hash.ts `Hash53`); child-spec.ts `specText` builds the
 * string.
 *
 * A spec that crosses a link was parsed by zod on its writer, so it arrives
 * normalised, every field present (child-spec.ts `decodeNormalSpec`): the
 * text is written field by field in key order, no generic sort.
 */
import { canonicalOf } from '../protocol.js';

/**
 * The fields of a parsed spec (child-spec.ts `ChildSpec`) that its text is
 * made of. Named here, not imported: child-spec.ts imports this file, and
 * core/src has no import cycles, type imports included.
 */
export interface SpecTextFields {
  readonly handoff: string;
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly maxRestarts: number;
  readonly maxSeconds: number;
  readonly restart: string;
  readonly shutdown: number | string;
  readonly start:
    | { readonly worker: string; readonly args?: unknown }
    | {
        readonly command: string;
        readonly args: readonly string[];
        readonly env: Readonly<Record<string, string>>;
        readonly cwd?: string | undefined;
        readonly ipc?: string | undefined;
      };
}

/** Where a canonical text goes, piece by piece: a string being built, or a hash fed as it goes (hash.ts `Hash53`). */
export interface TextSink {
  add(text: string): unknown;
}

/** A `TextSink` that keeps the text. */
export class TextBuilder implements TextSink {
  text = '';
  add(text: string): this {
    this.text += text;
    return this;
  }
}

/** Writes the canonical text of `spec` (child-spec.ts `specText`) to `out`, piece by piece; returns `out`. */
export function writeSpecText<T extends TextSink>(spec: SpecTextFields, out: T): T {
  out.add('{"handoff":');
  out.add(JSON.stringify(spec.handoff));
  out.add(',"id":');
  out.add(JSON.stringify(spec.id));
  out.add(',"labels":');
  out.add(sortedRecord(spec.labels));
  out.add(',"maxRestarts":');
  out.add(String(spec.maxRestarts));
  out.add(',"maxSeconds":');
  out.add(String(spec.maxSeconds));
  out.add(',"restart":');
  out.add(JSON.stringify(spec.restart));
  out.add(',"shutdown":');
  out.add(JSON.stringify(spec.shutdown));
  out.add(',"start":');
  const start = spec.start;
  if ('command' in start) {
    // `ipc` sorts last and is left out when absent: a spec without it keeps the text (and hash) it had before ipc existed.
    out.add('{"args":');
    out.add(JSON.stringify(start.args));
    out.add(',"command":');
    out.add(JSON.stringify(start.command));
    if (start.cwd !== undefined) {
      out.add(',"cwd":');
      out.add(JSON.stringify(start.cwd));
    }
    out.add(',"env":');
    out.add(sortedRecord(start.env));
    if (start.ipc !== undefined) {
      out.add(',"ipc":');
      out.add(JSON.stringify(start.ipc));
    }
  } else {
    out.add('{');
    if (start.args !== undefined) {
      out.add('"args":');
      out.add(canonicalOf(start.args));
      out.add(',');
    }
    out.add('"worker":');
    out.add(JSON.stringify(start.worker));
  }
  out.add('}}');
  return out;
}

function sortedRecord(record: Record<string, string>): string {
  const keys = Object.keys(record);
  if (keys.length === 0) return '{}';
  keys.sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(record[k])}`).join(',')}}`;
}
