/**
 * Types shared by the reliability scripts (plain ES modules checked from
 * their JSDoc, tsconfig.scripts.json). Declarations only. The control channel
 * of a node and its child log are the benchmark's (bench/lib/types.d.ts).
 */

/** One flag of a script's table (options.mjs): its kind, default and help line. */
export interface FlagSpecEntry {
  type: 'int' | 'number' | 'duration' | 'string' | 'bool';
  default?: number | string | boolean | undefined;
  /** Smallest value of an 'int' (default 0). */
  min?: number;
  /** The values a 'string' may take. */
  choices?: readonly string[];
  help: string;
}

/** A script's flag table: flag name (kebab-case, without --) to its entry. */
export type FlagSpec = Record<string, FlagSpecEntry>;

/** `settle-timeout` -> `settleTimeout`. */
type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;

/** The value of one flag: by its type, and undefined when it has no default and was not given. */
type FlagValue<F extends FlagSpecEntry> =
  | (F['type'] extends 'int' | 'number' | 'duration' ? number : F['type'] extends 'bool' ? boolean : string)
  | (F extends { default: number | string | boolean } ? never : undefined);

/** What parseFlags returns for a table: each flag (camelCase) with its value. */
export type Flags<S extends FlagSpec> = { [K in keyof S & string as Camel<K>]: FlagValue<S[K]> };
