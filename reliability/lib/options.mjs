/**
 * Command-line flags of the reliability scripts: `--name value` pairs checked
 * against a table of defaults, with durations written as `120s`, `10m`,
 * `1500ms` or `1h` (a bare number is seconds). A bad flag stops the script
 * with exit code 2 and a message naming it.
 *
 * Also the figure helpers the scripts print with (least-squares slope, a
 * compact number format) and how each script ends (`finish`, `runIfMain`).
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** @typedef {import('./types.js').FlagSpec} FlagSpec */
/** @typedef {import('./types.js').FlagSpecEntry} FlagSpecEntry */

/**
 * Milliseconds from `120s`, `10m`, `1500ms`, `1h` or a bare number of seconds.
 * @param {unknown} text
 * @param {string} flag
 * @returns {number}
 */
export function parseDuration(text, flag) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(text).trim());
  if (!m) throw new UsageError(`${flag}: ${JSON.stringify(text)} is not a duration (e.g. 500ms, 30s, 10m, 1h)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[/** @type {'ms' | 's' | 'm' | 'h'} */ (m[2] ?? 's')];
  return Math.round(Number(m[1]) * unit);
}

export class UsageError extends Error {}

/**
 * Parses `argv` against `spec`: { flag: { type: 'int' | 'number' | 'duration' | 'string' | 'bool', default, choices? } }.
 * Returns { flagName (camelCase): value }.
 * @template {FlagSpec} S
 * @param {readonly string[]} argv
 * @param {S} spec
 * @returns {import('./types.js').Flags<S> & { help?: boolean }}
 */
export function parseFlags(argv, spec) {
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const [flag, s] of Object.entries(spec)) out[camel(flag)] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = /** @type {string} */ (argv[i]);
    if (arg === '--help' || arg === '-h') {
      out.help = true;
      continue;
    }
    const [name, inline] = arg.startsWith('--') ? arg.slice(2).split(/=(.*)/s, 2) : [undefined];
    const s = name === undefined ? undefined : spec[name];
    if (!s) throw new UsageError(`unknown argument ${arg}`);
    /** @type {string} */
    let raw;
    if (s.type === 'bool') raw = inline ?? 'true';
    else if (inline !== undefined) raw = inline;
    else if (i + 1 < argv.length) raw = /** @type {string} */ (argv[++i]);
    else throw new UsageError(`--${name} needs a value`);
    out[camel(/** @type {string} */ (name))] = convert(raw, s, `--${name}`);
  }
  return /** @type {import('./types.js').Flags<S> & { help?: boolean }} */ (out);
}

/**
 * @param {string} raw
 * @param {FlagSpecEntry} s
 * @param {string} flag
 * @returns {number | boolean | string}
 */
function convert(raw, s, flag) {
  switch (s.type) {
    case 'int': {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < (s.min ?? 0)) throw new UsageError(`${flag}: ${JSON.stringify(raw)} is not an integer ≥ ${s.min ?? 0}`);
      return n;
    }
    case 'number': {
      const n = Number(raw);
      if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag}: ${JSON.stringify(raw)} is not a positive number`);
      return n;
    }
    case 'duration':
      return parseDuration(raw, flag);
    case 'bool':
      if (raw !== 'true' && raw !== 'false') throw new UsageError(`${flag}: expected true or false`);
      return raw === 'true';
    default:
      if (s.choices && !s.choices.includes(raw)) throw new UsageError(`${flag}: ${JSON.stringify(raw)} is not one of ${s.choices.join(', ')}`);
      return raw;
  }
}

/** @param {string} flag */
function camel(flag) {
  return flag.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
}

/**
 * One help line per flag, from the spec.
 * @param {FlagSpec} spec
 * @returns {string}
 */
export function helpText(spec) {
  return Object.entries(spec)
    .map(([flag, s]) => {
      const shown = s.type === 'duration' ? formatDuration(/** @type {number} */ (s.default)) : s.default;
      return `  --${flag.padEnd(18)} ${s.help}${s.default !== undefined ? ` (default: ${shown})` : ''}`;
    })
    .join('\n');
}

/**
 * @param {number} ms
 * @returns {string}
 */
export function formatDuration(ms) {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/**
 * Least-squares slope of y over x (undefined for fewer than 2 distinct x).
 * @param {ReadonlyArray<readonly [number, number]>} points
 * @returns {number | undefined}
 */
export function slope(points) {
  const n = points.length;
  if (n < 2) return undefined;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return sxx === 0 ? undefined : sxy / sxx;
}

/**
 * A number for a figure line: 3 significant digits at most, no exponent.
 * @param {number | null | undefined} x
 * @param {number} [digits]
 * @returns {string}
 */
export function fig(x, digits = 2) {
  if (x === undefined || x === null || Number.isNaN(x)) return '-';
  return Number(x.toFixed(digits)).toString();
}

/**
 * The command line of a script: its flags, or, on a usage error, the error and the help on
 * stderr and exit code 2; with --help, the help on stdout and undefined.
 * @template {FlagSpec} S
 * @param {string} name
 * @param {S} spec
 * @param {readonly string[]} [argv]
 * @returns {(import('./types.js').Flags<S> & { help?: boolean }) | undefined}
 */
export function commandLine(name, spec, argv = process.argv.slice(2)) {
  const usage = `usage: node reliability/${name}.mjs [flags]\n${helpText(spec)}\n`;
  /** @type {import('./types.js').Flags<S> & { help?: boolean }} */
  let opts;
  try {
    opts = parseFlags(argv, spec);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${name}: ${err.message}\n${usage}`);
    process.exit(2);
  }
  if (opts.help) {
    process.stdout.write(usage);
    return undefined;
  }
  return opts;
}

/**
 * The end of a script's run: its report, the result as JSON with `--json`, and exit code 1 when an invariant was violated.
 * @template {{ violations: readonly unknown[] }} R
 * @param {{ json?: string | undefined }} opts
 * @param {R} result
 * @param {(result: R) => void} report
 * @returns {never}
 */
export function finish(opts, result, report) {
  report(result);
  if (opts.json) writeFileSync(opts.json, `${JSON.stringify(result, null, 2)}\n`);
  process.exit(result.violations.length > 0 ? 1 : 0);
}

/**
 * Runs `main` when the script at `moduleUrl` is the one node was started with (not when a test imports it); a throw is printed and exits 1.
 * @param {string} moduleUrl
 * @param {string} name
 * @param {() => Promise<unknown>} main
 */
export function runIfMain(moduleUrl, name, main) {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  main().catch((/** @type {any} */ err) => {
    process.stderr.write(`${name}: ${err.stack ?? err}\n`);
    process.exit(1);
  });
}
