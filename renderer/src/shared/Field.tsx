/**
 * A form field: its label, the control, a hint and an error, wired so a
 * screen reader reads them together. The control is the caller's (input,
 * select, textarea), given the props that tie it in:
 *
 *   id                  the label's htmlFor points at it
 *   aria-describedby    the hint, then the error (fieldWiring, pure)
 *   aria-invalid        while there is an error
 *
 * The error is either shown here (`error`, as an alert under the hint) or
 * shown elsewhere and only pointed at (`invalid` with `errorId`: the
 * start-child form keeps one message for the whole form).
 *
 * Without `className` the parts are siblings (a form grid lays them out);
 * with one they sit in a <div> of that class (a row of its own).
 */
import { useId, type ReactNode } from 'react';
import { scoped } from './scoped';
import styles from './field.module.css';

const cx = scoped(styles);

export interface FieldControl {
  id: string;
  'aria-describedby'?: string;
  'aria-invalid'?: true;
}

/** The control's props, from which of hint and error there are. Pure. */
export function fieldWiring(id: string, parts: { hintId?: string; errorId?: string; invalid: boolean }): FieldControl {
  const described = [parts.hintId, parts.invalid ? parts.errorId : undefined].filter((p): p is string => p !== undefined);
  return {
    id,
    ...(described.length > 0 ? { 'aria-describedby': described.join(' ') } : {}),
    ...(parts.invalid ? { 'aria-invalid': true as const } : {}),
  };
}

export function Field(props: {
  label: ReactNode;
  children: (control: FieldControl) => ReactNode;
  hint?: ReactNode;
  error?: ReactNode;
  invalid?: boolean;
  errorId?: string;
  id?: string;
  className?: string;
  hintClassName?: string;
  title?: string;
}) {
  const uid = useId();
  const id = props.id ?? `${uid}-control`;
  const hintId = props.hint !== undefined ? `${id}-hint` : undefined;
  const shownError = props.error !== undefined && props.error !== null && props.error !== false;
  const errorId = shownError ? `${id}-error` : props.errorId;
  const control = fieldWiring(id, { ...(hintId ? { hintId } : {}), ...(errorId ? { errorId } : {}), invalid: shownError || props.invalid === true });
  const parts = (
    <>
      <label htmlFor={id}>{props.label}</label>
      {props.children(control)}
      {hintId && (
        <span className={cx('hint', props.hintClassName)} id={hintId}>
          {props.hint}
        </span>
      )}
      {shownError && (
        <span className={cx('field-error')} id={errorId} role="alert">
          {props.error}
        </span>
      )}
    </>
  );
  return props.className ? (
    <div className={props.className} title={props.title}>
      {parts}
    </div>
  ) : (
    parts
  );
}
