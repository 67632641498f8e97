/**
 * Where Tab goes inside a modal dialog: a pure decision, so the rule is
 * tested without a browser. Given the dialog's focusable elements in
 * document order, the element that has focus and the direction, it answers
 * one of three things:
 *
 *   browser  Tab moves between two elements inside the dialog: let the
 *            browser do it (its own order, no surprise).
 *   focus    Tab would leave the dialog (forward from the last element,
 *            backward from the first) or focus is on none of them (on the
 *            dialog itself, after a click on its text): wrap to the first
 *            or last element instead.
 *   stay     the dialog has nothing focusable: keep focus where it is.
 *
 * FOCUSABLE is the selector the Dialog component collects the elements with.
 */
export const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';

export type TabStep<T> = { kind: 'browser' } | { kind: 'focus'; target: T } | { kind: 'stay' };

export function tabStep<T>(items: readonly T[], current: T | null, backwards: boolean): TabStep<T> {
  const first = items[0];
  const last = items.at(-1);
  if (first === undefined || last === undefined) return { kind: 'stay' };
  const at = current === null ? -1 : items.indexOf(current);
  if (at === -1) return { kind: 'focus', target: backwards ? last : first };
  if (backwards && at === 0) return { kind: 'focus', target: last };
  if (!backwards && at === items.length - 1) return { kind: 'focus', target: first };
  return { kind: 'browser' };
}
