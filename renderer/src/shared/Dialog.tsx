/**
 * A modal dialog: a backdrop and a box with a title, the one every dialog of
 * the app is drawn with (confirmations, the start-child form).
 *
 * Accessibility, all here so no dialog forgets one:
 *   - role="dialog", aria-modal and aria-labelledby its title (an <h2>).
 *   - Focus on open: a child that asks for it (autoFocus) keeps it, else the
 *     first focusable element takes it, else the dialog box itself.
 *   - Tab and Shift-Tab stay inside (focus-trap.ts decides where they go).
 *   - Escape closes (onClose), and goes no further: the app's own Escape
 *     (close the detail panel) does not fire under a dialog.
 *   - Focus returns on close to the element that had it when the dialog
 *     opened (the opener), read while rendering, before autoFocus moves it.
 *   - A press on the backdrop closes too, unless `busy` (a command is in
 *     flight and the dialog shows its outcome).
 *
 * `size="wide"` for forms; `className` names the dialog box for its
 * feature's own rules.
 */
import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { FOCUSABLE, tabStep } from './focus-trap';
import { scoped } from './scoped';
import styles from './dialog.module.css';

const cx = scoped(styles);

export function Dialog(props: { title: ReactNode; onClose: () => void; children: ReactNode; size?: 'normal' | 'wide'; className?: string; busy?: boolean }) {
  const titleId = useId();
  const box = useRef<HTMLDivElement>(null);
  const [opener] = useState(() => (document.activeElement instanceof HTMLElement ? document.activeElement : null));

  useEffect(() => {
    const el = box.current;
    if (el && !el.contains(document.activeElement)) (el.querySelector<HTMLElement>(FOCUSABLE) ?? el).focus();
    return () => opener?.focus();
  }, [opener]);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>): void => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      props.onClose();
      return;
    }
    if (e.key !== 'Tab' || !box.current) return;
    const items = [...box.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    const active = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const step = tabStep(items, active, e.shiftKey);
    if (step.kind === 'browser') return;
    e.preventDefault();
    if (step.kind === 'focus') step.target.focus();
  };

  return (
    <div
      className={cx('dialog-backdrop')}
      onMouseDown={(e) => {
        if (e.target === e.currentTarget && !props.busy) props.onClose();
      }}
    >
      <div
        ref={box}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        tabIndex={-1}
        data-size={props.size ?? 'normal'}
        className={`${cx('dialog')}${props.className ? ` ${props.className}` : ''}`}
        onKeyDown={onKeyDown}
      >
        <h2 id={titleId} className={cx('dialog-title')}>
          {props.title}
        </h2>
        {props.children}
      </div>
    </div>
  );
}
