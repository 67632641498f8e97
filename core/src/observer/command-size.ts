/**
 * How large a command may be, for every end that sends or receives one: the
 * members (which refuse a larger one with `too-large` and audit it:
 * commands.ts), the gateway (whose Socket.IO frames must be able to carry
 * one that is too large, so the member can say so: server.ts) and the UI
 * (which refuses locally only what the gateway could not receive).
 *
 * Pure and free of zod, so the renderer loads it without the schemas
 * (`pogo-core/command-size`); ui-protocol.ts re-exports it for core.
 */

/**
 * The largest arguments a command may carry, as UTF-8 JSON: 1 MiB. A child
 * spec is replicated to every member and kept in each one's store, so it
 * must stay small; the members enforce this (commands.ts: `too-large`,
 * audited like every refusal), whichever client sent the command.
 */
export const MAX_COMMAND_ARGS_BYTES = 1024 * 1024;
/**
 * The largest Socket.IO frame the gateway takes from a UI: well above
 * MAX_COMMAND_ARGS_BYTES, so that an oversized command still arrives and
 * is refused with a `too-large` error a member audits, instead of the
 * connection being dropped. A UI does not send a frame above it
 * (`oversizedRequest`).
 */
export const GATEWAY_MAX_FRAME_BYTES = 4 * MAX_COMMAND_ARGS_BYTES;

/**
 * UTF-8 length of `value` as JSON. Counted, not encoded: every call and cast
 * measures its message (distributed/calls.ts), and encoding a copy of each
 * just to read its length was 9 % of a caller's time in a burst of 200,000
 * calls of 1 kB (the calls tour's flood).
 */
export function jsonBytes(value: unknown): number {
  return utf8Length(JSON.stringify(value) ?? '');
}

/**
 * The length of `s` encoded as UTF-8, as `new TextEncoder().encode(s).length`
 * (which writes a lone surrogate as U+FFFD, 3 bytes), without encoding it.
 */
export function utf8Length(s: string): number {
  let bytes = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 2 code units, 4 bytes
      i++;
    } else bytes += 2; // the rest of the BMP, a lone surrogate too (U+FFFD)
  }
  return bytes;
}

/** "1.3 MiB", "512 KiB", "900 bytes". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(bytes % 1024 === 0 ? 0 : 1)} KiB`;
  return `${bytes} bytes`;
}

/** Ops whose size is their spec's. */
const SPEC_OPS: ReadonlySet<string> = new Set(['start', 'submit']);

/** The refusal of a command whose arguments (for a start, its spec) are `bytes` long, naming the limit. */
export function tooLargeMessage(op: string, bytes: number): string {
  const what = SPEC_OPS.has(op) ? 'the spec is' : `the ${op.slice(0, 40)} arguments are`;
  return (
    `${what} ${formatBytes(bytes)} as JSON (${bytes.toLocaleString('en-US')} bytes); a command may carry at ` +
    `most ${formatBytes(MAX_COMMAND_ARGS_BYTES)} (${MAX_COMMAND_ARGS_BYTES.toLocaleString('en-US')} bytes)`
  );
}

/** A UI request the gateway could not even receive (its frame is above GATEWAY_MAX_FRAME_BYTES), as the error to show; undefined when it may be sent. */
export function oversizedRequest(request: { op: string; args?: unknown }): { code: 'too-large'; message: string } | undefined {
  const bytes = jsonBytes(request);
  if (bytes <= GATEWAY_MAX_FRAME_BYTES - 1024) return undefined;
  const args = request.args as { spec?: unknown } | undefined;
  const measured = SPEC_OPS.has(request.op) && args?.spec !== undefined ? args.spec : (args ?? {});
  return {
    code: 'too-large',
    message: `${tooLargeMessage(request.op, jsonBytes(measured))}; not sent: the gateway takes frames of at most ${formatBytes(GATEWAY_MAX_FRAME_BYTES)}`,
  };
}
