/**
 * The messages between a node and an OS-process child that opted in to
 * calls with `ipc` in its spec (issue 16). Both transports carry the same
 * JSON objects, so one small helper in the child serves either:
 *
 *   ipc: 'json-lines'  any language. The child finds a connected, two-way
 *                      stream socket on the file descriptor named by the env
 *                      var POGO_IPC_FD (3 today; read the variable), and
 *                      POGO_IPC=json-lines. Each message is one line:
 *                      compact JSON, UTF-8, ended by `\n` (a `\r` before it
 *                      is ignored, blank lines are skipped). A line holds at
 *                      most the node's limit in bytes (default 1 MiB).
 *   ipc: 'node'        a Node.js child: Node's IPC channel (POGO_IPC=node);
 *                      `process.on('message', m => …)` and `process.send(m)`
 *                      with the same objects (no framing to do).
 *
 * Node → child (the node writes the keys in this order, without spaces, so a
 * script with no JSON parser can match them with a pattern):
 *
 *   {"id":7,"type":"call","body":<JSON>}   a call: answer it once, with id 7
 *   {"type":"cast","body":<JSON>}          a cast: no answer expected
 *
 * Child → node:
 *
 *   {"id":7,"reply":<JSON>}                the reply to call 7 (`null` is a reply)
 *   {"id":7,"error":"<message>"}           call 7 failed: the caller gets
 *                                          `handler-error` with this message
 *
 * Ids are positive whole numbers, unique per instance; the child only
 * echoes them. A child may answer calls in any order and take as long as it
 * likes: the caller's `timeoutMs` decides how long it waits (`timeout`), and
 * a reply that comes later is dropped. The child may also leave fd 3 unread
 * for a while: calls queue in the socket (up to the node's bound, after
 * which further calls fail with `timeout` at once).
 *
 * Anything else the child writes — a line that is not JSON, not one of the
 * two shapes, a reply for an id with no pending call, a line over the
 * limit — is logged by the node with the reason and dropped; it never fails
 * another call and never stops the child. One exception helps the caller: a
 * too-large line that starts `{"id":N,` fails call N at once with
 * `too-large` instead of leaving it to time out.
 *
 * The child's stdout and stderr stay what they were: captured as its output.
 */
import { z } from 'zod';
import type { JsonValue } from '../groups.js';
import { JsonSchema } from '../protocol.js';

/** Longest `error` message a child may send, in characters. */
export const MAX_ERROR_MESSAGE = 64 * 1024;

const IdSchema = z.number({ error: 'must be a number' }).int('must be a whole number').positive('must be more than 0').max(Number.MAX_SAFE_INTEGER);

export const CallMessageSchema = z.object({ id: IdSchema, type: z.literal('call'), body: JsonSchema }).strict();
export const CastMessageSchema = z.object({ type: z.literal('cast'), body: JsonSchema }).strict();
export const ReplyMessageSchema = z.object({ id: IdSchema, reply: JsonSchema }).strict();
export const ErrorMessageSchema = z
  .object({ id: IdSchema, error: z.string({ error: 'must be a string' }).max(MAX_ERROR_MESSAGE, `must be at most ${MAX_ERROR_MESSAGE} characters`) })
  .strict();

export type CallMessage = z.infer<typeof CallMessageSchema>;
export type CastMessage = z.infer<typeof CastMessageSchema>;
export type NodeToChildMessage = CallMessage | CastMessage;

/** What a child said, decoded; or why it is dropped. */
export type ChildMessage = { ok: true; id: number; reply: JsonValue } | { ok: true; id: number; error: string } | { ok: false; reason: string };

const SHAPES = 'expected {"id":N,"reply":<JSON>} or {"id":N,"error":"message"}';

/** Checks one value a child sent (already parsed from JSON). Never throws. */
export function decodeChildMessage(value: unknown): ChildMessage {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: `not an object: ${SHAPES}` };
  const hasReply = Object.hasOwn(value, 'reply');
  const hasError = Object.hasOwn(value, 'error');
  if (hasReply === hasError) return { ok: false, reason: `${hasReply ? 'both "reply" and "error"' : 'neither "reply" nor "error"'}: ${SHAPES}` };
  const result = hasReply ? ReplyMessageSchema.safeParse(value) : ErrorMessageSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.') || '(message)';
    // Messages are flat: a field's path is its key.
    const missing = issue.path.length === 1 && (value as Record<PropertyKey, unknown>)[issue.path[0]!] === undefined;
    const reason = issue.code === 'unrecognized_keys' ? 'unknown field' : missing ? 'required' : issue.message;
    return { ok: false, reason: `${field}: ${reason} (${SHAPES})` };
  }
  const data = result.data;
  return 'reply' in data ? { ok: true, id: data.id, reply: data.reply } : { ok: true, id: data.id, error: data.error };
}

/** Parses and checks one line from a json-lines child. Never throws. */
export function decodeChildLine(text: string): ChildMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not JSON (${(err as Error).message})` };
  }
  return decodeChildMessage(value);
}

/** The JSON text of a call, keys in the documented order; undefined when `body` has no JSON form. May throw as JSON.stringify does (a cycle, a BigInt). */
export function encodeCall(id: number, body: JsonValue): string | undefined {
  const text = JSON.stringify(body) as string | undefined;
  return text === undefined ? undefined : `{"id":${id},"type":"call","body":${text}}`;
}

/** The JSON text of a cast; undefined when `body` has no JSON form. May throw as JSON.stringify does. */
export function encodeCast(body: JsonValue): string | undefined {
  const text = JSON.stringify(body) as string | undefined;
  return text === undefined ? undefined : `{"type":"cast","body":${text}}`;
}

/**
 * The call id at the start of an over-size line's head (`{"id":N,` with any
 * spacing), if it has one: that call can fail with `too-large` at once.
 */
export function replyIdOfHead(head: string): number | undefined {
  const m = /^\s*\{\s*"id"\s*:\s*(\d{1,15})\s*,/.exec(head);
  if (!m) return undefined;
  const id = Number(m[1]);
  return id > 0 ? id : undefined;
}
