/**
 * Typed errors of the distributed supervisor. `code` is stable (scripts and
 * the UI switch on it); `message` says what happened and what to do next.
 */
export type DistErrorCode =
  | 'invalid-spec'
  | 'conflict'
  | 'unplaceable'
  | 'start-failed'
  | 'timeout'
  | 'terminated'
  | 'not-found'
  | 'unknown-node'
  | 'ineligible-node'
  | 'no-quorum'
  | 'not-running'
  | 'not-ready'
  | 'shutting-down';

/** An error of the distributed supervisor, with a machine-readable code. */
export class DistError extends Error {
  constructor(
    /** What went wrong, for programs to test (the message is for people). */
    readonly code: DistErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DistError';
  }
}
