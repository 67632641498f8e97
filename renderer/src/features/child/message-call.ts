/**
 * The pure half of "Send message" (SendMessage.tsx): what the operator
 * typed, checked before anything is sent, and what a call's outcome says.
 *
 * The message is any JSON value (the child decides what it understands);
 * the timeout is optional (the cluster's default applies, 5 s) and bounds
 * the whole call, waiting for a new instance of a child between instances
 * included. Limits beyond these (the message's size, the longest timeout)
 * are the cluster's to check: its refusal is shown as it comes.
 */
import { formatBytes, jsonBytes, MAX_COMMAND_ARGS_BYTES } from 'pogo-core/command-size';
import type { JsonValue as Json } from 'pogo-core/protocol';

export type { Json };

export type CallInput = { ok: true; message: Json; timeoutMs: number | undefined } | { ok: false; error: string };

/** The message and timeout the form holds, or what is wrong with them. */
export function callInput(messageText: string, timeoutText: string): CallInput {
  if (messageText.trim() === '') return { ok: false, error: 'Message: type a JSON value, for example {"op":"get"}' };
  let message: Json;
  try {
    message = JSON.parse(messageText) as Json;
  } catch (err) {
    return { ok: false, error: `Message: not valid JSON (${(err as Error).message})` };
  }
  const bytes = jsonBytes(message);
  if (bytes > MAX_COMMAND_ARGS_BYTES)
    return { ok: false, error: `Message: ${formatBytes(bytes)} is over the ${formatBytes(MAX_COMMAND_ARGS_BYTES)} a command may carry` };
  const t = timeoutText.trim();
  if (t === '') return { ok: true, message, timeoutMs: undefined };
  if (!/^\d+$/.test(t) || Number(t) < 1) return { ok: false, error: 'Timeout: a whole number of milliseconds, 1 or more (or empty for the default)' };
  return { ok: true, message, timeoutMs: Number(t) };
}

/** What each typed failure of a call means, in the operator's words. */
const FAILURE_HINTS: Record<string, string> = {
  'not-found': 'no child has this id',
  'not-running': 'the child was stopped for good',
  'no-handler': 'the child takes no messages (a worker without ctx.onMessage, or an OS child without ipc)',
  'handler-error': 'the child’s handler threw',
  timeout: 'no reply within the timeout (it may still have been delivered: calls are at most once)',
  'too-large': 'the message or the reply is over the size limit',
  overloaded: 'the node has too many calls outstanding (maxOutstandingCalls); it was not sent',
};

/** One line for a failed call: the code, what it means, and the cluster's own message. */
export function failureText(code: string, message: string): string {
  const hint = FAILURE_HINTS[code];
  return hint ? `${code}: ${hint}. ${message}` : `${code}: ${message}`;
}

/** The reply as the panel shows it: pretty JSON, cut at `maxChars` with a note. */
export function replyText(reply: Json, maxChars = 20_000): string {
  const text = JSON.stringify(reply, null, 2) ?? 'null';
  return text.length > maxChars ? `${text.slice(0, maxChars)}\n… (${text.length.toLocaleString('en-US')} characters in all)` : text;
}
