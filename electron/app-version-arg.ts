/**
 * Hands the app version from main to the sandboxed preload.
 *
 * A sandboxed preload cannot call `app.getVersion()` and gets no Node `fs` to
 * read package.json, but it does see `process.argv`. Main appends one switch
 * through `webPreferences.additionalArguments`; preload reads it back. Both
 * sides use these two helpers so the switch name lives in one place.
 */
const PREFIX = '--pogo-app-version=';

/** The switch main passes in `additionalArguments`. */
export function appVersionArg(version: string): string {
  return `${PREFIX}${version}`;
}

/** The version found in `argv`, or 'unknown' when the switch is absent. */
export function readAppVersionArg(argv: readonly string[]): string {
  const arg = argv.find((a) => a.startsWith(PREFIX));
  return arg === undefined || arg.length === PREFIX.length ? 'unknown' : arg.slice(PREFIX.length);
}
