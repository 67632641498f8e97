/**
 * Structured logging.
 *
 * Core code logs through this small `Logger` interface (a subset of pino's),
 * so production gets pino's JSON lines on stdout and tests can capture or
 * silence logs.
 *
 * Never pass a secret or a credential in a log field or message: log who and
 * what, never the token (core/test/hardening.test.ts checks every line of a
 * cluster's run). As a second line of defence, the pino logger censors the
 * fields that would hold one (`REDACTED_FIELDS`, at the top level and one
 * level down) should a future change pass one by mistake.
 */
import { pino, type Level } from 'pino';

/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** The logger interface every layer takes. */
export interface Logger {
  /** Logs `message` with `fields` at debug level. */
  debug(fields: LogFields, message: string): void;
  /** Logs `message` with `fields` at info level. */
  info(fields: LogFields, message: string): void;
  /** Logs `message` with `fields` at warn level. */
  warn(fields: LogFields, message: string): void;
  /** Logs `message` with `fields` at error level. */
  error(fields: LogFields, message: string): void;
  /** A logger that adds `bindings` to every line it logs (on top of this logger's own). */
  child(bindings: LogFields): Logger;
}

/** A log level, or silent. */
export type LogLevel = Level | 'silent';

/** Field names that hold secrets or credentials: censored by the pino logger wherever they appear (top level or one level down). */
export const REDACTED_FIELDS = [
  'secret',
  'credential',
  'token',
  'operatorToken',
  'viewerToken',
  'password',
  'authorization',
  'cookie',
  'key',
  'proof',
] as const;
const REDACT_PATHS = REDACTED_FIELDS.flatMap((f) => [f, `*.${f}`]);

/** A pino logger writing JSON lines to stdout (or the given file descriptor). */
export function createLogger(options: { level?: LogLevel; bindings?: LogFields; fd?: number } = {}): Logger {
  const destination = pino.destination({ dest: options.fd ?? 1, sync: true });
  return pino(
    {
      level: options.level ?? 'info',
      base: options.bindings ?? {},
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}

/** One log entry a MemoryLogger kept: level, message, fields. */
export interface CapturedLog {
  /** The level it was logged at. */
  level: 'debug' | 'info' | 'warn' | 'error';
  /** The log message. */
  message: string;
  /** Its fields, with the logger's bindings merged in (the call's fields win). */
  fields: LogFields;
}

/** Keeps log records in memory (for tests); `entries` is shared by children. */
export class MemoryLogger implements Logger {
  constructor(
    /** Every entry kept, oldest first, shared with child loggers; the oldest is dropped past the limit (10,000 by default). */
    readonly entries: CapturedLog[] = [],
    private readonly bindings: LogFields = {},
    private readonly limit = 10_000,
  ) {}

  private push(level: CapturedLog['level'], fields: LogFields, message: string): void {
    if (this.entries.length >= this.limit) this.entries.shift();
    this.entries.push({ level, message, fields: { ...this.bindings, ...fields } });
  }

  /** Keeps a debug entry. */
  debug(fields: LogFields, message: string): void {
    this.push('debug', fields, message);
  }
  /** Keeps an info entry. */
  info(fields: LogFields, message: string): void {
    this.push('info', fields, message);
  }
  /** Keeps a warn entry. */
  warn(fields: LogFields, message: string): void {
    this.push('warn', fields, message);
  }
  /** Keeps an error entry. */
  error(fields: LogFields, message: string): void {
    this.push('error', fields, message);
  }
  /** A MemoryLogger that adds `bindings` to its entries and keeps them in the same `entries` array. */
  child(bindings: LogFields): Logger {
    return new MemoryLogger(this.entries, { ...this.bindings, ...bindings }, this.limit);
  }
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
