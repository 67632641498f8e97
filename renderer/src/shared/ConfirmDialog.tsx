/**
 * A modal confirmation for a command: title, explanation, Cancel and the
 * action, which has focus. A Dialog (Dialog.tsx): Escape or the backdrop
 * cancels, Tab stays inside, focus goes back to the opener.
 */
import type { ReactNode } from 'react';
import { Dialog } from './Dialog';
import { scoped } from './scoped';

const cx = scoped();

export function ConfirmDialog(props: { title: ReactNode; action: string; onCancel: () => void; onConfirm: () => void; children: ReactNode; danger?: boolean }) {
  return (
    <Dialog title={props.title} onClose={props.onCancel}>
      <div className={cx('dialog-body')}>{props.children}</div>
      <div className={cx('dialog-actions')}>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="button" className={cx('primary', props.danger && 'danger')} onClick={props.onConfirm} autoFocus>
          {props.action}
        </button>
      </div>
    </Dialog>
  );
}
