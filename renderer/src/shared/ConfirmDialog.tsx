/**
 * A modal confirmation for a command: title, explanation, Cancel and the
 * action, which has focus. A Dialog (Dialog.tsx): Escape or the backdrop
 * cancels, Tab stays inside, focus goes back to the opener.
 */
import type { ReactNode } from 'react';
import { Dialog } from './Dialog';

export function ConfirmDialog(props: { title: ReactNode; action: string; onCancel: () => void; onConfirm: () => void; children: ReactNode; danger?: boolean }) {
  return (
    <Dialog title={props.title} onClose={props.onCancel}>
      <div className="dialog-body">{props.children}</div>
      <div className="dialog-actions">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="button" className={props.danger ? 'primary danger' : 'primary'} onClick={props.onConfirm} autoFocus>
          {props.action}
        </button>
      </div>
    </Dialog>
  );
}
