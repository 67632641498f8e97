/**
 * Text another party wrote (a peer's error, a corrupt file's bytes quoted in
 * a parse error), made safe to print on an operator's terminal or in a log
 * line: every control character, terminal escapes among them, shown as `?`.
 */

/** `text` with its control characters (C0, DEL, C1) shown as `?`. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what it removes
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** `text` with its control characters but line breaks shown as `?`: a message of several lines, made safe to print. */
export function printableLines(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what it removes
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, '?');
}

/** Whether `text` holds a control character of the set `printable` shows as `?` (C0, DEL, C1): a loop, for short text on a hot path. */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}
