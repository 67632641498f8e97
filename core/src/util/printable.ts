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
